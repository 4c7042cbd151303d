"""Design-weighted proportions: unbiased under unequal inclusion probabilities, with honest intervals."""

import numpy as np
import pytest

from rolloutkit.stats import NO_DATA, weighted_proportion, wilson_interval


def test_equal_weights_give_the_wilson_interval():
    indicator = np.r_[np.ones(7), np.zeros(93)]
    result = weighted_proportion(indicator, np.full(100, 0.3))
    expected = wilson_interval(7, 100)
    assert result.estimate == pytest.approx(0.07)
    assert (result.lower, result.upper) == pytest.approx((expected.lower, expected.upper))
    assert (result.n, result.effective_n) == (100, pytest.approx(100))


def test_unequal_probability_samples_cover_the_population_rate():
    # Population of 20,000 reviews: risky items (10%) fail at 12% and are sampled at π = 0.05;
    # routine items fail at 1% and are sampled at π = 0.005. The sample over-represents risky items.
    rng = np.random.default_rng(7)
    risky = rng.random(20_000) < 0.10
    fails = np.where(risky, rng.random(20_000) < 0.12, rng.random(20_000) < 0.01)
    pi = np.where(risky, 0.05, 0.005)
    truth = fails.mean()
    covered, estimates, unweighted = [], [], []
    for _ in range(200):
        drawn = rng.random(20_000) < pi
        result = weighted_proportion(fails[drawn], pi[drawn], strata=risky[drawn])
        covered.append(result.lower <= truth <= result.upper)
        estimates.append(result.estimate)
        unweighted.append(fails[drawn].mean())
    assert np.mean(covered) >= 0.90
    assert abs(np.mean(estimates) - truth) < 0.1 * truth
    assert np.mean(unweighted) > 2 * truth  # the naive mean is badly biased upwards


def test_no_failures_still_gets_a_nonzero_upper_bound():
    result = weighted_proportion(np.zeros(50), np.linspace(0.1, 1, 50))
    assert result.estimate == 0 and result.lower == 0
    assert 0 < result.upper < 0.2
    assert result.effective_n < 50  # Kish: unequal weights cost information


def test_strata_with_one_unit_are_centred_on_the_overall_mean():
    indicator = np.array([1, 0, 0, 1, 0, 0])
    pi = np.array([0.5, 0.5, 0.2, 0.2, 0.2, 1.0])
    strata = np.array(["a", "a", "b", "b", "b", "c"])
    result = weighted_proportion(indicator, pi, strata=strata)
    assert result.estimate == pytest.approx((2 + 5) / (2 + 2 + 5 + 5 + 5 + 1))
    assert 0 < result.lower < result.estimate < result.upper < 1


def test_empty_sample_is_flagged():
    result = weighted_proportion(np.array([]), np.array([]))
    assert result.error == NO_DATA
    assert (result.lower, result.upper, result.n) == (0.0, 1.0, 0)


@pytest.mark.parametrize(
    ("indicator", "pi", "message"),
    [
        pytest.param([1, 0], [0.5], "same length", id="length"),
        pytest.param([1, 2], [0.5, 0.5], "only 0/1", id="indicator"),
        pytest.param([1, 0], [0.0, 0.5], r"`inclusion_prob` must be in \(0, 1\]", id="zero-prob"),
        pytest.param([1, 0], [1.5, 0.5], r"`inclusion_prob` must be in \(0, 1\]", id="prob-above-one"),
    ],
)
def test_invalid_samples_raise(indicator, pi, message):
    with pytest.raises(ValueError, match=message):
        weighted_proportion(np.array(indicator), np.array(pi))
