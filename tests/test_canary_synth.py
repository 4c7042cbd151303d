"""Decisions on `rolloutkit.synth` scenarios, whose true rates and expected decisions are known, and the charts."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import rolloutkit as rk
from rolloutkit import canary, load_workspace, synth


def _live(path: Path, version: str) -> None:
    """Say which agent version the canary ran, as a team's export with an `agent_version` column does."""
    rows = pl.read_parquet(path / "canary.parquet")
    rows.with_columns(agent_version=pl.lit(version)).write_parquet(path / "canary.parquet")


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, synth.Truth]]:
    """The scenarios whose canary truth is known. Their canaries run v1.1, the version evaluated before the canary
    began; v1.2 is the release candidate evaluated on the last days, with regressions planted in its eval run (the
    demo, without `agent_version`, takes the latest eval run's version as live: see its test below)."""
    root = tmp_path_factory.mktemp("synth")
    written = {name: (root / name, synth.write_workspace(root / name, name, seed=1))
               for name in ("healthy", "regressing", "low_traffic", "srm_mismatch", "supervised")}
    for path, _ in written.values():
        _live(path, "v1.1")
    return written


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


def test_a_rollback_draining_on_the_last_day_holds_at_zero(tmp_path: Path) -> None:
    # seed 7 rolls back on its last day, and agent rows keep arriving in the seconds the flag takes to drain: the
    # 0% stage has agent and human traffic, but no split to plan a comparison with (this used to raise)
    truth = synth.write_workspace(tmp_path / "late", "regressing", seed=7)
    ws = load_workspace(tmp_path / "late")
    counts = canary.canary_counts(ws)
    drained = counts.daily.filter(pl.col("seg") == counts.segments["seg"].max(), pl.col("arm") == "agent")
    assert truth.rollback_day == counts.as_of and drained["n"].sum() > 0
    result = canary.readiness(ws)
    assert (result.decision, result.stage, result.stage_change) == ("hold", 0.0, "rollback")
    assert "after a rollback" in canary.page(ws).headline.sentence


def test_low_traffic_says_how_long_and_what_the_charter_allows(scenarios: dict) -> None:
    path, truth = scenarios["low_traffic"]
    result = canary.readiness(load_workspace(path), as_of=truth.as_of)
    assert result.days_needed is not None and result.days_needed > 14 - truth.days_at_stage
    assert "past the 14-day maximum hold" in result.days_needed_note
    # never a share beyond the next stage: at 5%, 15% is the most the advice may name, and here it is too little
    assert result.next_stage == 0.15 and result.share_needed is None and "Routing" not in result.days_needed_note
    assert "Even the next stage's share (15%) would not get there in time." in result.days_needed_note
    assert ("When the maximum hold runs out on 2026-11-22, the charter allows two courses: hold longer with the "
            "sign-off of people-ops, the owner, or roll back.") in result.days_needed_note
    assert not result.overdue


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


@pytest.mark.parametrize("name", list(synth.SCENARIOS))
def test_every_scenario_decides_the_same_from_counts_as_from_rows(tmp_path: Path, name: str) -> None:
    """A copy whose canary rows are replaced by their `canary_daily` counts gives the same readiness JSON,
    decision history, chart frames and page."""
    rows = tmp_path / "rows"
    synth.write_workspace(rows, name, seed=0)
    counts = tmp_path / "counts"
    shutil.copytree(rows, counts)
    ws = load_workspace(rows)
    if ws.has("canary"):
        canary.daily_counts(ws).write_parquet(counts / "canary_daily.parquet")
        (counts / "canary.parquet").unlink()
    from_rows, from_counts = canary.page(ws), canary.page(load_workspace(counts))
    assert from_counts.headline == from_rows.headline
    if not ws.has("canary"):  # in shadow: neither has canary traffic, both say "Not started"
        assert from_rows.headline.sentence == "Not started: this workspace has no `canary` table yet."
        return
    assert load_workspace(counts).has("canary_daily") and not load_workspace(counts).has("canary")
    assert canary.readiness(load_workspace(counts)).to_dict() == canary.readiness(ws).to_dict()
    assert_frame_equal(canary.decision_history(load_workspace(counts)), canary.decision_history(ws))
    for part in ("checks_table", "history", "failure_bounds", "success_gap", "guardrails", "traffic_share",
                 "stage_incidents"):
        mine, theirs = getattr(from_counts, part), getattr(from_rows, part)
        assert_frame_equal(mine.drop("arm") if part == "stage_incidents" else mine,
                           theirs.drop("arm") if part == "stage_incidents" else theirs)
    assert from_counts.context[:-1] == from_rows.context and "not rows" in from_counts.context[-1]


def test_the_demo_holds_on_its_eval_regressions_not_on_its_sev3_escalation() -> None:
    """invoice-triage on its last day said "expand 40% → 80%" while v1.2, the latest version on the eval set,
    regressed and INC-0003 (a sev3 customer escalation) was opened at 40%. The regressed prior failure (T-0068) and
    adversarial task (T-0005) hold the stage; a sev3 does not (only an open sev1/sev2 holds), but the card names it."""
    ws = load_workspace(rk.paths.DEMO_DIR / "invoice-triage")
    result = canary.readiness(ws, as_of="2026-11-22")
    assert (result.decision, result.stage, result.next_stage, result.driver) == ("hold", 0.4, 0.8, "eval_regressions")
    assert result.title == "Hold at 40%"
    assert result.check("eval_regressions").sentence == (
        "The live version v1.2 (the latest version run on the eval set) fails 2 prior-failure or adversarial tasks "
        "v1.1 passed: T-0005 (adversarial), T-0068 (prior failure); it also regressed on T-0013, T-0019, T-0025. The "
        "stage holds until a version that passes them is live.")
    assert result.check("incidents").sentence == (
        "No open sev1 or sev2 incident opened at this stage. Also at this stage: INC-0003 (sev3, customer "
        "escalation, closed), INC-0004 (sev3, other, closed).")
    assert [c.name for c in result.checks if c.status != "pass"] == ["eval_regressions"]
    assert result.context() == [
        "Live agent version: v1.2 (the latest version run on the eval set).",
        "Incidents opened at this stage: INC-0003 (sev3, customer escalation, closed), INC-0004 (sev3, other, closed)."]
    page = canary.page(ws, as_of="2026-11-22")
    assert "v1.2" in page.headline.sentence and "INC-0003 (sev3, customer escalation, closed)" in page.headline.sentence
    assert page.stage_incidents.select("incident", "severity", "kind").rows() == [
        ("INC-0003", "sev3", "customer escalation"), ("INC-0004", "sev3", "other")]
    summaries = ws.table("incidents").select("summary", "interaction_id").collect()
    shown = json.dumps(page.headline.to_dict()) + json.dumps(page.stage_incidents.to_dicts(), default=str)
    assert not [v for v in [*summaries["summary"], *summaries["interaction_id"]] if v in shown]
    # the history: v1.2 was first run on 2026-11-21; before that 40% was ready to expand, and INC-0002, a sev2
    # opened at 15% on 2026-11-11 and closed the next day, held that one day
    history = canary.decision_history(ws, as_of="2026-11-22")
    by_day = {d: (dec, drv) for d, dec, drv in history.select("day", "decision", "driver").iter_rows()}
    assert by_day[dt.date(2026, 11, 11)] == ("hold", "incidents")
    assert by_day[dt.date(2026, 11, 20)] == ("expand", None)
    assert by_day[dt.date(2026, 11, 21)] == by_day[dt.date(2026, 11, 22)] == ("hold", "eval_regressions")
