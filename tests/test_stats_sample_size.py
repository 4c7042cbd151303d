"""Exact binomial sample size and the planner's confidence-sequence horizons."""

import numpy as np
import pytest
from scipy.stats import binom

from rolloutkit.stats import (
    UNREACHABLE,
    bernoulli_confidence_sequence,
    diff_confidence_sequence,
    trials_to_demonstrate,
    trials_until_diff_above,
    trials_until_upper_below,
)
from rolloutkit.stats.sample_size import _first_true


def _design_works(n, max_rate, expected_rate, alpha, power):
    """Brute force: does any critical count c make n a valid design?"""
    c = np.arange(0, n + 1)
    valid = binom.cdf(c, n, max_rate) <= alpha
    return bool(valid.any() and binom.cdf(c[valid].max(), n, expected_rate) >= power)


def test_trials_to_demonstrate_known_design():
    result = trials_to_demonstrate(0.02, 0.01, alpha=0.05, power=0.8)
    assert (result.trials, result.critical_count) == (969, 12)
    assert binom.cdf(12, 969, 0.02) <= 0.05 < binom.cdf(13, 969, 0.02)
    assert binom.cdf(12, 969, 0.01) >= 0.8


def test_trials_to_demonstrate_is_the_smallest_n_and_the_search_is_not_monotone():
    assert not any(_design_works(n, 0.02, 0.01, 0.05, 0.8) for n in range(1, 969))
    # discreteness: some larger n fail again (993..1003 lose power), so a bisection would be wrong
    assert not _design_works(1000, 0.02, 0.01, 0.05, 0.8)


@pytest.mark.parametrize(
    ("max_rate", "expected_rate"),
    [pytest.param(0.01, 0.01, id="equal"), pytest.param(0.01, 0.02, id="worse"), pytest.param(0.0, 0.0, id="zero")],
)
def test_trials_to_demonstrate_unreachable(max_rate, expected_rate):
    result = trials_to_demonstrate(max_rate, expected_rate)
    assert result.error == UNREACHABLE
    assert result.trials is None


def test_trials_until_upper_below_is_the_first_n_that_passes():
    n = trials_until_upper_below(0.01, 0.005, alpha=0.05, tuning_trials=5000)
    assert n is not None

    def upper(trials):
        return bernoulli_confidence_sequence(round(0.005 * trials), trials, tuning_trials=5000).upper

    assert upper(n) < 0.01 <= upper(n - 1)
    assert 1000 < n < 10_000


@pytest.mark.parametrize(
    ("max_rate", "expected_rate", "cap"),
    [
        pytest.param(0.01, 0.01, 10_000_000, id="not-below"),
        pytest.param(0.0, 0.0, 10_000_000, id="zero-tolerance"),
        pytest.param(0.01, 0.005, 100, id="past-cap"),
    ],
)
def test_trials_until_upper_below_never(max_rate, expected_rate, cap):
    assert trials_until_upper_below(max_rate, expected_rate, tuning_trials=5000, cap=cap) is None


def test_trials_until_diff_above_is_the_first_total_that_passes():
    n = trials_until_diff_above(0.02, 0.80, 0.80, 0.15, alpha=0.05, tuning_n=20_000)
    assert n is not None

    def lower(total):
        agent = round(0.15 * total)
        control = total - agent
        return diff_confidence_sequence(round(0.8 * agent), agent, round(0.8 * control), control, tuning_n=20_000).lower

    assert lower(n) > -0.02 >= lower(n - 1)


def test_trials_until_diff_above_never_when_the_agent_is_worse_than_the_margin():
    assert trials_until_diff_above(0.02, 0.77, 0.80, 0.5, tuning_n=10_000) is None


def test_invalid_design_raises():
    with pytest.raises(ValueError, match=r"`power` must be in \(0, 1\), got 1.2"):
        trials_to_demonstrate(0.02, 0.01, power=1.2)
    with pytest.raises(ValueError, match=r"`share` must be in \(0, 1\)"):
        trials_until_diff_above(0.02, 0.8, 0.8, 0.0, tuning_n=100)


@pytest.mark.parametrize("cap", [pytest.param(7, id="cap-7"), pytest.param(100, id="cap-100")])
def test_monotone_search_finds_every_threshold_up_to_a_cap_that_is_not_a_power_of_two(cap):
    for threshold in range(1, cap + 1):
        assert _first_true(lambda n, t=threshold: n >= t, cap) == threshold
    assert _first_true(lambda n: False, cap) is None
