"""The shadow phase: agent vs human on real traffic, weighted review verdicts, the human noise floor and the
gate.

`page(ws)` gathers everything the shadow_comparison notebook shows, once, and never raises for a missing table;
`gate(ws)` decides ready_for_canary / continue_shadow / not_ready from the charter (the `rolloutkit shadow`
command); `draw_sample(ws, week=...)` draws the week's review sample (`rolloutkit sample`);
`regressions_to_evals(...)` turns agent_worse reviews into eval tasks. `review_items`, `verdict_shares`,
`finding_shares` and `reviewer_agreement` are the review arithmetic the page and the timeline share.

Shadow traffic comes as rows (`shadow`) or as daily counts computed where the rows live (`shadow_daily`, beside
or instead of them). `daily_counts(ws)` is the one access point to it: agreement, weeks in shadow and cost come
from counts only, so the gate and the page are the same either way. What needs individual interactions — the
review sample, the lists of outputs, placing a review on its interaction's day — needs the rows, and says so when
there are only counts (without rows, a review counts in the week it was reviewed).

Inside: `_results` (the result types), `_counts` (shadow traffic → daily counts → agreement and cost), `_reviews`
(reviews → verdicts, failure modes, reviewer agreement), `_sampling` (the stratified review sample), `_checks`
(the gate's checks and decision), `_page` (the page object).
"""

from rolloutkit.shadow._checks import gate
from rolloutkit.shadow._counts import agreement, cost_latency, daily_counts
from rolloutkit.shadow._page import ShadowPage, page
from rolloutkit.shadow._results import ALL_WEEKS, SLUG, TITLE, ReviewerAgreement, ReviewItems, ShadowGate
from rolloutkit.shadow._reviews import (
    finding_shares,
    regressions_to_evals,
    review_items,
    reviewer_agreement,
    verdict_shares,
)
from rolloutkit.shadow._sampling import SAMPLE_COLUMNS, draw_sample, sample_population, week_days

__all__ = [
    "ALL_WEEKS",
    "SAMPLE_COLUMNS",
    "SLUG",
    "TITLE",
    "ReviewItems",
    "ReviewerAgreement",
    "ShadowGate",
    "ShadowPage",
    "agreement",
    "cost_latency",
    "daily_counts",
    "draw_sample",
    "finding_shares",
    "gate",
    "page",
    "regressions_to_evals",
    "review_items",
    "reviewer_agreement",
    "sample_population",
    "verdict_shares",
    "week_days",
]
