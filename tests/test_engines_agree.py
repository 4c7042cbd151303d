"""Engines agree (issue 10): on every synthetic scenario, the readiness, shadow gate, plan and supervision JSON are the
same from the rows as from the daily counts of polars, DuckDB and Spark, written in place of the rows."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

import rolloutkit as rk
from rolloutkit import canary, counts, load_workspace, shadow, supervision, synth, timeline

ENGINES = ("polars", "duckdb", "spark")
#: Supervision keys that need the canary rows and say so on the page (reviews matched to canary interactions).
ROW_ONLY = ("reviews_matched", "unmatched_reviews")


def _decisions(folder: Path) -> dict[str, Any]:
    ws = load_workspace(folder)
    found: dict[str, Any] = {}
    for key, compute in (("readiness", canary.readiness), ("shadow", shadow.gate), ("plan", timeline.plan)):
        try:
            found[key] = compute(ws).to_dict()
        except rk.MissingTableError as exc:
            found[key] = f"missing: {exc.table}"
    found["supervision"] = supervision.page(ws).headline.to_dict()
    return json.loads(json.dumps(found, default=str))


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("rows")
    for name in synth.SCENARIOS:
        synth.write_workspace(folder / name, name, seed=0)
    return {name: folder / name for name in synth.SCENARIOS}


@pytest.fixture(scope="module")
def from_rows(scenarios: dict[str, Path]) -> dict[str, dict[str, Any]]:
    return {name: _decisions(folder) for name, folder in scenarios.items()}


def _counts_copy(rows: Path, target: Path, engine: str, spark: Any) -> Path:
    """The workspace with its canary and shadow rows replaced by the engine's daily counts of them."""
    ws = load_workspace(rows)
    computed = [counts.compute(ws, table, engine=engine, spark=spark) for table, source in
                (("canary_daily", "canary"), ("shadow_daily", "shadow")) if ws.has(source)]
    shutil.copytree(rows, target)
    for name in ("canary", "shadow"):
        (target / f"{name}.parquet").unlink(missing_ok=True)
    for found in computed:
        found.frame.write_parquet(target / f"{found.table}.parquet")
    return target


@pytest.mark.slow
@pytest.mark.parametrize("engine", ENGINES)
def test_every_decision_is_the_same_from_counts(engine: str, scenarios: dict[str, Path],
                                                from_rows: dict[str, dict[str, Any]], tmp_path: Path,
                                                request: pytest.FixtureRequest) -> None:
    spark = request.getfixturevalue("spark") if engine == "spark" else None
    for name, rows in scenarios.items():
        folder = _counts_copy(rows, tmp_path / name, engine, spark)
        ws = load_workspace(folder)
        assert not ws.has("canary") and not ws.has("shadow")
        assert ws.has("canary_daily") == (rows / "canary.parquet").exists()
        got, want = _decisions(folder), from_rows[name]
        for side in (got, want):
            for key in ROW_ONLY:
                side["supervision"]["details"].pop(key, None)
        for key in want:
            assert got[key] == want[key], f"{name}, {engine} counts: {key} differs"
