"""Parsing `sources.yaml`: every problem noted with its key path and raised at once; locations resolved."""

from __future__ import annotations

import datetime as dt
import difflib
import glob
import zoneinfo
from pathlib import Path
from typing import Any

import polars as pl

from rolloutkit.contracts import CONTRACTS, TABLE_NAMES, Column, TableContract
from rolloutkit.errors import SourcesError, cut, short
from rolloutkit.tables import Source, cell_text, find_table

SOURCES_FILE = "sources.yaml"
#: The keys of a table's entry, besides `<share column>: percent | fraction`.
TABLE_KEYS = ("path", "format", "delimiter", "columns", "values", "timestamps")
TIMESTAMP_KEYS = ("format", "timezone")
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv", ".txt": "csv",
            ".ndjson": "ndjson", ".jsonl": "ndjson"}


class Parser:
    """Walks `sources.yaml` noting every problem with its key path; `sources` raises them all at once."""

    def __init__(self, root: Path, failure_modes: tuple[str, ...] | None) -> None:
        self.root = root
        self.failure_modes = failure_modes
        self.problems: list[str] = []

    def fail(self, key: str, given: Any, allowed: str) -> None:
        self.problems.append(f"`{key}` {allowed}, got {cut(given)}")

    def unknown(self, key: str, name: Any, allowed: list[str]) -> None:
        close = difflib.get_close_matches(str(name), allowed, n=1)
        hint = f"did you mean `{close[0]}`? " if close else ""
        self.problems.append(f"`{short(key)}` is not a known key ({hint}allowed: {', '.join(allowed)})")

    def sources(self, raw: Any) -> dict[str, Source]:
        found = {}
        if raw is None:
            return found
        if not isinstance(raw, dict):
            self.problems.append(f"the file must map table names ({', '.join(TABLE_NAMES)}) to their sources, got "
                                 f"{type(raw).__name__} {cut(raw)}")
        else:
            for table, spec in raw.items():
                if table not in CONTRACTS:
                    self.unknown(str(table), table, list(TABLE_NAMES))
                elif (source := self.table(table, spec)) is not None:
                    found[table] = source
        if self.problems:
            if len(self.problems) == 1:
                raise SourcesError(f"{SOURCES_FILE}: {self.problems[0]}")
            listed = "\n".join(f"  - {p}" for p in self.problems)
            raise SourcesError(f"{SOURCES_FILE}: {len(self.problems)} problems:\n{listed}")
        return found

    def table(self, table: str, spec: Any) -> Source | None:
        contract = CONTRACTS[table]
        shares = [c.name for c in contract.columns if c.share]
        if spec is None:
            spec = {}
        if not isinstance(spec, dict):
            return self.fail(table, spec, f"must be a mapping of {', '.join(TABLE_KEYS + tuple(shares))}")
        allowed = [*TABLE_KEYS, *shares]
        for key in spec:
            if key not in allowed:
                self.unknown(f"{table}.{key}", key, allowed)
        before = len(self.problems)
        fmt = spec.get("format")
        if fmt is not None and fmt not in ("parquet", "csv", "ndjson"):
            self.fail(f"{table}.format", fmt, "must be parquet, csv or ndjson")
            fmt = None
        located = self.locate(table, spec.get("path"), fmt)
        delimiter = self.delimiter(table, spec.get("delimiter"), located)
        columns = self.columns(table, contract, spec.get("columns", {}))
        values = self.values(table, contract, spec.get("values", {}))
        timestamp_format, timezone = self.timestamps(table, spec.get("timestamps", {}))
        percent = []
        for column in shares:
            if column in spec:
                if spec[column] not in ("percent", "fraction"):
                    self.fail(f"{table}.{column}", spec[column], "must be `percent` (5 means 5%) or `fraction`")
                elif spec[column] == "percent":
                    percent.append(column)
        if len(self.problems) > before or located is None:
            return None
        location, files, found_format, folder = located
        return Source(table=table, location=location, files=files, format=found_format, folder=folder,
                      root=self.root, delimiter=delimiter, columns=columns, values=values,
                      timestamp_format=timestamp_format, timezone=timezone, percent=tuple(percent), declared=True)

    def locate(self, table: str, path: Any, fmt: str | None) -> tuple[str, tuple[Path, ...], str, Path | None] | None:
        """(location as written, files, format, folder of Parquet parts) of a table, or None after a problem."""
        by_name = find_table(self.root, table)
        if path is None:
            if by_name is None:
                self.problems.append(f"`{table}` has no `path` and the workspace has no {table}.parquet, {table}.csv, "
                                     f"{table}.ndjson or folder {table}/; give its `path`")
                return None
            found = Source.at(by_name, table, root=self.root)
            return found.location, found.files, fmt or found.format, found.folder
        if not isinstance(path, str) or not path.strip():
            return self.fail(f"{table}.path", path, "must be a file, a glob or a folder, relative to the workspace")
        target = Path(path) if Path(path).is_absolute() else self.root / path
        folder = None
        if glob.has_magic(path):
            files = tuple(sorted(Path(p) for p in glob.glob(str(target), recursive=True) if Path(p).is_file()))
            if not files:
                return self.fail(f"{table}.path", path, "must match at least one file")
        elif target.is_dir():
            files = tuple(sorted(p for p in target.rglob("*") if p.is_file() and p.suffix in SUFFIXES))
            if not files:
                return self.fail(f"{table}.path", path, "must be a folder holding table parts "
                                 f"({', '.join(sorted(SUFFIXES))})")
            folder = target
        elif target.is_file():
            files = (target,)
        else:
            return self.fail(f"{table}.path", path, "must name a file, glob or folder that exists in the workspace")
        formats = {fmt} if fmt else {SUFFIXES.get(f.suffix) for f in files}
        if None in formats:
            odd = next(f for f in files if f.suffix not in SUFFIXES)
            return self.fail(f"{table}.path", path, f"has a file of unknown format ({odd.name}); give `format`")
        if len(formats) > 1:
            return self.fail(f"{table}.path", path, f"mixes formats ({', '.join(sorted(formats))}); keep one")
        if by_name is not None and by_name.resolve() not in {f.resolve() for f in files} | {target.resolve()}:
            self.problems.append(f"`{table}.path` reads {path}, but the workspace also holds {by_name.name}; "
                                 "remove one, so the table is read from one place")
            return None
        found_format = formats.pop()
        return path, files, found_format, folder if found_format == "parquet" else None

    def delimiter(self, table: str, value: Any, located: Any) -> str:
        if value is None:
            tsv = located is not None and all(f.suffix == ".tsv" for f in located[1])
            return "\t" if tsv else ","
        value = "\t" if value in ("tab", "\\t") else value
        if not isinstance(value, str) or len(value) != 1 or not value.isascii() or value in "\"\r\n":
            self.fail(f"{table}.delimiter", value, "must be one character, e.g. ';' or tab")
            return ","
        return value

    def columns(self, table: str, contract: TableContract, value: Any) -> dict[str, str]:
        names = [c.name for c in contract.columns]
        if not isinstance(value, dict):
            self.fail(f"{table}.columns", value, "must map contract columns to your columns, e.g. {ts: created_at}")
            return {}
        mapped: dict[str, str] = {}
        for column, theirs in value.items():
            if column not in names:
                self.unknown(f"{table}.columns.{column}", column, names)
            elif not isinstance(theirs, str) or not theirs:
                self.fail(f"{table}.columns.{column}", theirs, "must name a column of your file")
            elif theirs in mapped.values():
                other = next(c for c, t in mapped.items() if t == theirs)
                self.fail(f"{table}.columns.{column}", theirs, f"must name another column than `{other}` does")
            else:
                mapped[column] = theirs
        return mapped

    def values(self, table: str, contract: TableContract, value: Any) -> dict[str, dict[str | None, Any]]:
        if not isinstance(value, dict):
            self.fail(f"{table}.values", value, "must map contract columns to value maps, e.g. "
                      "{arm: {treatment: agent, control: human}}")
            return {}
        maps: dict[str, dict[str | None, Any]] = {}
        for name, mapping in value.items():
            key = f"{table}.values.{name}"
            names = [c.name for c in contract.columns]
            if name not in names:
                self.unknown(key, name, names)
                continue
            if not isinstance(mapping, dict) or not mapping:
                self.fail(key, mapping, "must map your values to the contract's, e.g. {treatment: agent}")
                continue
            column = contract.column(name)
            maps[name] = {}
            for theirs, ours in mapping.items():
                if isinstance(theirs, list | dict) or isinstance(ours, list | dict):
                    self.fail(f"{key}.{theirs}", ours, "must map one value to one value")
                    continue
                problem = self.target(column, ours)
                if problem:
                    self.fail(f"{key}.{short(shown(theirs), 30)}", ours, problem)
                maps[name][cell_text(theirs)] = ours
        return maps

    def target(self, column: Column, value: Any) -> str | None:
        """Why a value-map target is not a value of the column, or None when it is."""
        if value is None:
            return None if column.nullable else "must be a value: the column is required (null is not allowed)"
        if column.kind == "bool":
            return None if isinstance(value, bool) else "must be true or false"
        if column.allowed:
            return None if value in column.allowed else f"must be one of {', '.join(column.allowed)}"
        if column.failure_mode and self.failure_modes is not None:
            return None if value in self.failure_modes else (
                f"must be a failure mode of the charter ({', '.join(self.failure_modes)}) or null")
        if column.kind in ("int", "float"):
            return None if isinstance(value, int | float) and not isinstance(value, bool) else "must be a number"
        return None

    def timestamps(self, table: str, value: Any) -> tuple[str | None, str | None]:
        key = f"{table}.timestamps"
        if not isinstance(value, dict):
            self.fail(key, value, 'must be a mapping, e.g. {format: "%m/%d/%Y %H:%M:%S", timezone: America/Chicago}')
            return None, None
        for name in value:
            if name not in TIMESTAMP_KEYS:
                self.unknown(f"{key}.{name}", name, list(TIMESTAMP_KEYS))
        fmt, zone = value.get("format"), value.get("timezone")
        if fmt is not None:
            problem = format_problem(fmt)
            if problem:
                self.fail(f"{key}.format", fmt, problem)
                fmt = None
        if zone is not None:
            try:
                zoneinfo.ZoneInfo(zone if isinstance(zone, str) else "")
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                self.fail(f"{key}.timezone", zone, "must be an IANA time zone such as UTC or America/Chicago")
                zone = None
        return fmt, zone


def format_problem(fmt: Any) -> str | None:
    """Why a timestamp format cannot be used: it must read back the timestamp it writes."""
    if not isinstance(fmt, str) or "%" not in fmt:
        return 'must be strftime codes, e.g. "%m/%d/%Y %H:%M:%S"'
    sample = pl.Series([dt.datetime(2026, 11, 3, 14, 5, 6, tzinfo=dt.UTC)])
    try:
        written = sample.dt.to_string(fmt)
        back = written.str.to_datetime(fmt, strict=False, time_unit="us")
    except (pl.exceptions.PolarsError, BaseException) as exc:  # chrono panics on a bad code
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        return 'must be valid strftime codes, e.g. "%m/%d/%Y %H:%M:%S"'
    if back.null_count() or back.dt.date().item() != dt.date(2026, 11, 3):
        return "must read back the timestamps it writes (it needs a date: %Y, %m and %d, or similar)"
    return None



def shown(value: Any) -> str:
    """A value-map key or target in words: None is an empty cell, True is true."""
    if value is None:
        return "empty"
    return str(value).lower() if isinstance(value, bool) else str(value)
