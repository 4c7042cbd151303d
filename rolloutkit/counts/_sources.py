"""Where the rows are: a `--source` URI, or the workspace's own table file.

- a path or glob of Parquet, CSV or NDJSON files, or a folder of Parquet parts (hive partitions allowed);
- `duckdb:PATH.db:TABLE` — a table (or view; `schema.table` allowed) in a DuckDB database, opened read-only;
- `spark:DB.TABLE` — a table of the Spark catalog; `spark:PATH` — Parquet, CSV or NDJSON files Spark reads
  (a lake path such as `s3a://bucket/canary/` included).
"""

from __future__ import annotations

import glob
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from rolloutkit.errors import RolloutkitError

Format = Literal["parquet", "csv", "ndjson"]
_FORMATS: dict[str, Format] = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".ndjson": "ndjson",
                               ".jsonl": "ndjson", ".json": "ndjson"}
_TABLE = re.compile(r"^[A-Za-z_][\w$]*(\.[A-Za-z_][\w$]*){0,2}$")
_REMOTE = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
#: `name:` that is no URL (`s3://`) and no drive letter (`C:`).
_SCHEME = re.compile(r"^([a-z][a-z0-9+.-]+):(?!//)", re.IGNORECASE)
_HELP = ("use a Parquet/CSV/NDJSON path or glob, a folder of Parquet parts, `duckdb:PATH.db:TABLE`, "
         "`spark:DB.TABLE` or `spark:PATH`")


@dataclass(frozen=True)
class Source:
    """Rows to count: `files` (a path or glob in `format`), a `duckdb` table in `database`, or a `spark` table."""

    kind: Literal["files", "duckdb", "spark"]
    #: The URI as given, for messages.
    uri: str
    path: str | None = None
    format: Format | None = None
    #: A folder of Parquet parts.
    folder: bool = False
    database: str | None = None
    table: str | None = None

    @property
    def label(self) -> str:
        """How errors name the source: its file name, or the URI."""
        return Path(self.path).name if self.kind == "files" and self.path and not self.folder else self.uri


def parse_source(uri: str) -> Source:
    """A `--source` URI as a `Source`; raises `RolloutkitError` naming what is wrong with it."""
    text = uri.strip()
    if not text:
        raise RolloutkitError(f"`--source` is empty; {_HELP}")
    if text.startswith("duckdb:"):
        path, sep, table = text[len("duckdb:"):].rpartition(":")
        if not sep or not path or not table:
            raise RolloutkitError(f"`--source` {uri!r}: a DuckDB source is `duckdb:PATH.db:TABLE`")
        if not _TABLE.match(table):
            raise RolloutkitError(f"`--source` {uri!r}: {table!r} is not a table name (`table` or `schema.table`)")
        if not Path(path).is_file():
            raise RolloutkitError(f"`--source` {uri!r}: no DuckDB database at {path}")
        return Source("duckdb", uri, database=path, table=table)
    if text.startswith("spark:"):
        rest = text[len("spark:"):]
        if not rest:
            raise RolloutkitError(f"`--source` {uri!r}: a Spark source is `spark:DB.TABLE` or `spark:PATH`")
        if _TABLE.match(rest) and not Path(rest).exists():
            return Source("spark", uri, table=rest)
        found = files(rest, uri, local=not _REMOTE.match(rest))
        return Source("spark", uri, path=found.path, format=found.format, folder=found.folder)
    scheme = _SCHEME.match(text)
    if scheme and not Path(text).exists():
        raise RolloutkitError(f"`--source` {uri!r}: unknown scheme {scheme.group(1)!r}; {_HELP}")
    return files(text, uri, local=not _REMOTE.match(text))


def files(path: str, uri: str, *, local: bool = True) -> Source:
    """A path, glob or folder of row files; local ones must exist."""
    if local and Path(path).is_dir():
        if not any(Path(path).rglob("*.parquet")):
            raise RolloutkitError(f"`--source` {uri!r}: the folder has no .parquet parts")
        return Source("files", uri, path=str(Path(path)), format="parquet", folder=True)
    suffix = Path(path.rstrip("/")).suffix.lower()
    if suffix not in _FORMATS:
        raise RolloutkitError(f"`--source` {uri!r}: unknown file type {suffix or '(none)'}; {_HELP}")
    if local and not glob.glob(path, recursive=True):
        raise RolloutkitError(f"`--source` {uri!r}: no file matches {path}")
    return Source("files", uri, path=path, format=_FORMATS[suffix])


def workspace_source(path: Path) -> Source:
    """The workspace's own table file (or folder of parts) as a source."""
    if path.is_dir():
        return Source("files", str(path), path=str(path), format="parquet", folder=True)
    return Source("files", str(path), path=str(path), format=_FORMATS[path.suffix.lower()])
