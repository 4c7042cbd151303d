"""Intervals and tests for one proportion and for the difference of two independent proportions."""

from __future__ import annotations

import math

from rolloutkit.stats.distributions import beta_isf, beta_ppf, norm_sf
from rolloutkit.stats.results import (
    NO_DATA,
    ZERO_VARIANCE,
    Interval,
    Side,
    TestResult,
    check_binomial,
    check_open_unit,
    check_side,
    check_unit,
    z_value,
)


def _wilson_bounds(x: int, n: int, z: float) -> tuple[float, float]:
    centre = (x + z * z / 2) / (n + z * z)
    half = z * math.sqrt(x * (n - x) / n + z * z / 4) / (n + z * z)
    lower = 0.0 if x == 0 else max(0.0, centre - half)
    upper = 1.0 if x == n else min(1.0, centre + half)
    return lower, upper


def wilson_interval(successes: int, trials: int, *, confidence: float = 0.95, side: Side = "two-sided") -> Interval:
    """Wilson score interval (Newcombe 1998a, method 3): 81/263 → (0.2553, 0.3662).

    `side="upper"` gives a one-sided upper bound at `confidence` (lower = 0), `side="lower"` a one-sided
    lower bound (upper = 1). No trials: estimate nan and the vacuous interval (0, 1), error `NO_DATA`.
    """
    x, n = check_binomial(successes, trials)
    confidence = check_open_unit("confidence", confidence)
    side = check_side(side)
    if n == 0:
        return Interval(math.nan, 0.0, 1.0, NO_DATA)
    lower, upper = _wilson_bounds(x, n, z_value(confidence, side))
    return Interval(x / n, lower if side != "upper" else 0.0, upper if side != "lower" else 1.0)


def clopper_pearson_interval(
    successes: int, trials: int, *, confidence: float = 0.95, side: Side = "two-sided"
) -> Interval:
    """Exact (Clopper–Pearson) interval from beta quantiles, as R's `binom.test`."""
    x, n = check_binomial(successes, trials)
    confidence = check_open_unit("confidence", confidence)
    side = check_side(side)
    if n == 0:
        return Interval(math.nan, 0.0, 1.0, NO_DATA)
    tail = (1 - confidence) / 2 if side == "two-sided" else 1 - confidence
    lower = 0.0 if x == 0 or side == "upper" else beta_ppf(tail, x, n - x + 1)
    upper = 1.0 if x == n or side == "lower" else beta_isf(tail, x + 1, n - x)
    return Interval(x / n, lower, upper)


def newcombe_interval(x1: int, n1: int, x2: int, n2: int, *, confidence: float = 0.95) -> Interval:
    """p1 − p2 by Newcombe's hybrid score (1998b, method 10): 56/70 − 48/80 → (0.0524, 0.3339).

    Combines the two Wilson intervals by "square and add". A group with no trials: error `NO_DATA`,
    estimate nan and the vacuous interval (−1, 1).
    """
    x1, n1 = check_binomial(x1, n1, ("x1", "n1"))
    x2, n2 = check_binomial(x2, n2, ("x2", "n2"))
    confidence = check_open_unit("confidence", confidence)
    if n1 == 0 or n2 == 0:
        return Interval(math.nan, -1.0, 1.0, NO_DATA)
    z = z_value(confidence, "two-sided")
    p1, p2 = x1 / n1, x2 / n2
    l1, u1 = _wilson_bounds(x1, n1, z)
    l2, u2 = _wilson_bounds(x2, n2, z)
    d = p1 - p2
    lower = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    upper = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return Interval(d, max(-1.0, lower), min(1.0, upper))


def restricted_mle(x1: int, n1: int, x2: int, n2: int, delta: float) -> tuple[float, float]:
    """MLE of (p1, p2) under p1 − p2 = delta: the root of Farrington & Manning's (1990) cubic.

    The likelihood is concave on the constraint line, so its stationary point is the unique root in range,
    found in closed form (trigonometric solution, as in Farrington & Manning's appendix).
    """
    p1, p2 = x1 / n1, x2 / n2
    theta = n2 / n1
    a = 1 + theta
    b = -(1 + theta + p1 + theta * p2 + delta * (theta + 2))
    c = delta * delta + delta * (2 * p1 + theta + 1) + p1 + theta * p2
    d = -p1 * delta * (1 + delta)
    v = b**3 / (27 * a**3) - b * c / (6 * a * a) + d / (2 * a)
    u_sq = b * b / (9 * a * a) - c / (3 * a)
    u = math.copysign(math.sqrt(max(u_sq, 0.0)), v) if v != 0 else math.sqrt(max(u_sq, 0.0))
    ratio = 0.0 if u == 0 else max(-1.0, min(1.0, v / u**3))
    w = (math.pi + math.acos(ratio)) / 3
    r1 = 2 * u * math.cos(w) - b / (3 * a)
    lo, hi = max(0.0, delta), min(1.0, 1 + delta)
    r1 = min(max(r1, lo), hi)
    return r1, r1 - delta


def noninferiority_test(
    x_agent: int, n_agent: int, x_control: int, n_control: int, *, margin: float, alpha: float = 0.05
) -> TestResult:
    """Farrington–Manning (1990) score test of H0: p_agent − p_control ≤ −margin (one-sided).

    z = (p̂a − p̂c + margin) / sqrt(p̃a(1−p̃a)/na + p̃c(1−p̃c)/nc), with (p̃a, p̃c) the MLE restricted to
    p_a − p_c = −margin; p = 1 − Φ(z). An arm with no trials gives `NO_DATA`; a zero restricted variance
    (margin 0 and every outcome identical) gives `ZERO_VARIANCE`; neither rejects.
    """
    xa, na = check_binomial(x_agent, n_agent, ("x_agent", "n_agent"))
    xc, nc = check_binomial(x_control, n_control, ("x_control", "n_control"))
    margin = check_unit("margin", margin)
    if margin == 1:
        raise ValueError(f"`margin` must be in [0, 1), got {margin!r}")
    alpha = check_open_unit("alpha", alpha)
    if na == 0 or nc == 0:
        return TestResult(math.nan, math.nan, False, NO_DATA)
    ra, rc = restricted_mle(xa, na, xc, nc, -margin)
    variance = ra * (1 - ra) / na + rc * (1 - rc) / nc
    if variance <= 0:
        return TestResult(math.nan, math.nan, False, ZERO_VARIANCE)
    z = (xa / na - xc / nc + margin) / math.sqrt(variance)
    p_value = norm_sf(z)
    return TestResult(z, p_value, p_value < alpha)
