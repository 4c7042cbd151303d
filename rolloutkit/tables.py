"""`read_table`: CSV, Parquet or NDJSON files, globs of them or folders of parts, read lazily,
mapped onto the contract (`rolloutkit.contracts`) and validated.

A `Source` says where a table's rows are and how the user's columns and values map onto the contract (from
`sources.yaml`, see `rolloutkit.sources`, or simply the file found by the table's name). The mapping is a lazy
rename and `replace` on the scan, so a 10M-row export is mapped without a copy.

Every rule is checked in two streaming queries (counts of offending rows per rule; hashes of the values that must be
distinct); only when a rule fails is another query run to fetch the offending values with their counts and a few
rows for the message. Rows are named as a
reader finds them: file lines for CSV (the header is line 1) and NDJSON, rows for Parquet. Timestamps come out as UTC
datetimes, and each table with a time column gains a `day` column bucketed in the charter's time zone.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from rolloutkit.contracts import CONTRACTS, COUNT_CONTRACTS, Column, TableContract
from rolloutkit.errors import DataError, short

Format = Literal["parquet", "csv", "ndjson"]
FORMATS = (".parquet", ".csv", ".ndjson")
_DTYPES: dict[str, pl.DataType] = {
    "str": pl.String(), "int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean(),
    "datetime": pl.Datetime("us", "UTC"), "date": pl.Date(),
}
_ROW, _FILE, _COUNT = "__row", "__file", "__count"
#: Distinct offending values an error fetches: the message shows a dozen, a fix (a value map, a timestamp
#: format) reads them all.
_FETCHED = 1000
TRUE_TEXT, FALSE_TEXT = ("true", "1", "yes", "t"), ("false", "0", "no", "f")


@dataclass(frozen=True, kw_only=True)
class Source:
    """Where a table's rows are and how they map onto its contract; the defaults read a file as it is."""

    table: str
    #: As the user wrote it, relative to the workspace: "canary.csv", "exports/interactions_*.csv", "canary/".
    location: str
    files: tuple[Path, ...]
    format: Format
    #: A folder of Parquet parts, read with hive partitions.
    folder: Path | None = None
    #: The workspace folder; messages name files relative to it.
    root: Path | None = None
    delimiter: str = ","
    #: Contract column → the user's column.
    columns: Mapping[str, str] = field(default_factory=dict)
    #: Contract column → {the user's value (as text; None for an empty cell): the contract value}.
    values: Mapping[str, Mapping[str | None, Any]] = field(default_factory=dict)
    #: How text timestamps are written (strftime codes); None reads ISO 8601.
    timestamp_format: str | None = None
    #: The zone of timestamps written without an offset; None means UTC.
    timezone: str | None = None
    #: Share columns written as percentages (5 meaning 5%).
    percent: tuple[str, ...] = ()
    #: Described in sources.yaml (rather than found by its name).
    declared: bool = False

    @classmethod
    def at(cls, path: str | Path, table: str = "", *, root: Path | None = None) -> Source:
        """A table file, or a folder of Parquet parts, read as it is."""
        path = Path(path)
        location = str(path.relative_to(root)) if root and path.is_relative_to(root) else str(path)
        if path.is_dir():
            parts = tuple(sorted(path.rglob("*.parquet")))
            if not parts:
                raise DataError(location + "/", "is a table folder without any .parquet parts", check="unreadable")
            return cls(table=table, location=location + "/", files=parts, format="parquet", folder=path, root=root)
        fmt = {".parquet": "parquet", ".csv": "csv", ".ndjson": "ndjson"}.get(path.suffix)
        if fmt is None:
            raise DataError(location, f"has an unknown format; use one of {', '.join(FORMATS)} or a folder of parts",
                            check="unreadable")
        return cls(table=table, location=location, files=(path,), format=fmt, root=root)

    @property
    def path(self) -> Path:
        """The folder of parts, or the first file."""
        return self.folder or self.files[0]

    def name(self, file: str | Path) -> str:
        """A file as messages name it: relative to the workspace."""
        path = Path(file)
        return str(path.relative_to(self.root)) if self.root and path.is_relative_to(self.root) else path.name

    def column_of(self, column: str) -> str:
        """The user's name of a contract column."""
        return self.columns.get(column, column)

    def mapping_of(self, column: Column) -> str | None:
        """The mapping applied to a column, in words, for messages; None when it is read as it is."""
        parts = []
        if column.name in self.columns:
            parts.append(f"read as `{column.name}`")
        if column.name in self.values:
            pairs = ", ".join(f"{short(k, 24) if isinstance(k, str) else k} → {cell_text(v)}"
                              for k, v in self.values[column.name].items())
            parts.append(f"values {short(pairs, 120)}")
        if column.name in self.percent:
            parts.append("in percent")
        if column.kind == "datetime" and (self.timestamp_format or self.timezone):
            written = [f"format {self.timestamp_format}"] if self.timestamp_format else []
            written += [f"zone {self.timezone}"] if self.timezone else []
            parts.append(", ".join(written))
        return "; ".join(parts) or None


def find_table(directory: str | Path, name: str) -> Path | None:
    """The file (or folder of Parquet parts) holding table `name` in a workspace, or None when absent."""
    directory = Path(directory)
    found = [directory / f"{name}{ext}" for ext in FORMATS if (directory / f"{name}{ext}").is_file()]
    if (directory / name).is_dir():
        found.append(directory / name)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise DataError(str(directory), f"holds table `{name}` more than once ({names}); keep one", check="twice")
    return found[0] if found else None


def scan(source: Source | str | Path, *, file_column: str | None = None) -> pl.LazyFrame:
    """A lazy scan of a table's files, text formats read as strings; `file_column` names each row's file."""
    source = source if isinstance(source, Source) else Source.at(source)
    files = source.files[0] if len(source.files) == 1 else list(source.files)
    try:
        if source.format == "parquet":
            if source.folder is not None:
                return pl.scan_parquet(source.folder / "**" / "*.parquet", hive_partitioning=True,
                                       include_file_paths=file_column)
            return pl.scan_parquet(files, include_file_paths=file_column)
        if source.format == "csv":
            return pl.scan_csv(files, infer_schema=False, separator=source.delimiter, include_file_paths=file_column)
        return pl.scan_ndjson(files, infer_schema_length=None, include_file_paths=file_column)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise _unreadable(source, exc) from None


def read_table(
    source: Source | str | Path,
    contract: TableContract | str,
    *,
    failure_modes: tuple[str, ...] | None = None,
    timezone: str = "UTC",
) -> pl.LazyFrame:
    """Read, map, type and validate a table; returns a LazyFrame in the contract's types plus `day`.

    `source` is a file, a folder of Parquet parts, or a `Source` (its files and mapping). `failure_modes` (the
    charter's) are the values allowed in failure_mode columns. Raises `DataError` naming the file, the column as
    the user wrote it, the mapping applied, the rule, the offending values with their counts and a few rows.
    `rolloutkit.sources.read` adds what to write in sources.yaml to fix it.
    """
    contract = (CONTRACTS.get(contract) or COUNT_CONTRACTS[contract]) if isinstance(contract, str) else contract
    if failure_modes is not None:
        contract = contract.with_failure_modes(failure_modes)
    source = source if isinstance(source, Source) else Source.at(source, contract.name)
    raw = scan(source)
    try:
        schema = raw.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise _unreadable(source, exc) from None
    frame, mapped = _mapped(source, raw, schema, contract)
    missing = [c.name for c in contract.columns if c.required and c.name not in mapped]
    if missing:
        names = schema.names()
        has = ", ".join(short(n, 40) for n in names[:30]) + (f" and {len(names) - 30} more" if len(names) > 30
                                                                  else "")
        raise DataError(_file_of(source), f"is missing required column(s) {', '.join(missing)} "
                        f"(it has: {has or 'no columns'})", check="missing",
                        details={"missing": missing, "present": names})
    present = [c for c in contract.columns if c.name in mapped]
    _validate(source, frame, mapped, present, contract, failure_modes)
    typed = frame.with_columns(_cast(c, mapped[c.name], source) for c in present)
    if contract.time_column:
        local = pl.col(contract.time_column).dt.convert_time_zone(timezone)
        typed = typed.with_columns(day=local.dt.date())
    return typed


def _file_of(source: Source) -> str:
    return source.name(source.files[0]) if len(source.files) == 1 and source.folder is None else source.location


def _mapped(source: Source, raw: pl.LazyFrame, schema: pl.Schema,
            contract: TableContract) -> tuple[pl.LazyFrame, pl.Schema]:
    """The scan with the user's columns renamed to the contract's and their value maps applied (both lazy)."""
    if not source.columns and not source.values:
        return raw, schema
    rename = {}
    for column, theirs in source.columns.items():
        if theirs not in schema:
            raise DataError(_file_of(source), f"has no column `{theirs}`, which sources.yaml maps to `{column}`",
                            check="missing", field=column, details={"missing": [column], "present": schema.names()})
        if column in schema and column not in source.columns.values():
            raise DataError(_file_of(source), f"has a column `{column}` and sources.yaml maps `{theirs}` to "
                            f"`{column}` too; map `{column}` to one of them and rename the other in the export",
                            check="collision", column=column)
        rename[theirs] = column
    frame = raw.rename(rename) if rename else raw
    maps = [_value_map(pl.col(c), source.values[c]).alias(c) for c in source.values if c in frame.collect_schema()]
    frame = frame.with_columns(maps) if maps else frame
    return frame, frame.collect_schema()


def cell_text(value: Any) -> str | None:
    """A value-map key or target as the text a cell holds: True → "true", 5 → "5", None stays None."""
    if value is None or isinstance(value, str):
        return value
    return str(value).lower() if isinstance(value, bool) else str(value)


def _value_map(col: pl.Expr, mapping: Mapping[str | None, Any]) -> pl.Expr:
    text = col.cast(pl.String).str.strip_chars()
    pairs = [(k, cell_text(v)) for k, v in mapping.items() if k is not None]
    if pairs:
        text = text.replace([k for k, _ in pairs], [v for _, v in pairs])
    if None in mapping:
        text = text.fill_null(pl.lit(cell_text(mapping[None]), dtype=pl.String))
    return text


def _localized(naive: pl.Expr, zone: str | None) -> pl.Expr:
    """Naive datetimes read in `zone` (UTC when None), as UTC; null where the local time repeats or is skipped."""
    if zone in (None, "UTC"):
        return naive.dt.replace_time_zone("UTC")
    return naive.dt.replace_time_zone(zone, ambiguous="null", non_existent="null").dt.convert_time_zone("UTC")


def _has_offset(fmt: str) -> bool:
    return any(code in fmt for code in ("%z", "%:z", "%#z", "%::z"))


def _datetime_text(col: pl.Expr, source: Source | None) -> tuple[pl.Expr | None, pl.Expr | None]:
    """Text timestamps parsed as (with an offset, as UTC; without one, naive); either may be None."""
    text = col.cast(pl.String).str.strip_chars()
    fmt = source.timestamp_format if source else None
    if fmt:
        parsed = text.str.to_datetime(fmt, strict=False, time_unit="us")
        return (parsed.dt.convert_time_zone("UTC"), None) if _has_offset(fmt) else (None, parsed)
    iso = text.str.replace(" ", "T", literal=True)
    aware = iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us")
    naive = pl.coalesce(
        iso.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us"),
        iso.str.to_datetime("%Y-%m-%dT%H:%M", strict=False, time_unit="us"),
        iso.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us"),
    )
    return aware, naive


def _naive(col: pl.Expr, dtype: pl.DataType, source: Source | None) -> pl.Expr | None:
    """The column's naive datetimes (before they are placed in a zone), or None when it has none."""
    if isinstance(dtype, pl.Datetime):
        return None if dtype.time_zone else col.dt.cast_time_unit("us")
    if isinstance(dtype, pl.Date):
        return col.cast(pl.Datetime("us"))
    return _datetime_text(col, source)[1]


def _cast(column: Column, dtype: pl.DataType, source: Source | None = None) -> pl.Expr:
    col = pl.col(column.name)
    zone = source.timezone if source else None
    if column.kind == "date":
        if isinstance(dtype, pl.Date | pl.Datetime):
            return col.cast(pl.Date)
        return col.cast(pl.String).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    if column.kind == "datetime":
        if dtype == _DTYPES["datetime"]:  # already UTC microseconds: spare a copy of every timestamp
            return col
        if isinstance(dtype, pl.Datetime) and dtype.time_zone:
            return col.dt.convert_time_zone("UTC").dt.cast_time_unit("us")
        if isinstance(dtype, pl.Datetime | pl.Date):
            return _localized(_naive(col, dtype, source), zone).alias(column.name)
        aware, naive = _datetime_text(col, source)
        parts = ([aware] if aware is not None else []) + ([_localized(naive, zone)] if naive is not None else [])
        return (pl.coalesce(*parts) if len(parts) > 1 else parts[0]).alias(column.name)
    if column.kind == "bool":
        if dtype == pl.Boolean:
            return col
        if dtype.is_numeric():
            return pl.when(col == 1).then(True).when(col == 0).then(False).otherwise(None).alias(column.name)
        lowered = col.cast(pl.String).str.strip_chars().str.to_lowercase()
        return (pl.when(lowered.is_in(TRUE_TEXT)).then(True)
                .when(lowered.is_in(FALSE_TEXT)).then(False)
                .otherwise(None).alias(column.name))
    if column.kind in ("int", "float"):
        if dtype == pl.String:
            text = col.str.strip_chars()
            if column.name in (source.percent if source else ()):
                text = text.str.strip_suffix("%")
            number = text.cast(_DTYPES[column.kind], strict=False)
        elif column.kind == "int" and dtype.is_float():
            number = pl.when(col == col.floor()).then(col.cast(pl.Int64, strict=False)).otherwise(None)
        else:
            number = col.cast(_DTYPES[column.kind], strict=False)
        if column.name in (source.percent if source else ()):
            number = number / 100
        return number.alias(column.name)
    if column.kind == "str" and dtype == pl.String:
        # CSV cells are trimmed (spreadsheets and hand edits pad them); Parquet and NDJSON strings, written by
        # programs, are read as written, which saves a copy of every string of a 10M-row table. when/then
        # rather than replace("", None), which the streaming engine cannot run chunk by chunk.
        text = col.str.strip_chars() if source is not None and source.format == "csv" else col
        return pl.when(text != "").then(text).alias(column.name)
    return col.cast(_DTYPES[column.kind], strict=False)


@dataclass(frozen=True)
class _Rule:
    column: str
    text: str
    #: True on offending rows; written on the raw columns, so one scan of the file answers every rule.
    offending: pl.Expr
    #: For a rule that values be distinct: the values (null where none is), else None and the rule counts the
    #: offending rows.
    distinct: pl.Expr | None = None
    #: Which rule it is, for `DataError.check` (and the fix sources.yaml can offer).
    check: str = ""


def _rules(columns: list[Column], schema: pl.Schema, contract: TableContract, failure_modes: tuple[str, ...] | None,
           source: Source | None = None) -> tuple[list[_Rule], dict[str, pl.Expr]]:
    """Every rule of the contract for the columns present, as expressions over the raw (untyped) columns, and the
    helper columns they share: text timestamps parsed once per row (with and without an offset), since several
    rules read them and polars would parse them again for each."""
    rules, helpers = [], {}
    zone = source.timezone if source else None
    for c in columns:
        dtype = schema[c.name]
        raw, typed = pl.col(c.name), _cast(c, dtype, source)
        parsing = _needs_parsing(c, dtype)
        blank = raw.is_null() | (raw.cast(pl.String).str.strip_chars() == "") if parsing else typed.is_null()
        if parsing:
            if c.kind == "datetime":
                aware, naive = _datetime_text(raw, source)
                if aware is not None:
                    helpers[f"__aware__{c.name}"], aware = aware, pl.col(f"__aware__{c.name}")
                if naive is not None:
                    helpers[f"__naive__{c.name}"], naive = naive, pl.col(f"__naive__{c.name}")
                readable = pl.any_horizontal(*(e.is_not_null() for e in (aware, naive) if e is not None))
            else:
                readable = typed.is_not_null()
            rules.append(_Rule(c.name, f"cannot be read as {_kind_words(c, source)}", ~readable & ~blank,
                               check="parse"))
            if c.kind == "datetime" and aware is not None and naive is not None:
                mixed = naive.is_not_null() & aware.is_not_null().any()
                rules.append(_Rule(c.name, "mixes timestamps with a UTC offset and timestamps without one (read as "
                                   f"{zone or 'UTC'}); these have none", mixed, check="mixed_zones"))
        if c.kind == "datetime" and zone not in (None, "UTC"):
            naive = pl.col(f"__naive__{c.name}") if parsing else _naive(raw, dtype, source)
            if naive is not None:
                rules.append(_Rule(c.name, f"holds local times that do not exist or repeat in {zone} (clocks "
                                   "changed)", naive.is_not_null() & _localized(naive, zone).is_null(),
                                   check="local_time"))
        if not c.nullable:
            rules.append(_Rule(c.name, "has empty values (it is required)", blank, check="empty"))
        if c.allowed:
            rules.append(_Rule(c.name, f"has values outside {{{', '.join(c.allowed)}}}", ~typed.is_in(c.allowed),
                               check="allowed"))
        if c.failure_mode and failure_modes is not None:
            modes = ", ".join(failure_modes)
            rules.append(_Rule(c.name, f"has values that are not failure modes of the charter ({modes})",
                               ~typed.is_in(list(failure_modes)), check="failure_mode"))
        if c.kind == "float":
            rules.append(_Rule(c.name, "must be a finite number (not NaN or infinity)", ~typed.is_finite(),
                               check="finite"))
        if c.low is not None:
            below = typed <= c.low if c.low_open else typed < c.low
            above = typed > c.high if c.high is not None else pl.lit(False)
            if c.high is None:
                text = f"must be {'>' if c.low_open else '>='} {c.low:g}"
            elif source is not None and c.name in source.percent:
                text = f"must be in {'(' if c.low_open else '['}{c.low * 100:g}, {c.high * 100:g}] (a percent)"
            else:
                text = f"must be in {'(' if c.low_open else '['}{c.low:g}, {c.high:g}]"
            rules.append(_Rule(c.name, text, below | above, check="range"))
        if c.at_most and c.at_most in schema:
            total = _cast(contract.column(c.at_most), schema[c.at_most], source)
            rules.append(_Rule(c.name, f"must not exceed `{c.at_most}`", typed > total, check="at_most"))
        if c.unique:
            rules.append(_Rule(c.name, "must be unique; duplicated values", typed.is_duplicated() & typed.is_not_null(),
                               distinct=typed, check="unique"))
    if contract.key and all(k in schema for k in contract.key):
        key = pl.struct([_cast(contract.column(k), schema[k], source) for k in contract.key])
        rules.append(_Rule(", ".join(contract.key), "must identify a row; duplicated combinations",
                           key.is_duplicated(), distinct=key, check="key"))
    return rules, helpers


def _needs_parsing(column: Column, dtype: pl.DataType) -> bool:
    """Whether values can fail to convert: text that must become numbers, flags or timestamps."""
    if column.kind == "str":
        return False
    if column.kind in ("datetime", "date"):
        return not isinstance(dtype, pl.Datetime | pl.Date)
    if column.kind == "bool":
        return dtype != pl.Boolean
    if column.kind == "int":
        return not dtype.is_integer()
    return not dtype.is_numeric()


def _kind_words(column: Column, source: Source | None = None) -> str:
    if column.kind == "datetime" and source is not None and source.timestamp_format:
        return f"a timestamp in the format {source.timestamp_format} that sources.yaml gives"
    if column.kind == "float" and source is not None and column.name in source.percent:
        return "a percent (a number, e.g. 5 or 5%)"
    return {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false",
            "datetime": "a timestamp (ISO 8601, e.g. 2026-11-02T14:05:00Z)", "date": "a date (YYYY-MM-DD)"}[column.kind]


def _validate(source: Source, frame: pl.LazyFrame, schema: pl.Schema, columns: list[Column],
              contract: TableContract, failure_modes: tuple[str, ...] | None) -> None:
    rules, helpers = _rules(columns, schema, contract, failure_modes, source)
    try:
        rows, found = _broken(frame.with_columns(**helpers) if helpers else frame, rules)
    except pl.exceptions.PolarsError as exc:
        raise _unreadable(source, exc) from None
    if not rows:
        what = "has a header but no rows" if source.format == "csv" else "has no rows"
        raise DataError(_file_of(source), f"{what}; leave the table out until it has data", check="no_rows")
    failing = [(rule, count) for rule, count in zip(rules, found, strict=True) if count]
    for i, (rule, _) in enumerate(failing):
        also = [f"column `{_user_columns(source, r)}` {r.text} — "
                + (f"{n:,} repeated" if r.distinct is not None else f"{n:,} row{'s' if n != 1 else ''}")
                for j, (r, n) in enumerate(failing) if j != i]
        error = _offending(source, contract, rule, also, helpers)
        if error is not None:
            raise error


def _broken(frame: pl.LazyFrame, rules: list[_Rule]) -> tuple[int, list[int]]:
    """The table's rows and, per rule, how many rows break it: an offending row count, or for a rule of distinct
    values how many repeat. Two queries on the streaming engine, so memory stays flat however long the table:
    the counts of offending rows, and the 64-bit hashes of the values that must be distinct (8 bytes a row,
    several times cheaper than comparing millions of ids). A repeat is only looked up when a count says there
    is one, which also weeds out the rare hash collision."""
    counts = frame.select(pl.len().alias(_COUNT), *(r.offending.fill_null(False).sum().alias(str(i))
                                                    for i, r in enumerate(rules) if r.distinct is None))
    counts = counts.collect(engine="streaming").row(0, named=True)
    hashes = frame.select(pl.when(r.distinct.is_not_null()).then(r.distinct.hash()).alias(str(i))
                          for i, r in enumerate(rules) if r.distinct is not None).collect(engine="streaming")

    def repeated(hashed: pl.Series) -> int:
        values = hashed.drop_nulls()
        return values.len() - values.n_unique()

    return counts[_COUNT], [counts[str(i)] if r.distinct is None else repeated(hashes[str(i)])
                            for i, r in enumerate(rules)]


def _user_columns(source: Source, rule: _Rule) -> str:
    return ", ".join(source.column_of(c) for c in rule.column.split(", "))


def _numbered(source: Source, contract: TableContract) -> pl.LazyFrame:
    """The mapped scan with each row's number as a reader finds it (`_ROW`) and, for several files, its file."""
    several = len(source.files) > 1 or source.folder is not None
    raw = scan(source, file_column=_FILE if several else None)
    frame, _ = _mapped(source, raw, raw.collect_schema(), contract)
    first = 2 if source.format == "csv" else 1
    if several:
        return frame.with_columns((pl.int_range(pl.len()).over(_FILE) + first).alias(_ROW))
    return frame.with_row_index(_ROW, offset=first)


def _offending(source: Source, contract: TableContract, rule: _Rule, also: list[str],
               helpers: dict[str, pl.Expr]) -> DataError | None:
    """The rule's DataError with its offending values and rows, or None when an exact look finds none."""
    shown = rule.column.split(", ")
    offending = _numbered(source, contract).with_columns(**helpers).filter(rule.offending.fill_null(False))
    total = offending.select(pl.len()).collect().item()
    if not total:
        return None
    several = len(source.files) > 1 or source.folder is not None
    sample = offending.select(_ROW, *([_FILE] if several else []), *shown).head(5).collect()
    values: list[tuple[object, int]] = []
    distinct = None
    if rule.check != "empty":
        grouped = offending.group_by(shown).agg(pl.len().alias(_COUNT))
        distinct = grouped.select(pl.len()).collect().item()
        top = grouped.sort([_COUNT, *shown], descending=[True, *[False] * len(shown)], nulls_last=True)
        top = top.head(_FETCHED).collect()
        keys = top[shown[0]].to_list() if len(shown) == 1 else [tuple(r) for r in top.select(shown).iter_rows()]
        values = list(zip(keys, top[_COUNT].to_list(), strict=True))
    column = contract.column(shown[0]) if len(shown) == 1 else None
    return DataError(
        source.location if several else _file_of(source),
        f"{rule.text} — {total:,} row{'s' if total != 1 else ''}",
        column=_user_columns(source, rule), rows=sample[_ROW].to_list(), total_rows=total, values=values,
        distinct=distinct, unit="row" if source.format == "parquet" else "line",
        files=[source.name(f) for f in sample[_FILE].to_list()] if several else (),
        mapping=source.mapping_of(column) if column is not None else None, check=rule.check, field=rule.column,
        details={"table": contract.name}, also=also)



def _unreadable(source: Source, exc: Exception) -> DataError:
    """Polars' own words; `rolloutkit.sources.read` looks at the file to say what is wrong with it."""
    detail = " ".join(str(exc).split())
    return DataError(_file_of(source), f"cannot be read: {short(detail, 300)}", check="unreadable")
