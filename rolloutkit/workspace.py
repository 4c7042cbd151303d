"""A workspace: one agent's charter plus its tables, each read lazily and validated on first use.

Each table is read through its source (`rolloutkit.sources`): as `sources.yaml` describes it, else the file found
by its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from rolloutkit.charter import Charter, load_charter
from rolloutkit.contracts import CONTRACTS, COUNT_CONTRACTS, TABLE_NAMES
from rolloutkit.errors import DataError, MissingTableError, RolloutkitError
from rolloutkit.sources import SOURCES_FILE, load_sources, read
from rolloutkit.tables import Source, find_table

T = TypeVar("T")
#: Columns that record a later event of a row (an incident closed, a rollback that reached 0%): unknown until then.
_LATER_EVENTS = ("closed_at", "zero_at")


@dataclass
class Workspace:
    path: Path
    charter: Charter
    #: Each table present, by name: where its rows are and how they map onto the contract.
    sources: dict[str, Source]
    _cache: dict[str, pl.LazyFrame] = field(default_factory=dict, repr=False)
    #: The day `cut` cut this workspace at; None: every row.
    cut_day: dt.date | None = None
    #: Each table's first and last day, once read (a cut keeps those its cut leaves as they are).
    _spans: dict[str, tuple[dt.date, dt.date]] = field(default_factory=dict, repr=False)
    #: What `remember` computed, shared with every cut of this workspace (a cut's rows are this one's).
    _memo: dict[tuple, Any] = field(default_factory=dict, repr=False)

    @property
    def agent(self) -> str:
        return self.charter.agent

    @property
    def files(self) -> dict[str, Path]:
        """Each table present, by name: its file, or the folder of its parts."""
        return {name: source.path for name, source in self.sources.items()}

    def has(self, name: str) -> bool:
        return name in self.sources

    def table(self, name: str) -> pl.LazyFrame:
        """The validated table as a LazyFrame (contract types, UTC timestamps, a local `day` column)."""
        contract = CONTRACTS.get(name) or COUNT_CONTRACTS.get(name)
        if contract is None:
            raise KeyError(f"unknown table {name!r}; tables are {', '.join((*TABLE_NAMES, *COUNT_CONTRACTS))}")
        if name not in self.sources:
            raise MissingTableError(f"{self.path.name}: no `{name}` table (looked for {name}.parquet, "
                                    f"{name}.csv, {name}.ndjson, a folder {name}/ or an entry in "
                                    f"{SOURCES_FILE})", table=name)
        if name not in self._cache:
            self._cache[name] = read(self.sources[name], contract,
                                     failure_modes=self.charter.failure_mode_names,
                                     timezone=self.charter.timezone)
        return self._cache[name]

    def cut(self, as_of: str | dt.date | None) -> Workspace:
        """The workspace as it stood at the end of `as_of` (None = the last day with data): each table's rows dated
        on or before that day, a table with no such row left out (as a table without rows is), and what a kept row
        records of later events (`closed_at`, `zero_at` after that day) not known yet. Every phase reads its
        workspace through this, so a day's pages and JSON never change when later rows arrive."""
        day = self.resolve_as_of(as_of)
        if self.cut_day is not None and self.cut_day <= day:
            return self
        spans = self.spans()
        # a table whose rows all come later is left out, one that ends by `day` is kept as it is
        kept = {name: self.table(name) if last <= day else self.table(name).filter(pl.col("day") <= day)
                for name, (first, last) in spans.items() if first <= day}
        for name, frame in kept.items():
            later = [c for c in _LATER_EVENTS if c in frame.collect_schema()]
            kept[name] = frame.with_columns(pl.when(pl.col(c).dt.convert_time_zone(self.charter.timezone).dt.date()
                                                    <= day).then(pl.col(c)).alias(c) for c in later)
        return Workspace(path=self.path, charter=self.charter, sources={n: self.sources[n] for n in kept},
                         _cache=kept, cut_day=day, _spans={n: span for n, span in spans.items()
                                                           if n in kept and span[1] <= day}, _memo=self._memo)

    def remember(self, what: str, day: dt.date, compute: Callable[[], T]) -> T:
        """`compute()`, the answer about this workspace's rows up to the end of `day`, computed once per workspace
        and its cuts: several pages of one week ask for the same daily counts. The day is capped at this cut's, so
        a cut and the workspace it came from share what they agree on. Load the workspace again to read files
        that changed since."""
        key = (what, min(day, self.cut_day) if self.cut_day is not None else day)
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def spans(self) -> dict[str, tuple[dt.date, dt.date]]:
        """Each table with rows, by name: its first and last day (one query for every table not read yet)."""
        unread = [name for name in self.sources if name not in self._spans]
        days = pl.col("day")
        found = pl.collect_all([self.table(name).select(days.min().alias("first"), days.max().alias("last"))
                                for name in unread])
        self._spans |= {name: span.row(0) for name, span in zip(unread, found, strict=True) if span.item(0, 0)}
        return {name: self._spans[name] for name in self.sources if name in self._spans}

    def validate(self) -> None:
        """Read and check every table present; raises the first `DataError`."""
        for name in self.sources:
            self.table(name)

    def inventory(self) -> pl.DataFrame:
        """One row per contract table (and per counts table present): file, rows, first and last day, or
        `present = False`."""
        rows = []
        for name in (*TABLE_NAMES, *(n for n in COUNT_CONTRACTS if n in self.sources)):
            if name not in self.sources:
                rows.append({"table": name, "present": False, "file": None, "rows": None,
                             "first_day": None, "last_day": None})
                continue
            stats = self.table(name).select(pl.len().alias("rows"), pl.col("day").min().alias("first_day"),
                                            pl.col("day").max().alias("last_day")).collect()
            rows.append({"table": name, "present": True, "file": self.sources[name].location,
                         **stats.row(0, named=True)})
        return pl.DataFrame(rows, schema={"table": pl.String, "present": pl.Boolean, "file": pl.String,
                                          "rows": pl.Int64, "first_day": pl.Date, "last_day": pl.Date})

    def last_day(self) -> dt.date | None:
        """The last day with data in any table (the default `as_of`)."""
        return max((last for _, last in self.spans().values()), default=None)

    def resolve_as_of(self, as_of: str | dt.date | None) -> dt.date:
        """`as_of` as a date; None means the last day with data (today when the workspace has no data)."""
        if as_of is None:
            return self.last_day() or dt.date.today()
        return parse_day(as_of)


def parse_day(value: str | dt.date, *, name: str = "as_of") -> dt.date:
    """A day given as a date, a datetime or ISO text (2026-11-22); anything else is a clear error."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise RolloutkitError(f"`{name}` must be a date like 2026-11-22, got {value!r}") from None


def load_workspace(directory: str | Path) -> Workspace:
    """Open a workspace folder: validate its charter and sources.yaml now, find its tables (read on first use)."""
    directory = Path(directory)
    if not directory.is_dir():
        raise RolloutkitError(f"{directory}: not a workspace folder (it should hold charter.yaml and tables)")
    charter = load_charter(directory / "charter.yaml")
    sources = load_sources(directory, failure_modes=charter.failure_mode_names)
    sources |= {name: Source.at(path, name, root=directory) for name in COUNT_CONTRACTS
                if (path := find_table(directory, name)) is not None}
    if "canary" in sources and "canary_daily" in sources:
        rows, counts = sources["canary"].location, sources["canary_daily"].location
        raise DataError(rows, f"and {counts} are both in {directory.name}: a workspace holds canary rows or their "
                        f"daily counts, not both; remove {counts} to decide from the rows, or move {rows} out to "
                        "decide from the counts (`rolloutkit counts WS --out DIR` writes counts elsewhere)",
                        check="twice")
    return Workspace(path=directory, charter=charter, sources=sources)


def find_workspaces(directory: str | Path) -> list[Path]:
    """A workspace itself, or the workspaces one level below a folder (e.g. data/demo/<agent>/)."""
    directory = Path(directory)
    if (directory / "charter.yaml").is_file():
        return [directory]
    found = sorted(p for p in directory.iterdir() if (p / "charter.yaml").is_file()) if directory.is_dir() else []
    if not found:
        raise RolloutkitError(f"{directory}: no charter.yaml here or in its sub-folders; "
                              "a workspace is a folder with charter.yaml and its tables")
    return found
