"""Arrival times with weekday seasonality and a daily curve, as int64 microseconds since the epoch (UTC)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

US = 1_000_000
DAY_US = 86_400 * US
HOUR_US = 3_600 * US
WEEKEND_FACTOR = 0.6  # weekends carry ~40% less traffic
_EPOCH = dt.date(1970, 1, 1)
# Relative traffic per UTC hour: quiet nights, a morning peak and a long afternoon.
_HOURLY = np.array([0.15, 0.1, 0.08, 0.08, 0.1, 0.2, 0.4, 0.8, 1.3, 1.6, 1.7, 1.6,
                    1.4, 1.5, 1.6, 1.5, 1.3, 1.1, 0.9, 0.7, 0.55, 0.45, 0.3, 0.2])
HOURLY = _HOURLY / _HOURLY.sum()


def day_us(day: dt.date) -> int:
    """Midnight UTC of `day` in microseconds since the epoch."""
    return (day - _EPOCH).days * DAY_US


def at(day: dt.date, hour: float) -> int:
    """`hour` (fractional) on `day`, in microseconds since the epoch."""
    return day_us(day) + int(round(hour * HOUR_US))


def day_factors(first_day: dt.date, n_days: int) -> np.ndarray:
    """Traffic factor per day, averaging 1 over a full week."""
    weekday = (np.arange(n_days) + first_day.weekday()) % 7
    factor = np.where(weekday >= 5, WEEKEND_FACTOR, 1.0)
    return factor / ((5 + 2 * WEEKEND_FACTOR) / 7)


def arrivals(rng: np.random.Generator, first_day: dt.date, n_days: int, *, daily: float | None = None,
             total: int | None = None) -> np.ndarray:
    """Sorted arrival times over `n_days` days: Poisson counts around `daily`, or exactly `total` rows."""
    factors = day_factors(first_day, n_days)
    if total is not None:
        counts = rng.multinomial(total, factors / factors.sum())
    else:
        counts = rng.poisson((daily or 0) * factors)
    day = np.repeat(np.arange(n_days, dtype=np.int64), counts)
    n = day.size
    hour = rng.choice(24, size=n, p=HOURLY).astype(np.int64)
    second = rng.integers(0, 3600, size=n, dtype=np.int64)
    ts = day_us(first_day) + day * DAY_US + hour * HOUR_US + second * US
    ts.sort()
    return ts


def step_lookup(change_us: np.ndarray, values: np.ndarray, ts: np.ndarray, *, before: float = 0.0) -> np.ndarray:
    """The value in force at each `ts` of a step function that changes at sorted `change_us`."""
    idx = np.searchsorted(change_us, ts, side="right") - 1
    return np.where(idx >= 0, values[np.clip(idx, 0, None)], before)


def datetimes(ts_us: np.ndarray, name: str) -> pl.Series:
    """Microsecond integers as a UTC datetime column."""
    return pl.Series(name, ts_us, dtype=pl.Int64).cast(pl.Datetime("us", "UTC"))


def ids(prefix: str, n: int, width: int = 7) -> pl.Series:
    """`prefix-0000001`... in order."""
    return pl.select(pl.concat_str(pl.lit(prefix), pl.int_range(1, n + 1).cast(pl.String).str.zfill(width))
                     .alias("id")).to_series()


def pick(names: tuple[str, ...] | list[str], index: np.ndarray, name: str) -> pl.Series:
    """Strings by index; an index equal to len(names) is null (vectorised, no Python objects per row)."""
    codes = pl.Series(name, index.astype(np.uint32))
    labels = pl.Series(list(names), dtype=pl.String)
    return pl.select(labels.gather(codes.set(codes >= len(names), None)).alias(name)).to_series()
