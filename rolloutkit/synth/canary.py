"""Feature-flag history and live canary interactions (both arms), plus a large frame for benchmarks."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import numpy as np
import polars as pl

from rolloutkit.synth.clock import US, arrivals, at, datetimes, day_us, step_lookup
from rolloutkit.synth.scenarios import Scenario

ACTORS = ("maria.lopez", "dev.patel", "release-bot")
HUMAN_COST_PER_S = 0.0125  # $45 an hour


@dataclass(frozen=True)
class Schedule:
    """When each executed stage starts and which share is in force when (drills and rollbacks included)."""

    stage_days: tuple[dt.date, ...]  # first day of each executed stage
    stage_us: np.ndarray  # flag time of each executed stage
    change_us: np.ndarray  # effective times of every share change (zero_at for a drop to 0)
    shares: np.ndarray
    regression_us: int | None
    rollback_day: dt.date | None


def flags_table(sc: Scenario, rng: np.random.Generator) -> tuple[pl.DataFrame, Schedule]:
    """Every share change: shadow at 0, each stage, drills (0 then restored) and an actual rollback if any."""
    rows: list[tuple[int, float, str, str, int | None]] = [
        (at(sc.start, 8 + rng.integers(0, 50) / 60), 0.0, "release-bot",
         "shadow mode: agent outputs logged, none served", None)]
    day = sc.start + dt.timedelta(days=sc.shadow_days)
    stage_days, stage_us = [], []
    previous = None
    for k, (share, days) in enumerate(sc.executed):
        ts = at(day, 9 + rng.integers(0, 50) / 60)
        stage_days.append(day)
        stage_us.append(ts)
        if previous is None:
            reason = f"canary stage 1: {share:.0%} of traffic to the agent"
        elif k >= len(sc.ladder):
            reason = f"100% after {previous} days; supervision begins with a {sc.supervision_sample_rate:.0%} review"
        else:
            reason = f"expand to {share:.0%} after {previous} days; all readiness checks passed"
        rows.append((ts, share, ACTORS[k % 2], reason, None))
        previous = days
        day += dt.timedelta(days=days)

    regression_us = rollback_day = None
    if sc.regression is not None and sc.regression.stage < len(stage_days):
        first = stage_days[sc.regression.stage]
        regression_us = day_us(first + dt.timedelta(days=sc.regression.day))
        if sc.regression.rollback_day is not None:
            rollback_day = first + dt.timedelta(days=sc.regression.rollback_day)
            ts = at(rollback_day, 9.5)
            since = (first + dt.timedelta(days=sc.regression.day)).isoformat()
            rows.append((ts, 0.0, "sre-oncall", f"rollback: {sc.regression.mode} rate above its trigger since "
                         f"{since}", ts + 35 * US))

    canary_start = sc.start + dt.timedelta(days=sc.shadow_days)
    for drill in sc.drills:
        ts = at(canary_start + dt.timedelta(days=drill.day), 14 + rng.integers(0, 120) / 60)
        share = float(step_lookup(np.array(stage_us), np.array([s for s, _ in sc.executed]), np.array([ts]))[0])
        zero = ts + int(drill.seconds_to_zero * US)
        rows.append((ts, 0.0, "sre-oncall", "rollback drill", zero))
        rows.append((zero + drill.minutes_at_zero * 60 * US, share, "sre-oncall", "rollback drill: restore", None))

    rows.sort(key=lambda r: r[0])
    ts_us = np.array([r[0] for r in rows], dtype=np.int64)
    zero_at = [r[4] for r in rows]
    flags = pl.DataFrame([
        datetimes(ts_us, "ts"),
        pl.Series("traffic_share", [r[1] for r in rows], dtype=pl.Float64),
        pl.Series("actor", [r[2] for r in rows], dtype=pl.String),
        pl.Series("reason", [r[3] for r in rows], dtype=pl.String),
        pl.Series("zero_at", zero_at, dtype=pl.Int64).cast(pl.Datetime("us", "UTC")),
    ])
    effective = np.array([z if z is not None else t for t, z in zip(ts_us.tolist(), zero_at, strict=True)])
    order = np.argsort(effective, kind="stable")
    schedule = Schedule(tuple(stage_days), np.array(stage_us, dtype=np.int64), effective[order],
                        np.array([r[1] for r in rows])[order], regression_us, rollback_day)
    return flags, schedule


def agent_mode_rates(sc: Scenario, schedule: Schedule, ts: np.ndarray) -> np.ndarray:
    """True agent rate of each failure mode at each time: (modes, rows)."""
    stage = np.clip(np.searchsorted(schedule.stage_us, ts, side="right") - 1, 0, None)
    out = np.empty((len(sc.failure_modes), ts.size))
    for j, mode in enumerate(sc.failure_modes):
        per_stage = np.array([mode.rate_at_stage(k) for k in range(len(schedule.stage_us))])
        out[j] = per_stage[stage]
        if sc.regression is not None and sc.regression.mode == mode.name and schedule.regression_us is not None:
            out[j] = np.where(ts >= schedule.regression_us, sc.regression.rate, out[j])
    return out


def canary_table(sc: Scenario, rng: np.random.Generator, schedule: Schedule) -> pl.DataFrame:
    """One row per live interaction from the first canary stage to the end of the data."""
    first_day = schedule.stage_days[0]
    ts = arrivals(rng, first_day, (sc.end - first_day).days + 1, daily=sc.daily_interactions)
    ts = ts[ts >= schedule.stage_us[0]]
    share = step_lookup(schedule.change_us, schedule.shares, ts)
    return live_rows(sc, rng, ts, share, agent_mode_rates(sc, schedule, ts), prefix=f"{_prefix(sc)}-cn-")


def live_rows(sc: Scenario, rng: np.random.Generator, ts: np.ndarray, share: np.ndarray, agent_rates: np.ndarray,
              *, prefix: str, enums: bool = False, first_id: int = 1,
              session: np.ndarray | None = None) -> pl.DataFrame:
    """Canary rows at times `ts`: arm from the flag share (times the SRM skew), outcomes from the true rates.

    `enums` keeps arm, segment and failure_mode as `pl.Enum` (a quarter of the memory of strings at 10M rows).
    """
    n = ts.size
    agent = _uniform(rng, n) < np.minimum(1.0, share * sc.srm_skew)
    m = len(sc.failure_modes)
    human_rates = np.array([f.human_rate for f in sc.failure_modes])
    u = rng.random(n)
    mode = np.full(n, m, dtype=np.uint32)
    cum = np.zeros(n)
    for j in range(m):
        cum += np.where(agent, agent_rates[j], human_rates[j])
        mode[(mode == m) & (u < cum)] = j
    p_success = np.where(agent, sc.agent_success, sc.human_success) / np.maximum(1 - cum, 1e-9)
    success = (mode == m) & (rng.random(n) < p_success)

    if session is None:
        session = session_numbers(rng, n)
    handle_s = np.round(_lognormal(rng, 380, 0.6, n), 1)
    breach = sc.guardrail_breach_rate
    segment = rng.choice(len(sc.segments), size=n, p=[s.share for s in sc.segments]).astype(np.uint32)
    raw = pl.DataFrame({
        "ts": ts, "agent": agent, "success": success, "mode": mode, "segment": segment,
        "session": session,
        "actions": 1 + np.minimum(rng.poisson(1.8, n), 7),
        "dollars": np.where(_uniform(rng, n) < 0.35, np.round(np.minimum(_lognormal(rng, 30, 0.6, n), 95), 2), 0.0),
        "disallowed_actions": (agent & (_uniform(rng, n) < breach)).astype(np.int64),
        "unreviewed_irreversible": (agent & (_uniform(rng, n) < breach / 2)).astype(np.int64),
        "cost_usd": np.where(agent, np.round(_lognormal(rng, 0.04, 0.5, n), 4),
                             np.round(handle_s * HUMAN_COST_PER_S, 2)),
        "latency_ms": np.where(agent, np.round(_lognormal(rng, 2400, 0.45, n)), handle_s * 1000),
    })
    arm = pl.Enum(["agent", "human"])
    segments = pl.Enum([s.name for s in sc.segments])
    modes = pl.Enum([f.name for f in sc.failure_modes])
    text = [arm, segments, modes] if enums else [pl.String] * 3
    return raw.select(
        pl.concat_str(pl.lit(prefix), pl.int_range(first_id, first_id + n).cast(pl.String).str.zfill(7))
        .alias("interaction_id"),
        pl.col("ts").cast(pl.Datetime("us", "UTC")),
        pl.when(pl.col("agent")).then(pl.lit("agent")).otherwise(pl.lit("human")).cast(text[0]).alias("arm"),
        "success",
        pl.col("mode").replace_strict(list(range(m)), [f.name for f in sc.failure_modes], default=None,
                                      return_dtype=modes).cast(text[2]).alias("failure_mode"),
        pl.concat_str(pl.when(pl.col("agent")).then(pl.lit("sa-")).otherwise(pl.lit("sh-")),
                      pl.col("session").cast(pl.String)).alias("session_id"),
        pl.col("segment").replace_strict(list(range(len(sc.segments))), [s.name for s in sc.segments],
                                         return_dtype=segments).cast(text[1]),
        "actions", "dollars", "disallowed_actions", "unreviewed_irreversible", "cost_usd", "latency_ms",
    )


def session_numbers(rng: np.random.Generator, n: int) -> np.ndarray:
    """A session number per row: a session is one or two consecutive interactions."""
    starts = np.ones(n, dtype=bool)
    starts[1::2] = _uniform(rng, n // 2) >= 0.3
    return np.cumsum(starts)


def _uniform(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.random(n, dtype=np.float32)


def _lognormal(rng: np.random.Generator, median: float, sigma: float, n: int) -> np.ndarray:
    return median * np.exp(sigma * rng.standard_normal(n, dtype=np.float32)).astype(np.float64)


def _prefix(sc: Scenario) -> str:
    return "".join(part[0] for part in sc.agent.split("-"))


#: `canary_frame`'s ladder: 56 days ending on the healthy scenario's last day, stages changing at 09:00 after
#: these holds.
FRAME_DAYS, FRAME_HOLDS = 56, (10, 10, 12, 12, 12)
FRAME_CHUNK = 1_000_000


def _frame_changes() -> tuple[dt.date, np.ndarray]:
    from rolloutkit.synth.scenarios import SCENARIOS

    first = SCENARIOS["healthy"].end - dt.timedelta(days=FRAME_DAYS - 1)
    days = np.cumsum((0, *FRAME_HOLDS[:-1]))
    return first, np.array([at(first + dt.timedelta(days=int(d)), 9) for d in days], dtype=np.int64)


def canary_frame(n_rows: int, *, seed: int = 0) -> pl.DataFrame:
    """A large canary table in the contract's columns: the `healthy` rates over the default ladder, 8 weeks.

    arm, segment and failure_mode are `pl.Enum` to keep 10M rows well under 1 GB; `canary_frame_flags()` is the
    matching flag history.
    """
    from rolloutkit.synth.scenarios import DEFAULT_STAGES, SCENARIOS

    sc = SCENARIOS["healthy"]
    rng = np.random.default_rng(seed)
    first, change = _frame_changes()
    ts = arrivals(rng, first, FRAME_DAYS, total=n_rows)
    share = step_lookup(change, np.array(DEFAULT_STAGES), ts, before=DEFAULT_STAGES[0])
    rates = np.array([[f.agent_rate] for f in sc.failure_modes])
    session = session_numbers(rng, ts.size)
    # In chunks, so the temporaries of one chunk (not of all rows) sit beside the result.
    chunks = [live_rows(sc, rng, ts[i:i + FRAME_CHUNK], share[i:i + FRAME_CHUNK], rates, prefix="cn-", enums=True,
                        first_id=i + 1, session=session[i:i + FRAME_CHUNK]) for i in range(0, ts.size, FRAME_CHUNK)]
    frame = pl.concat(chunks) if chunks else live_rows(sc, rng, ts, share, rates, prefix="cn-", enums=True)
    # the agent version serving the canary: one version throughout, as an Enum so it costs a byte a row
    return frame.with_columns(agent_version=pl.lit("v1.1", dtype=pl.Enum(["v1.1"])))


def canary_frame_flags() -> pl.DataFrame:
    """The flag history `canary_frame` follows: one row per stage of the default ladder."""
    from rolloutkit.synth.scenarios import DEFAULT_STAGES

    _, change = _frame_changes()
    return pl.DataFrame([
        datetimes(change, "ts"),
        pl.Series("traffic_share", DEFAULT_STAGES, dtype=pl.Float64),
        pl.Series("actor", ["release-bot"] * len(DEFAULT_STAGES), dtype=pl.String),
        pl.Series("reason", [f"canary stage {k + 1}: {share:.0%}" for k, share in enumerate(DEFAULT_STAGES)]),
    ])
