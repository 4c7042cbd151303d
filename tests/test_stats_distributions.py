"""rolloutkit.stats.distributions against scipy.stats, whose import it spares every command and kernel."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as reference

from rolloutkit.stats import distributions as d

RNG = np.random.default_rng(20261202)


def _binomial_grid(size: int = 20_000) -> tuple[np.ndarray, np.ndarray]:
    n = np.concatenate([RNG.integers(1, 40, size // 2), RNG.integers(40, 2_000_000, size // 2)]).astype(float)
    p = np.concatenate([[0.0, 1.0, 0.5], RNG.uniform(0, 0.05, size // 2), RNG.uniform(0, 1, size - size // 2 - 3)])
    return n, p


@pytest.mark.parametrize("name", ["ppf", "isf"])
def test_binomial_quantiles_are_scipys_exactly(name):
    n, p = _binomial_grid()
    q = 10 ** RNG.uniform(-9, np.log10(0.5), n.size)
    ours = getattr(d, f"binom_{name}")(q, n, p)
    assert np.array_equal(ours, getattr(reference.binom, name)(q, n, p))
    # the bound itself: the count found meets it and the one below does not
    tail = d.binom_cdf if name == "ppf" else d.binom_sf
    meets = (lambda v: v >= q) if name == "ppf" else (lambda v: v <= q)
    assert meets(tail(ours, n, p)).all() and not meets(tail(ours - 1, n, p))[ours > 0].any()


def test_binomial_tails_match_scipy():
    n, p = _binomial_grid()
    for k in (np.floor(RNG.uniform(0, 1, n.size) * n), np.full(n.size, -1.0), n, n + 3):
        assert np.array_equal(d.binom_sf(k, n, p), reference.binom.sf(k, n, p))
        assert np.allclose(d.binom_cdf(k, n, p), reference.binom.cdf(k, n, p), rtol=1e-10, atol=1e-11)
    assert d.binom_cdf(3, 10, 0.5) == pytest.approx(176 / 1024, rel=1e-14)


def test_normal_chi_square_and_beta_are_scipys_exactly():
    for x in (-8.5, -1.96, 0.0, 0.3, 1.644853627, 7.0):
        assert d.norm_sf(x) == reference.norm.sf(x)
    for q in (1e-12, 0.001, 0.025, 0.05, 0.5, 0.975):
        assert d.norm_isf(q) == reference.norm.isf(q)
    for x in (0.0, 0.5, 3.84, 10.83, 200.0):
        assert d.chi2_sf(x, 1) == reference.chi2.sf(x, 1)
    a, b = RNG.uniform(0.5, 5_000, 2_000), RNG.uniform(0.5, 50_000, 2_000)
    q = 10 ** RNG.uniform(-8, -0.3, 2_000)
    assert [d.beta_ppf(*v) for v in zip(q, a, b, strict=True)] == list(reference.beta.ppf(q, a, b))
    assert [d.beta_isf(*v) for v in zip(q, a, b, strict=True)] == list(reference.beta.isf(q, a, b))
