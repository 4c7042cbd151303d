"""What every phase page is made of: its `Headline` for the memo, and `Missing` for what it cannot show.

Each phase package (`shadow`, `canary`, `timeline`, `evalset`, `supervision`) declares `SLUG` and `TITLE` and
one call, `page(ws, *, as_of=None)`, that returns its page object. A page never raises for a missing table: the
parts it cannot compute are `Missing` values, which a notebook shows as a note saying what is missing and what to
do, and which the chart builders pass through unchanged. So every notebook cell is one sentence.

This module is a leaf: it imports no computation, so phases, the memo and the renderers can all depend on it.
"""

from __future__ import annotations

import html
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Protocol

Status = Literal["good", "warn", "bad", "info", "missing", "error"]


@dataclass(frozen=True, kw_only=True)
class Headline:
    """A phase's line in the weekly memo: its status colour, its decision and one sentence."""

    page: str
    title: str
    status: Status
    sentence: str
    decision: str | None = None
    #: The page banner's title: the decision in words ("Expand 40% → 80%"); the phase title when empty.
    heading: str = ""
    details: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Missing:
    """Stands in for a table or chart a page cannot show: what is missing, and what would fill it."""

    what: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.what} {self.fix}".strip()

    def _repr_html_(self) -> str:
        return f"<p class='rk-note'>{html.escape(str(self))}</p>"


def missing_table(table: str, *, fix: str | None = None) -> Missing:
    """The standard note for a workspace without `table`."""
    return Missing(f"This workspace has no `{table}` table yet.",
                   fix or f"Add {table}.parquet, {table}.csv, {table}.ndjson or a folder {table}/ to the workspace.")


def missing_headline(slug: str, title: str, missing: Missing) -> Headline:
    """The memo line of a phase that has not started."""
    what = missing.what[:1].lower() + missing.what[1:]
    return Headline(page=slug, title=title, status="missing", sentence=f"Not started: {what}")


class Page(Protocol):
    """What the memo and the notebooks rely on in every phase's page object."""

    @property
    def headline(self) -> Headline: ...
