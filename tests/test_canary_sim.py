"""Operating characteristics of the readiness checks, by seeded simulation on daily counts (never rows).

Each test draws many canaries whose truth sits exactly on a limit and counts how often a daily check would have
called them safe at some look; the peeking-safe checks must stay at or below their alpha (plus Monte-Carlo
slack), and with a comfortable truth they must pass within the hold window in most runs.
"""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import polars as pl
import pytest

from rolloutkit import canary, stats
from rolloutkit.canary import tuning_n, tuning_trials
from rolloutkit.charter import parse_charter
from rolloutkit.checks import Check

CHARTER = parse_charter({
    "agent": "invoice-triage", "task": "Route invoices",
    "success_metric": {"name": "routing_accuracy", "noninferiority_margin": 0.02},
    "failure_modes": [{"name": "wrong_route", "max_rate": 0.01}, {"name": "missed_duplicate", "max_rate": 0.005}],
    "rollback_triggers": [{"metric": "failure_rate", "failure_mode": "wrong_route", "above": 0.025}],
    "traffic": {"daily_interactions": 4000},  # the demo's invoice-triage traffic
})
LOOKS = 14
ALPHA = CHARTER.canary.alpha


def slack(p: float, sims: int) -> float:
    """Three Monte-Carlo standard errors of a share p estimated from `sims` runs."""
    return 3 * math.sqrt(p * (1 - p) / sims)


def ever_below(rate: float, share: float, sims: int, seed: int) -> tuple[float, np.ndarray]:
    """Share of simulated canaries whose failure-rate sequence upper bound drops below the limit on some day."""
    rng = np.random.default_rng(seed)
    per_day = round(share * CHARTER.traffic.daily_interactions)
    n = np.broadcast_to(per_day * np.arange(1, LOOKS + 1), (sims, LOOKS))
    x = np.cumsum(rng.binomial(per_day, rate, size=(sims, LOOKS)), axis=1)
    bounds = stats.bernoulli_confidence_sequence_bounds(x, n, alpha=ALPHA,
                                                        tuning_trials=tuning_trials(CHARTER, share))
    passed = bounds.upper < 0.01
    return float(passed.any(axis=1).mean()), passed


@pytest.mark.slow
@pytest.mark.parametrize("share", [0.05, 0.40], ids=["5%", "40%"])
def test_failure_rate_at_the_limit_is_rarely_called_safe_over_14_daily_looks(share: float) -> None:
    sims = 4000
    rate, _ = ever_below(0.01, share, sims, seed=1)
    assert rate <= ALPHA + slack(ALPHA, sims)


@pytest.mark.slow
def test_a_fixed_sample_bound_re_read_daily_would_call_it_safe_far_too_often() -> None:
    """Why the sequence: a one-sided 95% Clopper–Pearson bound re-read each day passes ~3x too often."""
    sims, per_day = 1000, 200
    rng = np.random.default_rng(2)
    x = np.cumsum(rng.binomial(per_day, 0.01, size=(sims, LOOKS)), axis=1)
    naive = np.array([[stats.clopper_pearson_interval(int(x[i, d]), per_day * (d + 1), confidence=0.95,
                                                      side="upper").upper < 0.01 for d in range(LOOKS)]
                      for i in range(sims)])
    assert naive.any(axis=1).mean() > 2 * ALPHA


@pytest.mark.slow
@pytest.mark.parametrize(("share", "within"), [(0.05, 0.85), (0.15, 0.98), (0.40, 0.99)], ids=["5%", "15%", "40%"])
def test_failure_rate_at_a_third_of_the_limit_passes_within_the_hold_window(share: float, within: float) -> None:
    rate, passed = ever_below(0.01 / 3, share, 2000, seed=3)
    assert rate >= within
    first = np.where(passed.any(axis=1), passed.argmax(axis=1) + 1, LOOKS + 1)
    assert np.median(first) <= CHARTER.canary.max_hold_days


def gap_ever_above(p_agent: float, p_human: float, share: float, sims: int, seed: int) -> float:
    rng = np.random.default_rng(seed)
    total = CHARTER.traffic.daily_interactions
    na, nh = round(share * total), total - round(share * total)
    xa = np.cumsum(rng.binomial(na, p_agent, size=(sims, LOOKS)), axis=1)
    xh = np.cumsum(rng.binomial(nh, p_human, size=(sims, LOOKS)), axis=1)
    margin = CHARTER.success_metric.noninferiority_margin
    ever = np.zeros(sims, dtype=bool)
    for d in range(LOOKS):
        lower = np.array([stats.diff_confidence_sequence(int(a), na * (d + 1), int(h), nh * (d + 1), alpha=ALPHA,
                                                         tuning_n=tuning_n(CHARTER)).lower
                          for a, h in zip(xa[:, d], xh[:, d], strict=True)])
        ever |= lower > -margin
    return float(ever.mean())


@pytest.mark.slow
def test_success_gap_exactly_at_minus_margin_is_rarely_called_non_inferior() -> None:
    sims = 1500
    assert gap_ever_above(0.84, 0.86, 0.15, sims, seed=4) <= ALPHA + slack(ALPHA, sims)


@pytest.mark.slow
def test_success_gap_of_plus_one_point_is_shown_non_inferior_within_the_hold_window_at_40_percent() -> None:
    assert gap_ever_above(0.87, 0.86, 0.40, 400, seed=5) >= 0.8


#: A stage at 40% opened at midnight of the first simulated day.
FLAGS = pl.DataFrame({"ts": [dt.datetime(2026, 11, 1, tzinfo=dt.UTC)], "traffic_share": [0.4], "reason": ["ramp"]})


def stability(agent: pl.DataFrame) -> Check:
    """Readiness's stability check on the last day of a stage whose agent arm had these daily counts."""
    daily = agent.with_columns(segment_start=FLAGS["ts"][0], arm=pl.lit("agent"))
    counts = canary.counts_from_daily(daily, FLAGS, CHARTER, as_of=agent["day"][-1])
    return canary.evaluate(counts, counts.as_of, plan=False).check("stability")


def daily(rng: np.random.Generator, n: int, rates: dict[str, float], days: int = 7,
          spike: tuple[str, float] | None = None) -> pl.DataFrame:
    trials = rng.poisson(n, size=days)
    frame = {"day": pl.date_range(dt.date(2026, 11, 1), dt.date(2026, 11, days), "1d", eager=True), "n": trials}
    for column, rate in rates.items():
        p = np.full(days, rate)
        if spike and spike[0] == column:
            p[3] = spike[1]
        frame[column] = rng.binomial(trials, p)
    return pl.DataFrame(frame)


RATES = {"successes": 0.875, "fail__wrong_route": 0.002, "fail__missed_duplicate": 0.0008}


@pytest.mark.slow
@pytest.mark.parametrize("n", [200, 1600], ids=["200/day", "1600/day"])
def test_stability_false_alarms_at_most_about_one_percent_over_the_window(n: int) -> None:
    rng = np.random.default_rng(6)
    sims = 1000
    alarms = sum(stability(daily(rng, n, RATES)).status == "fail" for _ in range(sims))
    assert alarms / sims <= 0.01 + slack(0.01, sims)


@pytest.mark.slow
def test_stability_catches_a_day_at_eight_times_the_failure_rate() -> None:
    rng = np.random.default_rng(7)
    caught = [stability(daily(rng, 1600, RATES, spike=("fail__wrong_route", 0.016))) for _ in range(200)]
    assert np.mean([c.status == "fail" for c in caught]) >= 0.95
    assert "wrong_route above its daily limits on 2026-11-04" in next(c.sentence for c in caught
                                                                      if c.status == "fail")
