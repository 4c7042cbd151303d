"""The weekly memo: one headline per rollout phase, collected for the summary page and `summary.json`.

Each phase module exposes `headline(ws, *, as_of) -> Headline`. A phase whose table is missing or whose data is
bad yields a headline saying so, so one broken phase never hides the others.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from rolloutkit.errors import RolloutkitError
from rolloutkit.workspace import MissingTableError, Workspace

Status = Literal["good", "warn", "bad", "info", "missing", "error"]

#: (module, notebook page, title) in reading order.
PHASES = (
    ("shadow", "shadow_comparison", "Shadow comparison"),
    ("canary", "canary_readiness", "Canary readiness"),
    ("timeline", "timeline_planning", "Timeline"),
    ("evalset", "eval_set", "Eval set"),
    ("supervision", "supervision", "Supervision"),
)
NOTEBOOKS = ("summary",) + tuple(page for _, page, _ in PHASES)


@dataclass(frozen=True)
class Headline:
    page: str
    title: str
    status: Status
    sentence: str
    decision: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def headlines(ws: Workspace, *, as_of: dt.date | str | None = None) -> list[Headline]:
    """Every phase's headline for the week ending `as_of`."""
    day = ws.resolve_as_of(as_of)
    return [_headline(module, page, title, ws, day) for module, page, title in PHASES]


def _headline(module: str, page: str, title: str, ws: Workspace, day: dt.date) -> Headline:
    try:
        phase = importlib.import_module(f"rolloutkit.{module}")
        return phase.headline(ws, as_of=day)
    except MissingTableError as exc:
        return Headline(page, title, "missing", f"Not available: {exc}")
    except RolloutkitError as exc:
        return Headline(page, title, "error", f"Could not be computed: {exc}")
