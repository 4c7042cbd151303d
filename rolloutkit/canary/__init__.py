"""Canary readiness: may traffic expand today? A peeking-safe daily decision — expand, hold or roll back.

`readiness(ws)` reads the canary traffic as daily counts (`daily_counts`, the one access point: the workspace's
`canary_daily` counts when it holds them, else its `canary` rows aggregated in one lazy query to one row per day,
flag segment and arm), finds the stage in force from `flags` (`canary_counts`), runs every check on the stage's
counts and on what the workspace says beside them — an open sev1/sev2 incident opened at the stage, eval-set
regressions of the live agent version against the one run before it — and decides:

- **rollback** if any rollback condition holds: a zero-tolerance failure at this stage, a failure rate whose
  confidence-sequence lower bound is above its limit, a success gap whose upper bound is below −margin, or a
  charter rollback trigger that fired on its trailing window;
- **expand** to `next_stage` only if every check passes;
- **hold** otherwise, with `days_needed` (at today's traffic and observed rates, the days until every blocking
  check can pass) or a plain statement that it will not within `max_hold_days`, whether the next stage's share
  would (never a share beyond it), and what the charter allows when the maximum hold runs out: hold longer with
  the owner's sign-off, or roll back.

At the final stage (100%) there is no next stage: the decision is rollback or hold, `next_stage` is null and the
reasons say the rollout is complete and supervision applies. At 0% (before the canary or after a rollback) the
decision is hold with `next_stage` the first stage of the ladder. A hold at or past `max_hold_days` is `overdue`.
Canary data that ends before `as_of` fails `freshness` and drives the hold: a stopped export must not look fresh.

The live version is the canary's optional `agent_version` column, else the latest eval run's version (a
`canary_daily` has no versions). A regressed `prior_failure` or `adversarial` task holds the stage; typical and
edge tasks flip from run to run, so their regressions hold only with a significant regression overall (the eval
set's own "blocks release") and are otherwise named for review.

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
from rolloutkit.canary._results import CanaryCounts, LiveVersion, Readiness, StageIncident
from rolloutkit.canary._series import failure_bounds, guardrail_breaches, incidents, success_gap, traffic_share

__all__ = [
    "SLUG", "TITLE", "CanaryCounts", "CanaryPage", "LiveVersion", "Readiness", "StageIncident", "canary_counts",
    "counts_from_daily", "daily_counts", "decision_history", "evaluate", "failure_bounds", "guardrail_breaches",
    "incidents", "page", "readiness", "success_gap", "traffic_share", "tuning_n", "tuning_trials",
]
