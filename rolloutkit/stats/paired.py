"""Paired proportions: the same items judged two ways (agent and human on one interaction)."""

from __future__ import annotations

import math

import numpy as np

from rolloutkit.stats.distributions import binom_cdf
from rolloutkit.stats.proportions import _wilson_bounds
from rolloutkit.stats.results import (
    NO_DATA,
    Interval,
    TestResult,
    check_count,
    check_open_unit,
    z_value,
)


def mcnemar_exact(b: int, c: int, *, alpha: float = 0.05) -> TestResult:
    """Exact McNemar test: two-sided binomial test of b discordant pairs out of b + c at 1/2.

    `statistic` is b; p = min(1, 2·P(X ≤ min(b, c))) with X ~ Bin(b + c, 1/2), as
    `scipy.stats.binomtest(b, b + c, 0.5)`. No discordant pairs: `NO_DATA`, p nan, no rejection.
    """
    b = check_count("b", b)
    c = check_count("c", c)
    alpha = check_open_unit("alpha", alpha)
    if b + c == 0:
        return TestResult(math.nan, math.nan, False, NO_DATA)
    p_value = min(1.0, 2 * float(binom_cdf(min(b, c), b + c, 0.5)))
    return TestResult(float(b), p_value, p_value < alpha)


def paired_newcombe_interval(table: object, *, confidence: float = 0.95) -> Interval:
    """p1 − p2 for paired proportions, Newcombe (1998c) method 10 (Wilson limits, square-and-add with φ).

    `table` is [[a, b], [c, d]] with p1 = (a + b)/n and p2 = (a + c)/n. The Wilson limits of p1 and p2 are
    combined through Newcombe's continuity-corrected correlation φ̂ = max(ad − bc − n/2, 0)/sqrt((a+b)(c+d)
    (a+c)(b+d)) when ad > bc, else (ad − bc)/sqrt(...) (0 if a margin is empty):
    L = d̂ − sqrt(dl1² − 2φ̂·dl1·du2 + du2²), U = d̂ + sqrt(du1² − 2φ̂·du1·dl2 + dl2²).
    [[59, 6], [16, 80]] → −0.0621, (−0.1186, −0.0046) (Fagerland, Lydersen & Laake 2014).
    An empty table: `NO_DATA` with the vacuous interval (−1, 1).
    """
    counts = np.asarray(table, dtype=float)
    if counts.shape != (2, 2):
        raise ValueError(f"`table` must be 2×2 [[a, b], [c, d]], got shape {counts.shape}")
    a, b, c, d = (check_count(name, v) for name, v in zip("abcd", counts.ravel(), strict=True))
    confidence = check_open_unit("confidence", confidence)
    n = a + b + c + d
    if n == 0:
        return Interval(math.nan, -1.0, 1.0, NO_DATA)
    z = z_value(confidence, "two-sided")
    x1, x2 = a + b, a + c
    p1, p2 = x1 / n, x2 / n
    l1, u1 = _wilson_bounds(x1, n, z)
    l2, u2 = _wilson_bounds(x2, n, z)
    margins = (a + b) * (c + d) * (a + c) * (b + d)
    excess = a * d - b * c
    if excess > 0:
        excess = max(excess - n / 2, 0.0)
    phi = excess / math.sqrt(margins) if margins > 0 else 0.0
    dl1, du1, dl2, du2 = p1 - l1, u1 - p1, p2 - l2, u2 - p2
    diff = p1 - p2
    lower = diff - math.sqrt(max(dl1**2 - 2 * phi * dl1 * du2 + du2**2, 0.0))
    upper = diff + math.sqrt(max(du1**2 - 2 * phi * du1 * dl2 + dl2**2, 0.0))
    return Interval(diff, max(-1.0, lower), min(1.0, upper))
