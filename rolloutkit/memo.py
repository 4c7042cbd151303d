"""The weekly memo: one headline per rollout phase, collected for the summary page and `summary.json`.

`PHASES` is the registry of phase modules in reading order; each declares its page `SLUG` and `TITLE` and
`page(ws, *, as_of)`, whose page object carries the phase's `headline`. A phase whose table is missing says "Not
started" on its own; one whose data is bad, or whose code fails, yields an error headline here, so one broken phase
never hides the others.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from types import ModuleType

import polars as pl

from rolloutkit import canary, evalset, shadow, supervision, timeline
from rolloutkit.charter import Charter
from rolloutkit.errors import RolloutkitError
from rolloutkit.page import Headline
from rolloutkit.workspace import Workspace

#: The phase modules, in the memo's reading order.
PHASES = (shadow, canary, timeline, evalset, supervision)
#: Every page of a week: the memo (the week's index.html) first, then one per phase.
NOTEBOOKS = ("summary",) + tuple(phase.SLUG for phase in PHASES)
#: Page slug → title, for links and the week index.
TITLES = {phase.SLUG: phase.TITLE for phase in PHASES}


@dataclass(frozen=True, kw_only=True)
class MemoPage:
    """Everything the summary page shows, computed once for a workspace and day."""

    workspace: Workspace
    as_of: dt.date
    headlines: list[Headline]
    charter_artifacts: pl.DataFrame
    freshness: pl.DataFrame
    interactions_per_day: pl.DataFrame

    @property
    def titles(self) -> dict[str, str]:
        return dict(TITLES)


def page(ws: Workspace, *, as_of: dt.date | str | None = None) -> MemoPage:
    """The week's memo as of `as_of` (None = the last day with data)."""
    day = ws.resolve_as_of(as_of)
    return MemoPage(workspace=ws, as_of=day, headlines=headlines(ws, as_of=day),
                    charter_artifacts=charter_artifacts(ws.charter), freshness=freshness(ws, as_of=day),
                    interactions_per_day=interactions_per_day(ws, as_of=day))


def headlines(ws: Workspace, *, as_of: dt.date | str | None = None) -> list[Headline]:
    """Every phase's headline for the week ending `as_of`."""
    day = ws.resolve_as_of(as_of)
    return [_headline(phase, ws, day) for phase in PHASES]


def _headline(phase: ModuleType, ws: Workspace, day: dt.date) -> Headline:
    try:
        return phase.page(ws, as_of=day).headline
    except RolloutkitError as exc:
        return Headline(page=phase.SLUG, title=phase.TITLE, status="error", sentence=f"Could not be computed: {exc}")
    except Exception as exc:  # noqa: BLE001 — a bug in one phase must not blank the memo; its own page fails loudly
        return Headline(page=phase.SLUG, title=phase.TITLE, status="error",
                        sentence=f"Could not be computed ({type(exc).__name__}: {exc})")


def charter_artifacts(charter: Charter) -> pl.DataFrame:
    """The charter's four artifacts in plain words, one row each."""
    metric = charter.success_metric
    modes = "; ".join(
        f"{m.name}: {'zero tolerance — any occurrence rolls back' if m.zero_tolerance else f'at most {m.max_rate:.2%}'}"
        + (f" ({m.description})" if m.description else "")
        for m in charter.failure_modes
    )
    return pl.DataFrame({
        "artifact": ["Task", "Success metric", "Intolerable failure modes", "Rollback triggers"],
        "in plain words": [
            charter.task,
            f"{metric.name}" + (f" — {metric.description}" if metric.description else "")
            + f"; the agent may be at most {metric.noninferiority_margin:.1%} (absolute) worse than humans",
            modes,
            "; ".join(f"roll back if {t.label}" for t in charter.rollback_triggers),
        ],
    })


def freshness(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Every contract table: its state, rows, first and last day, and days behind `as_of`.

    Only the traffic streams can be stale: `canary` always, `shadow` until the canary starts (then it has
    `ended`). The other tables are event logs, whose last event may be old without anything being wrong.
    """
    day = ws.resolve_as_of(as_of)
    inventory = ws.inventory()
    canary_start = inventory.filter(pl.col("table") == "canary")["first_day"].item()
    shadow_ended = (pl.col("table") == "shadow") & pl.lit(canary_start is not None) & (
        pl.col("last_day") < pl.lit(canary_start, dtype=pl.Date))
    return inventory.with_columns(
        days_behind=(pl.lit(day) - pl.col("last_day")).dt.total_days(),
    ).with_columns(
        state=pl.when(~pl.col("present")).then(pl.lit("missing"))
        .when(shadow_ended).then(pl.lit("ended (canary began)"))
        .when(~pl.col("table").is_in(["shadow", "canary"])).then(pl.lit("event log"))
        .when(pl.col("days_behind") <= 1).then(pl.lit("fresh"))
        .otherwise(pl.lit("stale")),
    ).select("table", "state", "rows", "first_day", "last_day", "days_behind", "file")


def interactions_per_day(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Daily interactions seen in shadow and in the canary (per arm): `day`, `source`, `interactions`."""
    day = ws.resolve_as_of(as_of)
    frames = []
    if ws.has("shadow"):
        frames.append(ws.table("shadow").filter(pl.col("day") <= day).group_by("day")
                      .agg(pl.len().alias("interactions")).with_columns(source=pl.lit("shadow (agent logged only)")))
    if ws.has("canary"):
        frames.append(ws.table("canary").filter(pl.col("day") <= day).group_by("day", "arm")
                      .agg(pl.len().alias("interactions"))
                      .select("day", "interactions", source=pl.format("live: {} arm", "arm")))
    schema = {"day": pl.Date, "source": pl.String, "interactions": pl.UInt32}
    if not frames:
        return pl.DataFrame(schema=schema)
    tidy = pl.concat([f.select("day", "source", pl.col("interactions").cast(pl.UInt32)) for f in frames])
    return tidy.collect().sort("day", "source")
