"""Canary health checks: exact p-chart limits, Cochran–Armitage trend (R prop.trend.test), SRM chi-square."""

import math

import numpy as np
import pytest
from scipy.stats import binom, chisquare

from rolloutkit.stats import NO_DATA, ZERO_VARIANCE, binomial_control_limits, srm_test, trend_test


def test_control_limits_are_exact_binomial_tails():
    trials = np.array([100, 10, 1000, 37])
    limits = binomial_control_limits(trials, 0.1, alpha=0.01)
    assert limits.lower.tolist() == [3, 0, 76, 0]
    assert limits.upper.tolist() == [18, 4, 125, 9]
    for n, lo, hi in zip(trials, limits.lower, limits.upper, strict=True):
        assert binom.cdf(lo - 1, n, 0.1) <= 0.005 < binom.cdf(lo, n, 0.1)  # P(X < lower) ≤ alpha/2, tight
        assert binom.sf(hi, n, 0.1) <= 0.005 < binom.sf(hi - 1, n, 0.1)  # P(X > upper) ≤ alpha/2, tight


def test_control_limits_for_days_without_traffic():
    limits = binomial_control_limits([0, 50], 0.2, alpha=0.05)
    assert (limits.lower[0], limits.upper[0]) == (0, 0)


def test_trend_matches_r_prop_trend_test():
    # R: prop.trend.test(c(83, 90, 129, 70), c(86, 93, 136, 82)) → X-squared = 8.2249, p-value = 0.004132
    result = trend_test([83, 90, 129, 70], [86, 93, 136, 82])
    assert result.statistic**2 == pytest.approx(8.2249, abs=5e-5)
    assert result.p_value == pytest.approx(0.004132, abs=5e-7)
    assert result.statistic < 0 and result.reject is True


def test_constant_rates_show_no_trend():
    result = trend_test([10, 10, 10, 10], [100, 100, 100, 100])
    assert result.statistic == pytest.approx(0.0)
    assert result.p_value == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("successes", "trials", "error"),
    [
        pytest.param([0, 0], [0, 0], NO_DATA, id="no-trials"),
        pytest.param([0, 0, 0], [5, 9, 4], ZERO_VARIANCE, id="all-zero"),
        pytest.param([3, 0], [10, 0], ZERO_VARIANCE, id="one-day-with-data"),
    ],
)
def test_trend_degenerate_is_flagged(successes, trials, error):
    result = trend_test(successes, trials)
    assert result.error == error
    assert math.isnan(result.p_value) and result.reject is False


@pytest.mark.parametrize(
    ("agent", "total", "share"),
    [pytest.param(480, 1000, 0.5, id="balanced"), pytest.param(1180, 20000, 0.05, id="five-percent")],
)
def test_srm_matches_chi_square_goodness_of_fit(agent, total, share):
    expected = chisquare([agent, total - agent], [share * total, (1 - share) * total])
    result = srm_test(agent, total, share)
    assert result.statistic == pytest.approx(expected.statistic)
    assert result.p_value == pytest.approx(expected.pvalue)
    assert result.reject == (expected.pvalue < 0.001)


@pytest.mark.parametrize(
    ("agent", "total", "share", "statistic", "p_value"),
    [
        pytest.param(0, 500, 0.0, 0.0, 1.0, id="share-0-consistent"),
        pytest.param(3, 500, 0.0, math.inf, 0.0, id="share-0-violated"),
        pytest.param(500, 500, 1.0, 0.0, 1.0, id="share-1-consistent"),
        pytest.param(499, 500, 1.0, math.inf, 0.0, id="share-1-violated"),
    ],
)
def test_srm_at_the_edges(agent, total, share, statistic, p_value):
    result = srm_test(agent, total, share)
    assert (result.statistic, result.p_value) == (statistic, p_value)
    assert result.reject == (p_value == 0.0)


def test_srm_without_traffic_is_flagged():
    assert srm_test(0, 0, 0.5).error == NO_DATA


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: srm_test(11, 10, 0.5), "`agent_count` must be at most `total_count`", id="srm"),
        pytest.param(lambda: srm_test(1, 10, 1.5), r"`expected_share` must be in \[0, 1\], got 1.5", id="share"),
        pytest.param(lambda: trend_test([1, 2], [1]), "same length", id="trend-length"),
        pytest.param(lambda: binomial_control_limits([10], 0.1, alpha=0), r"`alpha` must be in", id="alpha"),
    ],
)
def test_invalid_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
