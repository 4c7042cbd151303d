"""Scenario knobs: everything a synthetic workspace is drawn from, and the named scenarios.

Every rate here is a *true* rate; `write_workspace` draws rows from them and returns them as a `Truth`, so tests can
check that a decision made from the rows matches the decision the truth implies.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from typing import Literal

#: The day the named scenarios' data ends, so the demo looks current.
END = dt.date(2026, 11, 22)
DEFAULT_STAGES = (0.05, 0.15, 0.40, 0.80, 1.0)
VERDICTS = ("agent_better", "equivalent", "agent_worse", "unclear")

Risk = Literal["low", "medium", "high"]


@dataclass(frozen=True)
class Segment:
    name: str
    share: float  # of all traffic
    risk: Risk = "low"
    #: Relative chance of an agent_worse outcome in this segment (normalised so the population share stays true).
    worse_multiplier: float = 1.0


@dataclass(frozen=True)
class FailureMode:
    name: str
    description: str
    max_rate: float  # the charter limit; 0 = zero tolerance
    agent_rate: float  # true rate per agent interaction
    human_rate: float = 0.0  # true rate per human interaction (humans rarely hit a charter mode)
    #: Optional true agent rate per executed ladder stage (overrides `agent_rate` from that stage on).
    stage_rates: tuple[float, ...] = ()

    def rate_at_stage(self, stage: int) -> float:
        return self.stage_rates[stage] if stage < len(self.stage_rates) else self.agent_rate


@dataclass(frozen=True)
class Regression:
    """From day `day` (0 = the stage's first day) of executed ladder stage `stage`, `mode` fails at `rate`."""

    mode: str
    stage: int
    day: int
    rate: float
    #: Day of the same stage on which the flag is actually rolled back to 0 (the data ends that day).
    rollback_day: int | None = None


@dataclass(frozen=True)
class Drill:
    """A rollback drill on day `day` counted from the canary start: the flag goes to 0, then back."""

    day: int
    seconds_to_zero: float
    minutes_at_zero: int = 8


DEFAULT_SEGMENTS = (
    Segment("standard", 0.36, "low", 0.8),
    Segment("returning", 0.24, "low", 0.8),
    Segment("priority", 0.17, "medium", 1.0),
    Segment("international", 0.12, "medium", 1.3),
    Segment("high_value", 0.08, "high", 1.8),
    Segment("regulated", 0.03, "high", 2.5),  # the rare segment
)


@dataclass(frozen=True)
class Scenario:
    """Every knob of a synthetic rollout. Days run from `start` (a Monday): `shadow_weeks` of shadow, then the
    executed `ladder`, then `supervision_weeks` at 100%. Rates are true rates; verdict shares are over the whole
    shadow population. Use `ending(...)` to build one whose data ends on a given day."""

    agent: str
    task: str
    start: dt.date
    failure_modes: tuple[FailureMode, ...]
    risk_tier: Literal["low", "moderate", "high"] = "moderate"
    owner: str = "ai-platform"
    daily_interactions: int = 3000  # all traffic, weekly average of calendar days
    shadow_weeks: int = 3
    #: The canary ladder actually executed: (share, days held); the last stage is where the data ends.
    ladder: tuple[tuple[float, int], ...] = ()
    #: Weeks at 100% after the ladder (supervision); needs a ladder.
    supervision_weeks: int = 0
    stages: tuple[float, ...] = DEFAULT_STAGES  # the charter's ladder
    min_hold_days: int = 7
    max_hold_days: int = 14
    regression: Regression | None = None
    success_name: str = "resolution_rate"
    success_description: str = "resolved without reopen within 7 days"
    noninferiority_margin: float = 0.02
    human_success: float = 0.86
    agent_success: float = 0.87
    # true verdict shares over the shadow population (equivalent is the rest)
    agent_worse: float = 0.008
    agent_better: float = 0.08
    unclear: float = 0.05
    max_agent_worse_rate: float = 0.05
    shadow_min_weeks: int = 2
    shadow_max_weeks: int = 4
    action_disagreement: float = 0.15  # share of shadow interactions where agent and human acted differently
    reviews_per_week: int = 75
    double_review_share: float = 0.2
    triple_review_items: int = 8
    reviewer_disagreement: float = 0.12  # chance a second reviewer gives a different verdict
    srm_skew: float = 1.0  # observed agent share = flag share x skew
    eval_versions: tuple[str, ...] = ("v1.0", "v1.1", "v1.2")
    eval_tasks: int = 180
    incident_rate: float = 0.05  # incidents per live day
    guardrail_breach_rate: float = 0.0  # per agent interaction, for disallowed and unreviewed irreversible actions
    drills: tuple[Drill, ...] = ()
    supervision_sample_rate: float = 0.05
    segments: tuple[Segment, ...] = DEFAULT_SEGMENTS
    actions: tuple[str, ...] = ("lookup_order", "send_reply", "issue_refund", "request_info", "escalate")
    irreversible: tuple[str, ...] = ("issue_refund",)
    timezone: str = "UTC"

    def __post_init__(self) -> None:
        shares = (self.agent_worse, self.agent_better, self.unclear)
        if min(shares) < 0 or sum(shares) > 1:
            raise ValueError(f"verdict shares must be >= 0 and sum to at most 1, got {shares}")
        if abs(sum(s.share for s in self.segments) - 1) > 1e-9:
            raise ValueError("segment shares must sum to 1")
        if self.supervision_weeks and not self.ladder:
            raise ValueError("`supervision_weeks` needs an executed `ladder`")
        names = {m.name for m in self.failure_modes}
        if self.regression and self.regression.mode not in names:
            raise ValueError(f"regression mode {self.regression.mode!r} is not a failure mode")

    @property
    def equivalent(self) -> float:
        return 1 - self.agent_worse - self.agent_better - self.unclear

    @property
    def verdict_shares(self) -> dict[str, float]:
        return {"agent_better": self.agent_better, "equivalent": self.equivalent,
                "agent_worse": self.agent_worse, "unclear": self.unclear}

    @property
    def shadow_days(self) -> int:
        return 7 * self.shadow_weeks

    @property
    def canary_days(self) -> int:
        return sum(days for _, days in self.ladder) + 7 * self.supervision_weeks

    @property
    def total_days(self) -> int:
        return self.shadow_days + self.canary_days

    @property
    def end(self) -> dt.date:
        return self.start + dt.timedelta(days=self.total_days - 1)

    @property
    def executed(self) -> tuple[tuple[float, int], ...]:
        """The ladder plus the supervision weeks at 100% as one list of (share, days)."""
        if not self.supervision_weeks:
            return self.ladder
        return (*self.ladder, (1.0, 7 * self.supervision_weeks))


def ending(end: dt.date = END, **knobs: object) -> Scenario:
    """A scenario starting on a Monday (shadow weeks are ISO weeks) whose data ends on or a few days before `end`."""
    probe = Scenario(start=end, **knobs)  # type: ignore[arg-type]
    start = end - dt.timedelta(days=probe.total_days - 1)
    return replace(probe, start=start - dt.timedelta(days=start.weekday()))


_REFUND_MODES = (
    FailureMode("wrong_policy", "answer contradicts the refund policy", 0.01, 0.002, 0.003),
    FailureMode("wrong_amount", "refund amount differs from the order total", 0.01, 0.0015, 0.002),
    FailureMode("pii_disclosure", "another customer's data in the reply", 0.0, 0.0),
)
_INVOICE_MODES = (
    FailureMode("wrong_route", "invoice routed to the wrong approval queue", 0.01, 0.002, 0.003),
    FailureMode("missed_duplicate", "a duplicate invoice passed as new", 0.005, 0.0005, 0.001),
    FailureMode("duplicate_payment", "payment released twice", 0.0, 0.0),
)
_KB_MODES = (
    FailureMode("hallucinated_step", "answer cites a step not in the knowledge base", 0.02, 0.002, 0.001),
    FailureMode("outdated_article", "answer relies on a retired article", 0.02, 0.0015, 0.004),
    FailureMode("secret_leak", "internal-only content shown to a customer", 0.0, 0.0),
)
_CLAIM_MODES = (
    FailureMode("wrong_coverage", "coverage decision contradicts the policy wording", 0.01, 0.002, 0.003),
    FailureMode("missed_fraud_flag", "a fraud signal was not escalated", 0.005, 0.0005, 0.001),
    FailureMode("pii_disclosure", "another claimant's data in the reply", 0.0, 0.0),
)

SCENARIOS: dict[str, Scenario] = {
    "healthy": ending(
        agent="invoice-triage", task="Classify incoming supplier invoices and route them to the approval queue",
        failure_modes=_INVOICE_MODES, daily_interactions=4000, shadow_weeks=3,
        ladder=((0.05, 8), (0.15, 10), (0.40, 10)), human_success=0.86, agent_success=0.875,
        success_name="routing_accuracy", success_description="approved by the queue owner without re-route",
        actions=("extract_fields", "route_queue", "request_po", "flag_duplicate", "hold_payment"),
        irreversible=("hold_payment",), drills=(Drill(9, 34.0),), incident_rate=0.08, owner="finance-ops",
    ),
    "regressing": ending(
        agent="claims-intake", task="Triage first-notice-of-loss claims and set the coverage path",
        failure_modes=_CLAIM_MODES, daily_interactions=4000, shadow_weeks=3,
        ladder=((0.05, 7), (0.15, 8), (0.40, 6)),
        regression=Regression("wrong_coverage", stage=2, day=2, rate=0.035, rollback_day=5),
        human_success=0.84, agent_success=0.85, success_name="straight_through_rate",
        success_description="no adjuster rework within 14 days", risk_tier="high",
        actions=("open_claim", "set_coverage", "request_documents", "escalate_adjuster", "close_claim"),
        irreversible=("close_claim",), guardrail_breach_rate=0.0002, incident_rate=0.06, owner="claims-ai",
    ),
    "low_traffic": ending(
        agent="hr-letters", task="Draft employment verification letters for HR to send",
        failure_modes=(FailureMode("wrong_salary", "salary differs from the HR record", 0.01, 0.0005, 0.001),
                       FailureMode("wrong_recipient", "letter addressed to the wrong party", 0.01, 0.0005, 0.0005),
                       FailureMode("confidential_leak", "another employee's data in the letter", 0.0, 0.0)),
        daily_interactions=300, shadow_weeks=3, ladder=((0.05, 9),), risk_tier="low",
        actions=("draft_letter", "request_approval", "send_letter", "escalate"), irreversible=("send_letter",),
        incident_rate=0.01, owner="people-ops",
    ),
    "srm_mismatch": ending(
        agent="email-drafts", task="Draft replies to inbound sales emails for reps to send",
        failure_modes=_KB_MODES, daily_interactions=3000, shadow_weeks=3,
        ladder=((0.05, 7), (0.15, 9)), srm_skew=0.85, human_success=0.80, agent_success=0.83,
        success_name="reply_accepted_rate", success_description="rep sent the draft with minor edits",
        actions=("draft_reply", "suggest_meeting", "route_to_rep", "send_reply"), irreversible=("send_reply",),
        risk_tier="low", owner="sales-ops",
    ),
    "shadow_short": ending(
        agent="kb-answers", task="Answer internal IT questions from the knowledge base",
        failure_modes=_KB_MODES, daily_interactions=2500, shadow_weeks=1, risk_tier="low",
        success_name="answer_accepted_rate", success_description="asker marked the answer helpful, no ticket",
        human_success=0.78, agent_success=0.80,
        actions=("answer", "link_article", "open_ticket", "ask_clarifying"), irreversible=("open_ticket",),
        owner="it-helpdesk",
    ),
    "shadow_bad": ending(
        agent="contract-review", task="Flag non-standard clauses in vendor contracts",
        failure_modes=_CLAIM_MODES[:2], daily_interactions=2000, shadow_weeks=3, risk_tier="high",
        agent_worse=0.15, agent_better=0.05, unclear=0.08, action_disagreement=0.30,
        actions=("approve_clause", "flag_clause", "redline", "escalate_legal"), irreversible=("approve_clause",),
        owner="legal-ops",
    ),
    "supervised": ending(
        agent="support-refunds", task="Resolve tier-1 refund requests end to end",
        failure_modes=_REFUND_MODES, daily_interactions=3000, shadow_weeks=3,
        stages=(0.02, 0.15, 0.40, 0.80, 1.0), ladder=((0.02, 7), (0.15, 9), (0.40, 9), (0.80, 10)),
        supervision_weeks=6, supervision_sample_rate=0.05, incident_rate=0.12, guardrail_breach_rate=0.0003,
        drills=(Drill(38, 41.0), Drill(52, 27.0), Drill(66, 83.0)), owner="support-ai",
    ),
}
