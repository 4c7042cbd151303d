"""Importers: the tables a team keeps in other tools, turned into workspace tables.

Two tables are usually reconstructed by hand. The flag history lives in the flag platform's change history:
`import_flags` reads LaunchDarkly audit-log entries, Unleash events or GrowthBook feature revisions, as their REST
APIs return them, and writes the `flags` table, one row per change of the share routed to the agent. The human
review verdicts live in the trace store's annotation queue: `import_langfuse` reads a Langfuse blob-storage export
of scores and writes the `reviews` table, one row per (interaction, reviewer), from human annotations only.

Both refuse to overwrite the table unless asked, validate what they write against the table's contract and the
charter, and count everything they leave out, by reason. `read_flags` and `read_langfuse` do the reading without
writing. docs/importers.md maps every field to the platform's published format.
"""

from rolloutkit.importers._flags import import_flags, read_flags
from rolloutkit.importers._langfuse import import_langfuse, read_langfuse
from rolloutkit.importers._results import PLATFORMS, FlagHistory, Platform, ReviewScores

__all__ = [
    "PLATFORMS", "FlagHistory", "Platform", "ReviewScores", "import_flags", "import_langfuse", "read_flags",
    "read_langfuse",
]
