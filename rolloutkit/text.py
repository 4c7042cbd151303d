"""One place for how numbers, weeks and rows are written: in sentences, on pages and in JSON."""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from typing import Any

import polars as pl


def pct(share: float | None, *, digits: int | None = None) -> str:
    """A share as a percentage a person reads: 0.05 → "5%", 0.0123 → "1.2%", 0.000698 → "0.07%".

    Small rates keep two significant digits so a 0.07% failure rate is not written as 0%; `digits` fixes the
    number of decimals instead (e.g. 1 for a table column).

    >>> pct(0.4), pct(0.0123), pct(0.0000698), pct(0.4, digits=1)
    ('40%', '1.2%', '0.007%', '40.0%')
    """
    if share is None or (isinstance(share, float) and not math.isfinite(share)):
        return "—"
    value = 100 * share
    if digits is not None:
        return f"{value:.{digits}f}%"
    if value == 0 or abs(value) >= 10:
        return f"{value:.3g}%" if abs(value) < 100 else f"{value:.0f}%"
    return f"{value:.2g}%"


def usd(amount: float | None) -> str:
    """Dollars a person reads: two decimals from a dollar up, two significant digits below (never 1e-05).

    >>> usd(4.2), usd(0.0394), usd(0.000123), usd(1234.5), usd(None)
    ('$4.20', '$0.039', '$0.00012', '$1,234', '—')
    """
    if amount is None or not math.isfinite(amount):
        return "—"
    size = abs(amount)
    if size >= 100:
        return f"${amount:,.0f}"
    if size >= 1 or size == 0:
        return f"${amount:,.2f}"
    return f"${amount:.{max(2, 1 - math.floor(math.log10(size)))}f}"


def duration(seconds: float | None) -> str:
    """A duration a person reads: seconds under a minute and a half, else minutes, else hours.

    >>> duration(2.4), duration(378.5), duration(9000), duration(0.05)
    ('2.4 s', '6.3 min', '2.5 h', '0.05 s')
    """
    if seconds is None or not math.isfinite(seconds):
        return "—"
    if seconds < 90:
        return f"{seconds:.2g} s" if seconds < 1 else f"{seconds:.1f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def stage(share: float) -> str:
    """A ladder share as written on the ladder: 0.05 → "5%", 0.4 → "40%", 1.0 → "100%".

    >>> stage(0.05), stage(1.0), stage(0.025)
    ('5%', '100%', '2.5%')
    """
    return f"{100 * share:g}%"


def plural(n: int, word: str, words: str | None = None) -> str:
    """ "1 week", "3 weeks", "0 reviews".

    >>> plural(1, "week"), plural(3, "week"), plural(2, "day", "days")
    ('1 week', '3 weeks', '2 days')
    """
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def iso_week(day: dt.date) -> str:
    """The ISO week of a day, e.g. 2026-W45 (ISO year: 2027-01-01 is in 2026-W53).

    >>> iso_week(dt.date(2027, 1, 1))
    '2026-W53'
    """
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def iso_week_expr(day: pl.Expr) -> pl.Expr:
    """`iso_week` as a polars expression over a date column."""
    return day.dt.strftime("%G-W%V")


def number(value: Any) -> Any:
    """A JSON-safe value: NaN and infinities become None, floats keep 6 decimals, dates and instants become ISO
    text (2026-11-22, 2026-11-22T09:00:00+00:00), other values pass.

    >>> number(float("nan")), number(0.12345678), number(dt.datetime(2026, 11, 22, 9, tzinfo=dt.UTC))
    (None, 0.123457, '2026-11-22T09:00:00+00:00')
    """
    if isinstance(value, float):
        return round(value, 6) if math.isfinite(value) else None
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return value


def json_rows(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """A frame's rows for JSON: dates and instants as ISO text, floats rounded, NaN as null."""
    return [{k: number(v) for k, v in row.items()} for row in frame.iter_rows(named=True)]


def reference(value: str | None, *, prefix: str = "ref") -> str | None:
    """A short, stable, non-reversible reference for an id that may carry customer data (an interaction id, a
    ticket number): pages and JSON show this instead of the id, and the same id always gets the same reference,
    so a reader can still tell items apart and look one up with `rolloutkit` on the workspace.

    >>> reference("INV-2026-000123") == reference("INV-2026-000123"), reference("INV-2026-000123")[:4]
    (True, 'ref-')
    """
    if value is None:
        return None
    return f"{prefix}-{hashlib.blake2b(str(value).encode(), digest_size=4).hexdigest()}"


def reference_expr(column: pl.Expr, *, prefix: str = "ref") -> pl.Expr:
    """`reference` as a polars expression over a string column."""
    return column.map_elements(lambda v: reference(v, prefix=prefix), return_dtype=pl.String)
