"""Decisions on `rolloutkit.synth` scenarios, whose true rates and expected decisions are known, and the charts."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl
import pytest

import rolloutkit as rk
from rolloutkit import canary, load_workspace, synth


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, synth.Truth]]:
    root = tmp_path_factory.mktemp("synth")
    return {name: (root / name, synth.write_workspace(root / name, name, seed=1))
            for name in ("healthy", "regressing", "low_traffic", "srm_mismatch", "supervised")}


@pytest.mark.parametrize("name", ["healthy", "regressing", "low_traffic", "srm_mismatch", "supervised"])
def test_decision_matches_the_truth(scenarios: dict, name: str) -> None:
    path, truth = scenarios[name]
    result = canary.readiness(load_workspace(path), as_of=truth.as_of)
    assert result.decision == truth.expected_canary_decision
    assert (result.stage, result.days_at_stage) == (truth.stage, truth.days_at_stage)
    not_passed = {c.name for c in result.checks if c.status != "pass"}
    assert set(truth.expected_failing_checks) <= not_passed


def test_healthy_expands_only_after_the_bake_time(scenarios: dict) -> None:
    path, truth = scenarios["healthy"]
    history = canary.decision_history(load_workspace(path), as_of=truth.as_of)
    at_stage = history.filter(pl.col("day") >= truth.stage_started)
    assert at_stage.filter(pl.col("days_at_stage") < 7)["decision"].unique().to_list() == ["hold"]
    assert at_stage.filter(pl.col("days_at_stage") >= 7)["decision"].unique().to_list() == ["expand"]


def test_regressing_rolls_back_on_the_day_after_the_regression_starts(scenarios: dict) -> None:
    path, truth = scenarios["regressing"]
    history = canary.decision_history(load_workspace(path))
    first = history.filter(pl.col("decision") == "rollback").row(0, named=True)
    assert truth.regression_day < first["day"] <= truth.regression_day + dt.timedelta(days=2)
    assert first["driver"] in (f"failure_rate:{truth.regression_mode}", "trigger:1")
    after = history.filter(pl.col("day") == truth.rollback_day).row(0, named=True)
    assert (after["stage"], after["decision"], after["stage_change"]) == (0.0, "hold", "rollback")


def test_low_traffic_says_how_long_and_which_share_would_do(scenarios: dict) -> None:
    path, truth = scenarios["low_traffic"]
    result = canary.readiness(load_workspace(path), as_of=truth.as_of)
    assert result.days_needed is not None and result.days_needed > 14 - truth.days_at_stage
    assert result.share_needed in (0.15, 0.40, 0.80) and "past the 14-day maximum hold" in result.days_needed_note


def test_srm_mismatch_holds_on_srm(scenarios: dict) -> None:
    path, truth = scenarios["srm_mismatch"]
    result = canary.readiness(load_workspace(path), as_of=truth.as_of)
    assert (result.decision, result.driver, result.check("srm").status) == ("hold", "srm", "fail")


def test_supervised_drills_do_not_restart_the_final_stage(scenarios: dict) -> None:
    path, truth = scenarios["supervised"]
    result = canary.readiness(load_workspace(path), as_of=truth.as_of)
    assert result.stage_started.date() == truth.stage_started and result.next_stage is None
    assert "rollout is complete" in result.reasons[0] and not result.overdue


def test_charts_render_offline_with_findings_in_their_titles(scenarios: dict) -> None:
    path, _ = scenarios["regressing"]
    ws = load_workspace(path)
    counts = canary.canary_counts(ws)
    charts = {
        "Rollback first called on": rk.charts.canary_decision_history(canary.decision_history(counts),
                                                                      canary.incidents(ws)),
        "wrong_coverage above its limit": rk.charts.canary_failure_bounds(canary.failure_bounds(counts)),
        "Non-inferior": rk.charts.canary_success_gap(canary.success_gap(counts)),
        "guardrail breaches on": rk.charts.canary_guardrails(canary.guardrail_breaches(counts)),
        "matches the flag": rk.charts.canary_traffic_share(canary.traffic_share(counts)),
    }
    for finding, chart in charts.items():
        svg = rk.render.svg(chart)
        assert finding in svg and svg.startswith("<svg")
    assert "summary" not in canary.incidents(ws).columns


def test_series_are_daily_counts_not_rows(scenarios: dict) -> None:
    path, _ = scenarios["healthy"]
    counts = canary.canary_counts(load_workspace(path))
    bounds = canary.failure_bounds(counts)
    days = counts.daily.filter(pl.col("arm") == "agent")["day"].n_unique()
    ramps = counts.epochs.filter(pl.col("share") > 0).height - 1  # a ramp day belongs to both stages
    assert bounds.height == 2 * (days + ramps)  # two failure modes with a limit above 0, one row a stage-day each
    assert (bounds["lower"] <= bounds["estimate"]).all() and (bounds["estimate"] <= bounds["upper"]).all()
    last = bounds.filter(pl.col("day") == bounds["day"].max(), pl.col("failure_mode") == "wrong_route").row(
        0, named=True)
    check = canary.readiness(counts).check("failure_rate:wrong_route")
    assert (last["lower"], last["upper"]) == pytest.approx((check.lower, check.upper))
    share = canary.traffic_share(counts)
    assert share.filter(pl.col("day") > share["day"].min())["flag_share"].is_between(0.05 - 1e-9, 0.4 + 1e-9).all()


def test_charts_show_a_missing_part_as_its_note() -> None:
    page = canary.page(load_workspace(rk.paths.DEMO_DIR / "kb-answers"))  # in shadow: no canary table
    assert rk.charts.canary_decision_history(page.history, page.incidents) is page.history
    for chart, part in ((rk.charts.canary_failure_bounds, page.failure_bounds),
                        (rk.charts.canary_success_gap, page.success_gap),
                        (rk.charts.canary_guardrails, page.guardrails),
                        (rk.charts.canary_traffic_share, page.traffic_share)):
        assert chart(part) is part and "no `canary` table" in part._repr_html_()
