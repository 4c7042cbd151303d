"""Canary readiness: may traffic expand today? A peeking-safe daily decision — expand, hold or roll back.

`readiness(ws)` aggregates the canary table to daily counts (`daily_counts`: one lazy query, one row per day,
flag segment and arm), finds the stage in force from `flags` (`canary_counts`), runs every check on the stage's
counts and decides:

- **rollback** if any rollback condition holds: a zero-tolerance failure at this stage, a failure rate whose
  confidence-sequence lower bound is above its limit, a success gap whose upper bound is below −margin, or a
  charter rollback trigger that fired on its trailing window;
- **expand** to `next_stage` only if every check passes;
- **hold** otherwise, with `days_needed` (at today's traffic and observed rates, the days until every blocking
  check can pass) or a plain statement that it will not within `max_hold_days` and which share would get there.

At the final stage (100%) there is no next stage: the decision is rollback or hold, `next_stage` is null and the
reasons say the rollout is complete and supervision applies. At 0% (before the canary or after a rollback) the
decision is hold with `next_stage` the first stage of the ladder. A stage held past `max_hold_days` is `overdue`.

Conventions: `days_at_stage` counts calendar days in the charter's time zone, the stage's first (partial) day
included. Each flag change opens a segment; a ramp up, a step down or a rollback to 0 starts a new stage. A
rollback drill — the flag set to 0 with a drill-like reason ("drill", "exercise", "game day") and restored to the
same share on the same local day — does not restart the stage, a real rollback does. Checks look at the current
stage only: charter triggers over their trailing window within the stage, guardrails and stability over its last
`min_hold_days` days (so a breach holds until that many clean days have passed).

Every decision is computed on daily counts, never on rows: `counts_from_daily` builds the same `CanaryCounts`
from daily counts computed elsewhere (a warehouse's `canary_daily`). `page(ws)` is everything the readiness page
shows, computed once.
"""

from rolloutkit.canary._checks import tuning_n, tuning_trials
from rolloutkit.canary._counts import canary_counts, counts_from_daily, daily_counts
from rolloutkit.canary._decision import decision_history, evaluate, readiness
from rolloutkit.canary._page import SLUG, TITLE, CanaryPage, page
from rolloutkit.canary._results import CanaryCounts, Readiness
from rolloutkit.canary._series import failure_bounds, guardrail_breaches, incidents, success_gap, traffic_share

__all__ = [
    "SLUG", "TITLE", "CanaryCounts", "CanaryPage", "Readiness", "canary_counts", "counts_from_daily", "daily_counts",
    "decision_history", "evaluate", "failure_bounds", "guardrail_breaches", "incidents", "page", "readiness",
    "success_gap", "traffic_share", "tuning_n", "tuning_trials",
]
