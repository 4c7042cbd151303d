"""One `Check` for every phase: a named test of the evidence, its status, its numbers and one plain sentence.

The shadow gate, canary readiness and the supervision alerts all report checks in this shape, and every
`--json` writes them with `Check.to_dict()`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from rolloutkit.text import number, pct

Status = Literal["pass", "fail", "insufficient"]
OnFail = Literal["rollback", "hold"]

#: Check names in words for pages; the raw name stays in JSON. Names with a `:<mode>` suffix add the mode.
LABELS = {
    "zero_tolerance": "Zero tolerance",
    "failure_rate": "Failure rate",
    "success_noninferiority": "Success vs humans",
    "trigger": "Rollback trigger",
    "guardrails": "Guardrails",
    "srm": "Traffic split",
    "bake_time": "Days at stage",
    "stability": "Stable daily rates",
    "freshness": "Data freshness",
    "min_weeks": "Weeks in shadow",
    "reviews_per_week": "Reviews each week",
    "agent_worse_rate": "Agent worse than human",
    "failure_mode": "Failure mode in review",
    "incidents": "Open incidents",
    "eval_regressions": "Eval regressions",
    "human_path": "Human-only path kept warm",
}


@dataclass(frozen=True, kw_only=True)
class Check:
    name: str
    status: Status
    estimate: float | None = None
    lower: float | None = None
    upper: float | None = None
    threshold: float | None = None
    #: What the check found, in one plain sentence.
    sentence: str
    #: What a failure leads to: a rollback, or a hold until it passes.
    on_fail: OnFail = "hold"
    #: Days until this check can pass at today's traffic and observed rates; None when it cannot be said.
    days_needed: int | None = None

    @property
    def label(self) -> str:
        """The check's name in words: "failure_rate:wrong_route" → "Failure rate: wrong_route"."""
        kind, _, detail = self.name.partition(":")
        words = LABELS.get(kind, kind.replace("_", " ").capitalize())
        return f"{words}: {detail}" if detail else words

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "label": self.label, "status": self.status,
            "estimate": number(self.estimate), "lower": number(self.lower), "upper": number(self.upper),
            "threshold": number(self.threshold), "sentence": self.sentence, "on_fail": self.on_fail,
            "days_needed": self.days_needed,
        }


def find(checks: tuple[Check, ...] | list[Check], name: str) -> Check:
    """The check called `name` among `checks`; a KeyError lists the names there are."""
    for check in checks:
        if check.name == name:
            return check
    raise KeyError(f"no check {name!r}; checks are {', '.join(c.name for c in checks)}")


def table(checks: tuple[Check, ...] | list[Check]) -> pl.DataFrame:
    """Checks of rates as a table for a page: the check in words, its status, its numbers as percentages (no
    `6.98e-05`), days needed and sentence; the raw numbers stay in the JSON (`Check.to_dict`)."""
    schema = {"check": pl.String, "status": pl.String, "estimate": pl.String, "lower": pl.String,
              "upper": pl.String, "threshold": pl.String, "days_needed": pl.Int64, "sentence": pl.String}
    rows = [{"check": c.label, "status": c.status, "estimate": pct(c.estimate), "lower": pct(c.lower),
             "upper": pct(c.upper), "threshold": pct(c.threshold), "days_needed": c.days_needed,
             "sentence": c.sentence} for c in checks]
    return pl.DataFrame(rows, schema=schema)
