"""Canary health checks on daily counts: p-chart control limits, trend over days, sample-ratio mismatch."""

from __future__ import annotations

import math

import numpy as np

from rolloutkit.stats.distributions import binom_isf, binom_ppf, chi2_sf, norm_sf
from rolloutkit.stats.results import (
    NO_DATA,
    ZERO_VARIANCE,
    Bounds,
    TestResult,
    check_count,
    check_open_unit,
    check_unit,
)


def _count_vector(name: str, values: object) -> np.ndarray:
    array = np.atleast_1d(np.asarray(values, dtype=float))
    if array.ndim != 1 or np.any(~np.isfinite(array)) or np.any(array < 0) or np.any(array != np.round(array)):
        raise ValueError(f"`{name}` must be a 1-dimensional array of non-negative integers")
    return array


def binomial_control_limits(trials: object, p: float, *, alpha: float) -> Bounds:
    """Exact binomial p-chart limits on daily counts: a day is out of control if x < lower or x > upper.

    lower is the largest k with P(X < k) < alpha/2 and upper the smallest u with P(X > u) ≤ alpha/2, for
    X ~ Bin(trials, p); so a day is flagged with probability ≤ alpha when the rate is `p` (alpha is per
    point: callers Bonferroni over the window). Days with no trials get (0, 0).
    """
    n = _count_vector("trials", trials)
    p = check_unit("p", p)
    alpha = check_open_unit("alpha", alpha)
    lower = np.where(n > 0, binom_ppf(alpha / 2, n, p), 0.0)
    upper = np.where(n > 0, binom_isf(alpha / 2, n, p), 0.0)
    return Bounds(lower.astype(int), upper.astype(int))


def trend_test(successes: object, trials: object, *, alpha: float = 0.05) -> TestResult:
    """Cochran–Armitage test for a linear trend of daily rates over the day index 0, 1, …, k − 1 (two-sided).

    z = Σ tᵢ(xᵢ − nᵢp̄) / sqrt(p̄(1−p̄)(Σ nᵢtᵢ² − (Σ nᵢtᵢ)²/N)); z² is R's `prop.trend.test` statistic.
    No trials gives `NO_DATA`; a constant rate of 0 or 1, or a single day with data, `ZERO_VARIANCE`.
    """
    x = _count_vector("successes", successes)
    n = _count_vector("trials", trials)
    if x.shape != n.shape:
        raise ValueError(f"`successes` and `trials` must have the same length, got {x.size} and {n.size}")
    if np.any(x > n):
        raise ValueError("`successes` must be at most `trials` element-wise")
    alpha = check_open_unit("alpha", alpha)
    total = n.sum()
    if total == 0:
        return TestResult(math.nan, math.nan, False, NO_DATA)
    t = np.arange(x.size, dtype=float)
    p = x.sum() / total
    variance = p * (1 - p) * ((n * t * t).sum() - (n * t).sum() ** 2 / total)
    if variance <= 1e-12 * max(total, 1.0):
        return TestResult(math.nan, math.nan, False, ZERO_VARIANCE)
    z = float((t * (x - n * p)).sum() / math.sqrt(variance))
    p_value = 2 * norm_sf(abs(z))
    return TestResult(z, p_value, p_value < alpha)


def srm_test(agent_count: int, total_count: int, expected_share: float, *, alpha: float = 0.001) -> TestResult:
    """Sample-ratio mismatch: chi-square goodness of fit (1 df) of the agent's share of traffic.

    The default alpha is the conventional 0.001 for SRM alarms. With `expected_share` 0 (or 1) the only
    consistent outcome is no agent (or all agent) traffic: that gives statistic 0 and p 1, anything else
    statistic inf and p 0. No traffic gives `NO_DATA`.
    """
    agent = check_count("agent_count", agent_count)
    total = check_count("total_count", total_count)
    if agent > total:
        raise ValueError(f"`agent_count` must be at most `total_count`, got {agent} > {total}")
    share = check_unit("expected_share", expected_share)
    alpha = check_open_unit("alpha", alpha)
    if total == 0:
        return TestResult(math.nan, math.nan, False, NO_DATA)
    if share in (0.0, 1.0):
        consistent = agent == round(share * total)
        return TestResult(0.0, 1.0, False) if consistent else TestResult(math.inf, 0.0, True)
    expected = np.array([share * total, (1 - share) * total])
    observed = np.array([agent, total - agent])
    statistic = float(((observed - expected) ** 2 / expected).sum())
    p_value = chi2_sf(statistic, 1)
    return TestResult(statistic, p_value, p_value < alpha)
