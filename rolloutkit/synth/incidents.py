"""The incident log of the live phases: synthetic summaries, some still open, one per regression."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from rolloutkit.synth.clock import DAY_US, HOUR_US, US, at, datetimes, ids, pick
from rolloutkit.synth.scenarios import Scenario

KINDS = ("regression", "false_positive", "customer_escalation", "guardrail_breach", "other")
SEVERITIES = ("sev1", "sev2", "sev3", "sev4")
DETECTORS = ("review_sample", "customer", "monitoring")
_KIND_P = np.array([0.15, 0.25, 0.3, 0.1, 0.2])
_SEVERITY_P = np.array([0.03, 0.12, 0.45, 0.40])
_SUMMARY = {
    "regression": "{mode} seen again on a {segment} request after a prompt change",
    "false_positive": "monitor flagged a {segment} request that the review found correct",
    "customer_escalation": "customer escalated a {segment} request handled by the agent",
    "guardrail_breach": "agent attempted an action outside its allowlist on a {segment} request",
    "other": "agent reply delayed on a {segment} request during a provider slowdown",
}


def incidents_table(sc: Scenario, rng: np.random.Generator, canary: pl.DataFrame, end_us: int,
                    regression: tuple[int, int] | None) -> pl.DataFrame:
    """Incidents over the canary rows' time span; `regression` = (opened_us, closed_us) adds the regression's own."""
    agent = canary.filter(pl.col("arm") == "agent")
    if agent.height == 0:
        return pl.DataFrame()
    a_ts = agent["ts"].dt.epoch("us").to_numpy()
    first, last = int(a_ts[0]), int(a_ts[-1])
    n = rng.poisson(sc.incident_rate * max(1.0, (last - first) / DAY_US))
    kind = rng.choice(len(KINDS), size=n, p=_KIND_P)
    if sc.guardrail_breach_rate == 0:
        kind = np.where(kind == KINDS.index("guardrail_breach"), KINDS.index("other"), kind)
    opened = np.sort(rng.integers(first, last, size=n)) // US * US
    severity = rng.choice(4, size=n, p=_SEVERITY_P)
    with_mode = np.isin(kind, [KINDS.index("regression"), KINDS.index("customer_escalation")])
    detected = np.where(kind == KINDS.index("customer_escalation"), 1, np.where(
        kind == KINDS.index("guardrail_breach"), 2, rng.choice([0, 2], size=n)))
    closed = opened + (rng.exponential(30, size=n) * HOUR_US).astype(np.int64) // US * US
    still_open = (closed > end_us) | (rng.random(n) < 0.1)

    if regression is not None:
        opened = np.append(opened, regression[0])
        closed = np.append(closed, regression[1])
        still_open = np.append(still_open, regression[1] > end_us)
        kind = np.append(kind, KINDS.index("regression"))
        severity = np.append(severity, SEVERITIES.index("sev2"))
        with_mode = np.append(with_mode, True)
        detected = np.append(detected, DETECTORS.index("monitoring"))

    order = np.argsort(opened, kind="stable")
    opened, closed, still_open, kind, severity, with_mode, detected = (
        a[order] for a in (opened, closed, still_open, kind, severity, with_mode, detected))
    # The interaction behind each incident: the latest agent interaction before it opened, a failing one
    # (of the regressed mode, for the regression's incident) when the incident names a failure mode.
    is_regression = np.zeros(opened.size, dtype=bool) if regression is None else opened == regression[0]
    failed = agent["failure_mode"]
    row = np.maximum(_latest(a_ts, opened), 0)
    regressed = sc.regression.mode if sc.regression is not None else ""
    for candidates, use in ((np.flatnonzero(failed.is_not_null().to_numpy()), with_mode),
                            (np.flatnonzero((failed == regressed).fill_null(False).to_numpy()), is_regression)):
        latest = _latest(a_ts[candidates], opened)
        take = use & (latest >= 0)
        row = np.where(take, candidates[np.maximum(latest, 0)] if candidates.size else row, row)
    picked = agent[row]
    mode = picked.select(pl.when(pl.Series(with_mode)).then(pl.col("failure_mode"))).to_series()
    summary = pl.select(
        pick(tuple(_SUMMARY[k] for k in KINDS), kind, "t")
        .str.replace("{mode}", mode.fill_null("a failure"), literal=True)
        .str.replace("{segment}", picked["segment"], literal=True).alias("summary")).to_series()
    return pl.DataFrame([
        ids("INC-", opened.size, width=4).alias("incident_id"),
        datetimes(opened, "opened_at"),
        pick(SEVERITIES, severity, "severity"),
        pick(KINDS, kind, "kind"),
        summary,
        datetimes(closed, "closed_at").set(pl.Series(still_open), None),
        mode.alias("failure_mode"),
        picked["interaction_id"],
        pick(DETECTORS, detected, "detected_by"),
    ])


def _latest(ts: np.ndarray, at_us: np.ndarray) -> np.ndarray:
    """Index of the latest `ts` before each `at_us` (-1 when none)."""
    return np.searchsorted(ts, at_us) - 1


def regression_window(rollback_day: dt.date | None, regression_us: int | None) -> tuple[int, int] | None:
    """(opened, closed) of the regression's incident: opened the evening before the rollback, closed next day."""
    if rollback_day is None or regression_us is None:
        return None
    opened = at(rollback_day, -7.5)
    return opened, opened + 2 * DAY_US
