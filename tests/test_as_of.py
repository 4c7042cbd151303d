"""As of means as of (issue 13): a workspace cut at day D — every table's rows dated on or before D, what a kept row
records of later events (an incident's `closed_at`) unknown yet — gives the same readiness, shadow gate, plan, phase
headlines and memo as the whole workspace asked about D. Each demo workspace and each synthetic scenario, at a day a
third and two thirds into its data."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import rolloutkit as rk
from rolloutkit import canary, load_workspace, memo, paths, shadow, synth, timeline

#: The column each table is dated by.
STAMPS = {"canary": "ts", "shadow": "ts", "reviews": "reviewed_at", "flags": "ts", "evals": "run_at",
          "incidents": "opened_at"}
DEMOS = sorted(p.name for p in paths.DEMO_DIR.iterdir() if (p / "charter.yaml").is_file())
WORKSPACES = [*(f"demo/{name}" for name in DEMOS), *(f"synth/{name}" for name in synth.SCENARIOS)]


def _truncate(source: Path, target: Path, day: dt.date) -> Path:
    """A copy of the workspace as it stood at the end of `day`, written from the files themselves: each table's
    rows whose stamp falls on or before `day` in the charter's zone (a table left with none is left out, as the
    contract asks), an incident closed after `day` still open, the charter as it is."""
    zone = load_workspace(source).charter.timezone
    target.mkdir(parents=True)
    shutil.copy(source / "charter.yaml", target / "charter.yaml")
    for name, stamp in STAMPS.items():
        file = source / f"{name}.parquet"
        if not file.exists():
            continue
        rows = pl.read_parquet(file)

        def local_day(column: str, frame: pl.DataFrame = rows) -> pl.Expr:
            utc = pl.col(column) if frame.schema[column].time_zone else pl.col(column).dt.replace_time_zone("UTC")
            return utc.dt.convert_time_zone(zone).dt.date()

        rows = rows.filter(local_day(stamp) <= day)
        if "closed_at" in rows.columns:
            rows = rows.with_columns(closed_at=pl.when(local_day("closed_at") <= day).then(pl.col("closed_at")))
        if rows.height:
            rows.write_parquet(target / f"{name}.parquet")
    return target


def _results(ws: rk.Workspace, day: dt.date) -> dict[str, Any]:
    """What the CLI and the weekly run say about `day`: readiness, shadow gate and plan JSON (or the error), each
    phase's headline, the memo's changes, freshness and daily interactions."""
    found: dict[str, Any] = {}
    for key, compute in (("readiness", canary.readiness), ("shadow", shadow.gate), ("plan", timeline.plan)):
        try:
            found[key] = compute(ws, as_of=day).to_dict()
        except rk.RolloutkitError as exc:
            found[key] = f"error: {exc}"
    week = memo.page(ws, as_of=day)
    found["headlines"] = {h.page: h.to_dict() for h in week.headlines}
    found["changes"] = week.changes
    found["freshness"] = week.freshness.drop("file").to_dicts()
    found["interactions_per_day"] = week.interactions_per_day.to_dicts()
    return json.loads(json.dumps(found, default=str))


def _differences(full: Any, cut: Any, where: str = "") -> list[str]:
    """Where two JSON values differ, leaf by leaf."""
    if isinstance(full, dict) and isinstance(cut, dict):
        return [d for k in sorted(set(full) | set(cut)) if full.get(k) != cut.get(k)
                for d in _differences(full.get(k), cut.get(k), f"{where}.{k}")]
    if isinstance(full, list) and isinstance(cut, list) and len(full) == len(cut):
        return [d for i, (a, b) in enumerate(zip(full, cut, strict=True)) if a != b
                for d in _differences(a, b, f"{where}[{i}]")]
    return [f"{where}: full {json.dumps(full)[:200]} vs cut {json.dumps(cut)[:200]}"]


@pytest.fixture(scope="module")
def sources(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("synth")
    found = {f"demo/{name}": paths.DEMO_DIR / name for name in DEMOS}
    for name in synth.SCENARIOS:
        synth.write_workspace(folder / name, name, seed=0)
        found[f"synth/{name}"] = folder / name
    return found


def _days(ws: rk.Workspace) -> tuple[dt.date, dt.date]:
    spans = ws.inventory().drop_nulls("first_day")
    first, last = spans["first_day"].min(), spans["last_day"].max()
    return first + (last - first) / 3, first + 2 * (last - first) / 3


@pytest.mark.slow
@pytest.mark.parametrize("name", WORKSPACES)
def test_a_truncated_copy_says_the_same(name: str, sources: dict[str, Path], tmp_path: Path) -> None:
    whole = load_workspace(sources[name])
    for day in _days(whole):
        cut = load_workspace(_truncate(sources[name], tmp_path / day.isoformat() / sources[name].name, day))
        assert cut.last_day() <= day
        differences = _differences(_results(whole, day), _results(cut, day))
        assert not differences, f"{name} as of {day}:\n" + "\n".join(differences[:12])


def test_the_cut_forgets_what_happened_later(sources: dict[str, Path]) -> None:
    """The helper every phase reads through: rows after the day gone, a table without rows absent, an incident
    closed after the day open; cutting again at a later day changes nothing."""
    ws = load_workspace(sources["synth/supervised"])
    incidents = ws.table("incidents").collect()
    closed = incidents.drop_nulls("closed_at").sort("opened_at").row(0, named=True)
    day = closed["day"]
    assert closed["closed_at"].date() > day  # closed on a later day than it opened
    cut = ws.cut(day)
    assert cut.cut_day == day and cut.cut(day + dt.timedelta(days=30)) is cut
    assert all(cut.table(name).select(pl.col("day").max()).collect().item() <= day for name in cut.sources)
    assert cut.table("incidents").filter(pl.col("incident_id") == closed["incident_id"]).collect()["closed_at"] \
        .to_list() == [None]
    before = ws.cut(ws.inventory()["first_day"].min())
    assert not before.has("canary") and not before.has("incidents")
    assert before.inventory().filter(pl.col("present"))["rows"].sum() < ws.inventory()["rows"].sum()


def test_a_workspace_and_its_cuts_remember_their_daily_counts_together(sources: dict[str, Path]) -> None:
    """The pages of one week ask for the same canary counts; a cut and the workspace it came from share them, by
    the day they agree on, and a day the rows after which differ is counted anew."""
    ws = load_workspace(sources["synth/healthy"])
    day = ws.last_day() - dt.timedelta(days=5)
    cut = ws.cut(day)
    first = canary.daily_counts(cut, as_of=day)
    assert canary.daily_counts(ws, as_of=day) is first and canary.daily_counts(cut) is first
    # asked about a later day, the cut knows only its rows: the same answer as the workspace as of its day
    assert canary.daily_counts(cut, as_of=day + dt.timedelta(days=3)) is first
    later = canary.daily_counts(ws, as_of=day + dt.timedelta(days=3))
    assert later is not first and later["day"].max() > first["day"].max()
    assert canary.daily_counts(load_workspace(sources["synth/healthy"]), as_of=day).equals(first)
