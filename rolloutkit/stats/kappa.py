"""Chance-corrected agreement: Cohen's kappa for two raters, Fleiss' kappa for many."""

from __future__ import annotations

import math

import numpy as np

from rolloutkit.stats.results import NO_DATA, ZERO_VARIANCE, Kappa, check_open_unit, z_value


def _count_array(name: str, values: object, ndim: int) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    if array.ndim != ndim:
        raise ValueError(f"`{name}` must be a {ndim}-dimensional array of counts, got shape {array.shape}")
    if not np.all(np.isfinite(array)) or np.any(array < 0) or np.any(array != np.round(array)):
        raise ValueError(f"`{name}` must hold non-negative whole counts")
    return array


def _kappa_result(kappa: float, se: float, observed: float, confidence: float) -> Kappa:
    z = z_value(confidence, "two-sided")
    return Kappa(kappa, se, kappa - z * se, kappa + z * se, observed)


def cohen_kappa(table: object, *, confidence: float = 0.95) -> Kappa:
    """Cohen's kappa of a k×k table (rows: rater 1, columns: rater 2) with its asymptotic SE.

    The SE is the non-null ASE of Fleiss, Cohen & Everitt (1969), as SAS PROC FREQ prints it; the interval
    is kappa ± z·ASE. [[0, 4, 1], [0, 8, 0], [0, 1, 5]] → 0.4842, ASE 0.1380, (0.2137, 0.7547).
    An empty table gives `NO_DATA`; chance agreement of 1 (one category only) gives `ZERO_VARIANCE`.
    """
    counts = _count_array("table", table, 2)
    if counts.shape[0] != counts.shape[1]:
        raise ValueError(f"`table` must be square, got shape {counts.shape}")
    confidence = check_open_unit("confidence", confidence)
    n = counts.sum()
    if n == 0:
        return Kappa(math.nan, math.nan, math.nan, math.nan, math.nan, NO_DATA)
    p = counts / n
    rows, cols = p.sum(axis=1), p.sum(axis=0)
    observed = float(np.trace(p))
    expected = float(rows @ cols)
    if expected >= 1:
        return Kappa(math.nan, math.nan, math.nan, math.nan, observed, ZERO_VARIANCE)
    kappa = (observed - expected) / (1 - expected)
    diagonal = np.diag(p) * (1 - (rows + cols) * (1 - kappa)) ** 2
    off = p * (cols[:, None] + rows[None, :]) ** 2
    np.fill_diagonal(off, 0.0)
    numerator = diagonal.sum() + (1 - kappa) ** 2 * off.sum() - (kappa - expected * (1 - kappa)) ** 2
    se = math.sqrt(max(numerator, 0.0) / (n * (1 - expected) ** 2))
    return _kappa_result(kappa, se, observed, confidence)


def fleiss_kappa(counts: object, *, confidence: float = 0.95) -> Kappa:
    """Fleiss' (1971) kappa from a subjects × categories table of rating counts.

    R irr's `diagnoses` (30 subjects, 6 raters, 5 categories) → 0.4302445. Subjects may have different
    numbers of raters (Gwet's generalisation; rows with no rating are dropped). The SE is Gwet's (2014)
    non-null linearisation variance, as R irrCAC's `fleiss.kappa.raw` computes it (0.0028396 on `diagnoses`),
    not irr's SE under H0: kappa = 0, which is only for testing; the interval is kappa ± z·SE.
    Fewer than two subjects rated at least twice gives `NO_DATA`; chance agreement of 1 gives `ZERO_VARIANCE`.
    """
    table = _count_array("counts", counts, 2)
    confidence = check_open_unit("confidence", confidence)
    table = table[table.sum(axis=1) > 0]
    raters = table.sum(axis=1)
    rated_twice = raters >= 2
    n, n_twice = table.shape[0], int(rated_twice.sum())
    if n < 2 or n_twice == 0:
        return Kappa(math.nan, math.nan, math.nan, math.nan, math.nan, NO_DATA)
    pairs = np.where(rated_twice, raters * (raters - 1), 1.0)
    agreement_i = np.where(rated_twice, (table * (table - 1)).sum(axis=1) / pairs, 0.0)
    observed = float(agreement_i.sum() / n_twice)
    shares = (table / raters[:, None]).mean(axis=0)
    expected = float(shares @ shares)
    if expected >= 1:
        return Kappa(math.nan, math.nan, math.nan, math.nan, observed, ZERO_VARIANCE)
    kappa = (observed - expected) / (1 - expected)
    kappa_i = (n / n_twice) * (agreement_i - expected * rated_twice) / (1 - expected)
    expected_i = (table @ shares) / raters
    kappa_i -= 2 * (1 - kappa) * (expected_i - expected) / (1 - expected)
    se = math.sqrt(float(((kappa_i - kappa) ** 2).sum()) / (n * (n - 1)))
    return _kappa_result(kappa, se, observed, confidence)
