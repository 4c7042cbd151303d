"""Kappa against SAS PROC FREQ (Cohen) and R irr / irrCAC on Fleiss' (1971) diagnoses data."""

import math

import numpy as np
import pytest

from rolloutkit.stats import NO_DATA, ZERO_VARIANCE, cohen_kappa, fleiss_kappa

# R irr's `diagnoses`: 30 patients, 6 psychiatrists, categories 1..5 (Fleiss 1971); as in statsmodels' tests
DIAGNOSES = np.array(
    [
        [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
        [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
        [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
        [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
        [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
        [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
    ]
)  # fmt: skip
DIAGNOSIS_COUNTS = np.stack([(DIAGNOSES == k).sum(axis=1) for k in range(1, 6)], axis=1)


def test_cohen_matches_sas_proc_freq():
    # SAS PROC FREQ "Simple Kappa Coefficient": Kappa 0.4842, ASE 0.1380, 95% limits 0.2137, 0.7547
    result = cohen_kappa([[0, 4, 1], [0, 8, 0], [0, 1, 5]])
    assert result.kappa == pytest.approx(0.4842, abs=5e-5)
    assert result.se == pytest.approx(0.1380, abs=5e-5)
    assert (result.lower, result.upper) == pytest.approx((0.2137, 0.7547), abs=5e-5)
    assert result.observed_agreement == pytest.approx(13 / 19)


def test_cohen_perfect_agreement_is_one():
    result = cohen_kappa([[5, 0], [0, 7]])
    assert result.kappa == pytest.approx(1.0)
    assert result.se == pytest.approx(0.0)


def test_fleiss_matches_r_irr_on_diagnoses():
    assert DIAGNOSIS_COUNTS.sum(axis=0).tolist() == [26, 26, 30, 55, 43]
    result = fleiss_kappa(DIAGNOSIS_COUNTS)
    assert result.kappa == pytest.approx(0.4302445, abs=5e-8)  # irr::kappam.fleiss(diagnoses)
    assert result.observed_agreement == pytest.approx(5 / 9)


def test_fleiss_se_is_gwets_linearisation():
    # irrCAC-style moment variance on these data is 0.0028396071239620256 with divisor n²; rolloutkit
    # uses irrCAC's fleiss.kappa.raw divisor n(n − 1), so its variance is that times n/(n − 1)
    result = fleiss_kappa(DIAGNOSIS_COUNTS)
    n = DIAGNOSIS_COUNTS.shape[0]
    assert result.se**2 == pytest.approx(0.0028396071239620256 * n / (n - 1), rel=1e-9)
    assert (result.lower, result.upper) == pytest.approx(
        (result.kappa - 1.959964 * result.se, result.kappa + 1.959964 * result.se), abs=1e-6
    )


def test_fleiss_with_two_raters_equals_scotts_pi():
    # Fleiss' kappa with two raters per subject is Scott's pi: (po − pe)/(1 − pe) with pooled margins
    pairs = np.array([[1, 1], [1, 2], [2, 2], [2, 2], [1, 1], [2, 1], [2, 2], [1, 1]])
    counts = np.stack([(pairs == k).sum(axis=1) for k in (1, 2)], axis=1)
    po = np.mean(pairs[:, 0] == pairs[:, 1])
    share = np.mean(pairs == 1)
    pe = share**2 + (1 - share) ** 2
    assert fleiss_kappa(counts).kappa == pytest.approx((po - pe) / (1 - pe))


@pytest.mark.parametrize(
    ("call", "error"),
    [
        pytest.param(lambda: cohen_kappa([[0, 0], [0, 0]]), NO_DATA, id="cohen-empty"),
        pytest.param(lambda: cohen_kappa([[9, 0], [0, 0]]), ZERO_VARIANCE, id="cohen-one-category"),
        pytest.param(lambda: fleiss_kappa([[0, 0], [0, 0]]), NO_DATA, id="fleiss-empty"),
        pytest.param(lambda: fleiss_kappa([[1, 0], [0, 1]]), NO_DATA, id="fleiss-single-ratings"),
        pytest.param(lambda: fleiss_kappa([[3, 0], [3, 0]]), ZERO_VARIANCE, id="fleiss-one-category"),
    ],
)
def test_degenerate_tables_are_flagged(call, error):
    result = call()
    assert result.error == error
    assert math.isnan(result.kappa)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        pytest.param(lambda: cohen_kappa([[1, 2, 3], [4, 5, 6]]), "must be square", id="not-square"),
        pytest.param(lambda: cohen_kappa([[1, -2], [3, 4]]), "non-negative whole counts", id="negative"),
        pytest.param(lambda: fleiss_kappa([1, 2, 3]), "2-dimensional", id="one-dimensional"),
        pytest.param(lambda: cohen_kappa([[1, 0], [0, 1]], confidence=0), r"must be in \(0, 1\)", id="conf"),
    ],
)
def test_invalid_tables_raise(call, message):
    with pytest.raises(ValueError, match=message):
        call()
