"""The shadow gate on rolloutkit.synth's workspaces decides as their truth says, and decides the same from the
shadow rows as from their daily counts (`shadow_daily`)."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import rolloutkit as rk
from rolloutkit import counts, shadow, synth
from rolloutkit.cli import main
from rolloutkit.errors import RolloutkitError
from rolloutkit.page import Missing


@pytest.mark.parametrize("scenario", ["healthy", "shadow_short", "shadow_bad", "supervised"])
def test_gate_decides_as_the_scenario_truth_says(tmp_path: Path, scenario: str) -> None:
    truth = synth.write_workspace(tmp_path / scenario, scenario, seed=0)
    result = shadow.gate(rk.load_workspace(tmp_path / scenario), as_of=truth.shadow_end)
    assert result.decision == truth.expected_shadow_decision, result.describe()
    worse = result.check("agent_worse_rate")
    assert worse.lower <= truth.agent_worse_rate <= worse.upper


def test_bad_agent_fails_on_its_agent_worse_rate(tmp_path: Path) -> None:
    truth = synth.write_workspace(tmp_path / "bad", "shadow_bad", seed=0)
    result = shadow.gate(rk.load_workspace(tmp_path / "bad"), as_of=truth.shadow_end)
    check = result.check("agent_worse_rate")
    assert (
        check.status == "fail"
        and check.lower > rk.load_workspace(tmp_path / "bad").charter.shadow.max_agent_worse_rate
    )


def counted_copy(rows_dir: Path, counts_dir: Path) -> None:
    """A copy of a workspace whose shadow rows are replaced by their daily counts (`rolloutkit counts`' polars
    aggregation), every other table — the reviews too — kept as it is."""
    shutil.copytree(rows_dir, counts_dir)
    daily = counts.compute(rk.load_workspace(rows_dir), "shadow_daily").frame
    daily.write_parquet(counts_dir / "shadow_daily.parquet")
    (counts_dir / "shadow.parquet").unlink()


@pytest.mark.parametrize("scenario", list(synth.SCENARIOS))
def test_the_gate_and_agreement_are_identical_from_rows_and_from_daily_counts(tmp_path: Path, scenario: str) -> None:
    truth = synth.write_workspace(tmp_path / "rows", scenario, seed=0)
    counted_copy(tmp_path / "rows", tmp_path / "counts")
    rows, daily = rk.load_workspace(tmp_path / "rows"), rk.load_workspace(tmp_path / "counts")
    assert not daily.has("shadow") and daily.has("shadow_daily") and daily.has("reviews")
    # nine days before the end, or the first shadow day when the shadow is shorter (before it there is no shadow)
    first = rows.table("shadow").select(pl.col("day").min()).collect().item()
    mid_shadow = max(truth.shadow_end - dt.timedelta(days=9), first)
    for as_of in (None, mid_shadow, truth.shadow_end):
        assert shadow.gate(daily, as_of=as_of).to_dict() == shadow.gate(rows, as_of=as_of).to_dict(), as_of
        for by in ("week", "segment"):
            assert_frame_equal(shadow.agreement(daily, as_of=as_of, by=by), shadow.agreement(rows, as_of=as_of, by=by))
        assert_frame_equal(shadow.daily_counts(daily, as_of=as_of), shadow.daily_counts(rows, as_of=as_of),
                           check_exact=False, rel_tol=1e-12)
        assert_frame_equal(shadow.cost_latency(daily, as_of=as_of), shadow.cost_latency(rows, as_of=as_of),
                           check_exact=False, rel_tol=1e-12)
    from_rows, from_counts = shadow.page(rows), shadow.page(daily)
    assert from_counts.headline == from_rows.headline
    for part in ("checks_table", "agreement_weekly", "agreement_segments", "verdict_table", "failure_mode_table",
                 "noise_floor", "reviewer_table", "cost_table"):
        shown, expected = getattr(from_counts, part), getattr(from_rows, part)
        assert shown == expected if isinstance(expected, Missing) else shown.equals(expected), part
    # what needs individual interactions says so instead
    for part in ("ambiguous", "wins", "regressions"):
        listed = getattr(from_counts, part)
        assert isinstance(listed, Missing) and "need the shadow rows" in listed.what, part
    assert "each review is counted in the week it was reviewed" in from_counts.note
    with pytest.raises(RolloutkitError, match="only their daily counts"):
        shadow.draw_sample(daily, week=rk.text.iso_week(truth.shadow_end))


def test_shadow_json_is_identical_from_counts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    synth.write_workspace(tmp_path / "rows", "healthy", seed=0)
    counted_copy(tmp_path / "rows", tmp_path / "counts")
    outputs = []
    for folder in ("rows", "counts"):
        assert main(["shadow", str(tmp_path / folder), "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
    assert main(["sample", str(tmp_path / "counts"), "--week", "2026-W41"]) == 1
    assert "a review sample is drawn from the shadow rows" in capsys.readouterr().err


def test_counts_beside_rows_are_read_and_a_stale_copy_is_named(tmp_path: Path) -> None:
    truth = synth.write_workspace(tmp_path / "ws", "shadow_short", seed=0)
    ws = rk.load_workspace(tmp_path / "ws")
    early = truth.shadow_end - dt.timedelta(days=2)
    counts.compute(ws, "shadow_daily", as_of=early).frame.write_parquet(tmp_path / "ws" / "shadow_daily.parquet")
    both = rk.load_workspace(tmp_path / "ws")
    assert both.has("shadow") and both.has("shadow_daily")
    assert shadow.daily_counts(both)["day"].max() == early  # the counts are the access point
    comparison = shadow.page(both, as_of=truth.shadow_end)
    assert (f"(shadow_daily) end on {early.isoformat()} but its rows run to {truth.shadow_end.isoformat()}"
            in comparison.note)
    assert isinstance(comparison.wins, pl.DataFrame)  # the rows still list the outputs
