"""Single proportions and independent differences against Newcombe (1998a, 1998b) and R's binom.test."""

import math

import pytest
from scipy.optimize import minimize_scalar
from scipy.stats import chi2_contingency, norm

from rolloutkit.stats import (
    NO_DATA,
    clopper_pearson_interval,
    newcombe_interval,
    noninferiority_test,
    wilson_interval,
)
from rolloutkit.stats.proportions import restricted_mle

# Newcombe (1998a) Table I: method 3 (Wilson score) and method 5 (Clopper–Pearson "exact")
TABLE_I = [
    pytest.param(81, 263, (0.2553, 0.3662), (0.2527, 0.3676), id="81/263"),
    pytest.param(15, 148, (0.0624, 0.1605), (0.0578, 0.1617), id="15/148"),
    pytest.param(0, 20, (0.0, 0.1611), (0.0, 0.1684), id="0/20"),
    pytest.param(1, 29, (0.0061, 0.1718), (0.0009, 0.1776), id="1/29"),
]


@pytest.mark.parametrize(("x", "n", "wilson", "exact"), TABLE_I)
def test_wilson_matches_newcombe_table_i(x, n, wilson, exact):
    result = wilson_interval(x, n)
    assert result.estimate == pytest.approx(x / n)
    assert (result.lower, result.upper) == pytest.approx(wilson, abs=5e-5)
    assert result.error is None


@pytest.mark.parametrize(("x", "n", "wilson", "exact"), TABLE_I)
def test_clopper_pearson_matches_newcombe_table_i(x, n, wilson, exact):
    result = clopper_pearson_interval(x, n)
    assert (result.lower, result.upper) == pytest.approx(exact, abs=5e-5)


def test_clopper_pearson_matches_r_binom_test():
    # R: binom.test(682, 925)$conf.int → 0.7076683 0.7654066 (the help page's Mendel example)
    result = clopper_pearson_interval(682, 925)
    assert (result.lower, result.upper) == pytest.approx((0.7076683, 0.7654066), abs=5e-8)


@pytest.mark.parametrize("method", [wilson_interval, clopper_pearson_interval], ids=["wilson", "exact"])
def test_one_sided_bounds_are_the_two_sided_bounds_at_twice_the_tail(method):
    two_sided = method(15, 148, confidence=0.90)
    upper = method(15, 148, confidence=0.95, side="upper")
    lower = method(15, 148, confidence=0.95, side="lower")
    assert (upper.lower, upper.upper) == pytest.approx((0.0, two_sided.upper))
    assert (lower.lower, lower.upper) == pytest.approx((two_sided.lower, 1.0))


# Newcombe (1998b) Table II, method 10 (hybrid score, no continuity correction)
TABLE_II = [
    pytest.param(56, 70, 48, 80, (0.0524, 0.3339), id="a-56/70-48/80"),
    pytest.param(9, 10, 3, 10, (0.1705, 0.8090), id="b-9/10-3/10"),
    pytest.param(6, 7, 2, 7, (0.0582, 0.8062), id="c-6/7-2/7"),
    pytest.param(5, 56, 0, 29, (-0.0381, 0.1926), id="d-5/56-0/29"),
    pytest.param(0, 10, 0, 20, (-0.1611, 0.2775), id="e-0/10-0/20"),
    pytest.param(0, 10, 0, 10, (-0.2775, 0.2775), id="f-0/10-0/10"),
    pytest.param(10, 10, 0, 20, (0.6791, 1.0), id="g-10/10-0/20"),
    pytest.param(10, 10, 0, 10, (0.6075, 1.0), id="h-10/10-0/10"),
]


@pytest.mark.parametrize(("x1", "n1", "x2", "n2", "expected"), TABLE_II)
def test_newcombe_matches_table_ii(x1, n1, x2, n2, expected):
    result = newcombe_interval(x1, n1, x2, n2)
    assert result.estimate == pytest.approx(x1 / n1 - x2 / n2)
    assert (result.lower, result.upper) == pytest.approx(expected, abs=5e-5)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param(lambda: wilson_interval(0, 0), id="wilson"),
        pytest.param(lambda: clopper_pearson_interval(0, 0), id="exact"),
    ],
)
def test_no_trials_is_flagged_not_raised(call):
    result = call()
    assert result.error == NO_DATA
    assert math.isnan(result.estimate)
    assert (result.lower, result.upper) == (0.0, 1.0)


def test_newcombe_with_an_empty_arm_is_vacuous():
    result = newcombe_interval(3, 10, 0, 0)
    assert result.error == NO_DATA
    assert (result.lower, result.upper) == (-1.0, 1.0)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: wilson_interval(-1, 10), "`successes` must be a non-negative integer", id="negative"),
        pytest.param(lambda: wilson_interval(11, 10), "`successes` must be at most `trials`", id="too-many"),
        pytest.param(lambda: wilson_interval(1.5, 10), "non-negative integer, got 1.5", id="fraction"),
        pytest.param(
            lambda: wilson_interval(1, 10, confidence=1.5), r"`confidence` must be in \(0, 1\), got 1.5", id="conf"
        ),
        pytest.param(lambda: clopper_pearson_interval(1, 10, side="both"), "`side` must be one of", id="side"),
        pytest.param(lambda: newcombe_interval(1, 10, 5, 4), "`x2` must be at most `n2`", id="newcombe"),
        pytest.param(lambda: noninferiority_test(1, 10, 1, 10, margin=1.0), r"`margin` must be in \[0, 1\)", id="m"),
    ],
)
def test_invalid_arguments_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _brute_force_restricted_mle(x1, n1, x2, n2, delta):
    def negative_log_likelihood(p1):
        p2 = p1 - delta
        return -(x1 * math.log(p1) + (n1 - x1) * math.log(1 - p1) + x2 * math.log(p2) + (n2 - x2) * math.log(1 - p2))

    lo, hi = max(0.0, delta), min(1.0, 1 + delta)
    found = minimize_scalar(
        negative_log_likelihood, bounds=(lo + 1e-12, hi - 1e-12), method="bounded", options={"xatol": 1e-12}
    )
    return found.x, found.x - delta


@pytest.mark.parametrize(
    ("x1", "n1", "x2", "n2", "delta"),
    [
        pytest.param(40, 50, 45, 55, -0.1, id="40/50-45/55"),
        pytest.param(760, 1000, 790, 1000, -0.02, id="large-equal-n"),
        pytest.param(12, 200, 3, 20, -0.05, id="unequal-n"),
        pytest.param(0, 30, 2, 40, -0.1, id="zero-successes"),
        pytest.param(88, 100, 9, 10, -0.3, id="wide-margin"),
    ],
)
def test_restricted_mle_is_the_constrained_maximum(x1, n1, x2, n2, delta):
    cubic = restricted_mle(x1, n1, x2, n2, delta)
    assert cubic == pytest.approx(_brute_force_restricted_mle(x1, n1, x2, n2, delta), abs=1e-6)


def test_noninferiority_statistic_is_the_farrington_manning_score():
    # 760/1000 agent vs 790/1000 human, margin 0.05: hand-derived from the brute-force restricted MLE
    p1, p2 = _brute_force_restricted_mle(760, 1000, 790, 1000, -0.05)
    z = (0.76 - 0.79 + 0.05) / math.sqrt(p1 * (1 - p1) / 1000 + p2 * (1 - p2) / 1000)
    result = noninferiority_test(760, 1000, 790, 1000, margin=0.05)
    assert result.statistic == pytest.approx(z, abs=1e-5)
    assert result.p_value == pytest.approx(norm.sf(z), abs=1e-6)
    assert result.statistic == pytest.approx(1.0716, abs=5e-5)  # restricted MLE (0.7492, 0.7992)
    assert result.reject is False


def test_noninferiority_with_zero_margin_is_the_pooled_chi_square():
    result = noninferiority_test(90, 120, 70, 110, margin=0.0)
    chi_square = chi2_contingency([[90, 30], [70, 40]], correction=False)[0]
    assert result.statistic == pytest.approx(math.sqrt(chi_square))
    assert result.p_value == pytest.approx(norm.sf(math.sqrt(chi_square)))


def test_noninferiority_rejects_when_the_agent_is_clearly_not_worse():
    result = noninferiority_test(800, 1000, 790, 1000, margin=0.05)
    assert result.reject is True
    assert result.p_value < 0.001


def test_noninferiority_with_an_empty_arm_does_not_reject():
    result = noninferiority_test(0, 0, 10, 20, margin=0.05)
    assert result.error == NO_DATA
    assert result.reject is False
    assert math.isnan(result.p_value)
