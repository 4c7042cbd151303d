"""The few distribution functions the statistics need, written on `scipy.special`.

Why not `scipy.stats`: importing it costs about 0.8 s of CPU, paid by every command and every kernel before any
work starts, while `scipy.special` (which scipy.stats itself calls) costs a third of that. Each function here gives
what its `scipy.stats` namesake gives (tests/test_stats_distributions.py compares them on wide grids): the normal
and chi-square ones are the very calls scipy.stats makes, the beta quantiles the same Boost routines, and the
binomial quantiles the smallest count meeting the bound, found by bisection on the Boost binomial tails.
"""

from __future__ import annotations

import numpy as np
from scipy import special


def norm_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z (`scipy.stats.norm.sf`)."""
    return float(special.ndtr(-x))


def norm_isf(q: float) -> float:
    """The z with P(Z > z) = q (`scipy.stats.norm.isf`)."""
    return float(-special.ndtri(q))


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for X ~ chi-square with `df` degrees of freedom (`scipy.stats.chi2.sf`)."""
    return float(special.chdtrc(df, x))


def beta_ppf(q: float, a: float, b: float) -> float:
    """The x with P(X ≤ x) = q for X ~ Beta(a, b) (`scipy.stats.beta.ppf`)."""
    return float(special.betaincinv(a, b, q))


def beta_isf(q: float, a: float, b: float) -> float:
    """The x with P(X > x) = q for X ~ Beta(a, b) (`scipy.stats.beta.isf`)."""
    return float(special.betainccinv(a, b, q))


def binom_cdf(k: object, n: object, p: object) -> np.ndarray:
    """P(X ≤ k) for X ~ Bin(n, p), element-wise; 0 below 0 and 1 from n on (`scipy.stats.binom.cdf`)."""
    k, n, p = np.broadcast_arrays(np.floor(np.asarray(k, dtype=float)), np.asarray(n, dtype=float),
                                  np.asarray(p, dtype=float))
    inside = special.betaincc(np.maximum(k, 0) + 1, np.maximum(n - k, 1), p)
    return np.where(k < 0, 0.0, np.where(k >= n, 1.0, inside))


def binom_sf(k: object, n: object, p: object) -> np.ndarray:
    """P(X > k) for X ~ Bin(n, p), element-wise (`scipy.stats.binom.sf`)."""
    k, n, p = np.broadcast_arrays(np.floor(np.asarray(k, dtype=float)), np.asarray(n, dtype=float),
                                  np.asarray(p, dtype=float))
    inside = special.betainc(np.maximum(k, 0) + 1, np.maximum(n - k, 1), p)
    return np.where(k < 0, 1.0, np.where(k >= n, 0.0, inside))


def binom_ppf(q: object, n: object, p: object) -> np.ndarray:
    """The smallest k in [0, n] with P(X ≤ k) ≥ q, element-wise, for 0 < q < 1 (`scipy.stats.binom.ppf`)."""
    return _smallest(lambda k, n, p, q: binom_cdf(k, n, p) >= q, q, n, p)


def binom_isf(q: object, n: object, p: object) -> np.ndarray:
    """The smallest k in [0, n] with P(X > k) ≤ q, element-wise, for 0 < q < 1 (`scipy.stats.binom.isf`)."""
    return _smallest(lambda k, n, p, q: binom_sf(k, n, p) <= q, q, n, p)


def _smallest(holds, q: object, n: object, p: object) -> np.ndarray:
    """Bisection for the smallest k in [0, n] where `holds` (monotone in k; true at k = n) is true.

    It starts from the normal approximation's bracket, mean ± 12 sd + 12 (a dozen steps instead of twenty on a
    day's traffic), and from all of [0, n] wherever that bracket turns out not to hold the answer."""
    q, n, p = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (q, n, p)))
    spread = 12 * np.sqrt(n * p * (1 - p)) + 12
    low, high = np.clip(np.floor(n * p - spread), 0, n), np.clip(np.ceil(n * p + spread), 0, n)
    missed = ~holds(high, n, p, q) | ((low > 0) & holds(np.maximum(low - 1, 0), n, p, q))
    low, high = np.where(missed, 0, low), np.where(missed, n, high)
    while np.any(low < high):
        middle = np.floor((low + high) / 2)
        true = holds(middle, n, p, q)
        high, low = np.where(true, middle, high), np.where(true, low, middle + 1)
    return low
