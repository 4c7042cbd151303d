"""The plan and the daily decision agree: planned stage days vs the day canary readiness first says expand.

Each canary stage gets its own workspace: the flag set to the stage's share at midnight of day 0, then a constant
4,000 interactions a day at the expected rates. `exact` data places failures and successes evenly (the counts are
the expected counts, as the planner assumes); `random` data draws them (Bernoulli) from `rolloutkit.synth`-style
seeded generators, to show how far chance moves the passing day.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml

import rolloutkit as rk
from rolloutkit import canary, timeline

DAILY = 4000
RATES = {"wrong_route": 0.004, "missed_duplicate": 0.002}
HUMAN, AGENT = 0.86, 0.865
DAY0 = dt.date(2026, 3, 2)
CHARTER = {
    "agent": "agree-test", "task": "route invoices", "risk_tier": "moderate",
    "success_metric": {"name": "routing_accuracy", "noninferiority_margin": 0.02},
    "failure_modes": [{"name": "wrong_route", "max_rate": 0.01}, {"name": "missed_duplicate", "max_rate": 0.005},
                      {"name": "duplicate_payment", "max_rate": 0.0}],
    "rollback_triggers": [{"metric": "failure_rate", "failure_mode": "wrong_route", "above": 0.05}],
    "traffic": {"daily_interactions": DAILY},
    # a 2-day bake minimum, so the evidence — not the minimum — sets every stage's length
    "canary": {"min_hold_days": 2, "max_hold_days": 14},
}


def _even(index: pl.Expr, rate: float, offset: float = 0.0) -> pl.Expr:
    """True on the rows where the running expected count steps up: exactly floor(rate·n) hits in n rows."""
    return ((index + 1) * rate + offset).floor() > (index * rate + offset).floor()


def write_stage(directory: Path, share: float, days: int, *, seed: int | None = None) -> Path:
    """One stage: the flag at `share` from midnight of DAY0, `days` days of canary rows at the expected rates."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "charter.yaml").write_text(yaml.safe_dump(CHARTER), encoding="utf-8")
    pl.DataFrame({"ts": [dt.datetime.combine(DAY0, dt.time(0), tzinfo=dt.UTC)], "traffic_share": [share],
                  "actor": ["release-bot"], "reason": ["ramp"]}).write_parquet(directory / "flags.parquet")
    agent_n = round(share * DAILY)
    rows = pl.DataFrame({"i": np.arange(days * DAILY)}).with_columns(
        day=pl.col("i") // DAILY, k=pl.col("i") % DAILY)
    # every (DAILY / agent_n)-th interaction goes to the agent, so both arms spread evenly over the day
    rows = rows.with_columns(arm=pl.when((pl.col("k") * agent_n) % DAILY < agent_n).then(pl.lit("agent"))
                             .otherwise(pl.lit("human")))
    rows = rows.with_columns(j=pl.int_range(pl.len()).over("arm"))
    if seed is None:
        wrong = _even(pl.col("j"), RATES["wrong_route"])
        missed = _even(pl.col("j"), RATES["missed_duplicate"], 0.3)  # offset: never on a wrong_route row
        success = pl.when(pl.col("arm") == "agent").then(_even(pl.col("j"), AGENT)).otherwise(_even(pl.col("j"), HUMAN))
    else:
        rng = np.random.default_rng(seed)
        u = pl.Series(rng.random(rows.height))
        v = pl.Series(rng.random(rows.height))
        wrong = pl.lit(u) < RATES["wrong_route"]
        missed = (pl.lit(u) >= RATES["wrong_route"]) & (pl.lit(u) < RATES["wrong_route"] + RATES["missed_duplicate"])
        success = pl.lit(v) < pl.when(pl.col("arm") == "agent").then(AGENT).otherwise(HUMAN)
    agent = pl.col("arm") == "agent"
    rows = rows.with_columns(
        interaction_id=pl.format("c{}", pl.col("i")),
        ts=pl.lit(dt.datetime.combine(DAY0, dt.time(0, 0, 1), tzinfo=dt.UTC))
        + pl.duration(days=pl.col("day"), seconds=pl.col("k") * 86_000 // DAILY),
        success=success,
        failure_mode=pl.when(agent & wrong).then(pl.lit("wrong_route"))
        .when(agent & missed).then(pl.lit("missed_duplicate")).otherwise(pl.lit(None, pl.String)),
    )
    rows.select("interaction_id", "ts", "arm", "success", "failure_mode").write_parquet(directory / "canary.parquet")
    return directory


def first_expand_days(ws_dir: Path, days: int) -> int | None:
    """Days of data at the stage on the first day readiness says expand (None if it never does)."""
    ws = rk.load_workspace(ws_dir)
    counts = canary.canary_counts(ws, as_of=DAY0 + dt.timedelta(days=days - 1))
    for d in range(days):
        decision = canary.evaluate(counts, DAY0 + dt.timedelta(days=d), plan=False)
        if decision.decision == "expand":
            return decision.days_at_stage
    return None


def planned() -> timeline.Plan:
    return timeline.plan_from_charter(rk.charter.parse_charter(CHARTER), start=DAY0, expected_rates=RATES,
                                      human_success=HUMAN, success_diff=AGENT - HUMAN)


def agreement(tmp_path: Path, *, seed: int | None) -> pl.DataFrame:
    """Per stage: planned days, the first expanding day of readiness, and the difference."""
    plan = planned()
    rows = []
    for phase in (p for p in plan.phases if p.kind == "canary"):
        days = 2 * phase.days + 6
        ws_dir = write_stage(tmp_path / f"s{phase.share}-{seed}", phase.share or 0.0, days, seed=seed)
        actual = first_expand_days(ws_dir, days)
        rows.append({"stage": phase.name, "planned_days": phase.days, "readiness_days": actual})
    return pl.DataFrame(rows).with_columns(difference=pl.col("readiness_days") - pl.col("planned_days"))


def test_planned_days_match_the_first_expanding_day_on_exact_data(tmp_path: Path) -> None:
    result = agreement(tmp_path, seed=None)
    print(result)
    assert result["readiness_days"].null_count() == 0
    # the planner rounds the expected counts as the data does: within a day of readiness at every stage
    assert result["difference"].abs().max() <= 1
    # the evidence, not the bake minimum, sets every stage (otherwise the test would prove little)
    assert (result["planned_days"] > 2).all()


@pytest.mark.slow
def test_planned_days_are_close_to_readiness_on_random_data(tmp_path: Path) -> None:
    results = pl.concat([agreement(tmp_path, seed=seed).with_columns(seed=pl.lit(seed)) for seed in range(5)])
    summary = results.group_by("stage", maintain_order=True).agg(
        pl.col("planned_days").first(), pl.col("readiness_days"), within_2=(pl.col("difference").abs() <= 2).sum())
    print(summary.with_columns(pl.col("readiness_days").list.eval(pl.element().cast(pl.String)).list.join(" ")))
    # chance moves a confidence sequence's crossing, most at the 5% stage where a handful of rare failures decide
    # (seeds 0-4 there: 15, 29, 21, 21, 16 days against 18 planned); the plan is the typical day, not a promise
    medians = results.group_by("stage").agg(pl.col("planned_days").first(), pl.col("readiness_days").median())
    assert ((medians["readiness_days"] - medians["planned_days"]).abs() <= 3).all()
    assert (results["difference"].abs().fill_null(99) <= 2).mean() >= 0.6
