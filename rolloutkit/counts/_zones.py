"""A time zone's UTC offsets over a window, from zoneinfo, as plain numbers a query can carry as literals.

SQL engines disagree on zones: DuckDB and Spark convert with the session's zone, BigQuery and Snowflake spell
conversions differently, and a cast to a zoned type can silently become a plain CAST on the way through a compiler.
So the local day is computed without any zone in the query: `(epoch_us + offset_us) // 86_400_000_000`, where
`offset_us` is a CASE over the instants at which the zone's offset changes inside the window.
"""

from __future__ import annotations

import bisect
import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

US = 1_000_000
DAY_US = 86_400 * US
EPOCH_DAY = dt.date(1970, 1, 1)
#: Offsets are sampled this often, then each change is found to the second by bisection. Real zones never change
#: their offset twice within six hours.
_STEP_S = 6 * 3600
#: How far the window reaches past the last day: beyond any real offset jump (Samoa skipped a whole day), so a row
#: after the window still lands after the last day.
_MARGIN_US = 2 * DAY_US


@dataclass(frozen=True)
class Offsets:
    """The UTC offsets of `zone` in [`start_us`, `end_us`): `first` from the start, then each `(instant, offset)`
    change in time order (microseconds since the epoch; offsets in microseconds, east positive)."""

    zone: str
    start_us: int
    end_us: int
    first: int
    changes: tuple[tuple[int, int], ...]

    def at(self, us: int) -> int:
        """The offset in force at instant `us` (the last change at or before it)."""
        i = bisect.bisect_right([instant for instant, _ in self.changes], us)
        return self.changes[i - 1][1] if i else self.first


def utc_offsets(zone: str, start_us: int, end_us: int) -> Offsets:
    """The offsets of `zone` over [`start_us`, `end_us`), read from zoneinfo."""
    tz = ZoneInfo(zone)

    def offset(second: int) -> int:
        delta = dt.datetime.fromtimestamp(second, tz).utcoffset() or dt.timedelta(0)
        return (delta.days * 86_400 + delta.seconds) * US + delta.microseconds

    start_s, end_s = start_us // US, -(-end_us // US)
    changes: list[tuple[int, int]] = []
    before, previous = start_s, offset(start_s)
    first = previous
    while before < end_s:
        after = min(before + _STEP_S, end_s)
        current = offset(after)
        if current != previous:
            low, high = before, after  # offset(low) == previous != offset(high): the change is in (low, high]
            while high - low > 1:
                middle = (low + high) // 2
                low, high = (middle, high) if offset(middle) == previous else (low, middle)
            changes.append((high * US, current))
            previous = current
        before = after
    return Offsets(zone=zone, start_us=start_us, end_us=end_us, first=first, changes=tuple(changes))


def midnight_us(zone: str, day: dt.date) -> int:
    """The instant local midnight starts `day` in `zone` (the earlier one if midnight repeats)."""
    local = dt.datetime.combine(day, dt.time(0), ZoneInfo(zone))
    return round(local.timestamp() * US)


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01, the integer the queries bucket by."""
    return (day - EPOCH_DAY).days


def window(zone: str, first_us: int, last_day: dt.date) -> Offsets:
    """The offsets from instant `first_us` until safely past the end of `last_day`."""
    end = midnight_us(zone, last_day + dt.timedelta(days=1)) + _MARGIN_US
    return utc_offsets(zone, min(first_us, end), end)


def local_date(zone: str, us: int) -> dt.date:
    """The date in `zone` of instant `us`, exactly (no float seconds)."""
    instant = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=us)
    return instant.astimezone(ZoneInfo(zone)).date()
