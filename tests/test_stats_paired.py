"""Paired proportions: exact McNemar and Newcombe's paired interval (Fagerland, Lydersen & Laake 2014)."""

import math

import pytest
from scipy.stats import binomtest

from rolloutkit.stats import NO_DATA, mcnemar_exact, paired_newcombe_interval


@pytest.mark.parametrize(
    ("b", "c"),
    [
        pytest.param(6, 16, id="6-16"),
        pytest.param(0, 5, id="0-5"),
        pytest.param(10, 10, id="balanced"),
        pytest.param(1, 30, id="lopsided"),
        pytest.param(120, 95, id="large"),
    ],
)
def test_mcnemar_exact_matches_binomtest(b, c):
    result = mcnemar_exact(b, c)
    assert result.p_value == pytest.approx(binomtest(b, b + c, 0.5).pvalue, rel=1e-10)
    assert result.reject == (result.p_value < 0.05)


def test_mcnemar_without_discordant_pairs_is_flagged():
    result = mcnemar_exact(0, 0)
    assert result.error == NO_DATA
    assert math.isnan(result.p_value) and result.reject is False


def test_paired_newcombe_matches_fagerland_lydersen_laake():
    # Fagerland, Lydersen & Laake (2014), 2×2 example (n = 161): Newcombe square-and-add → −0.0621 (−0.1186, −0.0046)
    result = paired_newcombe_interval([[59, 6], [16, 80]])
    assert result.estimate == pytest.approx(-0.0621, abs=5e-5)
    assert (result.lower, result.upper) == pytest.approx((-0.1186, -0.0046), abs=5e-5)


def test_paired_newcombe_on_identical_judgements_contains_zero():
    result = paired_newcombe_interval([[30, 0], [0, 20]])
    assert result.estimate == 0
    assert result.lower < 0 < result.upper


@pytest.mark.parametrize(
    ("table", "message"),
    [
        pytest.param([[1, 2, 3], [4, 5, 6]], r"must be 2×2", id="shape"),
        pytest.param([[1, -2], [3, 4]], "`b` must be a non-negative integer", id="negative"),
    ],
)
def test_paired_newcombe_invalid_tables_raise(table, message):
    with pytest.raises(ValueError, match=message):
        paired_newcombe_interval(table)


def test_paired_newcombe_empty_table_is_vacuous():
    result = paired_newcombe_interval([[0, 0], [0, 0]])
    assert result.error == NO_DATA
    assert (result.lower, result.upper) == (-1.0, 1.0)
