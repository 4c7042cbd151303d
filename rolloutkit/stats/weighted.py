"""Proportions from samples drawn with unequal inclusion probabilities (risk-weighted review sampling)."""

from __future__ import annotations

import math

import numpy as np

from rolloutkit.stats.results import NO_DATA, WeightedInterval, check_open_unit, z_value


def _linearised_variance(scores: np.ndarray, strata: np.ndarray | None) -> float:
    """With-replacement variance of a total of linearisation scores, within strata if given.

    A stratum with one unit cannot estimate its own variance; it is centred on the overall mean instead
    (R survey's `options(survey.lonely.psu = "adjust")`).
    """
    if strata is None:
        n = scores.size
        return float(n / (n - 1) * ((scores - scores.mean()) ** 2).sum()) if n > 1 else 0.0
    overall = scores.mean()
    variance = 0.0
    for label in np.unique(strata):
        z = scores[strata == label]
        if z.size == 1:
            variance += float((z[0] - overall) ** 2)
        else:
            variance += float(z.size / (z.size - 1) * ((z - z.mean()) ** 2).sum())
    return variance


def weighted_proportion(
    indicator: object,
    inclusion_prob: object,
    *,
    confidence: float = 0.95,
    strata: object | None = None,
) -> WeightedInterval:
    """Hájek estimate Σw·y/Σw (w = 1/π) of a population proportion with a Wilson-type interval.

    The variance v̂ is Taylor-linearised (scores w·(y − p̂)/Σw) with the with-replacement approximation,
    within strata when `strata` is given. The interval is Wilson's score interval at an effective sample
    size n* = min(Kish's (Σw)²/Σw², n / deff) with deff = v̂ / (p̂(1−p̂)/(n−1)), the design effect of the
    linearised variance, so equal weights give exactly `wilson_interval`. At p̂ = 0 or 1, where v̂ = 0,
    Kish's n* alone keeps rare rates from a zero-width interval. `effective_n` reports n*. An empty sample
    gives `NO_DATA`.
    """
    y = np.asarray(indicator, dtype=float).ravel()
    pi = np.asarray(inclusion_prob, dtype=float).ravel()
    confidence = check_open_unit("confidence", confidence)
    if y.shape != pi.shape:
        raise ValueError(f"`indicator` and `inclusion_prob` must have the same length, got {y.size} and {pi.size}")
    if np.any((y != 0) & (y != 1)):
        raise ValueError("`indicator` must hold only 0/1 or booleans")
    if np.any(~(pi > 0) | (pi > 1)):
        raise ValueError("`inclusion_prob` must be in (0, 1]")
    groups = None
    if strata is not None:
        groups = np.asarray(strata).ravel()
        if groups.shape != y.shape:
            raise ValueError(f"`strata` must have the same length as `indicator`, got {groups.size} and {y.size}")
    n = int(y.size)
    if n == 0:
        return WeightedInterval(math.nan, 0.0, 1.0, 0, 0.0, NO_DATA)
    w = 1 / pi
    total = w.sum()
    p = float((w * y).sum() / total)
    kish = float(total**2 / (w**2).sum())
    variance = _linearised_variance(w * (y - p) / total, groups)
    effective = min(kish, n * p * (1 - p) / ((n - 1) * variance)) if variance > 0 else kish
    z = z_value(confidence, "two-sided")
    # Wilson's formula in terms of a (possibly fractional) effective count p̂·n*
    centre = (p + z * z / (2 * effective)) / (1 + z * z / effective)
    half = z * math.sqrt(p * (1 - p) / effective + z * z / (4 * effective**2)) / (1 + z * z / effective)
    lower = 0.0 if p == 0 else max(0.0, centre - half)
    upper = 1.0 if p == 1 else min(1.0, centre + half)
    return WeightedInterval(p, lower, upper, n, effective)
