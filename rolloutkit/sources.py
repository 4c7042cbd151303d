"""`sources.yaml`: where each table of a workspace is and how its columns and values map onto the contract.

An optional file beside `charter.yaml`. Per table: its location (a file, a glob or a folder of parts, relative to
the workspace), a column map (contract column: the user's column), value maps, how text timestamps are written
and in which zone naive ones are, shares written as percent, a CSV delimiter. Tables it does not name are found
by their name as usual. `read` reads a table through its source and, when the data breaks the contract, says
what to write in `sources.yaml` to fix it: the closest present column for a missing one, a value map for values
outside a set, the format that reads unparseable timestamps, `percent` for shares above 1, the delimiter of a
header that reads as one column. Nothing is guessed silently: a fix is offered, never applied.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import difflib
import glob
import json
import re
import zoneinfo
from pathlib import Path
from typing import Any

import polars as pl

from rolloutkit.charter import load_yaml
from rolloutkit.errors import DataError, SourcesError, cut, short
from rolloutkit.tables import (
    CONTRACTS,
    FALSE_TEXT,
    TABLE_NAMES,
    TRUE_TEXT,
    Column,
    Source,
    TableContract,
    find_table,
    read_table,
    scan,
)

SOURCES_FILE = "sources.yaml"
#: The keys of a table's entry, besides `<share column>: percent | fraction`.
TABLE_KEYS = ("path", "format", "delimiter", "columns", "values", "timestamps")
TIMESTAMP_KEYS = ("format", "timezone")
SUFFIXES = {".parquet": "parquet", ".pq": "parquet", ".csv": "csv", ".tsv": "csv", ".txt": "csv",
            ".ndjson": "ndjson", ".jsonl": "ndjson"}
_DELIMITERS = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


def load_sources(directory: str | Path, *, failure_modes: tuple[str, ...] | None = None) -> dict[str, Source]:
    """Every table present in a workspace, by name: as `sources.yaml` describes it, else the file found by its name.

    `failure_modes` (the charter's) are the targets a `failure_mode` value map may use. Raises `SourcesError`
    listing every problem of `sources.yaml` at once.
    """
    directory = Path(directory)
    path = directory / SOURCES_FILE
    declared = _Parser(directory, failure_modes).sources(load_yaml(path, SourcesError)) if path.is_file() else {}
    found = {}
    for name in TABLE_NAMES:
        if name in declared:
            found[name] = declared[name]
        elif (table := find_table(directory, name)) is not None:
            found[name] = Source.at(table, name, root=directory)
    return found


def read(source: Source, contract: TableContract | str, *, failure_modes: tuple[str, ...] | None = None,
         timezone: str = "UTC") -> pl.LazyFrame:
    """`tables.read_table` through a source, its errors carrying the fix (what to write in sources.yaml)."""
    contract = CONTRACTS[contract] if isinstance(contract, str) else contract
    if source.format == "csv":
        _check_headers(source)
    try:
        return read_table(source, contract, failure_modes=failure_modes, timezone=timezone)
    except DataError as exc:
        if exc.check == "unreadable":
            raise next(filter(None, (_diagnose(source, f) for f in source.files)), exc) from None
        raise exc.with_fix(_fix(exc, source, contract)) from None


def describe(source: Source) -> list[str]:
    """The mapping a source applies, a line per part, for `rolloutkit check`; empty when read as it is."""
    if not source.declared:
        return []
    files = ", ".join(source.name(f) for f in source.files[:3]) + (", ..." if len(source.files) > 3 else "")
    lines = [f"read as {SOURCES_FILE} says" + (f": {len(source.files)} files ({files})" if len(source.files) > 1
                                              else "")]
    if source.delimiter != ",":
        lines.append(f"delimiter {_DELIMITERS.get(source.delimiter, repr(source.delimiter))}")
    if source.columns:
        lines.append("columns: " + ", ".join(f"{c} ← {theirs}" for c, theirs in source.columns.items()))
    for column, mapping in source.values.items():
        pairs = ", ".join(f"{_shown(k)} → {_shown(v)}" for k, v in mapping.items())
        lines.append(f"values of {column}: {pairs}")
    if source.timestamp_format or source.timezone:
        written = f"written as {source.timestamp_format}" if source.timestamp_format else "ISO 8601"
        lines.append(f"timestamps {written}, those without an offset in {source.timezone or 'UTC'}")
    lines += [f"{column} in percent (5 = 5%)" for column in source.percent]
    return lines


def _shown(value: Any) -> str:
    if value is None:
        return "empty"
    return str(value).lower() if isinstance(value, bool) else str(value)


class _Parser:
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
            self.fail("sources.yaml", raw, f"must map table names ({', '.join(TABLE_NAMES)}) to their sources")
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
                    self.fail(f"{key}.{short(_shown(theirs), 30)}", ours, problem)
                maps[name][_text(theirs)] = ours
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
            problem = _format_problem(fmt)
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


def _text(value: Any) -> str | None:
    """A value-map key as the text a cell holds: True → "true", 5 → "5", None (an empty cell) stays None."""
    if value is None or isinstance(value, str):
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)


def _format_problem(fmt: Any) -> str | None:
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


def _check_headers(source: Source) -> None:
    """CSV headers, read directly: not UTF-8, or a name given twice (polars would rename it quietly)."""
    for file in source.files:
        try:
            with open(file, "rb") as handle:
                first = handle.readline(1 << 20)
        except OSError as exc:
            raise DataError(source.name(file), f"cannot be read: {exc.strerror}", check="unreadable") from None
        try:
            header = first.decode("utf-8-sig").rstrip("\r\n")
        except UnicodeDecodeError as exc:
            raise _not_utf8(source, file, 1, first[exc.start]) from None
        names = next(csv.reader([header], delimiter=source.delimiter), [])
        seen: dict[str, int] = {}
        for i, name in enumerate(names, start=1):
            if name in seen:
                raise DataError(source.name(file), f"names column `{short(name, 40)}` twice in its header "
                                f"(columns {seen[name]} and {i}); rename or drop one", check="duplicate_columns",
                                rows=[1], unit="line")
            seen[name] = i


def _not_utf8(source: Source, file: Path, line: int, byte: int) -> DataError:
    return DataError(source.name(file), f"is not UTF-8 text: byte 0x{byte:02x}; save it as UTF-8 (e.g. "
                     "`iconv -f latin1 -t utf-8`)", rows=[line], unit="line", check="encoding")


def _diagnose(source: Source, file: Path) -> DataError | None:
    """What is wrong with a file polars cannot read, found by looking at it; None when nothing is found."""
    name = source.name(file)
    try:
        size = file.stat().st_size
        if size == 0:
            return DataError(name, "is empty (0 bytes); leave the table out until it has data, or export it again",
                             check="empty_file")
        if source.format == "parquet":
            with open(file, "rb") as handle:
                head = handle.read(64)
                handle.seek(max(size - 4, 0))
                tail = handle.read(4)
            if head[:4] != b"PAR1" or tail != b"PAR1":
                shown = cut(head.decode("utf-8", "replace"), 40)
                return DataError(name, f"is not a Parquet file (it starts with {shown}); write it as Parquet, or "
                                 "name it by its format", check="not_parquet")
            return None
        return _diagnose_text(source, file, name)
    except OSError as exc:
        return DataError(name, f"cannot be read: {exc.strerror}", check="unreadable")


def _diagnose_text(source: Source, file: Path, name: str) -> DataError | None:
    """The first line of a CSV or NDJSON file that is not UTF-8, has more fields than its header, or is not JSON."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    lines = 0
    with open(file, "rb") as handle:
        while chunk := handle.read(1 << 22):
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as exc:
                return _not_utf8(source, file, lines + chunk[:exc.start].count(b"\n") + 1, chunk[exc.start])
            lines += chunk.count(b"\n")
    with open(file, encoding="utf-8-sig", newline="") as handle:
        if source.format == "csv":
            reader = csv.reader(handle, delimiter=source.delimiter)
            width = len(next(reader, []))
            for row in reader:
                if len(row) > width:
                    return DataError(name, f"has a line with {len(row)} fields where the header has {width} (a "
                                     f"`{source.delimiter}` inside a value needs quotes)", rows=[reader.line_num],
                                     unit="line", check="ragged")
            return None
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                return DataError(name, f"is not JSON on this line ({exc.msg}); NDJSON is one JSON object a line",
                                 rows=[number], unit="line", check="not_json")
            if not isinstance(record, dict):
                return DataError(name, f"has a line that is not a JSON object (a {type(record).__name__})",
                                 rows=[number], unit="line", check="not_json")
    return None


# ---- fixes: what to write in sources.yaml ------------------------------------------------------------------------

def _fix(exc: DataError, source: Source, contract: TableContract) -> str | None:
    column = contract.column(exc.field) if exc.field and "," not in exc.field else None
    values = [v for v, _ in exc.values]
    if exc.check == "missing":
        return _missing_fix(exc, source, contract)
    if column is None:
        return None
    if exc.check in ("allowed", "failure_mode"):
        targets = column.allowed or ()
        fix = _value_map_fix(source, column, values, targets)
        if exc.check == "failure_mode":
            fix += "\n(or, if they are failure modes of their own, add them to the charter's failure_modes)"
        return fix
    if exc.check == "parse" and column.kind == "bool":
        return _value_map_fix(source, column, values, ())
    if exc.check == "parse" and column.kind == "datetime":
        return _timestamp_fix(source, column, values)
    if exc.check in ("parse", "range") and column.share and column.name not in source.percent:
        numbers = [_number(v) for v in values]
        if numbers and all(n is not None and 1 < n <= 100 for n in numbers):
            return (f"is `{source.column_of(column.name)}` a percent (5 meaning 5%)? Then say so in sources.yaml "
                    f"beside charter.yaml:\n{_snippet(source.table, {column.name: 'percent'})}")
    if exc.check == "mixed_zones":
        return ("give every timestamp its offset (or write them all in UTC); if those without one are local times, "
                "export them all without an offset and name their zone in sources.yaml:\n"
                + _snippet(source.table, {"timestamps": {"timezone": "<their zone, e.g. America/Chicago>"}}))
    if exc.check == "local_time":
        return "export these times with their UTC offset (a format with %z) or in UTC, so each names one instant"
    if exc.check in ("unique", "key"):
        return "each must appear once: drop the repeated rows from the export (a day exported twice?)"
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    try:
        return float(str(value).strip().rstrip("%"))
    except ValueError:
        return None


def _snippet(table: str, body: dict[str, Any]) -> str:
    """YAML lines for sources.yaml, under the table's key."""
    lines = [f"  {table}:"]
    for key, value in body.items():
        if isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
            lines.append(f"    {key}:")
            lines += [f"      {_scalar(k)}: {_flow(v)}" for k, v in value.items()]
        else:
            lines.append(f"    {key}: {_flow(value) if isinstance(value, dict) else _scalar(value)}")
    return "\n".join(lines)


def _flow(mapping: dict[Any, Any]) -> str:
    return "{" + ", ".join(f"{_scalar(k)}: {_scalar(v)}" for k, v in mapping.items()) + "}"


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_./-]*$")
_RESERVED = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    text = str(value)
    if text.startswith("<") and text.endswith(">"):
        return text
    return text if _PLAIN.match(text) and text.lower() not in _RESERVED else json.dumps(text)


_SYNONYMS = {
    "interaction_id": ("id", "interaction", "conversation", "ticket", "request", "trace", "case", "uuid"),
    "ts": ("time", "timestamp", "created", "date", "datetime", "at", "when", "event", "logged"),
    "reviewed_at": ("time", "timestamp", "reviewed", "date", "at", "created", "submitted"),
    "run_at": ("time", "timestamp", "run", "date", "at", "started", "executed"),
    "opened_at": ("time", "timestamp", "opened", "created", "date", "at", "reported"),
    "arm": ("variant", "group", "bucket", "cohort", "treatment", "assignment", "route", "handler", "handled"),
    "success": ("resolved", "success", "succeeded", "outcome", "ok", "passed", "result", "correct", "accurate"),
    "passed": ("pass", "passed", "success", "ok", "result", "correct", "outcome"),
    "failure_mode": ("failure", "error", "issue", "defect", "problem", "mode"),
    "traffic_share": ("rollout", "percent", "percentage", "share", "weight", "coverage", "traffic", "exposure"),
    "actor": ("user", "author", "changed", "by", "who", "member", "editor"),
    "reason": ("comment", "message", "note", "why", "description", "reason"),
    "reviewer": ("reviewer", "annotator", "author", "rater", "user", "by"),
    "verdict": ("verdict", "label", "rating", "judgement", "judgment", "score", "value"),
    "severity": ("severity", "sev", "priority", "level"),
    "segment": ("segment", "category", "queue", "type", "tier", "channel"),
}
_TOKEN = re.compile(r"[A-Z]?[a-z]+|[0-9]+|[A-Z]+(?![a-z])")


def _tokens(name: str) -> set[str]:
    return {t.lower() for t in _TOKEN.findall(name)}


def _missing_fix(exc: DataError, source: Source, contract: TableContract) -> str | None:
    present = [str(n) for n in exc.details.get("present", [])]
    missing = [str(n) for n in exc.details.get("missing", [])]
    if len(present) == 1 and (delimiter := _delimiter_in(present[0], source.delimiter)):
        return (f"the header reads as one column: the file looks {_DELIMITERS[delimiter]}-separated; say so in "
                f"sources.yaml beside charter.yaml:\n{_snippet(source.table, {'delimiter': delimiter})}")
    taken = set(source.columns.values()) | {c.name for c in contract.columns if c.name in present}
    sample = _sample(source)
    chosen: dict[str, str] = dict(source.columns)
    closest, absent = [], []
    for name in missing:
        candidates = [p for p in present if p not in taken]
        scored = sorted(((_likeness(contract.column(name), p, sample), p) for p in candidates), reverse=True)
        if scored and scored[0][0] >= 0.5:
            chosen[name] = scored[0][1]
            taken.add(scored[0][1])
            closest.append(f"`{name}` ← `{scored[0][1]}`")
        else:
            chosen.pop(name, None)
            absent.append(name)
    lines = []
    if closest:
        lines.append(f"the closest present column{'s' if len(closest) > 1 else ''}: {', '.join(closest)}; if "
                     f"{'they are' if len(closest) > 1 else 'that is'} right, map "
                     f"{'them' if len(closest) > 1 else 'it'} in sources.yaml beside charter.yaml:\n"
                     + _snippet(source.table, {"columns": chosen}))
    if absent:
        lines.append(f"no column looks like {', '.join(f'`{a}`' for a in absent)}: add "
                     f"{'it' if len(absent) == 1 else 'them'} to the export (see docs/tables.md)")
    return "\n".join(lines) or None


def _delimiter_in(name: str, current: str) -> str | None:
    counts = {d: name.count(d) for d in _DELIMITERS if d != current}
    best = max(counts, key=counts.__getitem__)
    return best if counts[best] else None


def _sample(source: Source) -> pl.DataFrame | None:
    try:
        return scan(source).head(200).collect()
    except (DataError, pl.exceptions.PolarsError, OSError):
        return None


def _likeness(column: Column, name: str, sample: pl.DataFrame | None) -> float:
    """How much a present column looks like a missing contract column: its name (0–1) and its values (0–1)."""
    words = _tokens(name)
    synonyms = set(_SYNONYMS.get(column.name, ())) | _tokens(column.name)
    named = max(difflib.SequenceMatcher(None, column.name, name.lower()).ratio(), 0.7 if words & synonyms else 0)
    if sample is None or name not in sample.columns:
        return named
    values = [str(v).strip() for v in sample[name].drop_nulls().to_list() if str(v).strip()]
    return named + _fits(column, values, sample[name].dtype) - 0.5


def _fits(column: Column, values: list[str], dtype: pl.DataType) -> float:
    """How well sample values fit a contract column: 1 fits, 0.5 cannot tell, 0 does not fit."""
    if not values:
        return 0.5 if column.nullable else 0.3
    if column.kind == "datetime":
        if isinstance(dtype, pl.Datetime | pl.Date) or _timestamp_formats(values, iso=True):
            return 1.0
        return 0.0
    distinct = {v.lower() for v in values}
    if column.kind == "bool":
        return 1.0 if dtype == pl.Boolean or distinct <= set(TRUE_TEXT + FALSE_TEXT) else (
            0.7 if len(distinct) <= 2 else 0.0)
    if column.kind in ("int", "float"):
        return 1.0 if all(_number(v) is not None for v in values) else 0.0
    if column.allowed:
        return 1.0 if distinct <= set(column.allowed) else (0.7 if len(distinct) <= len(column.allowed) else 0.2)
    if column.unique:
        return 1.0 if len(set(values)) == len(values) else 0.2
    return 0.5


_BOOL_WORDS = {
    True: ("y", "ok", "pass", "passed", "success", "succeeded", "resolved", "correct", "accepted", "approved", "done",
           "positive", "si", "ja", "oui", "x"),
    False: ("n", "fail", "failed", "failure", "unresolved", "reopened", "incorrect", "rejected", "wrong", "negative",
            "nein", "non", "error"),
}
_NULLISH = ("none", "null", "n/a", "na", "-", "nan", "nil", "")
_SYNONYM_VALUES = {"treatment": "agent", "test": "agent", "ai": "agent", "bot": "agent", "variant": "agent",
                   "control": "human", "baseline": "human", "manual": "human", "person": "human", "people": "human"}


def _guess(value: Any, column: Column, targets: tuple[str, ...]) -> Any:
    """The contract value a user's value most likely means, or a placeholder naming the choices."""
    text = str(value).strip().lower()
    if column.kind == "bool":
        for answer, words in _BOOL_WORDS.items():
            if text in words:
                return answer
        return "<true|false>"
    if column.nullable and text in _NULLISH:
        return None
    if text in _SYNONYM_VALUES and _SYNONYM_VALUES[text] in targets:
        return _SYNONYM_VALUES[text]
    close = difflib.get_close_matches(text, targets, n=1, cutoff=0.6)
    if close:
        return close[0]
    return f"<{'|'.join(targets)}>" if targets else "<a charter failure mode, or null>"


def _value_map_fix(source: Source, column: Column, values: list[Any], targets: tuple[str, ...]) -> str:
    shown = values[:12]
    mapping = dict(source.values.get(column.name, {}))
    mapping.update({_text(v): _guess(v, column, targets) for v in shown})
    more = f" (and the other {len(values) - len(shown)} values)" if len(values) > len(shown) else ""
    meaning = ("true and false" if column.kind == "bool" else " or ".join(targets) if targets
               else "failure modes of the charter")
    return (f"if these values stand for {meaning}, map them in sources.yaml beside charter.yaml{more}; check each "
            "guess:\n"
            + _snippet(source.table, {"values": {column.name: mapping}}))


#: Formats tried on timestamps that do not read: day-first and month-first, with and without seconds, and more.
TIMESTAMP_FORMATS = tuple(
    f"{date}{sep}{time}" for date in ("%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y/%m/%d", "%d-%m-%Y", "%m-%d-%Y",
                                      "%d %b %Y", "%b %d %Y", "%b %d, %Y", "%Y%m%d")
    for sep, time in ((" ", "%H:%M:%S"), (" ", "%H:%M"), (" ", "%I:%M:%S %p"), (" ", "%I:%M %p"), ("", ""),
                      (" ", "%H:%M:%S%.f"), (" ", "%H:%M:%S %z"))
) + ("%a, %d %b %Y %H:%M:%S %z", "%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S %Z", "%Y%m%dT%H%M%S",
     "%Y%m%dT%H%M%SZ", "%Y-%m-%dT%H:%M:%S%.fZ", "%s")
_ISO = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d")


def _timestamp_formats(values: list[Any], *, iso: bool = False) -> list[str]:
    """The formats (of TIMESTAMP_FORMATS, or ISO 8601 too) that read every value."""
    texts = pl.Series([str(v).strip() for v in values if v is not None and str(v).strip()], dtype=pl.String)
    if not len(texts):
        return []
    found = []
    for fmt in ((*_ISO, *TIMESTAMP_FORMATS) if iso else TIMESTAMP_FORMATS):
        subject = texts.str.replace(" ", "T", literal=True) if fmt in _ISO else texts
        try:
            parsed = subject.str.to_datetime(fmt, strict=False, time_unit="us")
        except pl.exceptions.PolarsError:
            continue
        if not parsed.null_count() and fmt.replace("%.f", "") not in found:
            found.append(fmt)
    return found


def _timestamp_fix(source: Source, column: Column, values: list[Any]) -> str:
    texts = [str(v).strip() for v in values if v is not None]
    if texts and all(t.isdigit() and len(t) == 13 for t in texts):
        return "these look like Unix epoch milliseconds: export them as ISO 8601 text (e.g. 2026-11-03T14:05:00Z)"
    formats = _timestamp_formats(values)
    if not formats:
        return ('write them as ISO 8601 (2026-11-03T14:05:00Z), or give their format in sources.yaml, e.g. '
                f"timestamps: {{format: \"%d.%m.%Y %H:%M\"}} under `{source.table}:` (strftime codes)")
    fmt = formats[0]
    other = f" (\"{formats[1]}\" reads them too: say which is right)" if len(formats) > 1 else ""
    zone = {} if "%z" in fmt or fmt.endswith("Z") or fmt == "%s" else {
        "timezone": "<the zone they were written in, e.g. UTC>"}
    return (f"they read with the format \"{fmt}\"{other}; say so in sources.yaml beside charter.yaml:\n"
            + _snippet(source.table, {"timestamps": {"format": fmt, **zone}}))
