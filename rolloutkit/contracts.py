"""Table contracts: the columns each workspace table must have, their kinds and rules, and its key.

`CONTRACTS` are the tables a team brings (`shadow`, `reviews`, `canary`, `flags`, `evals`, `incidents`);
`COUNT_CONTRACTS` the daily counts a warehouse computes from canary and shadow rows (`canary_daily`,
`shadow_daily`). `rolloutkit.tables` reads a table and checks it against its contract; docs/tables.md describes
them for users.
"""

from __future__ import annotations

from dataclasses import KW_ONLY, dataclass, replace
from typing import Literal

Kind = Literal["str", "int", "float", "bool", "datetime", "date"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: Kind
    _: KW_ONLY
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

    @property
    def share(self) -> bool:
        """A share or probability in [0, 1], which an export may write as a percent."""
        return self.kind == "float" and self.high == 1


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
        Column("agent_version", "str", required=False, nullable=True),
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
