"""Table contracts and `read_table`: CSV, Parquet, NDJSON or a folder of Parquet parts, read lazily and validated.

Every rule is checked with one lazy aggregate query (counts of offending rows per rule); only when a rule fails is a
second query run to fetch a few offending rows for the message. Timestamps come out as UTC datetimes, and each table
with a time column gains a `day` column bucketed in the charter's time zone.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import polars as pl

from rolloutkit.errors import DataError

Kind = Literal["str", "int", "float", "bool", "datetime", "date"]
FORMATS = (".parquet", ".csv", ".ndjson")
_DTYPES: dict[str, pl.DataType] = {
    "str": pl.String(), "int": pl.Int64(), "float": pl.Float64(), "bool": pl.Boolean(),
    "datetime": pl.Datetime("us", "UTC"), "date": pl.Date(),
}
_ROW = "__row"


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    required: bool = True
    nullable: bool = False
    allowed: tuple[str, ...] | None = None
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    unique: bool = False
    #: Values must be null or one of the charter's failure modes.
    failure_mode: bool = False
    #: Values must not exceed this column's on the same row (a count within its total).
    at_most: str | None = None


@dataclass(frozen=True)
class TableContract:
    name: str
    columns: tuple[Column, ...]
    #: The timestamp column whose local date becomes `day`.
    time_column: str | None = None
    #: Columns that together identify a row.
    key: tuple[str, ...] = ()
    #: A required column per charter failure mode, named this column's name + the mode (`fail__` + `wrong_policy`).
    per_failure_mode: Column | None = None

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    def with_failure_modes(self, modes: tuple[str, ...]) -> TableContract:
        """The contract with its per-failure-mode columns spelled out for these modes."""
        if self.per_failure_mode is None:
            return self
        template = self.per_failure_mode
        spelled = tuple(replace(template, name=f"{template.name}{mode}") for mode in modes)
        return replace(self, columns=self.columns + spelled, per_failure_mode=None)


VERDICTS = ("agent_better", "equivalent", "agent_worse", "unclear")
ARMS = ("agent", "human")
CATEGORIES = ("typical", "edge", "prior_failure", "adversarial")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
INCIDENT_KINDS = ("regression", "false_positive", "customer_escalation", "guardrail_breach", "other")

CONTRACTS: dict[str, TableContract] = {
    "shadow": TableContract("shadow", (
        Column("interaction_id", "str", unique=True),
        Column("ts", "datetime"),
        Column("segment", "str"),
        Column("agent_action", "str"),
        Column("human_action", "str"),
        Column("agent_cost_usd", "float", required=False, nullable=True, low=0),
        Column("agent_latency_ms", "float", required=False, nullable=True, low=0),
        Column("human_handle_s", "float", required=False, nullable=True, low=0),
        Column("risk", "str", required=False, nullable=True, allowed=("low", "medium", "high")),
    ), time_column="ts"),
    "reviews": TableContract("reviews", (
        Column("interaction_id", "str"),
        Column("reviewer", "str"),
        Column("reviewed_at", "datetime"),
        Column("verdict", "str", allowed=VERDICTS),
        Column("failure_mode", "str", nullable=True, failure_mode=True),
        Column("inclusion_prob", "float", required=False, nullable=True, low=0, low_open=True, high=1),
        Column("phase", "str", required=False, nullable=True, allowed=("shadow", "supervision")),
    ), time_column="reviewed_at", key=("interaction_id", "reviewer")),
    "canary": TableContract("canary", (
        Column("interaction_id", "str", unique=True),
        Column("ts", "datetime"),
        Column("arm", "str", allowed=ARMS),
        Column("success", "bool"),
        Column("failure_mode", "str", nullable=True, failure_mode=True),
        Column("session_id", "str", required=False, nullable=True),
        Column("segment", "str", required=False, nullable=True),
        Column("actions", "int", required=False, nullable=True, low=0),
        Column("dollars", "float", required=False, nullable=True, low=0),
        Column("disallowed_actions", "int", required=False, nullable=True, low=0),
        Column("unreviewed_irreversible", "int", required=False, nullable=True, low=0),
        Column("cost_usd", "float", required=False, nullable=True, low=0),
        Column("latency_ms", "float", required=False, nullable=True, low=0),
    ), time_column="ts"),
    "flags": TableContract("flags", (
        Column("ts", "datetime"),
        Column("traffic_share", "float", low=0, high=1),
        Column("actor", "str"),
        Column("reason", "str"),
        Column("zero_at", "datetime", required=False, nullable=True),
    ), time_column="ts"),
    "evals": TableContract("evals", (
        Column("run_id", "str"),
        Column("run_at", "datetime"),
        Column("agent_version", "str"),
        Column("task_id", "str"),
        Column("category", "str", allowed=CATEGORIES),
        Column("passed", "bool"),
        Column("score", "float", required=False, nullable=True),
        Column("source", "str", required=False, nullable=True),
    ), time_column="run_at", key=("run_id", "task_id")),
    "incidents": TableContract("incidents", (
        Column("incident_id", "str", unique=True),
        Column("opened_at", "datetime"),
        Column("severity", "str", allowed=SEVERITIES),
        Column("kind", "str", allowed=INCIDENT_KINDS),
        Column("summary", "str"),
        Column("closed_at", "datetime", required=False, nullable=True),
        Column("failure_mode", "str", required=False, nullable=True, failure_mode=True),
        Column("interaction_id", "str", required=False, nullable=True),
        Column("detected_by", "str", required=False, nullable=True,
               allowed=("review_sample", "customer", "monitoring")),
    ), time_column="opened_at"),
}
TABLE_NAMES = tuple(CONTRACTS)

#: Daily counts a warehouse (or `rolloutkit counts`) computes from `canary` and `shadow` rows; see rolloutkit.counts.
COUNT_CONTRACTS: dict[str, TableContract] = {
    "canary_daily": TableContract("canary_daily", (
        Column("day", "date"),
        Column("segment_start", "datetime", nullable=True),
        Column("arm", "str", allowed=ARMS),
        Column("n", "int", low=0),
        Column("successes", "int", low=0, at_most="n"),
        Column("disallowed", "int", required=False, low=0, at_most="n"),
        Column("unreviewed", "int", required=False, low=0, at_most="n"),
        Column("over_actions", "int", required=False, low=0, at_most="n"),
        Column("over_dollars", "int", required=False, low=0, at_most="n"),
        Column("cost_usd", "float", required=False, low=0),
        Column("cost_n", "int", required=False, low=0, at_most="n"),
        Column("latency_ms_sum", "float", required=False, low=0),
        Column("latency_ms_sumsq", "float", required=False, low=0),
        Column("latency_n", "int", required=False, low=0, at_most="n"),
        Column("computed_at", "datetime", required=False, nullable=True),
    ), key=("day", "segment_start", "arm"), per_failure_mode=Column("fail__", "int", low=0, at_most="n")),
    "shadow_daily": TableContract("shadow_daily", (
        Column("day", "date"),
        Column("segment", "str"),
        Column("interactions", "int", low=0),
        Column("agreed", "int", low=0, at_most="interactions"),
        Column("agent_cost_usd", "float", required=False, low=0),
        Column("agent_cost_n", "int", required=False, low=0, at_most="interactions"),
        Column("agent_latency_ms_sum", "float", required=False, low=0),
        Column("agent_latency_ms_sumsq", "float", required=False, low=0),
        Column("agent_latency_n", "int", required=False, low=0, at_most="interactions"),
        Column("human_handle_s_sum", "float", required=False, low=0),
        Column("human_handle_s_sumsq", "float", required=False, low=0),
        Column("human_handle_n", "int", required=False, low=0, at_most="interactions"),
        Column("computed_at", "datetime", required=False, nullable=True),
    ), key=("day", "segment")),
}


def find_table(directory: str | Path, name: str) -> Path | None:
    """The file (or folder of Parquet parts) holding table `name` in a workspace, or None when absent."""
    directory = Path(directory)
    found = [directory / f"{name}{ext}" for ext in FORMATS if (directory / f"{name}{ext}").is_file()]
    if (directory / name).is_dir():
        found.append(directory / name)
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise DataError(str(directory), f"holds table `{name}` more than once ({names}); keep one")
    return found[0] if found else None


def scan(path: str | Path) -> pl.LazyFrame:
    """A lazy scan of a table file or a folder of Parquet parts, with text formats read as strings."""
    path = Path(path)
    try:
        if path.is_dir():
            parts = sorted(path.rglob("*.parquet"))
            if not parts:
                raise DataError(str(path), "is a table folder without any .parquet parts")
            return pl.scan_parquet(path / "**" / "*.parquet", hive_partitioning=True)
        if path.suffix == ".parquet":
            return pl.scan_parquet(path)
        if path.suffix == ".csv":
            return pl.scan_csv(path, infer_schema=False)
        if path.suffix == ".ndjson":
            return pl.scan_ndjson(path, infer_schema_length=None)
    except (OSError, pl.exceptions.PolarsError) as exc:
        raise DataError(str(path), f"cannot be read: {exc}") from None
    raise DataError(str(path), f"has an unknown format; use one of {', '.join(FORMATS)} or a folder of parts")


def read_table(
    path: str | Path,
    contract: TableContract | str,
    *,
    failure_modes: tuple[str, ...] | None = None,
    timezone: str = "UTC",
) -> pl.LazyFrame:
    """Read, type and validate a table; returns a LazyFrame in the contract's types plus `day`.

    `failure_modes` (the charter's) are the values allowed in failure_mode columns. Raises `DataError` naming the
    file, the column, the rule and a few offending rows (1-based data row numbers).
    """
    contract = (CONTRACTS.get(contract) or COUNT_CONTRACTS[contract]) if isinstance(contract, str) else contract
    if failure_modes is not None:
        contract = contract.with_failure_modes(failure_modes)
    path = Path(path)
    raw = scan(path)
    try:
        schema = raw.collect_schema()
    except pl.exceptions.PolarsError as exc:
        raise DataError(path.name, f"cannot be read: {exc}") from None
    missing = [c.name for c in contract.columns if c.required and c.name not in schema]
    if missing:
        raise DataError(path.name, f"is missing required column(s) {', '.join(missing)} "
                        f"(it has: {', '.join(schema.names()) or 'no columns'})")
    present = [c for c in contract.columns if c.name in schema]
    _validate(path.name, raw, schema, present, contract, failure_modes)
    typed = raw.with_columns(_cast(c, schema[c.name]) for c in present)
    if contract.time_column:
        local = pl.col(contract.time_column).dt.convert_time_zone(timezone)
        typed = typed.with_columns(day=local.dt.date())
    return typed


def _cast(column: Column, dtype: pl.DataType) -> pl.Expr:
    col = pl.col(column.name)
    if column.kind == "date":
        if isinstance(dtype, pl.Date | pl.Datetime):
            return col.cast(pl.Date)
        return col.cast(pl.String).str.strip_chars().str.to_date("%Y-%m-%d", strict=False)
    if column.kind == "datetime":
        if isinstance(dtype, pl.Datetime):
            at_utc = col.dt.convert_time_zone("UTC") if dtype.time_zone else col.dt.replace_time_zone("UTC")
            return at_utc.dt.cast_time_unit("us")
        if isinstance(dtype, pl.Date):
            return col.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        text = col.cast(pl.String).str.strip_chars().str.replace(" ", "T", literal=True)
        return pl.coalesce(
            text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us"),
            text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
            text.str.to_datetime("%Y-%m-%dT%H:%M", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
            text.str.to_datetime("%Y-%m-%d", strict=False, time_unit="us").dt.replace_time_zone("UTC"),
        ).alias(column.name)
    if column.kind == "bool" and dtype == pl.String:
        lowered = col.str.strip_chars().str.to_lowercase()
        return (pl.when(lowered.is_in(["true", "1", "yes", "t"])).then(True)
                .when(lowered.is_in(["false", "0", "no", "f"])).then(False)
                .otherwise(None).alias(column.name))
    if column.kind in ("int", "float") and dtype == pl.String:
        return col.str.strip_chars().cast(_DTYPES[column.kind], strict=False)
    if column.kind == "str" and dtype == pl.String:
        return col.str.strip_chars().replace("", None)
    return col.cast(_DTYPES[column.kind], strict=False)


@dataclass(frozen=True)
class _Rule:
    column: str
    text: str
    #: True on offending rows; written on the raw columns, so one scan of the file answers every rule.
    offending: pl.Expr
    #: How many rows break it, as an aggregate; None means `offending.sum()`.
    count: pl.Expr | None = None


def _rules(columns: list[Column], schema: pl.Schema, contract: TableContract,
           failure_modes: tuple[str, ...] | None) -> list[_Rule]:
    """Every rule of the contract for the columns present, as expressions over the raw (untyped) columns."""
    rules = []
    for c in columns:
        raw, typed = pl.col(c.name), _cast(c, schema[c.name])
        if _needs_parsing(c, schema[c.name]):
            blank = raw.is_null() | (raw.cast(pl.String).str.strip_chars() == "")
            rules.append(_Rule(c.name, f"cannot be read as {_kind_words(c.kind)}", typed.is_null() & ~blank))
        if not c.nullable:
            rules.append(_Rule(c.name, "has empty values (it is required)", typed.is_null()))
        if c.allowed:
            rules.append(_Rule(c.name, f"has values outside {{{', '.join(c.allowed)}}}", ~typed.is_in(c.allowed)))
        if c.failure_mode and failure_modes is not None:
            modes = ", ".join(failure_modes)
            rules.append(_Rule(c.name, f"has values that are not failure modes of the charter ({modes})",
                               ~typed.is_in(list(failure_modes))))
        if c.low is not None:
            below = typed <= c.low if c.low_open else typed < c.low
            above = typed > c.high if c.high is not None else pl.lit(False)
            if c.high is None:
                text = f"must be {'>' if c.low_open else '>='} {c.low:g}"
            else:
                text = f"must be in {'(' if c.low_open else '['}{c.low:g}, {c.high:g}]"
            rules.append(_Rule(c.name, text, below | above))
        if c.at_most and c.at_most in schema:
            total = _cast(contract.column(c.at_most), schema[c.at_most])
            rules.append(_Rule(c.name, f"must not exceed `{c.at_most}`", typed > total))
        if c.unique:
            # Counting distinct 64-bit hashes is several times cheaper than marking duplicates on millions of ids;
            # the duplicated rows are only looked up when the count says there are some (which also weeds out
            # the rare hash collision).
            present = typed.drop_nulls()
            rules.append(_Rule(c.name, "must be unique; duplicated values", typed.is_duplicated() & typed.is_not_null(),
                               count=present.len() - present.hash().n_unique()))
    if contract.key and all(k in schema for k in contract.key):
        key = pl.struct([_cast(contract.column(k), schema[k]) for k in contract.key])
        rules.append(_Rule(", ".join(contract.key), "must identify a row; duplicated combinations",
                           key.is_duplicated(), count=pl.len() - key.n_unique()))
    return rules


def _needs_parsing(column: Column, dtype: pl.DataType) -> bool:
    """Whether values can fail to convert: text that must become numbers, flags or timestamps."""
    if column.kind == "str":
        return False
    if column.kind in ("datetime", "date"):
        return not isinstance(dtype, pl.Datetime | pl.Date)
    if column.kind == "bool":
        return dtype != pl.Boolean
    return not dtype.is_numeric()


def _kind_words(kind: Kind) -> str:
    return {"str": "text", "int": "a whole number", "float": "a number", "bool": "true/false",
            "datetime": "a timestamp (ISO 8601, e.g. 2026-11-02T14:05:00Z)", "date": "a date (YYYY-MM-DD)"}[kind]


def _validate(file: str, raw: pl.LazyFrame, schema: pl.Schema, columns: list[Column], contract: TableContract,
              failure_modes: tuple[str, ...] | None) -> None:
    rules = _rules(columns, schema, contract, failure_modes)
    counts = [(r.count if r.count is not None else r.offending.fill_null(False).sum()).alias(str(i))
              for i, r in enumerate(rules)]
    try:
        found = raw.select(counts).collect().row(0)
    except pl.exceptions.PolarsError as exc:
        raise DataError(file, f"cannot be read: {exc}") from None
    for rule, count in zip(rules, found, strict=True):
        if count:
            _raise(file, raw, rule)


def _raise(file: str, raw: pl.LazyFrame, rule: _Rule) -> None:
    """Raise the rule's DataError with the offending rows, unless an exact look finds none."""
    shown = rule.column.split(", ")
    offending = raw.with_row_index(_ROW, offset=1).filter(rule.offending.fill_null(False))
    total = offending.select(pl.len()).collect().item()
    if not total:
        return
    sample = offending.select(_ROW, *shown).head(5).collect()
    rows = sample[_ROW].to_list()
    if len(shown) == 1:
        examples = list(dict.fromkeys(sample[shown[0]].to_list()))
    else:
        examples = [tuple(r) for r in sample.select(shown).iter_rows()]
    raise DataError(file, f"{rule.text} — {total} row{'s' if total != 1 else ''}", column=rule.column, rows=rows,
                    examples=examples, total_rows=total)
