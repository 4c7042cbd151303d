"""Confidence sequences against confseq (beta-binomial mixture) and GrowthBook gbstats (normal mixture)."""

import math

import numpy as np
import pytest

from rolloutkit.stats import (
    NO_DATA,
    ZERO_VARIANCE,
    bernoulli_confidence_sequence,
    bernoulli_confidence_sequence_bounds,
    bernoulli_upper_below,
    diff_confidence_sequence,
)
from rolloutkit.stats.sequential import _relative_lift_sequence


def test_bernoulli_matches_confseq():
    # confseq.boundaries.bernoulli_confidence_interval(15, 50, 0.05, t_opt=50, alpha_opt=0.05)
    result = bernoulli_confidence_sequence(15, 50, alpha=0.05, tuning_trials=50)
    assert result.estimate == pytest.approx(0.3)
    assert (result.lower, result.upper) == pytest.approx((0.129556, 0.511896), abs=2e-6)


@pytest.mark.parametrize(
    ("x", "n", "lower", "upper"),
    [
        pytest.param(0, 500, 0.0, None, id="no-successes"),
        pytest.param(500, 500, None, 1.0, id="all-successes"),
        pytest.param(1, 10, 0.0, None, id="one-success-compatible-with-tiny-rates"),
    ],
)
def test_bernoulli_edges_are_exact(x, n, lower, upper):
    result = bernoulli_confidence_sequence(x, n, tuning_trials=500)
    if lower is not None:
        assert result.lower == lower
    if upper is not None:
        assert result.upper == upper
    assert result.lower <= x / n <= result.upper


def test_bernoulli_is_wider_than_a_fixed_sample_interval_and_shrinks_with_n():
    from rolloutkit.stats import wilson_interval

    small = bernoulli_confidence_sequence(20, 200, tuning_trials=1000)
    large = bernoulli_confidence_sequence(200, 2000, tuning_trials=1000)
    assert large.upper - large.lower < small.upper - small.lower
    fixed = wilson_interval(200, 2000)
    assert large.lower < fixed.lower and large.upper > fixed.upper


def test_bounds_vectorise_the_scalar_function():
    x = np.array([0, 3, 15, 40, 0])
    n = np.array([10, 100, 50, 40, 0])
    bounds = bernoulli_confidence_sequence_bounds(x, n, alpha=0.05, tuning_trials=50)
    for xi, ni, lo, hi in zip(x, n, bounds.lower, bounds.upper, strict=True):
        expected = bernoulli_confidence_sequence(int(xi), int(ni), alpha=0.05, tuning_trials=50)
        assert (lo, hi) == pytest.approx((expected.lower, expected.upper), abs=1e-12)
    assert (bounds.lower[-1], bounds.upper[-1]) == (0.0, 1.0)


def test_bernoulli_covers_the_true_rate_at_every_look():
    # 300 paths of 3000 trials at a 2% failure rate, looked at every 30 trials: the sequence must hold
    # uniformly, so the share of paths that ever exclude 0.02 is at most alpha (plus simulation noise)
    rng = np.random.default_rng(20240611)
    failures = rng.random((300, 3000)) < 0.02
    looks = np.arange(30, 3001, 30)
    x = np.cumsum(failures, axis=1)[:, looks - 1]
    bounds = bernoulli_confidence_sequence_bounds(x, np.broadcast_to(looks, x.shape), tuning_trials=1000)
    ever_missed = ((bounds.lower > 0.02) | (bounds.upper < 0.02)).any(axis=1)
    assert ever_missed.mean() <= 0.05 + 0.025


def test_bernoulli_no_trials_is_vacuous():
    result = bernoulli_confidence_sequence(0, 0, tuning_trials=100)
    assert result.error == NO_DATA
    assert (result.lower, result.upper) == (0.0, 1.0)


def test_relative_lift_matches_gbstats_sequential_test():
    # gbstats test_sequential_test_runs_prop: ProportionStatistic(1396, 3000) vs (2422, 3461), defaults
    # (alpha 0.05, N* = 5000) → expected 0.50386, ci (0.40098, 0.60675), uplift stddev 0.03386
    result = _relative_lift_sequence(1396, 3000, 2422, 3461, alpha=0.05, tuning_n=5000)
    assert result.estimate == pytest.approx(0.50386, abs=5e-6)
    assert (result.lower, result.upper) == pytest.approx((0.40098, 0.60675), abs=5e-6)


def test_difference_uses_the_same_halfwidth_multiplier_as_gbstats():
    # gbstats' interval is estimate ± m·SE with SE = 0.03386, so m = (0.60675 − 0.40098) / 2 / 0.03386;
    # the absolute form is p1 − p2 ± m·sqrt(p1q1/n1 + p2q2/n2) with the same m (same n, N*, alpha)
    multiplier = (0.60675 - 0.40098) / 2 / 0.03386
    p1, p2 = 2422 / 3461, 1396 / 3000
    se = math.sqrt(p1 * (1 - p1) / 3461 + p2 * (1 - p2) / 3000)
    result = diff_confidence_sequence(2422, 3461, 1396, 3000, alpha=0.05, tuning_n=5000)
    assert result.estimate == pytest.approx(p1 - p2)
    assert (result.upper - result.lower) / 2 == pytest.approx(multiplier * se, rel=2e-4)


def test_difference_matches_a_hand_computed_value():
    # p1 − p2 = 0.699798 − 0.465333 = 0.234464; SE² = 6.0470e-5 + 8.2951e-5 = 1.43421e-4; N = 6461;
    # ρ² = (5.991465 + ln 6.991465)/5000 = 1.587196e-3; Nρ² + 1 = 11.25487;
    # h = sqrt(1.43421e-4 · 6461) · sqrt(2 · 11.25487 · ln(sqrt(11.25487)/0.05) / (6461² · 1.587196e-3))
    #   = 0.962627 · 0.037833 = 0.036418
    result = diff_confidence_sequence(2422, 3461, 1396, 3000, alpha=0.05, tuning_n=5000)
    assert (result.lower, result.upper) == pytest.approx((0.19805, 0.27088), abs=5e-5)


def test_difference_is_tightest_near_the_tuning_total():
    def width(tuning_n):
        interval = diff_confidence_sequence(700, 1000, 690, 1000, tuning_n=tuning_n)
        return interval.upper - interval.lower

    assert width(2000) < width(200)
    assert width(2000) < width(200_000)


@pytest.mark.parametrize(
    ("counts", "error"),
    [
        pytest.param((0, 0, 5, 10), NO_DATA, id="empty-arm"),
        pytest.param((10, 10, 20, 20), ZERO_VARIANCE, id="all-successes"),
    ],
)
def test_difference_degenerate_is_vacuous(counts, error):
    result = diff_confidence_sequence(*counts, tuning_n=100)
    assert result.error == error
    assert (result.lower, result.upper) == (-1.0, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(
            lambda: bernoulli_confidence_sequence(1, 10, tuning_trials=0), "`tuning_trials` must be a positive", id="t"
        ),
        pytest.param(
            lambda: bernoulli_confidence_sequence(1, 10, alpha=1.2, tuning_trials=10), r"`alpha` must be in", id="a"
        ),
        pytest.param(
            lambda: bernoulli_confidence_sequence_bounds([3], [2], tuning_trials=10), "at most `trials`", id="arr"
        ),
        pytest.param(lambda: diff_confidence_sequence(1, 2, 3, 2, tuning_n=10), "`x2` must be at most", id="diff"),
    ],
)
def test_invalid_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_upper_below_agrees_with_the_bisected_upper_bound():
    rng = np.random.default_rng(3)
    agreed = 0
    for _ in range(3000):
        n = int(rng.integers(1, 200_000))
        x = int(rng.binomial(n, rng.uniform(0, 0.05)))
        bound = float(rng.uniform(0, 0.1))
        tuning = float(rng.uniform(100, 1e6))
        upper = bernoulli_confidence_sequence(x, n, alpha=0.05, tuning_trials=tuning).upper
        assert bernoulli_upper_below(x, n, bound, alpha=0.05, tuning_trials=tuning) == (upper < bound)
        agreed += upper < bound
    assert 300 < agreed < 2700, "both answers are well represented"
    assert not bernoulli_upper_below(0, 0, 0.5, tuning_trials=10)
    assert bernoulli_upper_below(0, 1000, 1.0, tuning_trials=1000)
