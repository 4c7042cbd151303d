"""Supervision: the improvement loop after 100% — sampled review, incident log, rollback drills, weekly agenda.

`review(ws, as_of=...)` computes every part at once (each part whose table is missing is left empty and named in
`missing`), `headline` reads it for the summary page, and `agentops_scale` counts a portfolio's production load.
The parts live in `supervision_reviews`, `supervision_incidents` and `supervision_drills`; their public functions
are re-exported here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from rolloutkit import evalset
from rolloutkit.errors import RolloutkitError
from rolloutkit.memo import Headline
from rolloutkit.supervision_drills import (
    DRILL_SCHEMA,
    TARGET_SECONDS,
    DrillStatus,
    drill_status,
    drills,
)
from rolloutkit.supervision_incidents import LOG_SCHEMA, incident_log, incident_markers, incident_summary
from rolloutkit.supervision_reviews import (
    AGENT_WORSE,
    RATES_SCHEMA,
    SAMPLE_SCHEMA,
    alerts,
    review_rates,
    sample_rate,
    supervision_start,
    unmatched_reviews,
)
from rolloutkit.workspace import MissingTableError, Workspace

__all__ = [
    "AGENT_WORSE", "TARGET_SECONDS", "AgentLoad", "AgentOpsScale", "DrillStatus", "SupervisionReport", "agenda",
    "agentops_scale", "alerts", "drill_status", "drills", "headline", "incident_log", "incident_markers",
    "incident_summary", "review", "review_rates", "sample_rate", "supervision_start",
]

AGENDA_SCHEMA = {"kind": pl.String, "id": pl.String, "what": pl.String, "severity": pl.String,
                 "status": pl.String, "opened": pl.Date, "owner": pl.String}
#: Reading order of the weekly agenda.
AGENDA_KINDS = ("alert", "incident", "regression", "open_action", "process", "eval_tasks_added")
#: Above about 3 production agents or 50,000 monthly tasks, an AgentOps owner is due (the playbook's rule of thumb).
MAX_AGENTS = 3
MAX_MONTHLY_TASKS = 50_000


@dataclass(frozen=True)
class SupervisionReport:
    """Everything the supervision page shows, as of one day; frames are empty when their table is missing."""

    agent: str
    as_of: dt.date
    start: dt.date | None
    target_sample_rate: float
    sample: pl.DataFrame
    rates: pl.DataFrame
    alerts: pl.DataFrame
    incidents: pl.DataFrame
    drills: pl.DataFrame
    drill_status: DrillStatus
    agenda: pl.DataFrame
    unmatched_reviews: int = 0
    missing: tuple[str, ...] = field(default=())

    @property
    def at_full_traffic(self) -> bool:
        return self.start is not None

    @property
    def days_at_full(self) -> int | None:
        return None if self.start is None else (self.as_of - self.start).days + 1

    @property
    def achieved_sample_rate(self) -> float | None:
        """Reviewed over agent interactions since 100%."""
        total = int(self.sample["interactions"].sum()) if self.sample.height else 0
        return int(self.sample["reviewed"].sum()) / total if total else None

    @property
    def last_week_short(self) -> bool:
        """The latest complete ISO week at 100% fell short of the target sample rate."""
        full = self.sample.filter(pl.col("days") == 7)
        return bool(full.height) and not full["reached"][-1]

    def missing_note(self) -> str:
        if not self.missing:
            return "Every table this page reads is present."
        return "Not shown: " + "; ".join(self.missing)

    def to_dict(self) -> dict[str, Any]:
        return {"agent": self.agent, "as_of": self.as_of.isoformat(),
                "start": self.start.isoformat() if self.start else None, "days_at_full": self.days_at_full,
                "target_sample_rate": self.target_sample_rate, "achieved_sample_rate": self.achieved_sample_rate,
                "sample": _jsonable(self.sample), "alerts": _jsonable(self.alerts),
                "incidents": incident_summary(self.incidents, by=("severity", "status")).to_dicts(),
                "drills": drill_rows(self.drills), "drill_status": self.drill_status.to_dict(),
                "agenda": _jsonable(self.agenda), "unmatched_reviews": self.unmatched_reviews,
                "missing": list(self.missing)}

    def describe(self) -> str:
        lines = [f"{self.agent} as of {self.as_of.isoformat()}:"]
        if self.start is None:
            lines.append("  not at 100% yet; supervision starts when the flag reaches 100%.")
        else:
            rate = self.achieved_sample_rate
            lines.append(f"  at 100% since {self.start.isoformat()} ({self.days_at_full} days); reviewed "
                         f"{'no' if rate is None else f'{rate:.1%} of'} agent interactions "
                         f"(target {self.target_sample_rate:.0%}).")
        for row in self.alerts.iter_rows(named=True):
            lines.append(f"  {row['metric']}: {row['cum_events']}/{row['cum_reviewed']} reviewed, bounds "
                         f"{row['cs_lower']:.2%}–{row['cs_upper']:.2%} vs limit {row['limit']:.2%}: {row['status']}")
        open_count = self.incidents.filter(pl.col("status") == "open").height
        lines.append(f"  incidents: {self.incidents.height} logged, {open_count} open.")
        lines.append(f"  drills: {self.drill_status.describe()}")
        lines.append(f"  agenda: {self.agenda.height} item(s).")
        lines += [f"  missing: {m}" for m in self.missing]
        return "\n".join(lines)


def drill_rows(measured: pl.DataFrame) -> list[dict[str, Any]]:
    """Per drill: ts (ISO), seconds_to_zero, within_target — the `drills` list of summary.json."""
    return [{"ts": r["ts"].isoformat(), "seconds_to_zero": round(r["seconds_to_zero"], 3),
             "within_target": r["within_target"], "kind": r["kind"]} for r in measured.iter_rows(named=True)]


def review(ws: Workspace, *, as_of: dt.date | str | None = None, window_days: int = 7,
           max_days_between_drills: int = 30, sample_tolerance: float = 0.10) -> SupervisionReport:
    """The supervision page as of `as_of`; the agenda covers the `window_days` days ending `as_of`."""
    day = ws.resolve_as_of(as_of)
    missing: list[str] = []

    def part(name: str, compute: Any, empty: pl.DataFrame) -> pl.DataFrame:
        try:
            return compute()
        except MissingTableError as exc:
            missing.append(f"{name} ({exc})")
            return empty

    start = None
    try:
        start = supervision_start(ws, as_of=day)
    except MissingTableError as exc:
        missing.append(f"review sample ({exc})")
    if start is not None and not missing:
        sample = part("review sample", lambda: sample_rate(ws, as_of=day, tolerance=sample_tolerance),
                      pl.DataFrame(schema=SAMPLE_SCHEMA))
        rates = part("review rates", lambda: review_rates(ws, as_of=day), pl.DataFrame(schema=RATES_SCHEMA))
    else:
        sample, rates = pl.DataFrame(schema=SAMPLE_SCHEMA), pl.DataFrame(schema=RATES_SCHEMA)
    unmatched = unmatched_reviews(ws) if start is not None and not missing else 0
    reviewed = _reviewed_ids(ws)
    log = part("incident log", lambda: incident_log(ws, as_of=day, reviewed_ids=reviewed),
               pl.DataFrame(schema=LOG_SCHEMA))
    measured = part("rollback drills", lambda: drills(ws, as_of=day), pl.DataFrame(schema=DRILL_SCHEMA))
    status = drill_status(measured, as_of=day, max_days_between=max_days_between_drills)
    report = SupervisionReport(ws.agent, day, start, ws.charter.supervision.sample_rate, sample, rates,
                               alerts(rates), log, measured, status, pl.DataFrame(schema=AGENDA_SCHEMA),
                               unmatched, tuple(missing))
    items = _agenda(ws, report, day=day, window_days=window_days)
    return SupervisionReport(**{**report.__dict__, "agenda": items})


def _reviewed_ids(ws: Workspace) -> pl.LazyFrame | None:
    if not ws.has("reviews"):
        return None
    reviews = ws.table("reviews")
    if "phase" in reviews.collect_schema():
        return reviews.filter(pl.col("phase") == "supervision").select("interaction_id")
    return reviews.select("interaction_id") if ws.has("canary") else None


def agenda(ws: Workspace, *, as_of: dt.date | str | None = None, window_days: int = 7) -> pl.DataFrame:
    """The weekly improvement meeting's table: kind, id, what, severity, status, opened, owner.

    Kinds, in reading order: `alert` (a reviewed rate whose confidence bound crossed its limit), `incident`
    (opened in the window), `regression` (eval tasks a version run in the window failed after the previous
    version passed them), `open_action` (incidents opened earlier and still open), `process` (the sample rate fell
    short last week, the last drill was over target or a drill is overdue), `eval_tasks_added` (tasks that joined
    the eval set in the window, one row per source and category). Ids and labels only, never free text.
    """
    return review(ws, as_of=as_of, window_days=window_days).agenda


def _agenda(ws: Workspace, report: SupervisionReport, *, day: dt.date, window_days: int) -> pl.DataFrame:
    since = day - dt.timedelta(days=window_days - 1)
    owner = ws.charter.owner
    rows: list[pl.DataFrame] = []
    alerting = report.alerts.filter(pl.col("status") == "alert")
    rows.append(alerting.select(
        kind=pl.lit("alert"), id=pl.col("metric"),
        what=pl.format("{} of {} reviewed; bound above the {} limit", pl.col("cum_events"), pl.col("cum_reviewed"),
                       (pl.col("limit") * 100).round(2).cast(pl.String) + "%"),
        severity=pl.lit(None, pl.String), status=pl.lit("open"), opened=pl.lit(day)))
    log = report.incidents
    what = pl.col("kind") + pl.when(pl.col("failure_mode").is_not_null()).then(" · " + pl.col("failure_mode")) \
        .otherwise(pl.lit("")) + " · caught by " + pl.col("caught_by")
    rows.append(log.filter(pl.col("day") >= since).select(
        kind=pl.lit("incident"), id=pl.col("incident_id"), what=what, severity=pl.col("severity"),
        status=pl.col("status"), opened=pl.col("day")))
    rows.append(log.filter((pl.col("day") < since) & (pl.col("status") == "open")).select(
        kind=pl.lit("open_action"), id=pl.col("incident_id"),
        what=what + pl.format(" · open {} days", pl.col("age_days")), severity=pl.col("severity"),
        status=pl.col("status"), opened=pl.col("day")))
    rows += _eval_rows(ws, day=day, since=since)
    rows.append(_process_rows(report, day=day))
    frame = pl.concat([r.select(list(AGENDA_SCHEMA)[:-1]).cast(dict(list(AGENDA_SCHEMA.items())[:-1]))
                       for r in rows], how="vertical")
    kind_order = {k: i for i, k in enumerate(AGENDA_KINDS)}
    return (frame.with_columns(owner=pl.lit(owner, pl.String))
            .sort(pl.col("kind").replace_strict(kind_order, return_dtype=pl.Int64),
                  pl.col("severity"), pl.col("opened"), pl.col("id"), nulls_last=True))


def _eval_rows(ws: Workspace, *, day: dt.date, since: dt.date) -> list[pl.DataFrame]:
    if not ws.has("evals"):
        return []
    rows = []
    try:
        comparison = evalset.compare(ws, as_of=day)
    except RolloutkitError:
        comparison = None
    if comparison is not None and comparison.candidate_day >= since:
        rows.append(comparison.regressed_tasks.select(
            kind=pl.lit("regression"), id=pl.col("task_id"),
            what=pl.format("{} task: passed in {}, failed in {}", pl.col("category"),
                           pl.lit(comparison.baseline), pl.lit(comparison.candidate)),
            severity=pl.lit(None, pl.String), status=pl.lit("open"), opened=pl.lit(comparison.candidate_day)))
    evals = ws.table("evals").filter(pl.col("day") <= day)
    source = pl.col("source") if "source" in evals.collect_schema() else pl.lit(None, pl.String)
    new_tasks = (evals.with_columns(source=source).sort("run_at").group_by("task_id")
                 .agg(pl.col("day").first(), pl.col("category").first(), pl.col("source").drop_nulls().first())
                 .filter(pl.col("day") >= since)
                 .with_columns(pl.col("source").fill_null(evalset.ORIGINAL_SOURCE))
                 .group_by("source", "category").agg(pl.len().alias("n"), pl.col("day").min())
                 .collect())
    rows.append(new_tasks.select(
        kind=pl.lit("eval_tasks_added"), id=pl.col("source") + "/" + pl.col("category"),
        what=pl.format("{} {} task(s) added from {}", pl.col("n"), pl.col("category"), pl.col("source")),
        severity=pl.lit(None, pl.String), status=pl.lit("added"), opened=pl.col("day")))
    return rows


def _process_rows(report: SupervisionReport, *, day: dt.date) -> pl.DataFrame:
    items = []
    if report.at_full_traffic and report.last_week_short:
        last = report.sample.filter(pl.col("days") == 7).row(-1, named=True)
        items.append(("sample_rate", f"{last['week_label']} reviewed {last['sample_rate']:.1%} of agent "
                      f"interactions; the charter asks {report.target_sample_rate:.0%}"))
    status = report.drill_status
    if status.last_day is not None and not status.last_within_target:
        items.append(("rollback_drill", f"last drill ({status.last_day.isoformat()}) took "
                      f"{status.last_seconds:.0f} s to reach 0%; target under {status.target_seconds:g} s"))
    if (report.at_full_traffic or status.count) and status.overdue:
        since = "never drilled" if status.last_day is None else f"last drill {status.days_since_last} days ago"
        items.append(("drill_due", f"{since}; drill at least every {status.max_days_between} days"))
    return pl.DataFrame({"kind": ["process"] * len(items), "id": [i for i, _ in items],
                         "what": [w for _, w in items], "severity": [None] * len(items),
                         "status": ["open"] * len(items), "opened": [day] * len(items)},
                        schema={k: v for k, v in AGENDA_SCHEMA.items() if k != "owner"})


@dataclass(frozen=True)
class AgentLoad:
    agent: str
    as_of: dt.date
    traffic_share: float | None
    live: bool
    monthly_tasks: int


@dataclass(frozen=True)
class AgentOpsScale:
    """A portfolio's production load and whether a dedicated AgentOps owner is due."""

    agents: tuple[AgentLoad, ...]
    production_agents: int
    monthly_tasks: int
    max_agents: int
    max_monthly_tasks: int
    dedicated_ownership_due: bool
    sentence: str

    def to_dict(self) -> dict[str, Any]:
        return {"agents": [{**a.__dict__, "as_of": a.as_of.isoformat()} for a in self.agents],
                "production_agents": self.production_agents, "monthly_tasks": self.monthly_tasks,
                "max_agents": self.max_agents, "max_monthly_tasks": self.max_monthly_tasks,
                "dedicated_ownership_due": self.dedicated_ownership_due, "sentence": self.sentence}

    def describe(self) -> str:
        return self.sentence


def agentops_scale(workspaces: Sequence[Workspace], *, as_of: dt.date | str | None = None,
                   max_agents: int = MAX_AGENTS, max_monthly_tasks: int = MAX_MONTHLY_TASKS) -> AgentOpsScale:
    """Production agents and monthly agent tasks across workspaces; dedicated ownership is due above either limit.

    A production agent is one whose latest flag share (as of its `as_of`) is above 0 — any live share, not only
    100%, because monitoring traces, the eval set and incident response are needed from the first canary user.
    Without a flags table an agent is live when it served agent-arm traffic in the window. Monthly tasks are
    agent-arm canary rows over the 30 days ending `as_of` (None: each workspace's own last day with data).
    """
    loads = tuple(_load(ws, as_of) for ws in workspaces)
    live = sum(a.live for a in loads)
    tasks = sum(a.monthly_tasks for a in loads)
    due = live > max_agents or tasks > max_monthly_tasks
    counted = f"{live} production agent{'s' if live != 1 else ''} and {tasks:,} agent tasks over the last 30 days"
    if due:
        over = [f"more than {max_agents} agents"] if live > max_agents else []
        over += [f"more than {max_monthly_tasks:,} monthly tasks"] if tasks > max_monthly_tasks else []
        sentence = (f"{counted}: with {' and '.join(over)}, dedicated AgentOps ownership (monitoring traces, "
                    "eval sets, incident response) is due.")
    else:
        sentence = (f"{counted}: within {max_agents} agents and {max_monthly_tasks:,} monthly tasks, the owning "
                    "teams can run monitoring, eval sets and incident response themselves.")
    return AgentOpsScale(loads, live, tasks, max_agents, max_monthly_tasks, due, sentence)


def _load(ws: Workspace, as_of: dt.date | str | None) -> AgentLoad:
    day = ws.resolve_as_of(as_of)
    tasks = 0
    if ws.has("canary"):
        tasks = int(ws.table("canary")
                    .filter((pl.col("arm") == "agent") & pl.col("day").is_between(day - dt.timedelta(days=29), day))
                    .select(pl.len()).collect().item())
    share = None
    if ws.has("flags"):
        share = (ws.table("flags").filter(pl.col("day") <= day).sort("ts")
                 .select(pl.col("traffic_share").last()).collect().item())
    live = share > 0 if share is not None else tasks > 0
    return AgentLoad(ws.agent, day, share, bool(live), tasks)


def headline(ws: Workspace, *, as_of: dt.date | str | None = None,
             report: SupervisionReport | None = None) -> Headline:
    """Supervision on the summary page; `details` carries the weekly `agenda` and the `drills` (summary.json).

    Decision: `roll_back` when a charter failure mode alerts in the reviewed sample (its confidence bound is above
    the limit, or a zero-tolerance mode occurred); `investigate` when agent_worse alerts, a sev1/sev2 incident is
    open, the last drill missed 60 s, a drill is overdue or last week's sample fell short; else `continue`.
    Before 100% the status is `info` with no decision (drills and incidents are still reported). Pass the page's
    `report` to avoid computing it twice.
    """
    report = report or review(ws, as_of=as_of)
    details = report.to_dict()
    sample_missing = any(m.startswith("review") for m in report.missing)
    if sample_missing or not (report.at_full_traffic or ws.has("flags") or ws.has("reviews")):
        return Headline("supervision", "Supervision", "missing", report.missing_note(), None, details)
    if not report.at_full_traffic:
        return Headline("supervision", "Supervision", "info",
                        f"Not at 100% yet; sampled review starts when the flag reaches 100%. "
                        f"{report.drill_status.describe()}", None, details)
    alerting = report.alerts.filter(pl.col("status") == "alert")["metric"].to_list()
    modes = [m for m in alerting if m != AGENT_WORSE]
    severe = report.incidents.filter((pl.col("status") == "open") & pl.col("severity").is_in(["sev1", "sev2"]))
    drill = report.drill_status
    gaps = [f"{AGENT_WORSE} above its limit"] if AGENT_WORSE in alerting else []
    gaps += [f"{severe.height} open sev1/sev2 incident(s)"] if severe.height else []
    gaps += [f"last drill took {drill.last_seconds:.0f} s"] if drill.last_within_target is False else []
    gaps += ["a rollback drill is overdue"] if drill.overdue else []
    gaps += ["last week's review sample fell short"] if report.last_week_short else []
    rate = report.achieved_sample_rate
    open_count = report.incidents.filter(pl.col("status") == "open").height
    facts = (f"{report.days_at_full} days at 100%; reviewed {0 if rate is None else rate:.1%} of agent interactions "
             f"(target {report.target_sample_rate:.0%}); {open_count} open incident(s); "
             f"{report.agenda.height} agenda item(s)")
    if modes:
        return Headline("supervision", "Supervision", "bad",
                        f"Roll back: {', '.join(modes)} above the charter limit in the reviewed sample; {facts}.",
                        "roll_back", details)
    if gaps:
        return Headline("supervision", "Supervision", "warn", f"Investigate: {'; '.join(gaps)}; {facts}.",
                        "investigate", details)
    return Headline("supervision", "Supervision", "good", f"Supervision on track: {facts}.", "continue", details)


def _jsonable(frame: pl.DataFrame) -> list[dict[str, Any]]:
    temporal = [c for c, t in frame.schema.items() if t.is_temporal()]
    return frame.with_columns(pl.col(c).cast(pl.String) for c in temporal).to_dicts()
