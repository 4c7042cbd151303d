"""Supervision: the improvement loop once the agent serves 100% of traffic — sampled review, incident log,
rollback drills and the weekly agenda.

`page(ws, as_of=...)` computes every part once: the weekly review sample against the charter's
`supervision.sample_rate`, the reviewed agent_worse and failure-mode rates with their alerts (as checks), the
incident log and who caught each incident, the measured rollback drills against the 60-second target, and the
agenda of the weekly improvement meeting; after 100% also the human-only path against the charter's
`human_path.min_daily_interactions` (a `human_path` check), the rollback drills practised before the flag first
reached 100% and since, and the ladder stage each incident was caught at. A part whose table is missing is a
`Missing` note, and so are the review sample, its rates and the human path before the agent reaches 100%.
`agentops_scale` counts a portfolio's production load.

Canary traffic is read only through `canary.daily_counts` (rows or `canary_daily` counts alike): the sample rate's
denominator, the daily agent and human volumes and the monthly tasks are the same from either. Matching a review to
its interaction needs the rows; with counts only the page says so. No incident summary and no interaction id
reaches the page or its JSON.

Supervision reviews are `reviews` rows with `phase == "supervision"` (when the table has no `phase` column: the
reviews whose interaction_id is a canary interaction). Every weekly figure is bucketed by the week of the
*interaction*, so the sample rate is reviewed interactions over agent interactions of the same week. The alerts
use a confidence sequence, valid at every weekly look, so an alert is not an artefact of looking often.
"""

from rolloutkit.supervision._drills import drill_status, drills
from rolloutkit.supervision._incidents import incident_log, incident_markers, incident_summary
from rolloutkit.supervision._page import SupervisionPage, page
from rolloutkit.supervision._results import (
    AGENT_WORSE,
    SLUG,
    TARGET_SECONDS,
    TITLE,
    AgentLoad,
    AgentOpsScale,
    DrillStatus,
)
from rolloutkit.supervision._reviews import alerts, review_rates, sample_rate, supervision_start
from rolloutkit.supervision._scale import agentops_scale

__all__ = [
    "AGENT_WORSE", "SLUG", "TARGET_SECONDS", "TITLE", "AgentLoad", "AgentOpsScale", "DrillStatus", "SupervisionPage",
    "agentops_scale", "alerts", "drill_status", "drills", "incident_log", "incident_markers", "incident_summary",
    "page", "review_rates", "sample_rate", "supervision_start",
]
