"""Supervision at 100%: sample rate, reviewed rates and alerts, incident log, drills, agenda, AgentOps scale."""

from __future__ import annotations

import datetime as dt
import json
import re

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import rolloutkit as rk
from rolloutkit import stats, supervision
from rolloutkit.checks import find
from rolloutkit.page import Missing

UTC = dt.UTC
START = dt.date(2026, 10, 5)  # a Monday: the flag reaches 100% at 09:00
AS_OF = dt.date(2026, 10, 25)  # a Sunday: three full ISO weeks at 100%
PER_DAY = 100


def _ts(day: dt.date, hour: int = 12, minute: int = 0, second: int = 0) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=UTC)


def _days(first: dt.date, last: dt.date) -> list[dt.date]:
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def _canary() -> pl.DataFrame:
    """100 agent interactions a day from Oct 1 to Oct 25 (50% before Oct 5), plus a few human ones."""
    rows = []
    for day in _days(dt.date(2026, 10, 1), AS_OF):
        rows += [(f"a{day:%m%d}-{i:03d}", _ts(day, 10), "agent") for i in range(PER_DAY)]
        if day < START:
            rows += [(f"h{day:%m%d}-{i:03d}", _ts(day, 10), "human") for i in range(PER_DAY)]
    frame = pl.DataFrame(rows, schema=["interaction_id", "ts", "arm"], orient="row")
    return frame.with_columns(success=pl.lit(True), failure_mode=pl.lit(None, pl.String))


def _reviews() -> pl.DataFrame:
    """Week 1 and 2: 10 of 100 reviewed a day (10%); week 3: 4 a day (4%, short of the 10% target).

    agent_worse: interaction 0 every day of week 3 (7 of 28), none before. wrong_policy: interaction 1 on Oct 6
    and Oct 13 (2 of 168). Interaction 2 on Oct 7 has two reviewers, one says agent_worse: it counts once.
    Plus shadow-phase reviews (ignored) and one supervision review of an unknown interaction.
    """
    rows = []
    for day in _days(START, AS_OF):
        per_day = 4 if day >= dt.date(2026, 10, 19) else 10
        for i in range(per_day):
            worse = i == 0 and day >= dt.date(2026, 10, 19)
            mode = "wrong_policy" if i == 1 and day in (dt.date(2026, 10, 6), dt.date(2026, 10, 13)) else None
            verdict = "agent_worse" if worse or mode else "equivalent"
            rows.append((f"a{day:%m%d}-{i:03d}", "r1", _ts(day, 16), verdict, mode, "supervision"))
    rows.append(("a1007-002", "r2", _ts(dt.date(2026, 10, 7), 17), "agent_worse", None, "supervision"))
    rows.append(("a1001-000", "r1", _ts(dt.date(2026, 10, 1), 16), "agent_worse", None, "shadow"))
    rows.append(("nope-1", "r1", _ts(dt.date(2026, 10, 8), 16), "equivalent", None, "supervision"))
    return pl.DataFrame(rows, schema=["interaction_id", "reviewer", "reviewed_at", "verdict", "failure_mode",
                                      "phase"], orient="row")


def _flags() -> pl.DataFrame:
    rows = [
        (_ts(dt.date(2026, 10, 1), 9), 0.5, "ops", "stage 0.5", None),
        (_ts(START, 9), 1.0, "ops", "full traffic", None),
        (_ts(dt.date(2026, 10, 10), 12), 0.0, "ops", "Rollback drill", _ts(dt.date(2026, 10, 10), 12, 0, 45)),
        (_ts(dt.date(2026, 10, 10), 12, 10), 1.0, "ops", "back after drill", None),
        (_ts(dt.date(2026, 10, 20), 12), 0.0, "ops", "quarterly DRILL", _ts(dt.date(2026, 10, 20), 12, 1, 15)),
        (_ts(dt.date(2026, 10, 20), 12, 10), 1.0, "ops", "back after drill", None),
    ]
    return pl.DataFrame(rows, schema={"ts": pl.Datetime("us", "UTC"), "traffic_share": pl.Float64,
                                      "actor": pl.String, "reason": pl.String,
                                      "zero_at": pl.Datetime("us", "UTC")}, orient="row")


def _incidents() -> pl.DataFrame:
    rows = [
        ("i1", _ts(dt.date(2026, 10, 6), 10), "sev2", "regression", "secret text 1", _ts(dt.date(2026, 10, 7), 10),
         "wrong_policy", "a1006-001", None),
        ("i2", _ts(dt.date(2026, 10, 15), 8), "sev3", "customer_escalation", "secret text 2", None, None, None,
         None),
        ("i3", _ts(dt.date(2026, 10, 22), 9), "sev1", "false_positive", "secret text 3",
         _ts(dt.date(2026, 10, 26), 9), None, None, "monitoring"),
        ("i4", _ts(dt.date(2026, 10, 24), 9), "sev4", "other", "secret text 4", _ts(dt.date(2026, 10, 24), 11),
         None, None, None),
    ]
    return pl.DataFrame(rows, schema={"incident_id": pl.String, "opened_at": pl.Datetime("us", "UTC"),
                                      "severity": pl.String, "kind": pl.String, "summary": pl.String,
                                      "closed_at": pl.Datetime("us", "UTC"), "failure_mode": pl.String,
                                      "interaction_id": pl.String, "detected_by": pl.String}, orient="row")


def _evals() -> pl.DataFrame:
    """v1 on Sep 21 (20 tasks, all pass); v2 on Oct 22 (the 20 + 3 from incidents; t00 and t01 regress)."""
    rows = [("r1", _ts(dt.date(2026, 9, 21)), "v1", f"t{i:02d}", "typical", True, None) for i in range(20)]
    rows += [("r2", _ts(dt.date(2026, 10, 22)), "v2", f"t{i:02d}", "typical", i >= 2, None) for i in range(20)]
    rows += [("r2", _ts(dt.date(2026, 10, 22)), "v2", f"n{i}", "prior_failure", True, "incident") for i in range(3)]
    return pl.DataFrame(rows, schema=["run_id", "run_at", "agent_version", "task_id", "category", "passed",
                                      "source"], orient="row")


@pytest.fixture
def charter(charter_dict: dict) -> dict:
    charter_dict["supervision"] = {"sample_rate": 0.10}
    charter_dict["traffic"] = {"daily_interactions": PER_DAY}
    return charter_dict


@pytest.fixture
def ws(make_workspace, charter: dict) -> rk.Workspace:
    tables = {"canary.parquet": _canary(), "reviews.parquet": _reviews(), "flags.parquet": _flags(),
              "incidents.parquet": _incidents(), "evals.parquet": _evals()}
    return rk.load_workspace(make_workspace(tables, charter))


def test_supervision_starts_when_the_flag_first_reaches_full_traffic(ws):
    assert supervision.supervision_start(ws, as_of=AS_OF) == START
    assert supervision.supervision_start(ws, as_of=dt.date(2026, 10, 4)) is None


def test_sample_rate_per_week_against_the_charter_target(ws):
    sample = supervision.sample_rate(ws, as_of=AS_OF)
    expected = pl.DataFrame({
        "week": [dt.date(2026, 10, 5), dt.date(2026, 10, 12), dt.date(2026, 10, 19)],
        "week_label": ["2026-W41", "2026-W42", "2026-W43"],
        "days": [7, 7, 7], "interactions": [700, 700, 700], "reviewed": [70, 70, 28],
        "sample_rate": [0.10, 0.10, 0.04], "target": [0.10] * 3, "reached": [True, True, False],
    })
    assert_frame_equal(sample, expected, check_dtypes=False)


def test_review_rates_count_each_reviewed_interaction_once_and_bound_with_the_confidence_sequence(ws):
    rates = supervision.review_rates(ws, as_of=AS_OF)
    worse = rates.filter(pl.col("metric") == "agent_worse")
    # week 1: a1007-002 (second reviewer) and a1006-001 (wrong_policy verdict agent_worse); week 2: a1013-001.
    assert worse["events"].to_list() == [2, 1, 7]
    assert worse["reviewed"].to_list() == [70, 70, 28]
    assert worse["cum_events"].to_list() == [2, 3, 10]
    tuning = 0.10 * PER_DAY * 7 * 4
    cs = stats.bernoulli_confidence_sequence(10, 168, alpha=0.05, tuning_trials=tuning)
    last = worse.row(-1, named=True)
    assert last["cs_lower"] == pytest.approx(cs.lower, abs=1e-9)
    assert last["cs_upper"] == pytest.approx(cs.upper, abs=1e-9)
    wilson = stats.wilson_interval(7, 28)
    assert (last["lower"], last["upper"]) == pytest.approx((wilson.lower, wilson.upper))
    policy = rates.filter(pl.col("metric") == "wrong_policy")
    assert policy["cum_events"].to_list() == [1, 2, 2]
    assert policy["limit"].to_list() == [0.01] * 3
    assert rates.filter(pl.col("metric") == "pii_leak")["status"].to_list() == ["within"] * 3


def test_alert_status_follows_the_bounds(ws):
    latest = supervision.alerts(supervision.review_rates(ws, as_of=AS_OF))
    by_metric = dict(zip(latest["metric"], latest["status"], strict=True))
    # 10/168 = 6% agent_worse against a 5% limit: the bound still straddles it, so the sample is watched.
    assert by_metric == {"agent_worse": "watching", "wrong_policy": "watching", "pii_leak": "within"}


def test_alert_fires_when_the_lower_bound_crosses_the_limit(make_workspace, charter):
    reviews = _reviews().with_columns(verdict=pl.lit("agent_worse"))
    tables = {"canary.parquet": _canary(), "reviews.parquet": reviews, "flags.parquet": _flags()}
    ws = rk.load_workspace(make_workspace(tables, charter))
    latest = supervision.alerts(supervision.review_rates(ws, as_of=AS_OF))
    assert latest.filter(pl.col("metric") == "agent_worse")["status"].item() == "alert"
    head = supervision.page(ws, as_of=AS_OF).headline
    assert head.decision == "investigate" and head.status == "warn"


def test_zero_tolerance_mode_alerts_on_one_occurrence_and_rolls_back(make_workspace, charter):
    reviews = _reviews().with_columns(
        failure_mode=pl.when(pl.col("interaction_id") == "a1020-003").then(pl.lit("pii_leak"))
        .otherwise(pl.col("failure_mode")))
    tables = {"canary.parquet": _canary(), "reviews.parquet": reviews, "flags.parquet": _flags()}
    ws = rk.load_workspace(make_workspace(tables, charter))
    sup = supervision.page(ws, as_of=AS_OF)
    head = sup.headline
    assert (head.status, head.decision) == ("bad", "roll_back")
    assert "pii_leak" in head.sentence
    assert head.heading == "Supervision: roll back"
    check = find(sup.checks, "zero_tolerance:pii_leak")
    assert (check.status, check.on_fail, check.estimate) == ("fail", "rollback", pytest.approx(1 / 168))


def test_unmatched_supervision_reviews_are_counted(ws):
    assert supervision.page(ws, as_of=AS_OF).unmatched_reviews == 1


def test_incident_log_status_time_to_close_and_who_caught_it(ws):
    log = supervision.incident_log(ws, as_of=AS_OF, reviewed_ids=ws.table("reviews").select("interaction_id"))
    expected = pl.DataFrame({
        "incident_id": ["i4", "i3", "i2", "i1"],
        "day": [dt.date(2026, 10, 24), dt.date(2026, 10, 22), dt.date(2026, 10, 15), dt.date(2026, 10, 6)],
        "severity": ["sev4", "sev1", "sev3", "sev2"],
        "kind": ["other", "false_positive", "customer_escalation", "regression"],
        "failure_mode": [None, None, None, "wrong_policy"],
        "caught_by": ["unknown", "monitoring", "customer", "review_sample"],
        "status": ["closed", "open", "open", "closed"],
        "closed_day": [dt.date(2026, 10, 24), None, None, dt.date(2026, 10, 7)],
        "hours_to_close": [2.0, None, None, 24.0],
        "age_days": [1, 3, 10, 19],
    }, schema=log.schema)
    assert_frame_equal(log, expected, check_dtypes=False)
    assert "summary" not in log.columns
    summary = supervision.incident_summary(log, by=("status",))
    assert summary.select("status", "opened", "median_hours_to_close").rows() == [("closed", 2, 13.0),
                                                                                   ("open", 2, None)]


def test_incident_markers_for_the_canary_page(ws):
    markers = supervision.incident_markers(ws, as_of=dt.date(2026, 10, 20))
    assert markers.columns == ["day", "incident_id", "severity", "kind"]
    assert markers["incident_id"].to_list() == ["i1", "i2"]


def test_drills_measure_seconds_to_zero_against_60_seconds(ws):
    measured = supervision.drills(ws, as_of=AS_OF)
    assert measured.select("day", "kind", "seconds_to_zero", "within_target").rows() == [
        (dt.date(2026, 10, 10), "drill", 45.0, True), (dt.date(2026, 10, 20), "drill", 75.0, False)]
    status = supervision.drill_status(measured, as_of=AS_OF)
    assert (status.count, status.within_target, status.days_since_last, status.overdue) == (2, 1, 5, False)
    assert supervision.drill_status(measured.head(1), as_of=AS_OF).overdue is False
    assert supervision.drill_status(measured.head(1), as_of=dt.date(2026, 11, 30)).overdue is True


def test_drill_reaching_zero_before_the_command_is_refused(make_workspace, charter):
    flags = _flags().with_columns(zero_at=pl.col("zero_at") - dt.timedelta(hours=1))
    ws = rk.load_workspace(make_workspace({"flags.parquet": flags}, charter))
    with pytest.raises(rk.DataError, match="zero_at"):
        supervision.drills(ws, as_of=AS_OF)


def test_weekly_agenda_lists_incidents_regressions_eval_tasks_and_gaps(ws):
    items = supervision.page(ws, as_of=AS_OF).agenda
    assert items.select("kind", "id", "severity", "status").rows() == [
        ("incident", "i3", "sev1", "open"),
        ("incident", "i4", "sev4", "closed"),
        ("regression", "t00", None, "open"),
        ("regression", "t01", None, "open"),
        ("open_action", "i2", "sev3", "open"),
        ("process", "rollback_drill", None, "open"),
        ("process", "sample_rate", None, "open"),
        ("eval_tasks_added", "incident/prior_failure", None, "added"),
    ]
    assert set(items["owner"]) == {"support-ai"}
    assert not items["what"].str.contains("secret").any()


def test_headline_details_carry_agenda_and_drills_for_summary_json(ws):
    head = supervision.page(ws, as_of=AS_OF).headline
    assert (head.page, head.status, head.decision) == ("supervision", "warn", "investigate")
    assert head.heading == "Supervision: investigate"
    assert head.details["drills"] == [
        {"ts": "2026-10-10T12:00:00+00:00", "seconds_to_zero": 45.0, "within_target": True, "kind": "drill"},
        {"ts": "2026-10-20T12:00:00+00:00", "seconds_to_zero": 75.0, "within_target": False, "kind": "drill"}]
    assert [row["id"] for row in head.details["agenda"]][:2] == ["i3", "i4"]
    assert json.loads(json.dumps(head.to_dict()))["details"]["agenda"][0]["opened"] == "2026-10-22"


def test_alerts_are_checks_of_the_reviewed_rates_against_their_limits(ws):
    sup = supervision.page(ws, as_of=AS_OF)
    assert [c.name for c in sup.checks] == ["agent_worse_rate", "failure_rate:wrong_policy",
                                          "zero_tolerance:pii_leak"]
    worse = find(sup.checks, "agent_worse_rate")
    assert (worse.status, worse.on_fail, worse.threshold) == ("insufficient", "hold", 0.05)
    assert worse.estimate == pytest.approx(10 / 168)
    assert "straddle the 5% limit" in worse.sentence
    assert find(sup.checks, "zero_tolerance:pii_leak").status == "pass"
    assert sup.checks_table["check"].to_list() == ["Agent worse than human", "Failure rate: wrong_policy",
                                                   "Zero tolerance: pii_leak"]
    assert sup.headline.details["checks"][0] == worse.to_dict()


def test_before_full_traffic_the_headline_is_informational(ws):
    sup = supervision.page(ws, as_of=dt.date(2026, 10, 4))
    head = sup.headline
    assert (head.status, head.decision) == ("info", None)
    assert head.heading == "Supervision: not at 100% yet"
    assert str(sup.note).startswith("Not at 100% yet (the flag routes 50% to the agent)")
    assert isinstance(sup.note, Missing) and str(sup.sample) == "Not at 100% yet: no review weeks to show."
    assert str(sup.rates) == "Not at 100% yet: no reviewed rates to chart."
    assert sup.checks == () and isinstance(sup.checks_table, Missing)


def test_missing_tables_leave_parts_empty_and_named(make_workspace, charter):
    ws = rk.load_workspace(make_workspace({"flags.parquet": _flags()}, charter))
    report = supervision.page(ws, as_of=AS_OF)
    assert isinstance(report.sample, Missing) and isinstance(report.incidents, Missing)
    assert any("incident log" in m for m in report.missing)
    assert report.headline.status == "missing"
    assert report.headline.sentence == "Not started: this workspace has no `reviews` table yet."
    assert isinstance(report.drill_status, supervision.DrillStatus)


def test_a_workspace_with_only_a_charter_is_not_started(make_workspace, charter):
    report = supervision.page(rk.load_workspace(make_workspace({}, charter)), as_of=AS_OF)
    assert report.headline.status == "missing" and report.headline.sentence.startswith("Not started: ")
    assert report.headline.heading == "Supervision: not started"
    for part in (report.note, report.sample, report.rates, report.incidents, report.drills, report.drill_note,
                 report.checks_table, report.incident_summary):
        assert isinstance(part, Missing)
    assert report.agenda.is_empty() and report.incident_markers.is_empty()
    assert json.loads(json.dumps(report.headline.to_dict()))["details"]["missing"] == list(report.missing)


def test_agentops_scale_counts_live_agents_and_monthly_tasks(make_workspace, charter):
    live = rk.load_workspace(make_workspace({"canary.parquet": _canary(), "flags.parquet": _flags()}, charter,
                                            name="live"))
    off_flags = _flags().with_columns(traffic_share=pl.lit(0.0))
    off = rk.load_workspace(make_workspace({"canary.parquet": _canary(), "flags.parquet": off_flags}, charter,
                                           name="off"))
    scale = supervision.agentops_scale([live, off], as_of=AS_OF)
    # 30 days ending Oct 25 start Sep 26: Oct 1..25 is 25 days of 100 agent interactions.
    assert (scale.production_agents, scale.monthly_tasks, scale.dedicated_ownership_due) == (1, 5000, False)
    assert "1 production agent and 5,000 agent tasks" in scale.sentence
    busy = supervision.agentops_scale([live, off], as_of=AS_OF, max_monthly_tasks=4_999)
    assert busy.dedicated_ownership_due and "is due" in busy.sentence
    many = supervision.agentops_scale([live] * 4, as_of=AS_OF)
    assert many.production_agents == 4 and many.dedicated_ownership_due
    # a workspace cut at a past day (as the weekly run cuts each at its week's day) counts the 30 days ending then
    earlier = AS_OF - dt.timedelta(days=10)
    past = supervision.agentops_scale([live.cut(earlier)])
    assert past.to_dict() == supervision.agentops_scale([live], as_of=earlier).to_dict()
    assert (past.agents[0].as_of, past.monthly_tasks) == (earlier, 1500)
    # cut after its data ends (a stale week): the 30 days end on the cut day, not on the last day with data
    later = live.last_day() + dt.timedelta(days=5)
    stale = supervision.agentops_scale([live.cut(later)])
    assert stale.agents[0].as_of == later
    assert stale.to_dict() == supervision.agentops_scale([live], as_of=later).to_dict()


def _texts(chart) -> str:
    return json.dumps(chart.to_dict(), ensure_ascii=False)


def test_charts_state_the_finding_draw_the_limits_and_render_offline(ws):
    report = supervision.page(ws, as_of=AS_OF)
    sample = rk.charts.supervision_sample_rate(report.sample)
    assert "1 of 3 weeks fell short of the 10% review target" in _texts(sample)
    rates = rk.charts.supervision_rates(report.rates, supervision.incident_markers(ws, as_of=AS_OF))
    assert "wrong_policy" in _texts(rates) and "limit 5.0%" in _texts(rates)
    incidents = rk.charts.supervision_incidents(report.incidents)
    assert "4 incidents, 2 open; the review sample caught 1, customers 1" in _texts(incidents)
    assert "secret" not in _texts(incidents)
    drills = rk.charts.supervision_drills(report.drills)
    assert "took 75 s to reach 0%, over the 60 s target" in _texts(drills)
    for chart in (sample, rates, incidents, drills):
        assert rk.render.svg(chart).startswith("<svg")


def test_charts_of_empty_parts_say_there_is_no_data(ws):
    before = dt.date(2026, 10, 4)  # before 100%, the first incident and the first drill
    for chart, words in ((rk.charts.supervision_sample_rate(supervision.sample_rate(ws, as_of=before)),
                          "not at 100% yet"),
                         (rk.charts.supervision_rates(supervision.review_rates(ws, as_of=before)),
                          "no supervision reviews"),
                         (rk.charts.supervision_incidents(supervision.incident_log(ws, as_of=before)),
                          "no incidents logged"),
                         (rk.charts.supervision_drills(supervision.drills(ws, as_of=before)),
                          "no rollback has been drilled")):
        assert words in _texts(chart)
        assert rk.render.svg(chart).startswith("<svg")


def test_charts_of_missing_parts_are_their_notes(make_workspace, charter):
    report = supervision.page(rk.load_workspace(make_workspace({}, charter)), as_of=AS_OF)
    assert rk.charts.supervision_sample_rate(report.sample) is report.sample
    assert rk.charts.supervision_rates(report.rates, report.incident_markers) is report.rates
    assert rk.charts.supervision_incidents(report.incidents) is report.incidents
    assert rk.charts.supervision_drills(report.drills) is report.drills
    assert "no `incidents` table" in report.incidents._repr_html_()


def _humans(per_day: int) -> pl.DataFrame:
    """`per_day` human interactions a day at 100% (Oct 5..25), beside the fixture's canary rows."""
    rows = [(f"h{day:%m%d}-{i:03d}", _ts(day, 11), "human") for day in _days(START, AS_OF) for i in range(per_day)]
    frame = pl.DataFrame(rows, schema=["interaction_id", "ts", "arm"], orient="row")
    return pl.concat([_canary(), frame.with_columns(success=pl.lit(True), failure_mode=pl.lit(None, pl.String))])


def test_human_path_fails_when_recent_days_fall_below_the_charter_minimum(ws):
    sup = supervision.page(ws, as_of=AS_OF)
    path = sup.human_path
    assert path["day"].to_list() == _days(START, AS_OF)
    assert set(path["human"]) == {0} and path["below"].all() and set(path["minimum"]) == {20}
    check = sup.human_path_check
    assert (check.name, check.label, check.status, check.on_fail, check.threshold) == (
        "human_path", "Human-only path kept warm", "fail", "hold", 20.0)
    assert "below 20 a day on 7 of the last 7 days" in check.sentence
    assert sup.headline.details["checks"][-1] == check.to_dict()
    assert [c.name for c in sup.checks] == ["agent_worse_rate", "failure_rate:wrong_policy",
                                          "zero_tolerance:pii_leak"]
    assert "the human-only path fell below 20 interactions a day" in sup.headline.sentence
    assert sup.headline.details["human_path"]["days_below"] == 21
    chart = rk.charts.supervision_human_path(path)
    assert "fell below 20 a day on 7 of the last 7 days" in _texts(chart) and "minimum 20 a day" in _texts(chart)
    assert rk.render.svg(chart).startswith("<svg")


def test_human_path_passes_when_warm_and_is_off_at_zero(make_workspace, charter):
    tables = {"canary.parquet": _humans(25), "reviews.parquet": _reviews(), "flags.parquet": _flags()}
    warm = supervision.page(rk.load_workspace(make_workspace(tables, charter, name="warm")), as_of=AS_OF)
    assert warm.human_path_check.status == "pass"
    assert warm.human_path_check.estimate == 25.0 and not warm.human_path["below"].any()
    assert "stayed at 20 a day or more" in _texts(rk.charts.supervision_human_path(warm.human_path))
    charter["human_path"] = {"min_daily_interactions": 0}
    off = supervision.page(rk.load_workspace(make_workspace(tables, charter, name="off")), as_of=AS_OF)
    assert off.human_path_check is None and not off.human_path["below"].any()
    assert "human_path" not in [c["name"] for c in off.headline.details["checks"]]
    assert "sets no minimum" in _texts(rk.charts.supervision_human_path(off.human_path))


def test_before_full_traffic_the_human_path_says_so_in_one_line(ws):
    sup = supervision.page(ws, as_of=dt.date(2026, 10, 4))
    assert isinstance(sup.human_path, Missing) and str(sup.human_path).startswith("Not at 100% yet")
    assert sup.human_path_check is None
    assert rk.charts.supervision_human_path(sup.human_path) is sup.human_path


def _practised_flags() -> pl.DataFrame:
    """The fixture's flags plus a game day at 50% on Oct 2 (30 s to 0%, restored at 10:05) and, on Oct 3, a
    "drill" to 0% restored only the next day: a real rollback, not a drill."""
    extra = pl.DataFrame([
        (_ts(dt.date(2026, 10, 2), 10), 0.0, "ops", "Game day", _ts(dt.date(2026, 10, 2), 10, 0, 30)),
        (_ts(dt.date(2026, 10, 2), 10, 5), 0.5, "ops", "restore", None),
        (_ts(dt.date(2026, 10, 3), 23), 0.0, "ops", "drill", _ts(dt.date(2026, 10, 3), 23, 0, 20)),
        (_ts(dt.date(2026, 10, 4), 1), 0.5, "ops", "restore", None),
    ], schema=_flags().schema, orient="row")
    return pl.concat([_flags(), extra]).sort("ts")


def test_drills_practised_before_full_traffic_are_counted_and_timed(make_workspace, charter):
    ws = rk.load_workspace(make_workspace({"flags.parquet": _practised_flags()}, charter))
    sup = supervision.page(ws, as_of=AS_OF)
    drilled = sup.drill_practice
    assert drilled.select("day", "when", "stage", "seconds_to_zero", "within_target").rows() == [
        (dt.date(2026, 10, 2), "before 100%", "50%", 30.0, True),
        (dt.date(2026, 10, 10), "at 100%", "100%", 45.0, True),
        (dt.date(2026, 10, 20), "at 100%", "100%", 75.0, False)]
    assert supervision.drills(ws, as_of=AS_OF)["kind"].to_list() == ["drill", "rollback", "drill", "drill"]
    before = sup.headline.details["drill_practice"]["before_full"]
    assert (before["count"], before["measured"], before["median_seconds"], before["stages"]) == (1, 1, 30.0,
                                                                                                  ["50%"])
    assert sup.drill_practice_note.startswith("1 rollback drill before 100% (at 50%; median 30.0 s")
    assert "1 rollback drill practised before 100% (at 50%), 2 since" in _texts(
        rk.charts.supervision_drill_practice(drilled))


def test_no_drill_before_full_traffic_is_said_plainly(ws):
    sup = supervision.page(ws, as_of=AS_OF)
    assert sup.drill_practice["when"].to_list() == ["at 100%", "at 100%"]
    assert sup.drill_practice_note.startswith("No rollback drill before 100%")
    assert sup.headline.details["drill_practice"]["before_full"]["count"] == 0


def test_each_incident_is_placed_at_the_stage_it_opened_at(make_workspace, charter):
    extra = pl.DataFrame([
        ("i0", _ts(dt.date(2026, 9, 30), 10), "sev3", "other", "x", None, None, None, None),
        ("i5", _ts(dt.date(2026, 10, 2), 10, 2), "sev2", "regression", "x", None, None, None, None),  # in a drill
        ("i6", _ts(dt.date(2026, 10, 10), 12, 5), "sev4", "other", "x", None, None, None, None),  # in a drill
    ], schema=_incidents().schema, orient="row")
    tables = {"flags.parquet": _practised_flags(), "incidents.parquet": pl.concat([_incidents(), extra])}
    sup = supervision.page(rk.load_workspace(make_workspace(tables, charter)), as_of=AS_OF)
    placed = dict(sup.caught_at.select("incident_id", "stage").iter_rows())
    assert placed == {"i0": "before the first flag", "i5": "50%", "i1": "100%", "i6": "100%", "i2": "100%",
                      "i3": "100%", "i4": "100%"}
    counts = sup.caught_at_stage
    assert counts["stage"].unique(maintain_order=True).to_list() == [
        "before the first flag", "5%", "15%", "40%", "50%", "80%", "100%"]
    assert counts.filter(pl.col("stage") == "100%").select("severity", "incidents").rows() == [
        ("sev1", 1), ("sev2", 1), ("sev3", 1), ("sev4", 2)]
    assert int(counts["incidents"].sum()) == 7
    assert sup.headline.details["caught_at_stage"]["by_stage"] == [
        {"stage_share": None, "stage": "before the first flag", "incidents": 1},
        {"stage_share": 0.5, "stage": "50%", "incidents": 1}, {"stage_share": 1.0, "stage": "100%", "incidents": 5}]
    chart = rk.charts.supervision_caught_at_stage(counts)
    assert "5 of 7 incidents were caught at 100%, 0 at the first stage (5%)" in _texts(chart)
    assert rk.render.svg(chart).startswith("<svg")


def test_from_counts_the_volumes_and_monthly_tasks_are_the_same_as_from_rows(ws, make_workspace, charter):
    counts = rk.canary.daily_counts(ws, as_of=AS_OF)
    tables = {"canary_daily.parquet": counts, "reviews.parquet": _reviews(), "flags.parquet": _flags(),
              "incidents.parquet": _incidents(), "evals.parquet": _evals()}
    from_counts = rk.load_workspace(make_workspace(tables, charter, name="counts"))
    assert not from_counts.has("canary") and from_counts.has("canary_daily")
    rows, daily = supervision.page(ws, as_of=AS_OF), supervision.page(from_counts, as_of=AS_OF)
    a, b = rows.headline.details, daily.headline.details
    for key in ("start", "days_at_full", "target_sample_rate", "human_path", "drill_practice", "caught_at_stage",
                "drills", "drill_status", "incidents"):
        assert a[key] == b[key], key
    assert [(r["week"], r["days"], r["interactions"]) for r in a["sample"]] == [
        (r["week"], r["days"], r["interactions"]) for r in b["sample"]]
    assert (a["reviews_matched"], b["reviews_matched"]) == (True, False)
    assert isinstance(daily.review_matching_note, Missing) and "cannot be matched" in str(daily.review_matching_note)
    # counts only: the review of an unknown interaction (Oct 8) cannot be left out
    assert [r["reviewed"] for r in b["sample"]] == [71, 70, 28] and b["unmatched_reviews"] == 0
    assert (supervision.agentops_scale([ws], as_of=AS_OF).to_dict()
            == supervision.agentops_scale([from_counts], as_of=AS_OF).to_dict())


def test_no_customer_text_reaches_the_details_or_the_charts(ws):
    sup = supervision.page(ws, as_of=AS_OF)
    text = json.dumps(sup.headline.to_dict())
    charts = [rk.charts.supervision_caught_at_stage(sup.caught_at_stage), rk.charts.supervision_human_path(
        sup.human_path), rk.charts.supervision_drill_practice(sup.drill_practice),
        rk.charts.supervision_incidents(sup.incidents)]
    text += "".join(_texts(c) for c in charts) + json.dumps(sup.caught_at.to_dicts(), default=str)
    assert "secret" not in text and "a1006-001" not in text and "Rollback drill" not in text
    assert "INC" not in text and "i1" in text  # incident ids may appear


def test_numbers_are_readable_in_sentences_and_dates_are_iso(ws):
    sup = supervision.page(ws, as_of=AS_OF)
    sentences = [sup.headline.sentence, str(sup.human_path_note), str(sup.drill_practice_note),
                 *[c["sentence"] for c in sup.headline.details["checks"]]]
    assert not [s for s in sentences if re.search(r"\de-\d", s)]
    assert sup.headline.details["human_path"]["daily"][0]["day"] == "2026-10-05"
    assert sup.headline.details["drill_practice"]["drills"][0]["ts"] == "2026-10-10T12:00:00+00:00"
