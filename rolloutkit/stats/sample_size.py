"""How many trials a decision needs: exact fixed-sample designs and the planner's confidence-sequence horizons."""

from __future__ import annotations

import functools
from collections.abc import Callable

import numpy as np

from rolloutkit.stats.distributions import binom_cdf, binom_ppf
from rolloutkit.stats.results import (
    UNREACHABLE,
    SampleSize,
    check_open_unit,
    check_positive,
    check_unit,
)
from rolloutkit.stats.sequential import bernoulli_upper_below, diff_confidence_sequence

MAX_TRIALS = 10_000_000


@functools.lru_cache(maxsize=4096)  # pure, and a plan, its what-if grid and the daily checks ask it again
def trials_to_demonstrate(
    max_rate: float, expected_rate: float, *, alpha: float = 0.05, power: float = 0.8
) -> SampleSize:
    """Smallest n of an exact one-sided binomial test that the failure rate is below `max_rate`.

    Failure counts X ≤ c demonstrate the rate, with c the largest count such that P(X ≤ c | max_rate) ≤ alpha;
    n must also give P(X ≤ c | expected_rate) ≥ power. Because of discreteness, power is not monotone in n
    (a larger n can fail where a smaller one works); this returns the smallest n that works.
    0.02 / 0.01 / alpha 0.05 / power 0.8 → 969 trials, critical count 12.
    `expected_rate` ≥ `max_rate` (or `max_rate` 0) can never be demonstrated: `UNREACHABLE`.
    """
    max_rate = check_unit("max_rate", max_rate)
    expected_rate = check_unit("expected_rate", expected_rate)
    alpha = check_open_unit("alpha", alpha)
    power = check_open_unit("power", power)
    if expected_rate >= max_rate:
        return SampleSize(None, None, UNREACHABLE)
    start, chunk = 1, 1024
    while start <= MAX_TRIALS:
        n = np.arange(start, min(start + chunk, MAX_TRIALS + 1))
        c = binom_ppf(alpha, n, max_rate)
        # ppf gives the smallest c with P(X ≤ c) ≥ alpha; step back when that overshoots alpha
        c = np.where(binom_cdf(c, n, max_rate) <= alpha, c, c - 1)
        works = (c >= 0) & (binom_cdf(c, n, expected_rate) >= power)
        if works.any():
            first = int(np.argmax(works))
            return SampleSize(int(n[first]), int(c[first]))
        start += chunk
        chunk *= 2
    return SampleSize(None, None, UNREACHABLE)


def _first_true(holds: Callable[[int], bool], cap: int) -> int | None:
    """Smallest n in [1, cap] with `holds(n)`, assuming it holds from some n on (doubling, then bisection)."""
    lo, hi = 0, 1  # lo: the last n that did not hold (0: none tried)
    while not holds(hi):
        if hi >= cap:
            return None
        lo, hi = hi, min(2 * hi, cap)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if holds(mid):
            hi = mid
        else:
            lo = mid
    return hi


@functools.lru_cache(maxsize=4096)  # pure, and a plan, its what-if grid and the daily checks ask it again
def trials_until_upper_below(
    max_rate: float,
    expected_rate: float,
    *,
    alpha: float = 0.05,
    tuning_trials: float,
    cap: int = MAX_TRIALS,
) -> int | None:
    """Smallest n at which `bernoulli_confidence_sequence(round(expected_rate·n), n)` has upper < `max_rate`.

    The timeline planner's horizon for a failure-rate check, so plans agree with daily readiness. The
    condition is monotone in n up to the rounding of the expected count; the search (doubling, then
    bisection) returns the first n it finds, to within that rounding. None if not reached by `cap`.
    """
    max_rate = check_unit("max_rate", max_rate)
    expected_rate = check_unit("expected_rate", expected_rate)
    alpha = check_open_unit("alpha", alpha)
    tuning_trials = check_positive("tuning_trials", tuning_trials)
    if expected_rate >= max_rate:
        return None

    def holds(n: int) -> bool:
        return bernoulli_upper_below(round(expected_rate * n), n, max_rate, alpha=alpha, tuning_trials=tuning_trials)

    return _first_true(holds, cap)


@functools.lru_cache(maxsize=4096)  # pure, and a plan, its what-if grid and the daily checks ask it again
def trials_until_diff_above(
    margin: float,
    p_agent: float,
    p_control: float,
    share: float,
    *,
    alpha: float = 0.05,
    tuning_n: float,
    cap: int = MAX_TRIALS,
) -> int | None:
    """Smallest total n at which `diff_confidence_sequence`'s lower bound on p_agent − p_control is > −margin.

    n is split round(share·n) to the agent and the rest to control, with counts round(p·arm size). None
    when p_agent − p_control ≤ −margin (never), when the expected counts have zero variance, or past `cap`.
    """
    margin = check_unit("margin", margin)
    p_agent = check_unit("p_agent", p_agent)
    p_control = check_unit("p_control", p_control)
    share = check_open_unit("share", share)
    alpha = check_open_unit("alpha", alpha)
    tuning_n = check_positive("tuning_n", tuning_n)
    if p_agent - p_control <= -margin:
        return None

    def holds(n: int) -> bool:
        n_agent = round(share * n)
        n_control = n - n_agent
        if n_agent == 0 or n_control == 0:
            return False
        interval = diff_confidence_sequence(
            round(p_agent * n_agent),
            n_agent,
            round(p_control * n_control),
            n_control,
            alpha=alpha,
            tuning_n=tuning_n,
        )
        return interval.error is None and interval.lower > -margin

    return _first_true(holds, cap)
