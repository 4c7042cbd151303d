"""Timeline planning: known answers, risk-tier rules, warnings, the what-if grid, progress and the CLI contract."""

from __future__ import annotations

import datetime as dt
import json
import math
import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

import rolloutkit as rk
from rolloutkit import canary, stats, synth, timeline
from rolloutkit.charter import parse_charter
from rolloutkit.cli import main
from rolloutkit.page import Missing

START = dt.date(2026, 3, 2)
BASE = {
    "agent": "plan-test", "task": "answer refund questions",
    "success_metric": {"name": "resolution_rate", "noninferiority_margin": 0.02},
    "failure_modes": [{"name": "wrong_policy", "max_rate": 0.01}, {"name": "pii", "max_rate": 0.0}],
    "rollback_triggers": [{"metric": "failure_rate", "failure_mode": "wrong_policy", "above": 0.02}],
    "traffic": {"daily_interactions": 5000},
}


def charter(**changes: object) -> rk.Charter:
    return parse_charter({**BASE, **changes})


def test_trials_to_demonstrate_known_answer() -> None:
    assert stats.trials_to_demonstrate(0.02, 0.01, alpha=0.05, power=0.8) == stats.SampleSize(969, 12)


def test_stage_length_is_the_evidence_or_the_bake_minimum() -> None:
    plan = timeline.plan_from_charter(charter(), start=START)
    canary = [p for p in plan.phases if p.kind == "canary"]
    assert [p.share for p in canary] == [0.05, 0.15, 0.40, 0.80]
    # 5%: success non-inferiority at equal success needs the most traffic (both arms, 5,000 a day, tuned to 14 d)
    needed = stats.trials_until_diff_above(0.02, 0.85, 0.85, 0.05, alpha=0.05, tuning_n=5000 * 14)
    assert canary[0].days == math.ceil(needed / 5000) == 13
    # wrong_policy at half its limit, 250 agent interactions a day
    rate = stats.trials_until_upper_below(0.01, 0.005, alpha=0.05, tuning_trials=0.05 * 5000 * 14)
    evidence = plan.evidence_table().filter(pl.col("stage") == "canary 5%",
                                            pl.col("check") == "failure_rate:wrong_policy")
    assert evidence["days"].item() == math.ceil(rate / 250)
    assert [p.days for p in canary[1:]] == [7, 7, 7]  # the evidence fits the 7-day bake minimum
    assert "pii" not in " ".join(plan.evidence_table()["check"])  # zero tolerance needs no sample size


def test_plan_table_totals_and_contract() -> None:
    plan = timeline.plan_from_charter(charter(), start=START)
    table = plan.table()
    assert table["phase"].to_list() == ["charter and eval set", "shadow", "canary 5%", "canary 15%", "canary 40%",
                                        "canary 80%", "100% supervised (first 90 days)"]
    assert (table["start"].shift(-1).drop_nulls() == table["end"].head(-1)).all()  # phases chain end to start
    assert table["days"].to_list() == [7, 28, 13, 7, 7, 7, 90]
    assert plan.hundred_percent == START + dt.timedelta(days=69)
    assert plan.total_weeks == 9.9 and plan.within_typical_range
    out = json.loads(json.dumps(plan.to_dict()))
    assert {"agent", "start", "phases", "total_weeks", "within_typical_range", "warnings"} <= set(out)
    assert out["phases"][0] == {"name": "charter and eval set", "start": "2026-03-02", "end": "2026-03-09",
                                "days": 7, "why": table["why"][0]}
    assert "100% planned on 2026-05-10" in plan.describe()


@pytest.mark.parametrize(("tier", "shadow", "setup"), [
    ("low", {"min_weeks": 2}, 3), ("moderate", {"min_weeks": 2}, 7), ("high", {"min_weeks": 2}, 14),
], ids=["low", "moderate", "high"])
def test_risk_tier_sets_setup_and_shadow(tier: str, shadow: dict, setup: int) -> None:
    plan = timeline.plan_from_charter(charter(risk_tier=tier, shadow=shadow), start=START)
    days = dict(zip(plan.table()["phase"], plan.table()["days"], strict=True))
    assert days["charter and eval set"] == setup
    # low compresses to a week; moderate: 361 reviews at 75 a week is 5 weeks, capped at max 4; high: always max
    assert days["shadow"] == {"low": 7, "moderate": 28, "high": 28}[tier]


def test_internal_low_risk_tool_shadows_for_days_and_moderate_stays_in_its_range() -> None:
    internal = timeline.plan_from_charter(charter(risk_tier="low", shadow={"min_weeks": 0}), start=START)
    assert internal.table().filter(pl.col("phase") == "shadow")["days"].item() == 3
    # a clean shadow at 1% agent-worse needs few reviews: moderate stops at its 2-week minimum
    short = timeline.plan_from_charter(charter(), start=START, agent_worse_rate=0.01)
    assert short.table().filter(pl.col("phase") == "shadow")["days"].item() == 14


def test_a_stage_past_the_maximum_hold_warns_with_a_share_that_fits() -> None:
    plan = timeline.plan_from_charter(charter(), start=START, daily_interactions=1000, first_share=0.01)
    first = plan.phases[2]
    assert first.name == "canary 1%" and first.days > 14
    warning = next(w for w in plan.warnings if w.startswith("canary 1%"))
    assert "past the 14-day maximum hold" in warning and "a stage share of" in warning
    share = float(warning.split("a stage share of ")[1].split("%")[0]) / 100
    fitted = timeline.plan_from_charter(charter(), start=START, daily_interactions=1000, first_share=share)
    assert fitted.phases[2].days <= 14
    assert not plan.within_typical_range and "above the typical 6–12" in plan.warnings[-1]


def test_an_expected_rate_at_the_limit_is_infeasible() -> None:
    plan = timeline.plan_from_charter(charter(), start=START, expected_rates={"wrong_policy": 0.012})
    assert not plan.feasible
    assert all(p.days == 14 for p in plan.phases if p.kind == "canary")
    assert any("readiness can never pass" in w for w in plan.warnings)


def test_what_if_grid_is_monotone_and_shows_the_low_volume_trap() -> None:
    grid = timeline.what_if_grid(charter(failure_modes=[{"name": "wrong_policy", "max_rate": 0.005}]),
                                 volumes=[500, 5000, 50000], first_shares=[0.01, 0.05])
    assert grid.height == 3 * 3 * 2
    by_volume = grid.sort("daily_interactions").group_by("risk_tier", "first_share").agg(pl.col("total_weeks"))
    assert all(w.to_list() == sorted(w, reverse=True) for w in by_volume["total_weeks"])  # more traffic, never slower
    by_tier = grid.pivot("risk_tier", index=["daily_interactions", "first_share"], values="total_weeks")
    assert ((by_tier["low"] <= by_tier["moderate"]) & (by_tier["moderate"] <= by_tier["high"])).all()
    # at 500 a day a 1% canary (5 agent interactions a day) cannot prove a 0.5% limit within two weeks
    trap = grid.filter(pl.col("daily_interactions") == 500, pl.col("first_share") == 0.01)
    assert (trap["first_stage_days"] > 14).all()
    assert (grid.filter(pl.col("daily_interactions") == 50000)["first_stage_days"] <= 14).all()


def write_ws(path: Path, flags: list[tuple[str, float]], *, shadow_from: str | None = None) -> rk.Workspace:
    path.mkdir(parents=True, exist_ok=True)
    (path / "charter.yaml").write_text(yaml.safe_dump(BASE), encoding="utf-8")
    if flags:
        pl.DataFrame({"ts": [f"{d}T09:00:00Z" for d, _ in flags], "traffic_share": [s for _, s in flags],
                      "actor": "ops", "reason": "ladder"}).write_csv(path / "flags.csv")
    if shadow_from:
        pl.DataFrame({"interaction_id": ["s1"], "ts": [f"{shadow_from}T10:00:00Z"], "segment": ["a"],
                      "agent_action": ["x"], "human_action": ["x"]}).write_csv(path / "shadow.csv")
    return rk.load_workspace(path)


def test_progress_against_plan(tmp_path: Path) -> None:
    plan = timeline.plan_from_charter(charter(), start=START)  # canary 5% planned 2026-04-06, 100% 2026-05-10
    ws = write_ws(tmp_path / "ws", [("2026-04-08", 0.05), ("2026-04-22", 0.15), ("2026-04-23", 0.0),
                                    ("2026-04-27", 0.05), ("2026-05-04", 0.15)], shadow_from="2026-03-10")
    progress = timeline.progress(ws, plan, as_of="2026-05-06")
    expected = pl.DataFrame({
        "phase": ["charter and eval set", "shadow", "canary 5%", "canary 15%", "canary 40%", "canary 80%"],
        "actual_start": [None, dt.date(2026, 3, 10), dt.date(2026, 4, 8), dt.date(2026, 4, 22), None, None],
        "slip_days": [None, 1, 2, 3, None, None],
        "status": ["done", "done", "done", "current", "upcoming", "upcoming"],
    }, schema_overrides={"actual_start": pl.Date, "slip_days": pl.Int64})
    assert_frame_equal(progress.table.select(expected.columns), expected)
    # back at 15% since 2026-05-04 after a rollback and a restart: 7 days there, then 40% and 80% (7 + 7)
    assert progress.projected_100 == dt.date(2026, 5, 25)
    assert progress.slip_days == 15 and progress.state == "behind_plan"
    assert progress.sentence.startswith("15 days behind plan")
    rolled = timeline.progress(ws, plan, as_of="2026-04-24")
    assert rolled.rolled_back_on == dt.date(2026, 4, 23)
    assert rolled.projected_100 == dt.date(2026, 4, 25) + dt.timedelta(days=13 + 7 + 7 + 7)


def test_headline_without_flags_is_in_shadow(tmp_path: Path) -> None:
    ws = write_ws(tmp_path / "ws", [], shadow_from="2026-03-02")
    headline = timeline.page(ws, as_of="2026-03-20").headline
    assert headline.page == "timeline_planning"
    # start = the first day with data (the shadow): no eval run before it, so the charter phase is skipped, not
    # 7 days invented before the shadow, and the shadow is on plan
    assert headline.sentence.startswith("Planned 100% on 2026-05-03 (8.9 weeks, within the typical 6–12); on plan")
    assert headline.details["phases"][0] == {
        "name": "charter and eval set", "start": "2026-03-02", "end": "2026-03-02", "days": 0,
        "why": "skipped: no eval run, the shadow began on 2026-03-02"}
    assert headline.details["progress"]["current_phase"] == "shadow"
    json.dumps(headline.to_dict())


def test_page_of_a_charter_only_workspace_has_a_plan_and_says_not_started(tmp_path: Path) -> None:
    ws = write_ws(tmp_path / "ws", [])
    page = timeline.page(ws, as_of="2026-03-20")
    assert page.plan.start == dt.date(2026, 3, 20)  # no data yet: the plan starts on the day it is made
    assert page.headline.status == "missing" and page.headline.heading == "When will we be at 100%?"
    assert page.headline.sentence.startswith(
        "Not started: no eval run, shadow interaction or flag change on or before 2026-03-20; planned 100% on ")
    assert page.table.columns == ["phase", "start", "end", "days", "why"] and page.table.height == 7
    assert isinstance(page.progress_note, Missing) and isinstance(page.progress_table, Missing)
    assert page.what_if.height == 6 * 3 * 3
    # the Gantt still draws the plan, with no actual starts under its bars
    chart = rk.charts.timeline_gantt(page.plan, today=page.as_of, progress=page.progress)
    assert chart.to_dict()["title"]["text"].startswith("100% planned on")
    json.dumps(page.headline.to_dict())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("demo")
    synth.write_demo(directory)
    return directory


def test_demo_plans_and_progress(demo: Path) -> None:
    invoice = rk.load_workspace(demo / "invoice-triage")
    plan = timeline.plan(invoice)
    assert plan.start == invoice.inventory()["first_day"].min()
    assert "reviewed shadow interactions (weighted by inclusion probability)" in plan.assumptions.source
    prog = timeline.progress(invoice, plan)
    assert prog.current_phase == "canary 40%" and prog.reached_100 is None
    refunds = rk.load_workspace(demo / "support-refunds")
    done = timeline.progress(refunds, timeline.plan(refunds))
    first_full = refunds.table("flags").filter(pl.col("traffic_share") == 1).select(pl.col("day").min()).collect()
    assert done.reached_100 == first_full.item() and done.current_phase == "100%"
    kb = rk.load_workspace(demo / "kb-answers")
    assert timeline.page(kb, as_of=None).headline.details["progress"]["current_phase"] == "shadow"


def truncated(ws: rk.Workspace, directory: Path, day: dt.date) -> rk.Workspace:
    """What the workspace held on `day`: each table cut on its day column (a table with no rows yet left out)."""
    directory.mkdir()
    shutil.copy(ws.path / "charter.yaml", directory / "charter.yaml")
    for name in ws.files:
        rows = ws.table(name).filter(pl.col("day") <= day).drop("day").collect()
        if rows.height:
            rows.write_parquet(directory / f"{name}.parquet")
    return rk.load_workspace(directory)


def test_a_plan_as_of_a_day_is_the_plan_of_the_workspace_cut_at_that_day(
        demo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    day = dt.date(2026, 10, 18)  # mid-shadow: later reviews, the canary's human arm and flags are the future
    full = rk.load_workspace(demo / "invoice-triage")
    cut = truncated(full, tmp_path / "cut", day)
    assert full.last_day() > day == cut.last_day() and not cut.has("canary")
    pages = [timeline.page(ws, as_of=day) for ws in (full, cut)]
    assert pages[0].plan.to_dict() == pages[1].plan.to_dict()
    assert pages[0].progress.to_dict() == pages[1].progress.to_dict()
    assert pages[0].headline == pages[1].headline
    assert pages[0].plan.start == dt.date(2026, 9, 25)  # still the first day with data (the first eval run)
    assert timeline.plan(full, as_of=day).to_dict() == pages[1].plan.to_dict()
    outputs = []
    for ws in (full, cut):
        assert main(["plan", str(ws.path), "--as-of", day.isoformat(), "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1] == pages[1].plan.to_dict()


def test_cli_plan_json(demo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["plan", str(demo / "kb-answers"), "--start", "2026-11-01", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["start"] == "2026-11-01" and out["agent"] == "kb-answers"
    assert out["phases"][1]["name"] == "shadow" and out["phases"][1]["days"] == 7  # low risk


def canary_only_copy(directory: Path, *, without: tuple[str, ...] = ("shadow", "reviews")) -> rk.Workspace:
    """The synthetic healthy workspace without the `without` tables: a team that went from evals to the canary."""
    synth.write_workspace(directory, "healthy", seed=0)
    for name in without:
        (directory / f"{name}.parquet").unlink()
    return rk.load_workspace(directory)


@pytest.fixture(scope="module")
def canary_only(tmp_path_factory: pytest.TempPathFactory) -> rk.Workspace:
    return canary_only_copy(tmp_path_factory.mktemp("canary-only"))


def test_a_canary_only_plan_skips_the_shadow_and_follows_the_flags(
        canary_only: rk.Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    ws = canary_only
    flags = ws.table("flags").group_by("day").agg(pl.col("traffic_share").sort_by("ts").last()).collect()
    reached = {s: flags.filter(pl.col("traffic_share") >= s)["day"].min() for s in (0.05, 0.15, 0.4)}
    assert list(reached.values()) == [dt.date(2026, 10, 26), dt.date(2026, 11, 3), dt.date(2026, 11, 13)]
    first_eval = ws.table("evals").select(pl.col("day").min()).collect().item()
    assert main(["plan", str(ws.path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    phases = {p["name"]: p for p in out["phases"]}
    assert phases["charter and eval set"] == {
        "name": "charter and eval set", "start": first_eval.isoformat(), "end": "2026-10-26",
        "days": (dt.date(2026, 10, 26) - first_eval).days,
        "why": f"first eval run on {first_eval}; the canary began on 2026-10-26"}
    assert phases["shadow"] == {"name": "shadow", "start": "2026-10-26", "end": "2026-10-26", "days": 0,
                                "why": "skipped: no shadow data, the canary began on 2026-10-26"}
    assert [(phases[n]["start"], phases[n]["end"]) for n in ("canary 5%", "canary 15%")] == [
        ("2026-10-26", "2026-11-03"), ("2026-11-03", "2026-11-13")]
    assert out["skipped"] == ["shadow"] and out["current_phase"] == "canary 40%"
    # readiness says expand on the last day: 40% ends tomorrow, then 80% for its planned days, then 100%
    ready = canary.readiness(ws)
    assert (ready.as_of, ready.stage, ready.decision) == (dt.date(2026, 11, 22), 0.4, "expand")
    assert phases["canary 40%"]["end"] == "2026-11-23"
    plan = timeline.plan(ws)
    assert plan.to_dict() == out
    eighty = next(p for p in plan.at_start.phases if p.name == "canary 80%")
    assert out["hundred_percent"] == (dt.date(2026, 11, 23) + dt.timedelta(days=eighty.days)).isoformat()
    # the plan at the start skips the shadow too, so 28 days of shadow that never ran are not "ahead of plan"
    assert [p.days for p in plan.at_start.phases if p.kind == "shadow"] == [0]
    page = timeline.page(ws)
    slip = (plan.hundred_percent - plan.at_start.hundred_percent).days
    assert page.progress.slip_days == slip and abs(slip) <= 7
    assert f"{plan.hundred_percent}" in page.headline.sentence and "skipped" not in " ".join(page.notes)
    # nothing warns about the shadow or the stages that ended weeks ago
    assert not any(w.startswith(("shadow", "canary 5%", "canary 15%")) for w in plan.warnings)


@pytest.fixture(scope="module")
def canary_only_no_evals(tmp_path_factory: pytest.TempPathFactory) -> rk.Workspace:
    # without eval runs readiness holds on traffic and bake time only, so it says how many days it needs
    return canary_only_copy(tmp_path_factory.mktemp("no-evals"), without=("shadow", "reviews", "evals"))


@pytest.mark.parametrize("day", ["2026-10-29", "2026-11-04", "2026-11-16", "2026-11-19", "2026-11-22"])
def test_the_current_stage_ends_the_day_after_readiness_expects_to_expand(
        canary_only_no_evals: rk.Workspace, day: str) -> None:
    ws = canary_only_no_evals
    ready = canary.readiness(ws, as_of=day)
    plan = timeline.plan(ws, as_of=day)
    counted = [p for p in plan.phases if p.counted]
    index = next(i for i, p in enumerate(counted) if p.status == "current")
    assert counted[index].share == ready.stage and counted[index].start == ready.stage_started.date()
    # expand today: the next stage starts tomorrow; hold: the day after the days readiness needs
    assert ready.decision == "expand" or ready.days_needed is not None
    assert counted[index].end == dt.date.fromisoformat(day) + dt.timedelta(days=(ready.days_needed or 0) + 1)
    later = counted[index + 1:]
    planned = {p.name: p.days for p in plan.at_start.phases}
    assert [p.days for p in later] == [planned[p.name] for p in later]
    assert plan.hundred_percent == counted[index].end + dt.timedelta(days=sum(p.days for p in later))
    progress = timeline.progress(ws, plan, as_of=day)
    assert progress.projected_100 == plan.hundred_percent
    assert progress.slip_days == (plan.hundred_percent - plan.at_start.hundred_percent).days


def test_after_a_rollback_and_a_restart_the_plan_shows_the_attempt(tmp_path: Path) -> None:
    ws = write_ws(tmp_path / "ws", [("2026-04-08", 0.05), ("2026-04-22", 0.15), ("2026-04-23", 0.0),
                                    ("2026-04-27", 0.05), ("2026-05-04", 0.15)], shadow_from="2026-03-10")
    plan = timeline.plan(ws, start=START, as_of="2026-05-06")
    rows = plan.table().filter(pl.col("counted")).select("phase", "status", "start", "end", "days")
    expected = pl.DataFrame({
        "phase": ["charter and eval set", "shadow", "canary, rolled back", "canary 5%", "canary 15%", "canary 40%",
                  "canary 80%"],
        "status": ["done", "done", "rolled back", "done", "current", "planned", "planned"],
        "start": [START, dt.date(2026, 3, 10), dt.date(2026, 4, 8), dt.date(2026, 4, 27), dt.date(2026, 5, 4),
                  dt.date(2026, 5, 11), dt.date(2026, 5, 18)],
        "days": [8, 29, 19, 7, 7, 7, 7]})
    assert_frame_equal(rows.select(expected.columns), expected, check_dtypes=False)
    assert plan.phases[2].why == ("the canary from 2026-04-08, rolled back to 0% on 2026-04-23; the ladder "
                                  "restarted on 2026-04-27")
    # the same projection as the progress against the plan made at the start
    assert plan.hundred_percent == timeline.progress(ws, plan.at_start, as_of="2026-05-06").projected_100


def test_warnings_are_about_what_is_current_or_still_to_come(demo: Path) -> None:
    invoice = rk.load_workspace(demo / "invoice-triage")
    page = timeline.page(invoice)
    assert page.plan.current_phase == "canary 40%"
    # the plan made at the start warned that 5% would outlast the maximum hold; 5% ended on 2026-11-03
    assert any(w.startswith("canary 5%") for w in page.plan.at_start.warnings)
    assert not any(w.startswith(("shadow", "canary 5%", "canary 15%")) for w in page.notes)
    refunds = timeline.page(rk.load_workspace(demo / "support-refunds"))
    assert refunds.plan.reached_100 and refunds.plan.warnings == ()
    assert refunds.notes == [f"The ladder is complete: 100% since {refunds.progress.reached_100}."]
    assert refunds.headline.sentence.startswith(f"Reached 100% on {refunds.progress.reached_100} (")


def test_the_what_if_grid_marks_the_current_setup(tmp_path: Path) -> None:
    page = timeline.page(write_ws(tmp_path / "ws", []), as_of="2026-03-20")
    current = page.what_if.filter(pl.col("current"))
    assert current.select("daily_interactions", "risk_tier", "first_share").rows() == [(5000, "moderate", 0.05)]
    # the current cell is the plan itself, and the table marks it, and only it
    assert current["total_weeks"].item() == page.plan.total_weeks
    table = page.what_if_table
    assert table.columns == ["risk_tier", "first_stage", *(f"{v:,} a day" for v in timeline.default_volumes(5000))]
    marked = table.unpivot(index=["risk_tier", "first_stage"]).filter(pl.col("value").str.ends_with("(current)"))
    assert marked.rows() == [("moderate", "5%", "5,000 a day", f"{page.plan.total_weeks} (current)")]
    spec = rk.charts.timeline_what_if(page.what_if, max_hold_days=14).to_dict()
    assert "black outline: the current setup (5,000 a day, moderate risk, first stage 5%)" in spec["title"]["subtitle"]
    # an odd traffic and first stage are in the grid too
    odd = timeline.what_if_grid(charter(traffic={"daily_interactions": 4321},
                                        canary={"stages": [0.03, 0.15, 0.4, 0.8, 1.0]}))
    assert odd.filter(pl.col("current")).select("daily_interactions", "risk_tier", "first_share").rows() == [
        (4321, "moderate", 0.03)]


def test_numbers_read_as_percentages_without_scientific_notation(demo: Path) -> None:
    plan = timeline.plan_from_charter(charter(), start=START, expected_rates={"wrong_policy": 0.00007})
    assert "wrong_policy: expected at 0.007% against a limit of 1%." in plan.assumption_lines()
    page = timeline.page(rk.load_workspace(demo / "invoice-triage"))
    assert page.evidence.schema["limit"] == pl.String and page.evidence["limit"][0] == "1%"
    assert page.evidence["check"].to_list()[:2] == ["Failure rate: wrong_route", "Failure rate: missed_duplicate"]
    frames = [page.table, page.evidence, page.what_if_table, page.progress_table]
    cells = [str(v) for frame in frames for column in frame.iter_columns() for v in column]
    texts = [page.headline.sentence, *page.notes, *page.assumptions, page.progress_note, *cells]
    assert not [t for t in texts if "e-0" in t or "e+0" in t]



@pytest.mark.parametrize("scenario", [name for name, s in synth.SCENARIOS.items() if s.ladder])
def test_the_plan_is_the_same_from_rows_and_from_daily_counts(
        scenario: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows = tmp_path / "rows"
    synth.write_workspace(rows, scenario, seed=0)
    counts = tmp_path / "counts"
    shutil.copytree(rows, counts)
    from_rows = rk.load_workspace(rows)
    canary.daily_counts(from_rows).write_parquet(counts / "canary_daily.parquet")
    (counts / "canary.parquet").unlink()
    from_counts = rk.load_workspace(counts)
    assert from_counts.has("canary_daily") and not from_counts.has("canary")
    first_canary = canary.daily_counts(from_rows)["day"].min()
    for day in (None, first_canary + dt.timedelta(days=3), first_canary + dt.timedelta(days=17)):
        pages = [timeline.page(ws, as_of=day) for ws in (from_rows, from_counts)]
        assert pages[0].plan.to_dict() == pages[1].plan.to_dict()
        assert pages[0].progress.to_dict() == pages[1].progress.to_dict()
        assert pages[0].headline == pages[1].headline
    assert "human canary interactions" in pages[0].plan.assumptions.source
    outputs = []
    for ws in (rows, counts):
        assert main(["plan", str(ws), "--json"]) == 0
        outputs.append(json.loads(capsys.readouterr().out))
    assert outputs[0] == outputs[1]
