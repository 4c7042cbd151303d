"""`sources.yaml`: where each table of a workspace is and how its columns and values map onto the contract.

An optional file beside `charter.yaml`. Per table: its location (a file, a glob or a folder of parts, relative to
the workspace), a column map (contract column: the user's column), value maps, how text timestamps are written
and in which zone naive ones are, shares written as percent, a CSV delimiter. Tables it does not name are found
by their name as usual. `read` reads a table through its source and, when the data breaks the contract, says
what to write in `sources.yaml` to fix it: the closest present column for a missing one, a value map for values
outside a set, the format that reads unparseable timestamps, `percent` for shares above 1, the delimiter of a
header that reads as one column. Nothing is guessed silently: a fix is offered, never applied.
"""

from rolloutkit.sources._read import SOURCES_FILE, describe, load_sources, read

__all__ = ["SOURCES_FILE", "describe", "load_sources", "read"]
