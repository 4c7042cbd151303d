"""Result types, error codes and argument checks shared by every `rolloutkit.stats` function.

Degenerate input (no trials, zero variance) is not an error: the result carries one of the codes below and
numbers that are nan or vacuous, so one empty segment cannot sink a weekly report (gbstats style). Invalid
arguments (negative counts, successes > trials, confidence outside (0, 1)) raise `ValueError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from rolloutkit.stats.distributions import norm_isf

NO_DATA = "no_data"
ZERO_VARIANCE = "zero_variance"
UNREACHABLE = "unreachable"

Side = Literal["two-sided", "upper", "lower"]
SIDES: tuple[str, ...] = ("two-sided", "upper", "lower")


@dataclass(frozen=True)
class Interval:
    """A point estimate and its interval; `error` is None or a code such as `NO_DATA`."""

    estimate: float
    lower: float
    upper: float
    error: str | None = None


@dataclass(frozen=True)
class TestResult:
    """A hypothesis test: the statistic, its p-value and whether H0 is rejected at the given alpha."""

    __test__ = False  # not a pytest test class despite the name

    statistic: float
    p_value: float
    reject: bool
    error: str | None = None


@dataclass(frozen=True)
class Kappa:
    """Chance-corrected agreement with its standard error and a normal confidence interval."""

    kappa: float
    se: float
    lower: float
    upper: float
    observed_agreement: float
    error: str | None = None


@dataclass(frozen=True)
class SampleSize:
    """Trials needed and the largest failure count that still demonstrates the rate (None if unreachable)."""

    trials: int | None
    critical_count: int | None
    error: str | None = None


@dataclass(frozen=True)
class WeightedInterval:
    """A design-weighted proportion: estimate, interval, sample size and the effective sample size used."""

    estimate: float
    lower: float
    upper: float
    n: int
    effective_n: float
    error: str | None = None


@dataclass(frozen=True, eq=False)
class Bounds:
    """Element-wise lower and upper arrays (confidence-sequence bounds, control limits)."""

    lower: np.ndarray
    upper: np.ndarray


def check_count(name: str, value: float) -> int:
    """A non-negative whole number, as an int."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"`{name}` must be a non-negative integer, got {value!r}")
    if not math.isfinite(value) or value < 0 or value != int(value):
        raise ValueError(f"`{name}` must be a non-negative integer, got {value!r}")
    return int(value)


def check_binomial(
    successes: float, trials: float, names: tuple[str, str] = ("successes", "trials")
) -> tuple[int, int]:
    x = check_count(names[0], successes)
    n = check_count(names[1], trials)
    if x > n:
        raise ValueError(f"`{names[0]}` must be at most `{names[1]}`, got {x} > {n}")
    return x, n


def check_open_unit(name: str, value: float) -> float:
    """A number strictly inside (0, 1): a confidence, an alpha, a power."""
    if not isinstance(value, int | float | np.integer | np.floating) or not 0 < value < 1:
        raise ValueError(f"`{name}` must be in (0, 1), got {value!r}")
    return float(value)


def check_unit(name: str, value: float) -> float:
    """A probability in [0, 1]."""
    if not isinstance(value, int | float | np.integer | np.floating) or not 0 <= value <= 1:
        raise ValueError(f"`{name}` must be in [0, 1], got {value!r}")
    return float(value)


def check_positive(name: str, value: float) -> float:
    if not isinstance(value, int | float | np.integer | np.floating) or not value > 0 or math.isinf(value):
        raise ValueError(f"`{name}` must be a positive number, got {value!r}")
    return float(value)


def check_side(side: str) -> str:
    if side not in SIDES:
        raise ValueError(f"`side` must be one of {', '.join(SIDES)}, got {side!r}")
    return side


def z_value(confidence: float, side: str) -> float:
    """The normal quantile for a two-sided or one-sided interval at `confidence`."""
    tail = (1 - confidence) / 2 if side == "two-sided" else 1 - confidence
    return norm_isf(tail)
