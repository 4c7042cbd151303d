"""Confidence sequences: intervals that stay valid however often they are looked at (daily readiness checks)."""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy.special import betaln

from rolloutkit.stats.results import (
    NO_DATA,
    ZERO_VARIANCE,
    Bounds,
    Interval,
    check_binomial,
    check_open_unit,
    check_positive,
)

_BISECTIONS = 60


def _log_mixture(p: np.ndarray, x: np.ndarray, n: np.ndarray, tuning_trials: float, alpha: float) -> np.ndarray:
    """Log of confseq's two-sided beta-binomial mixture supermartingale at candidate mean p.

    For g = p, h = 1 − p (so g + h = 1) confseq's `BetaBinomialMixture::log_superMG(s, v)` with s = x − np,
    v = p(1−p)n reduces to log B(r/p + n − x, r/(1−p) + x) − log B(r/p, r/(1−p)) − x log p − (n−x) log(1−p),
    where r = max(ρ − p(1−p), 10⁻³ p(1−p)) and ρ is the two-sided normal mixture's best ρ for
    v_opt = p(1−p)·t_opt at alpha_opt: ρ = v_opt / (2 log(1/α) + log(1 + 2 log(1/α))).
    """
    gh = p * (1 - p)
    log_inv = math.log(1 / alpha)
    rho = gh * tuning_trials / (2 * log_inv + math.log(1 + 2 * log_inv))
    r = np.maximum(rho - gh, 1e-3 * gh)
    return betaln(r / p + n - x, r / (1 - p) + x) - betaln(r / p, r / (1 - p)) - x * np.log(p) - (n - x) * np.log1p(-p)


def _bounds(x: np.ndarray, n: np.ndarray, alpha: float, tuning_trials: float) -> tuple[np.ndarray, np.ndarray]:
    """Vectorised bisection for both bounds, as confseq's `bernoulli_confidence_interval` (n > 0)."""
    threshold = math.log(1 / alpha)
    p_hat = x / n
    # lower bound: the crossing in (0, p̂); p below it is excluded (mixture above the threshold)
    lo, hi = np.zeros_like(p_hat), p_hat.copy()
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        excluded = _log_mixture(np.where(mid > 0, mid, 0.5), x, n, tuning_trials, alpha) >= threshold
        lo, hi = np.where(excluded, mid, lo), np.where(excluded, hi, mid)
    # never excluded anything above 0 (a single success can be compatible with any tiny rate): exactly 0
    lower = np.where((x > 0) & (lo > 0), (lo + hi) / 2, 0.0)
    lo, hi = p_hat.copy(), np.ones_like(p_hat)
    for _ in range(_BISECTIONS):
        mid = (lo + hi) / 2
        excluded = _log_mixture(np.where(mid < 1, mid, 0.5), x, n, tuning_trials, alpha) >= threshold
        lo, hi = np.where(excluded, lo, mid), np.where(excluded, mid, hi)
    upper = np.where((x < n) & (hi < 1), (lo + hi) / 2, 1.0)
    return lower, upper


@functools.lru_cache(maxsize=65_536)  # pure: a decision history asks this week what it asked last week
def bernoulli_confidence_sequence(
    successes: int, trials: int, *, alpha: float = 0.05, tuning_trials: float
) -> Interval:
    """Two-sided beta-binomial mixture confidence sequence for a rate (Howard et al. 2021, confseq).

    Matches `confseq.boundaries.bernoulli_confidence_interval(successes, trials, alpha, t_opt=tuning_trials,
    alpha_opt=alpha)`: the whole `alpha` goes to one two-sided mixture (no split per side), so the interval
    covers the true rate at every look simultaneously with probability ≥ 1 − alpha. (15, 50, alpha=0.05,
    tuning_trials=50) → (0.129556, 0.511896). No trials: `NO_DATA` with the vacuous interval (0, 1).
    """
    x, n = check_binomial(successes, trials)
    alpha = check_open_unit("alpha", alpha)
    tuning_trials = check_positive("tuning_trials", tuning_trials)
    if n == 0:
        return Interval(math.nan, 0.0, 1.0, NO_DATA)
    lower, upper = _bounds(np.array([float(x)]), np.array([float(n)]), alpha, tuning_trials)
    return Interval(x / n, float(lower[0]), float(upper[0]))


def bernoulli_upper_below(successes: int, trials: int, bound: float, *, alpha: float = 0.05,
                          tuning_trials: float) -> bool:
    """Whether `bernoulli_confidence_sequence(successes, trials)`'s upper bound is below `bound`, without finding
    it: the sequence excludes every rate above its upper bound, so the upper bound is below `bound` exactly when
    `bound` (above the observed rate) is excluded. One evaluation of the mixture instead of a 60-step bisection:
    what lets the timeline planner search thousands of sample sizes."""
    x, n = check_binomial(successes, trials)
    alpha = check_open_unit("alpha", alpha)
    tuning_trials = check_positive("tuning_trials", tuning_trials)
    if n == 0 or x / n >= bound:
        return False
    if bound >= 1:  # no rate above 1 to exclude: the bound itself decides
        return bernoulli_confidence_sequence(x, n, alpha=alpha, tuning_trials=tuning_trials).upper < bound
    mixture = _log_mixture(np.array([float(bound)]), np.array([float(x)]), np.array([float(n)]), tuning_trials, alpha)
    return bool(mixture[0] >= math.log(1 / alpha))


def bernoulli_confidence_sequence_bounds(
    successes: object, trials: object, *, alpha: float = 0.05, tuning_trials: float
) -> Bounds:
    """`bernoulli_confidence_sequence` over arrays of (successes, trials), e.g. one cumulative pair per day.

    Entries with no trials get the vacuous bounds (0, 1).
    """
    x = np.asarray(successes, dtype=float)
    n = np.asarray(trials, dtype=float)
    x, n = np.broadcast_arrays(x, n)
    if np.any(~np.isfinite(x)) or np.any(x < 0) or np.any(x != np.round(x)):
        raise ValueError("`successes` must hold non-negative integers")
    if np.any(~np.isfinite(n)) or np.any(n < 0) or np.any(n != np.round(n)):
        raise ValueError("`trials` must hold non-negative integers")
    if np.any(x > n):
        raise ValueError("`successes` must be at most `trials` element-wise")
    alpha = check_open_unit("alpha", alpha)
    tuning_trials = check_positive("tuning_trials", tuning_trials)
    empty = n == 0
    lower, upper = _bounds(x.ravel(), np.where(empty, 1.0, n).ravel(), alpha, tuning_trials)
    lower = np.where(empty, 0.0, lower.reshape(x.shape))
    upper = np.where(empty, 1.0, upper.reshape(x.shape))
    return Bounds(lower, upper)


def _halfwidth(per_observation_variance: float, n: int, alpha: float, tuning_n: float) -> float:
    """gbstats `sequential_interval_halfwidth` (Waudby-Smith et al. 2023, eq. 9; ρ from their eq. 161)."""
    log_alpha = math.log(alpha)
    rho_sq = (-2 * log_alpha + math.log(-2 * log_alpha + 1)) / tuning_n
    k = n * rho_sq + 1
    return math.sqrt(per_observation_variance) * math.sqrt(2 * k * math.log(math.sqrt(k) / alpha) / (n * n * rho_sq))


def diff_confidence_sequence(x1: int, n1: int, x2: int, n2: int, *, alpha: float = 0.05, tuning_n: float) -> Interval:
    """Asymptotic confidence sequence on p1 − p2, as GrowthBook's sequential two-sided test (absolute).

    gbstats turns the estimator's variance SE² into a per-observation variance s² = SE²·N with N = n1 + n2
    and uses the normal-mixture half-width  h = s·sqrt(2(Nρ² + 1) ln(sqrt(Nρ² + 1)/α) / (Nρ)²),
    ρ² = (−2 ln α + ln(1 − 2 ln α)) / N*  (N* = `tuning_n`, the total at which the sequence is tightest).
    For the absolute difference SE² = p̂1(1−p̂1)/n1 + p̂2(1−p̂2)/n2, and the interval is p̂1 − p̂2 ± h,
    clipped to [−1, 1]. An empty arm gives `NO_DATA`, zero variance `ZERO_VARIANCE`; both with (−1, 1).
    """
    x1, n1 = check_binomial(x1, n1, ("x1", "n1"))
    x2, n2 = check_binomial(x2, n2, ("x2", "n2"))
    alpha = check_open_unit("alpha", alpha)
    tuning_n = check_positive("tuning_n", tuning_n)
    if n1 == 0 or n2 == 0:
        return Interval(math.nan, -1.0, 1.0, NO_DATA)
    p1, p2 = x1 / n1, x2 / n2
    variance = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    if variance <= 0:
        return Interval(p1 - p2, -1.0, 1.0, ZERO_VARIANCE)
    n = n1 + n2
    h = _halfwidth(variance * n, n, alpha, tuning_n)
    return Interval(p1 - p2, max(-1.0, p1 - p2 - h), min(1.0, p1 - p2 + h))


def _relative_lift_sequence(
    x_control: int, n_control: int, x_treatment: int, n_treatment: int, *, alpha: float, tuning_n: float
) -> Interval:
    """Relative lift (p_t − p_c)/p_c with gbstats' delta-method variance; checks `_halfwidth` against gbstats."""
    pc, pt = x_control / n_control, x_treatment / n_treatment
    variance = pt * (1 - pt) / (pc**2 * n_treatment) + pc * (1 - pc) * pt**2 / (pc**4 * n_control)
    n = n_control + n_treatment
    lift = (pt - pc) / pc
    h = _halfwidth(variance * n, n, alpha, tuning_n)
    return Interval(lift, lift - h, lift + h)
