"""The one definition of the daily-counts aggregation, as data that `_polars` and `_sql` compile.

A `Definition` says which rows count (instants from `window.start_us`, local days up to `last_day`), how a row
finds its local day (the UTC offsets in `window`) and its flag segment (`flags_us`), the keys it is grouped by,
and every measure: plain counts, conditional counts, sums, and — for the canary's guardrails — sessions over a
limit, counted once on the (day, segment) of their first interaction, on the agent arm only. Nothing in it is
specific to an engine or a dialect, so every engine counts the same thing.

The semantics are those of the canary and shadow phases' own counts on rows:
- `segment_start` is the last flag time at or before the row's `ts` (a flag change at a row's exact time: the row
  belongs to the new segment), null before the first flag;
- `fail__<mode>` counts rows whose `failure_mode` is that mode; `disallowed`/`unreviewed` count rows with at least
  one disallowed action or unreviewed irreversible action;
- with `session_id`, `over_actions`/`over_dollars` count agent sessions (`session_id`, or the interaction's own id
  where it is null) whose summed actions or dollars exceed the charter's limit; without it, each interaction is
  its own session (any arm, as the phase counts it);
- `cost_n`, `latency_n` count rows with a value; sums skip nulls and are 0 for a group without values.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from rolloutkit.charter import Charter
from rolloutkit.contracts import ARMS
from rolloutkit.counts._zones import Offsets, day_number
from rolloutkit.errors import DataError

Table = Literal["canary_daily", "shadow_daily"]
TABLES: tuple[Table, ...] = ("canary_daily", "shadow_daily")
#: The rows each counts table is computed from.
ROWS: dict[Table, str] = {"canary_daily": "canary", "shadow_daily": "shadow"}
#: Column kinds a source may have, as each engine's types are read (`_engines` maps them).
Kind = Literal["datetime", "bool", "int", "float", "str", "date", "null", "other"]
NUMBER: tuple[Kind, ...] = ("int", "float", "null")
TEXT: tuple[Kind, ...] = ("str", "null")
ID: tuple[Kind, ...] = ("str", "int", "null")

#: Source columns per table: name → (required, kinds accepted).
COLUMNS: dict[Table, dict[str, tuple[bool, tuple[Kind, ...]]]] = {
    "canary_daily": {
        "interaction_id": (True, ID), "ts": (True, ("datetime",)), "arm": (True, ("str",)),
        "success": (True, ("bool",)), "failure_mode": (True, TEXT), "session_id": (False, ID),
        "actions": (False, NUMBER), "dollars": (False, NUMBER), "disallowed_actions": (False, NUMBER),
        "unreviewed_irreversible": (False, NUMBER), "cost_usd": (False, NUMBER), "latency_ms": (False, NUMBER),
    },
    "shadow_daily": {
        "ts": (True, ("datetime",)), "segment": (True, ("str",)), "agent_action": (True, ("str",)),
        "human_action": (True, ("str",)), "agent_cost_usd": (False, NUMBER), "agent_latency_ms": (False, NUMBER),
        "human_handle_s": (False, NUMBER),
    },
}


@dataclass(frozen=True)
class Condition:
    """A test on one row: `column` is true, equals a text, is above a number, equals another column, is null, or
    is a value outside `values` (nulls are not outside)."""

    op: Literal["true", "equals", "above", "same", "null", "outside"]
    column: str
    value: str | float | None = None
    values: tuple[str, ...] = ()


@dataclass(frozen=True)
class Measure:
    """One output column: `rows` (count of rows), `count_if` (rows meeting `when`), `count` (non-null values),
    `sum` or `sum_squares` of `column` (as floats; 0 for a group without values)."""

    name: str
    agg: Literal["rows", "count_if", "count", "sum", "sum_squares"]
    column: str | None = None
    when: Condition | None = None

    @property
    def is_float(self) -> bool:
        return self.agg in ("sum", "sum_squares")


@dataclass(frozen=True)
class SessionLimit:
    """Sessions whose summed `column` is above `limit`, counted on their first (day, segment)."""

    name: str
    column: str
    limit: float


@dataclass(frozen=True)
class Check:
    """A rule the source rows must keep; rows meeting `offending` make the run fail with `text`."""

    column: str
    text: str
    offending: Condition


@dataclass(frozen=True, kw_only=True)
class Definition:
    """Everything that decides the counts; see the module docstring for the semantics."""

    table: Table
    #: The grouping key beside the day (and, for the canary, the flag segment).
    group: str
    measures: tuple[Measure, ...]
    sessions: tuple[SessionLimit, ...] = ()
    #: `session_id` then the fallback id, when sessions are counted.
    session_key: tuple[str, str] | None = None
    #: Flag instants (sorted, microseconds) that open segments; None for a table without segments.
    flags_us: tuple[int, ...] | None = None
    window: Offsets
    #: The last local day counted (days since 1970-01-01).
    last_day: int
    #: Source columns the query reads.
    columns: tuple[str, ...]

    @property
    def output(self) -> tuple[str, ...]:
        """The counts table's columns, in order (without `computed_at`)."""
        keys = ("day", "segment_start", self.group) if self.flags_us is not None else ("day", self.group)
        measures = [m.name for m in self.measures]
        # session guardrails sit where the phase puts them: after the interaction guardrails
        at = measures.index("cost_usd") if "cost_usd" in measures else len(measures)
        return (*keys, *measures[:at], *(s.name for s in self.sessions), *measures[at:])

    @property
    def float_columns(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.measures if m.is_float)


def check_columns(table: Table, schema: Mapping[str, Kind], source: str) -> tuple[str, ...]:
    """The source's columns the counts read, after checking the required ones are there with usable types."""
    spec = COLUMNS[table]
    missing = [name for name, (required, _) in spec.items() if required and name not in schema]
    if missing:
        raise DataError(source, f"is missing required column(s) {', '.join(missing)} for {ROWS[table]} rows "
                        f"(it has: {', '.join(schema) or 'no columns'})")
    for name, (_, kinds) in spec.items():
        if name in schema and schema[name] not in kinds:
            allowed = " or ".join(k for k in kinds if k != "null")
            raise DataError(source, f"has type {schema[name]}; it must be {allowed}", column=name)
    return tuple(name for name in spec if name in schema)


def checks(table: Table, charter: Charter, columns: tuple[str, ...]) -> tuple[Check, ...]:
    """The row rules an engine checks in the same pass that finds the data's span."""
    # ids are left to the table's own validation: reading them would double the cost of this pass
    required = [name for name, (needed, _) in COLUMNS[table].items()
                if needed and name not in ("failure_mode", "interaction_id")]
    rules = [Check(name, "has empty values (it is required)", Condition("null", name)) for name in required]
    if table == "canary_daily":
        modes = charter.failure_mode_names
        rules += [Check("arm", f"has values outside {{{', '.join(ARMS)}}}", Condition("outside", "arm", values=ARMS)),
                  Check("failure_mode", f"has values that are not failure modes of the charter ({', '.join(modes)})",
                        Condition("outside", "failure_mode", values=modes))]
    return tuple(r for r in rules if r.column in columns)


def canary(charter: Charter, columns: tuple[str, ...], *, flags_us: tuple[int, ...], window: Offsets,
           last_day: dt.date) -> Definition:
    """The `canary_daily` aggregation for a source with these columns."""
    measures = [Measure("n", "rows"), Measure("successes", "count_if", when=Condition("true", "success"))]
    measures += [Measure(f"fail__{mode}", "count_if", when=Condition("equals", "failure_mode", mode))
                 for mode in charter.failure_mode_names]
    for name, column in (("disallowed", "disallowed_actions"), ("unreviewed", "unreviewed_irreversible")):
        if column in columns:
            measures.append(Measure(name, "count_if", when=Condition("above", column, 0)))
    guard = charter.guardrails
    limits = [SessionLimit(name, column, limit) for name, column, limit in (
        ("over_actions", "actions", guard.max_actions_per_session if guard else None),
        ("over_dollars", "dollars", guard.max_dollars_per_session if guard else None),
    ) if limit is not None and column in columns]
    sessions = "session_id" in columns and bool(limits)
    if not sessions:  # each interaction is its own session
        measures += [Measure(s.name, "count_if", when=Condition("above", s.column, s.limit)) for s in limits]
    if "cost_usd" in columns:
        measures += [Measure("cost_usd", "sum", "cost_usd"), Measure("cost_n", "count", "cost_usd")]
    if "latency_ms" in columns:
        measures += [Measure("latency_ms_sum", "sum", "latency_ms"),
                     Measure("latency_ms_sumsq", "sum_squares", "latency_ms"),
                     Measure("latency_n", "count", "latency_ms")]
    return Definition(table="canary_daily", group="arm", measures=tuple(measures),
                      sessions=tuple(limits) if sessions else (),
                      session_key=("session_id", "interaction_id") if sessions else None,
                      flags_us=tuple(sorted(flags_us)), window=window, last_day=day_number(last_day),
                      columns=columns)


def shadow(columns: tuple[str, ...], *, window: Offsets, last_day: dt.date) -> Definition:
    """The `shadow_daily` aggregation for a source with these columns."""
    measures = [Measure("interactions", "rows"),
                Measure("agreed", "count_if", when=Condition("same", "agent_action", "human_action"))]
    for column, prefix, count in (("agent_cost_usd", "agent_cost_usd", "agent_cost_n"),
                                  ("agent_latency_ms", "agent_latency_ms", "agent_latency_n"),
                                  ("human_handle_s", "human_handle_s", "human_handle_n")):
        if column not in columns:
            continue
        if column == "agent_cost_usd":
            measures.append(Measure(prefix, "sum", column))
        else:
            measures += [Measure(f"{prefix}_sum", "sum", column), Measure(f"{prefix}_sumsq", "sum_squares", column)]
        measures.append(Measure(count, "count", column))
    return Definition(table="shadow_daily", group="segment", measures=tuple(measures), window=window,
                      last_day=day_number(last_day), columns=columns)
