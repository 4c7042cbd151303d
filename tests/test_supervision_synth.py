"""Supervision decisions on synthetic workspaces whose truth is known (rolloutkit.synth)."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

import rolloutkit as rk
from rolloutkit import supervision, synth
from rolloutkit.page import Missing
from rolloutkit.synth.scenarios import FailureMode

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def supervised(tmp_path_factory):
    folder = tmp_path_factory.mktemp("supervised")
    truth = synth.write_workspace(folder, "supervised", seed=3)
    return rk.load_workspace(folder), truth


def test_drills_are_the_ones_drawn(supervised):
    ws, truth = supervised
    measured = supervision.drills(ws, as_of=truth.end)
    assert measured["seconds_to_zero"].to_list() == pytest.approx(list(truth.drill_seconds))
    assert measured["within_target"].to_list() == [s < 60 for s in truth.drill_seconds]


def test_supervision_covers_the_weeks_at_full_traffic(supervised):
    ws, truth = supervised
    report = supervision.page(ws, as_of=truth.end)
    weeks = synth.SCENARIOS["supervised"].supervision_weeks
    assert report.days_at_full == 7 * weeks
    assert report.sample.height in (weeks, weeks + 1)  # the first day need not be a Monday
    assert report.sample.filter(pl.col("days") == 7)["reached"].all()  # drawn at exactly the 5% target
    assert report.achieved_sample_rate == pytest.approx(0.05, abs=0.003)
    assert report.unmatched_reviews == 0


def test_the_true_rates_raise_no_alert_and_the_slow_drill_asks_to_investigate(supervised):
    ws, truth = supervised
    statuses = dict(supervision.alerts(supervision.review_rates(ws, as_of=truth.end)).select("metric", "status")
                    .iter_rows())
    assert "alert" not in statuses.values()
    assert statuses["pii_disclosure"] == "within"  # zero tolerance, true rate 0
    head = supervision.page(ws, as_of=truth.end).headline
    assert truth.drill_seconds[-1] > 60
    assert (head.status, head.decision) == ("warn", "investigate")
    assert "drill" in head.sentence


def test_a_zero_tolerance_failure_at_100_percent_rolls_back(tmp_path):
    scenario = synth.SCENARIOS["supervised"]
    modes = tuple(dataclasses.replace(m, agent_rate=0.002) if m.max_rate == 0 else m
                  for m in scenario.failure_modes)
    assert any(isinstance(m, FailureMode) and m.max_rate == 0 for m in modes)
    truth = synth.write_workspace(tmp_path, dataclasses.replace(scenario, failure_modes=modes), seed=5)
    head = supervision.page(rk.load_workspace(tmp_path), as_of=truth.end).headline
    assert (head.status, head.decision) == ("bad", "roll_back")


def test_mid_canary_agent_is_not_supervised_yet(tmp_path):
    truth = synth.write_workspace(tmp_path, "healthy", seed=1)
    ws = rk.load_workspace(tmp_path)
    sup = supervision.page(ws, as_of=truth.end)
    head = sup.headline
    assert (head.status, head.decision) == ("info", None)
    assert isinstance(sup.sample, Missing) and "Not at 100% yet" in str(sup.sample)
    assert head.heading == "Supervision: not at 100% yet"


def test_agentops_scale_of_the_demo_portfolio(tmp_path):
    truths = synth.write_demo(tmp_path)
    workspaces = [rk.load_workspace(tmp_path / name) for name in truths]
    scale = supervision.agentops_scale(workspaces)
    live = {t.agent for t in truths.values() if t.canary_start is not None and t.stage}
    assert scale.production_agents == len(live)
    assert scale.monthly_tasks > 50_000  # support-refunds alone serves ~3,000 a day at 100%
    assert scale.dedicated_ownership_due
    assert scale.to_dict()["agents"][0]["as_of"] == truths[next(iter(truths))].end.isoformat()
