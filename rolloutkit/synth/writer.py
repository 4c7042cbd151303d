"""`write_workspace`: a charter plus every table of one scenario, deterministic for a seed."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl
import yaml

from rolloutkit.synth.canary import Schedule, canary_table, flags_table
from rolloutkit.synth.clock import DAY_US, day_us
from rolloutkit.synth.evals import evals_table
from rolloutkit.synth.incidents import incidents_table, regression_window
from rolloutkit.synth.scenarios import SCENARIOS, Scenario
from rolloutkit.synth.shadow import shadow_tables, supervision_reviews
from rolloutkit.synth.truth import Truth, expected_canary, expected_shadow

TABLES = ("shadow", "reviews", "canary", "flags", "evals", "incidents")
#: The committed demo: folder name (= agent slug) and scenario.
DEMO = {"support-refunds": "supervised", "invoice-triage": "healthy", "kb-answers": "shadow_short"}
TRIGGER_FACTOR = 2.5  # a failure-rate trigger fires at this multiple of the mode's limit over 3 days


def charter(sc: Scenario) -> dict:
    """The charter.yaml content for a scenario, every section spelled out."""
    return {
        "agent": sc.agent,
        "task": sc.task,
        "owner": sc.owner,
        # who may change the flag: the owner, the release pipeline and two named people (dev.patel, who also
        # changes it in the synthetic history, is not one, so the audit has an unauthorized change to show)
        "rollback_authority": [sc.owner, "release-bot", "maria.lopez", "sre-oncall"],
        "risk_tier": sc.risk_tier,
        "timezone": sc.timezone,
        "success_metric": {"name": sc.success_name, "description": sc.success_description,
                           "noninferiority_margin": sc.noninferiority_margin},
        "failure_modes": [{"name": m.name, "description": m.description, "max_rate": m.max_rate}
                          for m in sc.failure_modes],
        "rollback_triggers": [
            *({"metric": "failure_rate", "failure_mode": m.name, "above": round(TRIGGER_FACTOR * m.max_rate, 6),
               "window_days": 3} for m in sc.failure_modes if m.max_rate > 0),
            {"metric": "success_rate", "below": round(sc.human_success - 0.1, 2), "window_days": 7},
        ],
        "traffic": {"daily_interactions": sc.daily_interactions},
        "shadow": {"min_weeks": sc.shadow_min_weeks, "max_weeks": sc.shadow_max_weeks,
                   "reviews_per_week": sc.reviews_per_week, "max_agent_worse_rate": sc.max_agent_worse_rate},
        "canary": {"stages": list(sc.stages), "min_hold_days": sc.min_hold_days,
                   "max_hold_days": sc.max_hold_days, "confidence": 0.95},
        "guardrails": {"max_actions_per_session": 20, "max_dollars_per_session": 200,
                       "action_allowlist": list(sc.actions), "review_required": list(sc.irreversible)},
        "supervision": {"sample_rate": sc.supervision_sample_rate},
    }


def write_workspace(directory: str | Path, scenario: Scenario | str = "healthy", *, seed: int = 0,
                    fmt: Literal["parquet", "csv"] = "parquet") -> Truth:
    """Write `charter.yaml` and the scenario's tables into `directory`; returns the truth they were drawn from.

    Tables without rows (canary and incidents while in shadow) are not written. The same seed gives the same bytes.
    """
    name = scenario if isinstance(scenario, str) else _name_of(scenario)
    if isinstance(scenario, str):
        if scenario not in SCENARIOS:
            raise ValueError(f"`scenario` must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
        scenario = SCENARIOS[scenario]
    if fmt not in ("parquet", "csv"):
        raise ValueError(f"`fmt` must be 'parquet' or 'csv', got {fmt!r}")
    sc = scenario
    rngs = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(6)]
    end_us = day_us(sc.end) + DAY_US - 1_000_000

    shadow, reviews, realised = shadow_tables(sc, rngs[0], end_us)
    flags, schedule = flags_table(sc, rngs[1])
    tables = {"shadow": shadow, "reviews": reviews, "flags": flags, "evals": evals_table(sc, rngs[2])}
    if sc.ladder:
        canary = canary_table(sc, rngs[3], schedule)
        tables["canary"] = canary
        if sc.supervision_weeks:
            supervised_from = int(schedule.stage_us[len(sc.ladder)])
            tables["reviews"] = pl.concat([reviews, supervision_reviews(sc, rngs[4], canary, supervised_from, end_us)])
        tables["incidents"] = incidents_table(sc, rngs[5], canary, end_us,
                                              regression_window(schedule.rollback_day, schedule.regression_us))
    tables["reviews"] = tables["reviews"].sort("reviewed_at", "interaction_id", "reviewer")

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for table in TABLES:
        for ext in (".parquet", ".csv", ".ndjson"):
            (directory / f"{table}{ext}").unlink(missing_ok=True)
    (directory / "charter.yaml").write_text(yaml.safe_dump(charter(sc), sort_keys=False, width=110))
    written = tuple(t for t in TABLES if t in tables and tables[t].height)
    for table in written:
        if fmt == "csv":
            tables[table].write_csv(directory / f"{table}.csv")
        else:
            tables[table].write_parquet(directory / f"{table}.parquet", compression="zstd")
    return _truth(sc, name, seed, schedule, realised, written)


def write_demo(directory: str | Path, *, seed: int = 7) -> dict[str, Truth]:
    """The committed demo: three workspaces (supervised, mid-canary, in shadow) under `directory`."""
    directory = Path(directory)
    return {folder: write_workspace(directory / folder, scenario, seed=seed) for folder, scenario in DEMO.items()}


def _name_of(sc: Scenario) -> str:
    return next((k for k, v in SCENARIOS.items() if v == sc), sc.agent)


def _truth(sc: Scenario, name: str, seed: int, schedule: Schedule, realised: dict,
           written: tuple[str, ...]) -> Truth:
    day = dt.timedelta(days=1)
    as_of = schedule.rollback_day - day if schedule.rollback_day else sc.end
    shadow_end = sc.start + dt.timedelta(days=sc.shadow_days - 1)
    stage = started = days_at = None
    if schedule.stage_days:
        stage = max(k for k, first in enumerate(schedule.stage_days) if first <= as_of)
        started = schedule.stage_days[stage]
        days_at = (as_of - started).days + 1
    regression_day = None
    if schedule.regression_us is not None:
        regression_day = dt.date(1970, 1, 1) + dt.timedelta(days=schedule.regression_us // DAY_US)
    regressed = regression_day is not None and regression_day <= as_of
    decision, failing = expected_canary(sc, stage, days_at, regressed)
    n_stages = len(sc.executed)
    return Truth(
        scenario=name, agent=sc.agent, seed=seed, start=sc.start, end=sc.end, as_of=as_of, shadow_end=shadow_end,
        canary_start=schedule.stage_days[0] if schedule.stage_days else None,
        stage=sc.executed[stage][0] if stage is not None else None, stage_started=started, days_at_stage=days_at,
        verdict_shares=sc.verdict_shares, realised_verdict_shares=realised["verdict_shares"],
        agent_worse_rate=sc.agent_worse, action_disagreement=sc.action_disagreement,
        max_rates={m.name: m.max_rate for m in sc.failure_modes},
        failure_rates={m.name: tuple(m.rate_at_stage(k) for k in range(n_stages)) for m in sc.failure_modes},
        human_failure_rates={m.name: m.human_rate for m in sc.failure_modes},
        success_rates={"agent": sc.agent_success, "human": sc.human_success}, srm_skew=sc.srm_skew,
        regression_mode=sc.regression.mode if sc.regression else None, regression_day=regression_day,
        regression_rate=sc.regression.rate if sc.regression else None, rollback_day=schedule.rollback_day,
        drill_seconds=tuple(d.seconds_to_zero for d in sc.drills), tables=written,
        expected_shadow_decision=expected_shadow(sc), expected_canary_decision=decision,
        expected_failing_checks=failing,
    )
