"""The stage timeline from `flags`, and the stage in force on a day with its daily counts.

Stage timeline rules (documented here because the decision depends on them):
- each flag row opens a *segment* of constant share; an interaction belongs to the segment in force at its `ts`;
- a *stage epoch* is a run of segments at one share: a ramp up, a step down or a rollback to 0 starts a new epoch;
- a *drill* — the flag set to 0 with a drill-like reason and restored to the same share on the same local day —
  does not start an epoch: its minutes at 0% are part of the stage (they carry only human traffic);
- a real rollback (to 0 without a drill-like reason, or not restored that day) ends the stage, and a later ramp
  restarts the stage from day 0.
"""

from __future__ import annotations

import datetime as dt
import re

import polars as pl

from rolloutkit.canary._incidents import stage_incidents
from rolloutkit.canary._results import COUNT_COLUMNS, CanaryCounts, StageView, failure_column
from rolloutkit.canary._versions import live_on

#: A flag change to 0% with such a reason, restored the same day, is a drill.
DRILL_REASON = re.compile(r"drill|exercise|game ?day", re.IGNORECASE)


def stage_segments(flags: pl.DataFrame) -> pl.DataFrame:
    """Classify each flag change (ramp, step_down, rollback, drill, drill_restore, same) and number the epochs.

    `flags` is the validated table (ts, traffic_share, reason, day). Returns one row per segment, segment 0 being
    the time before the first flag (share 0, kind "start").
    """
    flags = flags.sort("ts")
    shares = flags["traffic_share"].to_list()
    reasons = flags["reason"].to_list()
    days = flags["day"].to_list()
    kinds: list[str] = []
    previous, i = 0.0, 0  # the share in force, drills aside; flags are a handful of rows, so a loop is fine
    while i < len(shares):
        share = shares[i]
        if (share == 0 and previous > 0 and DRILL_REASON.search(reasons[i] or "") and i + 1 < len(shares)
                and days[i + 1] == days[i] and shares[i + 1] == previous):
            kinds += ["drill", "drill_restore"]
            i += 2
            continue
        if share == previous:
            kinds.append("same")
        elif share == 0:
            kinds.append("rollback")
        else:
            kinds.append("ramp" if share > previous else "step_down")
        previous, i = share, i + 1
    new_epoch = [k in ("ramp", "step_down", "rollback") for k in kinds]
    epoch, epochs = 0, []
    for starts in new_epoch:
        epoch += starts
        epochs.append(epoch)
    first = pl.DataFrame({"seg": [0], "start": [None], "start_day": [None], "share": [0.0], "kind": ["start"],
                          "reason": [None], "epoch": [0]},
                         schema={"seg": pl.UInt32, "start": pl.Datetime("us", "UTC"), "start_day": pl.Date,
                                 "share": pl.Float64, "kind": pl.String, "reason": pl.String, "epoch": pl.Int64})
    rest = pl.DataFrame({
        "seg": pl.Series(range(1, len(shares) + 1), dtype=pl.UInt32), "start": flags["ts"], "start_day": flags["day"],
        "share": flags["traffic_share"], "kind": pl.Series(kinds, dtype=pl.String), "reason": flags["reason"],
        "epoch": pl.Series(epochs, dtype=pl.Int64),
    })
    return pl.concat([first, rest.cast(first.schema)])


def stage_epochs(segments: pl.DataFrame) -> pl.DataFrame:
    """One row per stage epoch: when it started, at which share, and why (the flag change that opened it)."""
    return (segments.group_by("epoch", maintain_order=True)
            .agg(pl.col("start", "start_day", "share", "kind", "reason").first())
            .sort("epoch"))


def stage_view(counts: CanaryCounts, as_of: dt.date) -> StageView:
    """The stage in force at the end of `as_of` and its counts, from `canary_counts` (which may run later)."""
    charter = counts.charter
    segments = counts.segments.filter(pl.col("start_day").is_null() | (pl.col("start_day") <= as_of))
    epoch = segments["epoch"][-1]
    start = counts.epochs.filter(pl.col("epoch") == epoch).row(0, named=True)
    in_stage = segments.filter(pl.col("epoch") == epoch)
    rows = counts.daily.filter(pl.col("day") <= as_of, pl.col("seg").is_in(in_stage["seg"].implode()))
    first = start["start_day"] or (rows["day"].min() if rows.height else as_of)
    calendar = pl.DataFrame({"day": pl.date_range(first, as_of, "1d", eager=True)}) if first <= as_of else \
        pl.DataFrame({"day": []}, schema={"day": pl.Date})
    columns = [*COUNT_COLUMNS, *(failure_column(m) for m in charter.failure_mode_names)]

    def per_day(arm: str) -> pl.DataFrame:
        summed = rows.filter(pl.col("arm") == arm).group_by("day").agg(pl.col(columns).sum())
        return calendar.join(summed, on="day", how="left").with_columns(pl.col(columns).fill_null(0)).sort("day")

    agent, human = per_day("agent"), per_day("human")
    at_share = rows.join(in_stage.filter(pl.col("share") == start["share"]).select("seg"), on="seg")
    started = start["start"]
    # calendar days, the partial first day included: a stage opened any time on Monday has 7 days on Sunday
    days = 0 if start["start_day"] is None else (as_of - start["start_day"]).days + 1
    full = agent.filter(pl.col("day") > first).tail(7)
    both = full.select("day", "n").join(human.select("day", pl.col("n").alias("h")), on="day")
    agent_per_day = float(full["n"].mean()) if full.height else start["share"] * charter.traffic.daily_interactions
    total_per_day = float((both["n"] + both["h"]).mean()) if both.height else charter.traffic.daily_interactions
    last = counts.daily.filter(pl.col("day") <= as_of)["day"].max()
    return StageView(
        charter=charter, as_of=as_of, share=start["share"], started=started, started_day=start["start_day"],
        change=start["kind"], days_at_stage=days, agent=agent, human=human,
        srm_agent=int(at_share.filter(pl.col("arm") == "agent")["n"].sum()), srm_total=int(at_share["n"].sum()),
        last_data_day=last, agent_per_day=agent_per_day, total_per_day=total_per_day,
        guardrail_columns=counts.guardrail_columns, incidents=stage_incidents(counts.incidents, started, as_of),
        live=live_on(counts.versions, as_of), has_evals=counts.has_evals,
    )
