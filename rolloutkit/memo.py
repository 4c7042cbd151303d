"""The weekly memo: what changed since last week, one headline per rollout phase, for the summary page and
`summary.json`; and the portfolio's view of an agent (its current phase and decision, how urgently it needs
attention).

`PHASES` is the registry of phase modules in reading order; each declares its page `SLUG` and `TITLE` and
`page(ws, *, as_of)`, whose page object carries the phase's `headline`. A phase whose table is missing says "Not
started" on its own; one whose data is bad, or whose code fails, yields an error headline here, so one broken phase
never hides the others.

`changes(ws, as_of=D)` compares the memo as of D with the memo as of D − 7, both computed from the workspace (as
of D means from the rows dated on or before D, so last week's memo is reproduced exactly): decisions and the stage
that changed, new incidents (id and severity only: never a summary), new eval regressions, checks that flipped,
and the week's overrides and flag changes by someone outside the rollback authority (`rolloutkit.audit`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any

import polars as pl

from rolloutkit import audit, cache, canary, evalset, shadow, supervision, timeline
from rolloutkit.charter import Charter
from rolloutkit.errors import MissingTableError, RolloutkitError
from rolloutkit.page import Headline
from rolloutkit.text import pct, stage
from rolloutkit.workspace import Workspace

#: The phase modules, in the memo's reading order.
PHASES = (shadow, canary, timeline, evalset, supervision)
#: Every page of a week: the memo (the week's index.html) first, then one per phase.
NOTEBOOKS = ("summary",) + tuple(phase.SLUG for phase in PHASES)
#: Page slug → title, for links and the week index.
TITLES = {phase.SLUG: phase.TITLE for phase in PHASES}
#: Days between a memo and the one it is compared with.
WEEK = dt.timedelta(days=7)
#: Phases whose checks are compared week on week.
_CHECKED = (shadow.SLUG, canary.SLUG, supervision.SLUG)
_STATUS_WORDS = {"missing": "not started", "error": "could not be computed", "info": "no decision yet",
                 "good": "good", "warn": "needs review", "bad": "bad"}
_CHECK_NOW = {"pass": "passes", "fail": "fails", "insufficient": "lacks the evidence to decide"}
_CHECK_THEN = {"pass": "passed", "fail": "failed", "insufficient": "lacked the evidence to decide"}
#: Attention ranks for the portfolio, most urgent first.
ATTENTION = ("rollback", "failing or overdue", "hold", "healthy", "not started")


@dataclass(frozen=True, kw_only=True)
class MemoPage:
    """Everything the summary page shows, computed once for a workspace and day."""

    workspace: Workspace
    as_of: dt.date
    headlines: list[Headline]
    #: What changed since the memo a week before (`changes()`): plain dicts, each with `kind` and `sentence`;
    #: `summary.json` writes them as `changes`.
    changes: list[dict[str, Any]]
    charter_artifacts: pl.DataFrame
    freshness: pl.DataFrame
    interactions_per_day: pl.DataFrame

    @property
    def titles(self) -> dict[str, str]:
        return dict(TITLES)

    @property
    def previous_as_of(self) -> dt.date:
        return self.as_of - WEEK

    @property
    def change_lines(self) -> list[str]:
        """The changes as sentences, or one sentence saying nothing changed."""
        return [c["sentence"] for c in self.changes] or [
            f"Nothing changed since {self.previous_as_of}: the same decisions and stage, no new incident, "
            "regression or override, no check flipped."]


def page(ws: Workspace, *, as_of: dt.date | str | None = None) -> MemoPage:
    """The week's memo as of `as_of` (None = the last day with data)."""
    day = ws.resolve_as_of(as_of)
    ws = ws.cut(day)
    now = headlines(ws, as_of=day)
    return MemoPage(workspace=ws, as_of=day, headlines=now, changes=changes(ws, as_of=day, current=now),
                    charter_artifacts=charter_artifacts(ws.charter), freshness=freshness(ws, as_of=day),
                    interactions_per_day=interactions_per_day(ws, as_of=day))


def headlines(ws: Workspace, *, as_of: dt.date | str | None = None) -> list[Headline]:
    """Every phase's headline for the week ending `as_of`."""
    day = ws.resolve_as_of(as_of)
    # computed once per weekly run (the memo page, last week's for what changed, summary.json); off elsewhere
    return cache.remember(ws, "headlines", lambda: [_headline(phase, ws, day) for phase in PHASES],
                          parts=(day.isoformat(),), encode=lambda found: [h.to_dict() for h in found],
                          decode=lambda rows: [Headline(**row) for row in rows])


def _headline(phase: ModuleType, ws: Workspace, day: dt.date) -> Headline:
    try:
        return phase.page(ws, as_of=day).headline
    except RolloutkitError as exc:
        return Headline(page=phase.SLUG, title=phase.TITLE, status="error", sentence=f"Could not be computed: {exc}")
    except Exception as exc:  # noqa: BLE001 — a bug in one phase must not blank the memo; its own page fails loudly
        return Headline(page=phase.SLUG, title=phase.TITLE, status="error",
                        sentence=f"Could not be computed ({type(exc).__name__}: {exc})")


def charter_artifacts(charter: Charter) -> pl.DataFrame:
    """The charter's four artifacts in plain words, one row each."""
    metric = charter.success_metric
    modes = "; ".join(
        f"{m.name}: "
        + ("zero tolerance — any occurrence rolls back" if m.zero_tolerance else f"at most {pct(m.max_rate)}")
        + (f" ({m.description})" if m.description else "")
        for m in charter.failure_modes
    )
    return pl.DataFrame({
        "artifact": ["Task", "Success metric", "Intolerable failure modes", "Rollback triggers"],
        "in plain words": [
            charter.task,
            f"{metric.name}" + (f" — {metric.description}" if metric.description else "")
            + f"; the agent may be at most {pct(metric.noninferiority_margin)} (absolute) worse than humans",
            modes,
            "; ".join(f"roll back if {t.label}" for t in charter.rollback_triggers),
        ],
    })


def freshness(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Every contract table: its state, rows, first and last day, and days behind `as_of`.

    Only the traffic streams can be stale: `canary` always, `shadow` until the canary starts (then it has
    `ended`). The other tables are event logs, whose last event may be old without anything being wrong.
    """
    day = ws.resolve_as_of(as_of)
    inventory = ws.inventory()
    canary_start = inventory.filter(pl.col("table") == "canary")["first_day"].item()
    shadow_ended = (pl.col("table") == "shadow") & pl.lit(canary_start is not None) & (
        pl.col("last_day") < pl.lit(canary_start, dtype=pl.Date))
    return inventory.with_columns(
        days_behind=(pl.lit(day) - pl.col("last_day")).dt.total_days(),
    ).with_columns(
        state=pl.when(~pl.col("present")).then(pl.lit("missing"))
        .when(shadow_ended).then(pl.lit("ended (canary began)"))
        .when(~pl.col("table").is_in(["shadow", "canary"])).then(pl.lit("event log"))
        .when(pl.col("days_behind") <= 1).then(pl.lit("fresh"))
        .otherwise(pl.lit("stale")),
    ).select("table", "state", "rows", "first_day", "last_day", "days_behind", "file")


def interactions_per_day(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Daily interactions seen in shadow and in the canary (per arm): `day`, `source`, `interactions`."""
    day = ws.resolve_as_of(as_of)
    frames = []
    if ws.has("shadow"):
        frames.append(ws.table("shadow").filter(pl.col("day") <= day).group_by("day")
                      .agg(pl.len().alias("interactions")).with_columns(source=pl.lit("shadow (agent logged only)")))
    if ws.has("canary"):
        frames.append(ws.table("canary").filter(pl.col("day") <= day).group_by("day", "arm")
                      .agg(pl.len().alias("interactions"))
                      .select("day", "interactions", source=pl.format("live: {} arm", "arm")))
    schema = {"day": pl.Date, "source": pl.String, "interactions": pl.UInt32}
    if not frames:
        return pl.DataFrame(schema=schema)
    tidy = pl.concat([f.select("day", "source", pl.col("interactions").cast(pl.UInt32)) for f in frames])
    return tidy.collect().sort("day", "source")


# --- what changed since last week ----------------------------------------------------------------------------------

def changes(ws: Workspace, *, as_of: dt.date | str | None = None,
            current: list[Headline] | None = None) -> list[dict[str, Any]]:
    """What changed in the week ending `as_of` (None = the last day with data), most important kinds first.

    Each item is a plain dict with `kind` (`decision`, `stage`, `incident`, `regression`, `check`, `override`,
    `unauthorized`, or `first_week` when there is no earlier week to compare with), a `sentence` for people, and
    the raw values (`before`/`after`, a check's `name` beside its `label`, an incident's `id` and `severity`).
    `current` are this week's headlines when already computed; last week's are computed as of `as_of` − 7 days.
    Bad data yields an `error` item instead of raising, as a phase's headline does.
    """
    day = ws.resolve_as_of(as_of)
    try:
        return _changes(ws, day, current)
    except RolloutkitError as exc:
        return [{"kind": "error", "sentence": f"What changed since {day - WEEK} could not be computed: {exc}"}]


def _changes(ws: Workspace, day: dt.date, current: list[Headline] | None) -> list[dict[str, Any]]:
    start = day - WEEK
    now = {h.page: h for h in (current if current is not None else headlines(ws, as_of=day))}
    result = _audit(ws, day)
    first = ws.inventory()["first_day"].min()
    if first is None or first > start:
        return [{"kind": "first_week", "sentence": "First week with data: there is no earlier memo to compare with."},
                *_incidents(ws, start, day), *_accountability(result, start, day)]
    before = {h.page: h for h in headlines(ws, as_of=start)}
    return [*_decisions(before, now), *_stage(before, now, result, start, day), *_incidents(ws, start, day),
            *_regressions(before, now), *_flipped_checks(before, now), *_accountability(result, start, day)]


def _audit(ws: Workspace, day: dt.date) -> audit.Audit | str | None:
    """The audit as of `day`; None without a flags table; the problem when the flags cannot be read."""
    try:
        return audit.audit(ws, as_of=day)
    except MissingTableError:
        return None
    except RolloutkitError as exc:
        return str(exc)


def _call(headline: Headline) -> str:
    """A headline's decision, or its status when it has none."""
    return headline.decision or headline.status


def _words(call: str) -> str:
    return _STATUS_WORDS.get(call) or call.replace("_", " ")


def _decisions(before: dict[str, Headline], now: dict[str, Headline]) -> list[dict[str, Any]]:
    found = []
    for slug, headline in now.items():
        old, new = _call(before[slug]), _call(headline)
        if old != new:
            heading = f" ({headline.heading})" if headline.heading and headline.heading != headline.title else ""
            found.append({"kind": "decision", "page": slug, "before": old, "after": new,
                          "sentence": f"{headline.title}: {_words(old)} → {_words(new)}{heading}."})
    return found


def _stage(before: dict[str, Headline], now: dict[str, Headline], result: audit.Audit | str | None,
           start: dt.date, day: dt.date) -> list[dict[str, Any]]:
    old = current_phase({"decisions": {k: h.to_dict() for k, h in before.items()}})
    new = current_phase({"decisions": {k: h.to_dict() for k, h in now.items()}})
    if old == new:
        return []
    flags = result.changes if isinstance(result, audit.Audit) else ()
    moves = [c for c in flags if start < c.day <= day and c.kind not in ("same", "drill", "drill_restore")]
    by = "; ".join(f"{stage(c.from_share)} → {stage(c.to_share)} by {c.actor} on {c.day}" for c in moves)
    return [{"kind": "stage", "before": old, "after": new,
             "sentence": f"Stage: {old} → {new}" + (f" ({by})." if by else ".")}]


def _incidents(ws: Workspace, start: dt.date, day: dt.date) -> list[dict[str, Any]]:
    if not ws.has("incidents"):
        return []
    new = (ws.table("incidents").filter(pl.col("day") > start, pl.col("day") <= day)
           .select("incident_id", "severity", "day").sort("day", "incident_id").collect())
    return [{"kind": "incident", "id": r["incident_id"], "severity": r["severity"], "opened": r["day"].isoformat(),
             "sentence": f"New incident {r['incident_id']} ({r['severity']}), opened {r['day']}."}
            for r in new.iter_rows(named=True)]


def _regressions(before: dict[str, Headline], now: dict[str, Headline]) -> list[dict[str, Any]]:
    """A new eval run that regressed tasks against its baseline (counts only)."""
    new = now[evalset.SLUG].details.get("comparison") or {}
    old = before[evalset.SLUG].details.get("comparison") or {}
    if not new.get("regressed") or new.get("candidate_run") == old.get("candidate_run"):
        return []
    p_value = (new.get("mcnemar") or {}).get("p_value")
    significance = ("a significant regression" if new.get("significant_regression") else
                    "not a significant regression" + (f", exact McNemar p = {p_value:.2g}" if p_value is not None
                                                      else ""))
    return [{"kind": "regression", "page": evalset.SLUG, "candidate": new["candidate"], "baseline": new["baseline"],
             "regressed": new["regressed"], "fixed": new.get("fixed"), "paired_tasks": new.get("paired_tasks"),
             "sentence": f"Eval set: {new['candidate']} ({new.get('candidate_day')}) regressed "
                         f"{new['regressed']} of {new.get('paired_tasks')} shared tasks against {new['baseline']} "
                         f"and fixed {new.get('fixed')} ({significance})."}]


def _flipped_checks(before: dict[str, Headline], now: dict[str, Headline]) -> list[dict[str, Any]]:
    """Checks whose status changed; a canary check only within one stage (a new stage restarts its checks)."""
    found = []
    for slug in _CHECKED:
        old_details, new_details = before[slug].details, now[slug].details
        if slug == canary.SLUG and old_details.get("stage_started") != new_details.get("stage_started"):
            continue
        old = {c["name"]: c for c in old_details.get("checks", [])}
        for check in new_details.get("checks", []):
            was = old.get(check["name"])
            if was is None or was["status"] == check["status"]:
                continue
            found.append({"kind": "check", "page": slug, "name": check["name"], "label": check["label"],
                          "before": was["status"], "after": check["status"],
                          "sentence": f"{now[slug].title}: “{check['label']}” now {_CHECK_NOW[check['status']]} "
                                      f"(a week ago it {_CHECK_THEN[was['status']]})."})
    return found


def _accountability(result: audit.Audit | str | None, start: dt.date, day: dt.date) -> list[dict[str, Any]]:
    """The week's overrides, and its flag changes by someone outside the rollback authority (a row that leaves the
    share as it was changes nothing and is left out)."""
    if result is None:
        return []
    if isinstance(result, str):
        return [{"kind": "error", "sentence": f"Overrides could not be checked: {result}"}]
    found = [{"kind": "override", "override": o.kind, "day": o.day.isoformat(), "actor": o.actor, "reason": o.reason,
              "sentence": o.sentence} for o in result.overrides if o.last_day > start and o.day <= day]
    authority = ", ".join(result.rollback_authority)
    found += [{"kind": "unauthorized", "ts": c.ts.isoformat(), "actor": c.actor,
               "sentence": f"{c.actor} changed the flag {stage(c.from_share)} → {stage(c.to_share)} on {c.day} "
                           f"but is not in the rollback authority ({authority})."}
              for c in result.unauthorized if start < c.day <= day and c.kind != "same"]  # same share: no change
    return found


# --- the portfolio's view of an agent -----------------------------------------------------------------------------

def current_phase(summary: Mapping[str, Any]) -> str:
    """Where the rollout is, from a `summary.json`: "shadow", "canary at 15%", "supervision at 100%",
    "canary rolled back to 0%", "not started", or "cannot be read" (a workspace whose summary is an error)."""
    if summary.get("error"):
        return "cannot be read"
    decisions = summary.get("decisions") or {}
    readiness = decisions.get(canary.SLUG) or {}
    share = (readiness.get("details") or {}).get("stage")
    if readiness.get("status") not in (None, "missing", "error") and share is not None:
        if share >= 1:
            return "supervision at 100%"
        if share > 0:
            return f"canary at {stage(share)}"
        if readiness["details"].get("stage_change") == "rollback":
            return "canary rolled back to 0%"
    if (decisions.get(shadow.SLUG) or {}).get("status") not in (None, "missing"):
        return "shadow"
    return "not started"


def current_decision(summary: Mapping[str, Any]) -> dict[str, Any] | None:
    """The headline (as in `summary.json`) of the phase the rollout is in; None when it has not started."""
    phase = current_phase(summary)
    slug = (shadow.SLUG if phase == "shadow" else supervision.SLUG if phase.startswith("supervision")
            else canary.SLUG if phase.startswith("canary") else None)
    return (summary.get("decisions") or {}).get(slug) if slug else None


def attention(summary: Mapping[str, Any]) -> str:
    """How urgently an agent needs a person, one of `ATTENTION`: a rollback; a failing or overdue rollout (a page
    that failed, a headline in error or bad, an overdue stage, an override this week); a hold; healthy."""
    decisions = summary.get("decisions") or {}
    readiness = decisions.get(canary.SLUG) or {}
    if readiness.get("decision") == "rollback":
        return "rollback"
    failed = summary.get("error") or any(nb.get("status") != "ok" for nb in (summary.get("notebooks") or {}).values())
    overdue = (readiness.get("details") or {}).get("overdue")
    flagged = any(c.get("kind") in ("override", "unauthorized", "error") for c in summary.get("changes") or [])
    if failed or overdue or flagged or any(h.get("status") in ("bad", "error") for h in decisions.values()):
        return "failing or overdue"
    now = current_decision(summary)
    if now is None:
        return "not started"
    return "hold" if now.get("status") in ("warn", "missing") else "healthy"


def portfolio_view(summary: Mapping[str, Any]) -> dict[str, str]:
    """What the portfolio shows first about an agent: `phase`, its decision in words with its `status` colour and
    `sentence`, and `attention` (one of `ATTENTION`)."""
    now = current_decision(summary) or {}
    status = now.get("status") or ("bad" if summary.get("error") else "missing")
    words = "cannot be read" if summary.get("error") else _words(now.get("decision") or status)
    return {"phase": current_phase(summary), "status": status, "decision": words,
            "sentence": now.get("sentence") or "", "attention": attention(summary)}


def attention_order(summaries: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Summaries sorted so what needs attention is on top: rollback, failing or overdue, hold, healthy, not
    started; by agent within each."""
    return sorted(summaries, key=lambda s: (ATTENTION.index(attention(s)), s.get("agent", "")))
