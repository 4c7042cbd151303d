"""The shadow phase's result types: the gate, the resolved reviews and the reviewers' agreement.

A leaf: it imports no computation of the package, so every other module of it can depend on these types.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Literal

import polars as pl

from rolloutkit import stats
from rolloutkit.checks import Check, find
from rolloutkit.text import json_rows, number, pct, plural

#: The phase's notebook and page, and its title on the memo.
SLUG = "shadow_comparison"
TITLE = "Shadow comparison"

Decision = Literal["ready_for_canary", "continue_shadow", "not_ready"]

#: The `week` of the rows pooled over every week.
ALL_WEEKS = "all"
#: The segment of a reviewed interaction that is not in the shadow table.
NOT_IN_SHADOW = "(not in shadow table)"

_STATUS = {"ready_for_canary": "good", "continue_shadow": "warn", "not_ready": "bad"}
_WORDS = {"ready_for_canary": "Ready for canary", "continue_shadow": "Continue shadow", "not_ready": "Not ready"}


@dataclass(frozen=True)
class ReviewItems:
    """One row per reviewed interaction (`items`) and the reviews behind them (`reviews`)."""

    items: pl.DataFrame
    reviews: pl.DataFrame
    #: Reviewed interactions whose inclusion probability was missing and taken as 1.
    imputed: int
    #: Reviews of interactions that are not in the shadow table (kept, with the review's week).
    orphans: int


@dataclass(frozen=True, kw_only=True)
class ReviewerAgreement:
    """Agreement between reviewers on interactions reviewed by two or more people."""

    method: str | None  # "cohen" (exactly two reviewers), "fleiss" (three or more), None (no such items)
    items: int  # interactions the kappa is computed on
    raters: int  # reviewers per interaction in that computation
    multi_reviewed: int  # interactions with two or more reviewers
    kappa: stats.Kappa | None
    #: Share of multi-reviewed interactions where reviewers did not all give one verdict: the noise floor.
    disagreement: stats.Interval

    def to_dict(self) -> dict[str, Any]:
        k = self.kappa
        return {
            "method": self.method,
            "items": self.items,
            "raters": self.raters,
            "multi_reviewed": self.multi_reviewed,
            "kappa": number(k.kappa) if k else None,
            "se": number(k.se) if k else None,
            "lower": number(k.lower) if k else None,
            "upper": number(k.upper) if k else None,
            "observed_agreement": number(k.observed_agreement) if k else None,
            "error": k.error if k else "no_data",
            "disagreement_rate": number(self.disagreement.estimate),
            "disagreement_lower": number(self.disagreement.lower),
            "disagreement_upper": number(self.disagreement.upper),
        }


@dataclass(frozen=True, kw_only=True)
class ShadowGate:
    """The shadow gate as of a day: the decision, its reasons (most important first) and the evidence."""

    agent: str
    as_of: dt.date
    weeks_in_shadow: int
    decision: Decision
    reasons: tuple[str, ...]
    checks: tuple[Check, ...]
    verdicts: pl.DataFrame = field(repr=False)
    agreement: pl.DataFrame = field(repr=False)
    kappa: ReviewerAgreement = field(repr=False)
    confidence: float = 0.95

    @property
    def status(self) -> str:
        return _STATUS[self.decision]

    @property
    def title(self) -> str:
        """The decision in words, e.g. "Ready for canary"."""
        return _WORDS[self.decision]

    @property
    def sentence(self) -> str:
        return f"{self.title} ({plural(self.weeks_in_shadow, 'week')} in shadow): {self.reasons[0]}."

    def check(self, name: str) -> Check:
        return find(self.checks, name)

    def to_dict(self) -> dict[str, Any]:
        overall = self.agreement.filter(pl.col("week") == ALL_WEEKS)
        return {
            "agent": self.agent,
            "as_of": self.as_of.isoformat(),
            "weeks_in_shadow": self.weeks_in_shadow,
            "decision": self.decision,
            "reasons": list(self.reasons),
            "checks": [c.to_dict() for c in self.checks],
            "verdicts": {
                "overall": json_rows(self.verdicts.filter(pl.col("week") == ALL_WEEKS).drop("week")),
                "weeks": json_rows(self.verdicts.filter(pl.col("week") != ALL_WEEKS)),
            },
            "agreement": {
                "overall": json_rows(overall.drop("week"))[0] if overall.height else None,
                "weeks": json_rows(self.agreement.filter(pl.col("week") != ALL_WEEKS)),
            },
            "kappa": self.kappa.to_dict(),
        }

    def describe(self) -> str:
        lines = [
            f"{self.agent}: {self.title.upper()} ({self.decision}) as of {self.as_of.isoformat()}, "
            f"{plural(self.weeks_in_shadow, 'week')} in shadow"
        ]
        lines += [f"  - {reason}" for reason in self.reasons]
        lines.append("checks:")
        lines += [f"  {c.status:<12} {c.label}" for c in self.checks]
        k = self.kappa
        if k.kappa is not None and k.kappa.error is None:
            lines.append(
                f"reviewers: {k.method} kappa {k.kappa.kappa:.2f} on {k.items} interactions, raw agreement "
                f"{pct(k.kappa.observed_agreement)}; disagree on {pct(k.disagreement.estimate)} of "
                f"{k.multi_reviewed} multi-reviewed"
            )
        return "\n".join(lines)


@dataclass(frozen=True, kw_only=True)
class Evidence:
    """What the gate is decided from, and the parts of it only the page shows."""

    gate: ShadowGate
    #: None without a reviews table.
    review: ReviewItems | None
    #: Whether the shadow rows are there (not only their daily counts): the lists of outputs need them.
    rows: bool
    #: The shadow's daily counts as of the day (`daily_counts`).
    daily: pl.DataFrame
    segments: pl.DataFrame
    findings: pl.DataFrame
    notes: tuple[str, ...]
