"""Timeline planning: when will the agent be at 100%? A plan driven by sample sizes, not guesses.

Phases, in order (each phase's `end` is the day the next one starts):

1. **Charter and eval set** — 3 days for a low-risk agent, 7 for moderate, 14 for high (sign-offs take longer).
2. **Shadow** — by risk tier:
   - low: compressed to 7 days, or 3 days when the charter's `shadow.min_weeks` is 0 (an internal tool);
   - moderate: the weeks of reviews (at `shadow.reviews_per_week`) an exact binomial test needs to show the
     agent-worse rate below `shadow.max_agent_worse_rate` at its expected rate, kept within
     `shadow.min_weeks`..`shadow.max_weeks`;
   - high: always `shadow.max_weeks`.
3. **Each canary stage** below 100% — max(`canary.min_hold_days`, the days of traffic at the stage's share the
   evidence needs): for each failure mode with a non-zero limit, the agent trials until the beta-binomial
   confidence sequence's upper bound falls below `max_rate` when failures come at the expected rate
   (`stats.trials_until_upper_below`), and for the success metric, the trials until the lower bound of the
   difference sequence is above −margin (`stats.trials_until_diff_above`). Same sequences, alpha and tuning as
   `canary.readiness` (`canary.tuning_trials` and `canary.tuning_n`, evaluated at the planned traffic), so the
   planned day and the day readiness first passes agree.
   A stage whose evidence needs more than `max_hold_days` keeps its evidence days and gets a warning saying which
   first share or daily traffic would fit; a stage that can never pass (expected rate at or above the limit)
   is planned at `max_hold_days` and the plan is marked infeasible.
4. **100% under supervision** — the first 90 days, the riskiest, are shown but not counted in the total.

Expected rates come from the shadow reviews where they exist — each failure mode's and agent-worse's share of
reviewed interactions weighted by 1 / inclusion probability, as on the shadow page (`shadow.finding_shares`), pulled
towards half the limit by one pseudo-failure (a prior worth 2 / limit reviews: a few hundred reviews see only a
handful of rare failures) — else from the charter: each failure mode at half its limit. The agent's success is
planned equal to the humans' (the usual non-inferiority design assumption; review verdicts do not measure the
success metric), the human success rate from the canary's human arm (its daily counts), else 0.85.

**The plan follows what happened.** `plan(ws)` starts from that plan as made at the start and replaces what the
data has overtaken: the phases that ran take their actual dates, each ending on the day the next began (the charter
and eval set from the first eval run, shadow from the shadow table's first day, each canary stage from the first
day the flag reached it; earlier canary attempts that ended at 0% make one "canary, rolled back" phase); a phase
with no data while a later one already started is skipped (0 days, and its why says so: "skipped: no shadow data,
the canary began on …"); the current canary stage ends the day after canary readiness expects to say expand
(tomorrow when it says expand today, after its `days_needed` when it holds; its planned length, never before
tomorrow, when readiness cannot say), any other current phase after its planned length; the rest as planned. Ahead
or behind (`progress`) is that plan's 100% day against the plan made at the start with the same phases skipped, so a
canary-only workspace is not "ahead" by a shadow that never ran. Warnings are only about the current phase and those
still to come.

As of a day, the plan and the progress read only rows dated on or before it (eval runs, shadow, reviews, flags, and
the canary's traffic — its human arm, first day and readiness — through `canary.daily_counts`, so the plan is the
same from `canary` rows as from `canary_daily` counts); a page re-rendered for a past week does not change when
later rows arrive; the plan still starts on the first day with data.

`page(ws, as_of=...)` gives the whole page at once (`TimelinePage`), its `headline` the memo's line;
`plan(ws)` the plan alone (the CLI's `rolloutkit plan`), `plan_from_charter` the planner without a workspace,
`what_if_grid` that planner over other volumes, risk tiers and first stages (`current` marks the charter's own).
"""

from rolloutkit.timeline._follow import plan
from rolloutkit.timeline._page import SLUG, TITLE, TimelinePage, page
from rolloutkit.timeline._plan import (
    assumptions,
    default_first_shares,
    default_volumes,
    plan_from_charter,
    what_if_grid,
)
from rolloutkit.timeline._progress import progress
from rolloutkit.timeline._results import TYPICAL_WEEKS, Assumptions, Evidence, Phase, Plan, Progress

__all__ = [
    "SLUG", "TITLE", "TYPICAL_WEEKS", "Assumptions", "Evidence", "Phase", "Plan", "Progress", "TimelinePage",
    "assumptions", "default_first_shares", "default_volumes", "page", "plan", "plan_from_charter", "progress",
    "what_if_grid",
]
