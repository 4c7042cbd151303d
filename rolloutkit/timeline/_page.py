"""The timeline page: the plan, progress against it and the what-if grid for a workspace and day, computed once."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property

import polars as pl

from rolloutkit import text
from rolloutkit.charter import Charter
from rolloutkit.page import Headline, Missing
from rolloutkit.timeline._follow import plan_and_history
from rolloutkit.timeline._plan import check_words, what_if_grid
from rolloutkit.timeline._progress import progress_of
from rolloutkit.timeline._results import Plan, Progress
from rolloutkit.workspace import Workspace

SLUG = "timeline_planning"
TITLE = "Timeline"
HEADING = "When will we be at 100%?"


@dataclass(frozen=True, kw_only=True, eq=False)
class TimelinePage:
    """Everything the timeline notebook shows. The plan always exists (a charter is enough); the progress parts
    are `Missing` until an eval run, a shadow interaction or a flag change shows the rollout under way."""

    as_of: dt.date
    charter: Charter
    #: The plan following what happened as of the day (the plan at the start is `plan.at_start`).
    plan: Plan
    progress: Progress
    headline: Headline
    #: The warnings about what is current or still to come, in plain words, or one line saying there are none.
    notes: list[str]
    #: The plan, one row per phase: phase, start, end, days, why.
    table: pl.DataFrame
    #: Per canary stage and check: the days of traffic its evidence needs (limits and rates as percentages).
    evidence: pl.DataFrame
    #: What the plan assumes, one plain line each.
    assumptions: list[str]
    progress_note: str | Missing
    #: Planned against actual start of each counted phase, with the slip in days.
    progress_table: pl.DataFrame | Missing

    @cached_property
    def what_if(self) -> pl.DataFrame:
        """Weeks to 100% for other daily volumes, risk tiers and first-stage shares at the same expected rates,
        each planned from scratch; `current` marks the charter's own setup, whose weeks are the plan made at the
        start before any phase was skipped (the planner some fifty times: computed on first use, so the memo's
        headline never waits for it)."""
        a = self.plan.assumptions
        return what_if_grid(self.charter, expected_rates=a.failure_rates, human_success=a.human_success,
                            agent_worse_rate=a.agent_worse_rate)

    @cached_property
    def what_if_table(self) -> pl.DataFrame:
        """The what-if grid to read: one row per risk tier and first stage, one column per daily volume, the weeks
        to 100% in each cell ("never" when a stage can never pass, * when the first stage needs more than the
        maximum hold), the current setup marked "(current)"."""
        hold = self.plan.max_hold_days
        cells = self.what_if.with_columns(
            first_stage=pl.col("first_share").map_elements(text.stage, return_dtype=pl.String),
            volume=pl.format("{} a day", pl.col("daily_interactions").map_elements(
                lambda v: f"{v:,}", return_dtype=pl.String)),
            weeks=pl.when(~pl.col("feasible")).then(pl.lit("never"))
            .otherwise(pl.col("total_weeks").map_elements(lambda w: f"{w:.1f}", return_dtype=pl.String))
            + pl.when(pl.col("first_stage_days") > hold).then(pl.lit("*")).otherwise(pl.lit(""))
            + pl.when(pl.col("current")).then(pl.lit(" (current)")).otherwise(pl.lit("")))
        volumes = cells.sort("daily_interactions")["volume"].unique(maintain_order=True).to_list()
        return (cells.pivot("volume", index=["risk_tier", "first_stage"], values="weeks")
                .select("risk_tier", "first_stage", *volumes))


def page(ws: Workspace, *, as_of: dt.date | str | None = None) -> TimelinePage:
    """The timeline page as of `as_of` (None = the last day with data)."""
    day = ws.resolve_as_of(as_of)
    ws = ws.cut(day)
    planned, happened = plan_and_history(ws, start=None, day=day)
    prog = progress_of(planned, happened)
    quiet = f"no eval run, shadow interaction or flag change on or before {day}"
    not_started = Missing(f"Not started: {quiet}.",
                          "Progress is measured from the evals, shadow and flags tables as they fill.")
    return TimelinePage(
        as_of=day, charter=ws.charter, plan=planned, progress=prog, headline=_headline(planned, prog, quiet),
        notes=planned.notes(), table=planned.table().drop("kind", "status", "counted"),
        evidence=_evidence(planned), assumptions=planned.assumption_lines(),
        progress_note=f"As of {day}: {prog.sentence}." if prog.started else not_started,
        progress_table=prog.table if prog.started else Missing(
            "No phase has an actual start yet.",
            "Each phase's actual start appears here from its first eval run, shadow interaction or flag change."),
    )


def _evidence(p: Plan) -> pl.DataFrame:
    """The evidence table to read: checks in words, limits and expected rates as percentages."""
    words = {c: check_words(c) for c in p.evidence_table()["check"].unique()}
    return p.evidence_table().with_columns(
        share=pl.col("share").map_elements(text.stage, return_dtype=pl.String),
        check=pl.col("check").replace_strict(words, return_dtype=pl.String),
        limit=pl.col("limit").map_elements(text.pct, return_dtype=pl.String),
        expected=pl.col("expected").map_elements(text.pct, return_dtype=pl.String),
    ).drop("share")


def _headline(p: Plan, prog: Progress, quiet: str) -> Headline:
    """The memo line: the planned 100% date, the weeks against the typical band, and slippage."""
    planned = f"100% on {p.hundred_percent} ({p.total_weeks} weeks, {p.range_text})"
    details = {**p.to_dict(), "progress": prog.to_dict()}
    if not prog.started:
        return Headline(page=SLUG, title=TITLE, status="missing", heading=HEADING, details=details,
                        sentence=f"Not started: {quiet}; planned {planned}")
    late = prog.slip_days > 2
    status = "bad" if not p.feasible else "warn" if late or not p.within_typical_range or p.warnings else "good"
    sentence = (f"Reached {planned}; {prog.slip_text} (the plan at the start said {prog.planned_100})"
                if prog.reached_100 else f"Planned {planned}; {prog.sentence}")
    return Headline(page=SLUG, title=TITLE, status=status, heading=HEADING, decision=prog.state, details=details,
                    sentence=sentence)
