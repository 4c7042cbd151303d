"""Canary counts: the workspace's canary traffic as daily counts → `CanaryCounts` with the stages.

Two steps, so that daily counts computed elsewhere (a warehouse's `canary_daily`) can feed the second directly:
- `daily_counts(ws)` is the one access point to canary traffic: the workspace's `canary_daily` counts when it
  holds them, else its `canary` rows aggregated (one lazy query) to one row per (day, segment_start, arm) in the
  same public shape: `segment_start` is the `flags.ts` in force at the interaction's time (null before the first
  flag);
- `counts_from_daily(daily, flags, charter)` maps each `segment_start` to its flag segment and stage epoch.

Everything downstream (checks, decisions, history, charts) works on these counts, never on rows, so every
decision is the same from `canary_daily` as from the rows it was computed from.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl

from rolloutkit.canary._incidents import incident_log
from rolloutkit.canary._results import COUNT_COLUMNS, FLOAT_COLUMNS, GUARDRAIL_WORDS, CanaryCounts, failure_column
from rolloutkit.canary._stages import stage_epochs, stage_segments
from rolloutkit.canary._versions import live_versions
from rolloutkit.charter import Charter
from rolloutkit.errors import DataError
from rolloutkit.workspace import Workspace

_KEYS = ("day", "segment_start", "arm")
_TIME = pl.Datetime("us", "UTC")
#: Agent interactions whose sessions one hash table holds at a time (about 200 MB), and at most this many tables.
_SESSIONS_A_BUCKET, _MAX_BUCKETS = 2_000_000, 16


def _flags(ws: Workspace, day: dt.date) -> pl.DataFrame:
    return ws.table("flags").filter(pl.col("day") <= day).select("ts", "traffic_share", "reason", "day").collect()


def daily_counts(ws: Workspace, *, as_of: dt.date | str | None = None,
                 session_buckets: int | None = None) -> pl.DataFrame:
    """The workspace's canary traffic as daily counts in the `canary_daily` shape, up to the end of `as_of`.

    The one access point to canary traffic: the workspace's own `canary_daily` (validated against its contract,
    cut at `as_of`) when it holds counts, else one lazy query over its `canary` rows. From rows: one row per
    (`day`: local date in the charter's time zone, `segment_start`: the `flags.ts` in force at the interaction's
    time, null before the first flag, `arm`) with `n`, `successes` and one `fail__<mode>` per charter failure
    mode; then, where the canary table has the columns to measure them, `disallowed` and
    `unreviewed` (interactions with a disallowed action or an unreviewed irreversible one), `over_actions` and
    `over_dollars` (sessions over the charter's limits, counted on their first day and segment), `cost_usd` and
    `cost_n` (sum and count of reported costs), `latency_ms_sum`, `latency_ms_sumsq` and `latency_n`. Rows after
    `as_of` are ignored.

    `session_buckets`: how many hash buckets sessions are counted in, one table of sessions in memory at a time
    (None: one per two million agent interactions, about 200 MB each). The counts are the same for any number.
    """
    day = ws.resolve_as_of(as_of)
    if ws.has("canary_daily"):
        return _stored_counts(ws, day)
    # without a flag history every interaction is before the first flag: one segment, `segment_start` null
    times = _flags(ws, day)["ts"] if ws.has("flags") else pl.Series("ts", [], dtype=pl.Datetime("us", "UTC"))
    # computed once for the pages of a week that all ask for it
    return ws.remember(f"canary daily counts, sessions in {session_buckets or 'auto'} buckets", day,
                       lambda: _daily_counts(ws, day, times, session_buckets=session_buckets))


def _stored_counts(ws: Workspace, day: dt.date) -> pl.DataFrame:
    """The workspace's `canary_daily` up to `day`, in the column order rows give (its own optional columns)."""
    fails = [failure_column(m) for m in ws.charter.failure_mode_names]
    counts = ws.table("canary_daily").filter(pl.col("day") <= day)
    present = counts.collect_schema().names()
    return (counts.select(*_KEYS, *COUNT_COLUMNS[:2], *fails, *(c for c in COUNT_COLUMNS[2:] if c in present))
            .sort(*_KEYS).collect())


def _daily_counts(ws: Workspace, day: dt.date, flag_times: pl.Series, *,
                  session_buckets: int | None = None) -> pl.DataFrame:
    charter = ws.charter
    times = flag_times.sort()
    rows = ws.table("canary")
    schema = rows.collect_schema()
    rows = rows.filter(pl.col("day") <= day).with_columns(
        seg=pl.sum_horizontal(pl.lit(0, pl.UInt32), *(pl.col("ts") >= t for t in times)).cast(pl.UInt32))
    guard = charter.guardrails
    aggs = [pl.len().cast(pl.Int64).alias("n"), pl.col("success").sum().cast(pl.Int64).alias("successes")]
    aggs += [(pl.col("failure_mode") == m).sum().cast(pl.Int64).alias(failure_column(m))
             for m in charter.failure_mode_names]
    for name, column in (("disallowed", "disallowed_actions"), ("unreviewed", "unreviewed_irreversible")):
        if column in schema:
            aggs.append((pl.col(column) > 0).sum().cast(pl.Int64).alias(name))
    session_limits = {name: (column, limit) for name, column, limit in (
        ("over_actions", "actions", guard.max_actions_per_session if guard else None),
        ("over_dollars", "dollars", guard.max_dollars_per_session if guard else None),
    ) if limit is not None and column in schema}
    has_sessions = "session_id" in schema
    if not has_sessions:  # without sessions, each interaction is its own session
        for name, (column, limit) in session_limits.items():
            aggs.append((pl.col(column) > limit).sum().cast(pl.Int64).alias(name))
    if "cost_usd" in schema:
        aggs += [pl.col("cost_usd").sum().cast(pl.Float64).alias("cost_usd"),
                 pl.col("cost_usd").count().cast(pl.Int64).alias("cost_n")]
    if "latency_ms" in schema:
        latency = pl.col("latency_ms").cast(pl.Float64)
        aggs += [latency.sum().alias("latency_ms_sum"), (latency * latency).sum().alias("latency_ms_sumsq"),
                 latency.count().cast(pl.Int64).alias("latency_n")]
    sessions = has_sessions and bool(session_limits)
    # one query at a time on the streaming engine: collect_all would share the scan by holding its rows in memory
    daily = rows.group_by("day", "seg", "arm").agg(aggs).collect(engine="streaming")
    if sessions:
        agent = daily.filter(pl.col("arm") == "agent")
        buckets = session_buckets or min(_MAX_BUCKETS, max(1, -(-agent["n"].sum() // _SESSIONS_A_BUCKET)))
        over = _sessions_over(rows, session_limits, buckets=buckets)
        # a session's first row is an agent row of its (day, seg), so a left join loses none
        daily = daily.join(over, on=["day", "seg", "arm"], how="left")
    starts = pl.DataFrame({"seg": pl.Series(range(1, times.len() + 1), dtype=pl.UInt32),
                           "segment_start": times.cast(_TIME)})
    fails = [failure_column(m) for m in charter.failure_mode_names]
    optional = [c for c in COUNT_COLUMNS[2:] if c in daily.columns]
    return (daily.join(starts, on="seg", how="left")
            .select(*_KEYS, *COUNT_COLUMNS[:2], *fails, pl.col(optional).fill_null(0))
            .sort(*_KEYS))


def _sessions_over(rows: pl.LazyFrame, limits: dict[str, tuple[str, float]], *, buckets: int) -> pl.DataFrame:
    """Agent sessions over the charter's limits (`over_actions`, `over_dollars`), counted on the (day, seg) of
    their first row.

    One scan keeps what the sessions need of each agent row, 32 bytes: a 64-bit hash of its session id (an
    interaction without one is its own session), day, segment and the limited columns. Hashes group three times
    faster than string ids at 10M rows, and a collision (odds about 3 in 10^8 at a million sessions) could only
    merge two sessions' action counts. The table of sessions is the run's largest allocation (about 100 bytes a
    session), so sessions are grouped in `buckets` hash buckets, one table at a time."""
    session = (pl.when(pl.col("session_id").is_not_null()).then(pl.col("session_id").hash())
               .otherwise(pl.col("interaction_id").hash()))
    kept = (rows.filter(pl.col("arm") == "agent")
            .select(session.alias("session"), "day", "seg", *(c for c, _ in limits.values()))
            .collect(engine="streaming"))
    parts = [(kept.lazy().filter(pl.col("session") % buckets == bucket) if buckets > 1 else kept.lazy())
             .group_by("session")
             .agg(pl.col("day").min(), pl.col("seg").min(), *[pl.col(c).sum().alias(c) for c, _ in limits.values()])
             .group_by("day", "seg")
             .agg(*[(pl.col(c) > limit).sum().cast(pl.Int64).alias(name) for name, (c, limit) in limits.items()])
             .collect(engine="streaming") for bucket in range(buckets)]
    return (pl.concat(parts).group_by("day", "seg").agg(pl.col(list(limits)).sum())
            .with_columns(arm=pl.lit("agent")))


def counts_from_daily(daily: pl.DataFrame, flags: pl.DataFrame, charter: Charter, *,
                      as_of: dt.date) -> CanaryCounts:
    """`CanaryCounts` from daily counts in the `canary_daily` shape and the flag history, as of the end of `as_of`.

    `daily` is `daily_counts(ws)` or the same counts computed elsewhere (a warehouse's `canary_daily`); `flags` has
    `ts`, `traffic_share` and `reason` (and `day`, the local date, or it is taken from `ts` in the charter's time
    zone). Each `segment_start` must be a flag time: it names the flag segment, and so the stage, the counts belong
    to. Counts the table does not have are 0, and `guardrail_columns`/`has_cost` say which it measures. A
    failure mode of the charter without its `fail__<mode>` column is an error, never a zero.
    """
    fails = [failure_column(m) for m in charter.failure_mode_names]
    missing = [c for c in (*_KEYS, *COUNT_COLUMNS[:2], *fails) if c not in daily.columns]
    if missing:
        raise DataError("canary_daily", f"is missing required column(s) {', '.join(missing)} "
                        f"(it has: {', '.join(daily.columns) or 'no columns'})")
    if "day" not in flags.columns:
        flags = flags.with_columns(day=pl.col("ts").dt.convert_time_zone(charter.timezone).dt.date())
    flags = flags.filter(pl.col("day") <= as_of).select(pl.col("ts").cast(_TIME), "traffic_share", "reason", "day")
    segments = stage_segments(flags)
    # two flag rows at one instant: the later one is in force, as `search_sorted(side="right")` finds it
    starts = (segments.filter(pl.col("start").is_not_null()).group_by("start").agg(pl.col("seg").max())
              .rename({"start": "segment_start"}))
    daily = (daily.filter(pl.col("day") <= as_of).with_columns(pl.col("segment_start").cast(_TIME))
             .join(starts, on="segment_start", how="left"))
    unknown = daily.filter(pl.col("segment_start").is_not_null() & pl.col("seg").is_null())
    if unknown.height:
        raise DataError("canary_daily", "has segment_start values that are no flag time",
                        column="segment_start", examples=unknown["segment_start"].unique().sort().head(3).to_list())
    absent = [c for c in COUNT_COLUMNS if c not in daily.columns]
    daily = (daily.with_columns(pl.col("seg").fill_null(0),
                                *(pl.lit(0, dtype=pl.Float64 if c in FLOAT_COLUMNS else pl.Int64).alias(c)
                                  for c in absent))
             .select("day", "seg", *_KEYS[1:], pl.col(COUNT_COLUMNS[:2]), pl.col(fails),
                     pl.col(COUNT_COLUMNS[2:]).fill_null(0))
             .sort("day", "seg", "arm"))
    return CanaryCounts(charter=charter, as_of=as_of, daily=daily, segments=segments, epochs=stage_epochs(segments),
                        last_data_day=daily["day"].max() if daily.height else None,
                        guardrail_columns=tuple(c for c in GUARDRAIL_WORDS if c not in absent),
                        has_cost="cost_usd" not in absent)


def canary_counts(ws: Workspace, *, as_of: dt.date | str | None = None) -> CanaryCounts:
    """The canary's daily counts, flag segments and stage epochs as of the end of `as_of` (None = the last day
    with data), from `daily_counts`, with the incident log and the live version's eval results the checks read.
    Rows after `as_of` are ignored, so the counts reproduce what was known on that day."""
    day = ws.resolve_as_of(as_of)
    flags = _flags(ws, day)
    daily = daily_counts(ws, as_of=day)
    counts = counts_from_daily(daily, flags, ws.charter, as_of=day)
    return dataclasses.replace(counts, incidents=incident_log(ws, day), versions=live_versions(ws, day),
                               has_evals=ws.has("evals"))


def counts_of(source: Workspace | CanaryCounts, as_of: dt.date | str | None) -> CanaryCounts:
    """The counts already read, or a workspace's counts as of `as_of`."""
    return source if isinstance(source, CanaryCounts) else canary_counts(source, as_of=as_of)
