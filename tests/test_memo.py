"""The weekly memo: what changed since last week, charter in plain words, freshness states, daily interactions,
headlines of missing phases; the portfolio's view of an agent (current phase, its decision, attention order)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import polars as pl
import pytest

from rolloutkit import audit, memo, paths
from rolloutkit.charter import parse_charter
from rolloutkit.workspace import load_workspace

INVOICE = paths.DEMO_DIR / "invoice-triage"
KB = paths.DEMO_DIR / "kb-answers"
REFUNDS = paths.DEMO_DIR / "support-refunds"
KINDS = ("first_week", "decision", "stage", "incident", "regression", "check", "override", "unauthorized", "error")


def test_charter_artifacts_in_plain_words(charter_dict):
    artifacts = memo.charter_artifacts(parse_charter(charter_dict))
    words = dict(artifacts.iter_rows())
    assert list(words) == ["Task", "Success metric", "Intolerable failure modes", "Rollback triggers"]
    assert "at most 2% (absolute) worse than humans" in words["Success metric"]
    assert "wrong_policy: at most 1% (answer contradicts the refund policy)" in words["Intolerable failure modes"]
    assert "pii_leak: zero tolerance — any occurrence rolls back" in words["Intolerable failure modes"]
    assert words["Rollback triggers"] == "roll back if failure_rate of wrong_policy above 0.02 over 1 day"


def test_freshness_knows_streams_from_event_logs():
    states = dict(memo.freshness(load_workspace(INVOICE)).select("table", "state").iter_rows())
    assert states == {"shadow": "ended (canary began)", "reviews": "event log", "canary": "fresh",
                      "flags": "event log", "evals": "event log", "incidents": "event log"}
    in_shadow = dict(memo.freshness(load_workspace(KB)).select("table", "state").iter_rows())
    assert in_shadow["shadow"] == "fresh" and in_shadow["canary"] == "missing"


def test_a_stream_that_stops_early_is_stale():
    ws = load_workspace(INVOICE)
    late = ws.resolve_as_of(None) + dt.timedelta(days=5)
    row = memo.freshness(ws, as_of=late).filter(pl.col("table") == "canary").row(0, named=True)
    assert (row["state"], row["days_behind"]) == ("stale", 5)


def test_interactions_per_day_add_up_to_the_tables():
    ws = load_workspace(INVOICE)
    daily = memo.interactions_per_day(ws)
    totals = dict(daily.group_by("source").agg(pl.col("interactions").sum()).iter_rows())
    assert totals["shadow (agent logged only)"] == ws.table("shadow").select(pl.len()).collect().item()
    arms = ws.table("canary").group_by("arm").len().collect()
    assert totals["live: agent arm"] == arms.filter(pl.col("arm") == "agent")["len"].item()
    assert totals["live: human arm"] == arms.filter(pl.col("arm") == "human")["len"].item()


def test_interactions_per_day_respects_as_of():
    ws = load_workspace(INVOICE)
    assert memo.interactions_per_day(ws, as_of="2026-11-01")["day"].max() == dt.date(2026, 11, 1)


def test_a_phase_without_its_table_says_not_started():
    headline = {h.page: h for h in memo.headlines(load_workspace(KB))}["canary_readiness"]
    assert headline.status == "missing"
    assert headline.sentence == "Not started: this workspace has no `canary` table yet."


def test_every_phase_has_a_headline_on_every_demo_agent():
    for folder in sorted(p for p in paths.DEMO_DIR.iterdir() if p.is_dir()):
        headlines = memo.headlines(load_workspace(folder))
        assert [h.page for h in headlines] == list(memo.TITLES)
        assert all(h.status != "error" for h in headlines), [(h.page, h.sentence) for h in headlines]


# --- what changed since last week: two consecutive weeks of the demo ----------------------------------------------

@pytest.fixture(scope="module")
def weeks():
    """The invoice-triage memo as of 2026-11-08, 2026-11-15 and 2026-11-22."""
    ws = load_workspace(INVOICE)
    return {day: memo.page(ws, as_of=day) for day in ("2026-11-08", "2026-11-15", "2026-11-22")}


def of_kind(changes: list[dict], kind: str) -> list[dict]:
    return [c for c in changes if c["kind"] == kind]


def test_changes_come_in_reading_order_and_carry_no_customer_text(weeks):
    incidents = load_workspace(INVOICE).table("incidents").collect()
    for page in weeks.values():
        kinds = [c["kind"] for c in page.changes]
        assert kinds == sorted(kinds, key=KINDS.index)
        assert all(c["sentence"] for c in page.changes)
        text = json.dumps(page.changes, ensure_ascii=False)
        assert not [s for s in incidents["summary"] if s in text]
        assert not [i for i in incidents["interaction_id"].drop_nulls() if i in text]


def test_the_week_to_2026_11_15_moved_to_40_percent(weeks):
    changes = weeks["2026-11-15"].changes
    assert of_kind(changes, "stage") == [{
        "kind": "stage", "before": "canary at 15%", "after": "canary at 40%",
        "sentence": "Stage: canary at 15% → canary at 40% (15% → 40% by maria.lopez on 2026-11-13)."}]
    assert of_kind(changes, "incident") == [
        {"kind": "incident", "id": "INC-0002", "severity": "sev2", "opened": "2026-11-11",
         "sentence": "New incident INC-0002 (sev2), opened 2026-11-11."},
        {"kind": "incident", "id": "INC-0003", "severity": "sev3", "opened": "2026-11-14",
         "sentence": "New incident INC-0003 (sev3), opened 2026-11-14."},
    ]
    # maria.lopez is in the demo's rollback authority, so her expansion is no unauthorized change
    assert of_kind(changes, "unauthorized") == []
    assert of_kind(changes, "regression") == []  # no eval run that week
    assert of_kind(changes, "check") == []  # a new stage restarts its checks: the stage change is the news


def test_the_week_to_2026_11_22_has_a_new_incident_and_an_eval_regression(weeks):
    changes = weeks["2026-11-22"].changes
    assert of_kind(changes, "stage") == []
    assert of_kind(changes, "incident") == [{"kind": "incident", "id": "INC-0004", "severity": "sev3",
                                             "opened": "2026-11-18",
                                             "sentence": "New incident INC-0004 (sev3), opened 2026-11-18."}]
    assert of_kind(changes, "regression") == [{
        "kind": "regression", "page": "eval_set", "candidate": "v1.2", "baseline": "v1.1", "regressed": 5,
        "fixed": 7, "paired_tasks": 168,
        "sentence": "Eval set: v1.2 (2026-11-22) regressed 5 of 168 shared tasks against v1.1 and fixed 7 (not a "
                    "significant regression, exact McNemar p = 0.77)."}]
    assert of_kind(changes, "unauthorized") == []  # no flag change that week


@pytest.mark.parametrize("day", ["2026-11-15", "2026-11-22"])
def test_decisions_and_checks_that_changed_are_exactly_those_of_the_two_memos(weeks, day):
    before = {h.page: h for h in weeks[(dt.date.fromisoformat(day) - memo.WEEK).isoformat()].headlines}
    now = weeks[day]
    calls = [(h.page, before[h.page].decision or before[h.page].status, h.decision or h.status) for h in now.headlines]
    expected = [(page, old, new) for page, old, new in calls if old != new]
    assert [(c["page"], c["before"], c["after"]) for c in of_kind(now.changes, "decision")] == expected
    same_stage = before["canary_readiness"].details["stage_started"] == \
        {h.page: h for h in now.headlines}["canary_readiness"].details["stage_started"]
    flipped = []
    for h in now.headlines:
        if h.page not in ("shadow_comparison", "canary_readiness", "supervision") or (
                h.page == "canary_readiness" and not same_stage):
            continue
        old = {c["name"]: c["status"] for c in before[h.page].details.get("checks", [])}
        flipped += [(h.page, c["name"], c["label"], old[c["name"]], c["status"]) for c in h.details.get("checks", [])
                    if c["name"] in old and old[c["name"]] != c["status"]]
    assert [(c["page"], c["name"], c["label"], c["before"], c["after"]) for c in of_kind(now.changes, "check")] \
        == flipped
    assert day != "2026-11-22" or flipped, "the days at 40% reach the bake time in the week to 2026-11-22"


def test_a_check_flip_names_the_check_in_words_and_keeps_its_name(weeks):
    bake = next(c for c in of_kind(weeks["2026-11-22"].changes, "check") if c["name"] == "bake_time")
    assert (bake["label"], bake["before"], bake["after"]) == ("Days at stage", "insufficient", "pass")
    assert bake["sentence"] == ("Canary readiness: “Days at stage” now passes (a week ago it lacked the evidence to "
                                "decide).")


@pytest.mark.parametrize("day", ["2026-11-15", "2026-11-22"])
def test_the_week_lists_exactly_the_audit_overrides_in_it(weeks, day):
    result = audit.audit(load_workspace(INVOICE), as_of=day)
    start = dt.date.fromisoformat(day) - memo.WEEK
    assert [c["sentence"] for c in of_kind(weeks[day].changes, "override")] == [
        o.sentence for o in result.overrides if o.last_day > start]


def test_the_changes_lead_the_memo_as_sentences(weeks):
    page = weeks["2026-11-22"]
    assert page.change_lines == [c["sentence"] for c in page.changes]
    quiet = dataclasses.replace(page, changes=[])
    assert quiet.change_lines == ["Nothing changed since 2026-11-15: the same decisions and stage, no new incident, "
                                  "regression or override, no check flipped."]


def test_the_first_week_has_nothing_to_compare_with():
    ws = load_workspace(KB)
    first = ws.inventory()["first_day"].min()
    changes = memo.changes(ws, as_of=first + dt.timedelta(days=3))
    assert changes[0] == {"kind": "first_week",
                          "sentence": "First week with data: there is no earlier memo to compare with."}
    assert {c["kind"] for c in changes[1:]} <= {"incident", "override", "unauthorized"}


# --- the portfolio's view -----------------------------------------------------------------------------------------

def summary_of(folder, **extra) -> dict:
    ws = load_workspace(folder)
    return {"agent": ws.agent, "decisions": {h.page: h.to_dict() for h in memo.headlines(ws)}, "notebooks": {},
            "changes": [], **extra}


def test_current_phase_and_its_decision_on_the_demo():
    refunds, invoice, kb = summary_of(REFUNDS), summary_of(INVOICE), summary_of(KB)
    assert [memo.current_phase(s) for s in (refunds, invoice, kb)] == [
        "supervision at 100%", "canary at 40%", "shadow"]
    # at 100% the decision shown is supervision's, not the shadow gate's "ready for canary"
    assert [memo.current_decision(s)["page"] for s in (refunds, invoice, kb)] == [
        "supervision", "canary_readiness", "shadow_comparison"]
    assert memo.current_phase({"agent": "new", "decisions": {}}) == "not started"
    assert memo.current_decision({"agent": "new", "decisions": {}}) is None
    views = [memo.portfolio_view(s) for s in (refunds, invoice, kb)]
    assert [(v["phase"], v["decision"]) for v in views] == [
        ("supervision at 100%", "investigate"), ("canary at 40%", invoice["decisions"]["canary_readiness"]["decision"]),
        ("shadow", "continue shadow")]
    assert views[0]["sentence"] == refunds["decisions"]["supervision"]["sentence"]
    assert memo.portfolio_view({"agent": "x", "error": "charter.yaml: ..."}) == {
        "phase": "cannot be read", "status": "bad", "decision": "cannot be read", "sentence": "",
        "attention": "failing or overdue"}
    assert memo.portfolio_view({"agent": "new", "decisions": {}})["decision"] == "not started"


def headline(page: str, status: str, decision: str | None = None, **details) -> dict:
    return {"page": page, "title": page, "status": status, "sentence": "", "decision": decision, "heading": "",
            "details": details}


def canary_at(share: float, decision: str, status: str, **details) -> dict:
    return {"decisions": {"shadow_comparison": headline("shadow_comparison", "good", "ready_for_canary"),
                          "canary_readiness": headline("canary_readiness", status, decision, stage=share,
                                                       **details)},
            "notebooks": {"summary": {"status": "ok"}}, "changes": []}


def test_what_needs_attention_comes_first():
    summaries = [
        {"agent": "a-healthy", **canary_at(0.4, "expand", "good")},
        {"agent": "b-not-started", "decisions": {}, "notebooks": {}},
        {"agent": "c-hold", **canary_at(0.15, "hold", "warn")},
        {"agent": "d-overdue", **canary_at(0.15, "hold", "warn", overdue=True)},
        {"agent": "e-rollback", **canary_at(0.4, "rollback", "bad")},
        {"agent": "f-failed-page", **canary_at(0.05, "expand", "good"),
         "notebooks": {"canary_readiness": {"status": "failed"}}},
        {"agent": "g-override", **canary_at(0.4, "expand", "good"), "changes": [{"kind": "override"}]},
        {"agent": "h-unreadable", "error": "charter.yaml: ...", "decisions": {}, "notebooks": {}},
    ]
    ordered = memo.attention_order(summaries)
    assert [(s["agent"], memo.attention(s)) for s in ordered] == [
        ("e-rollback", "rollback"),
        ("d-overdue", "failing or overdue"), ("f-failed-page", "failing or overdue"),
        ("g-override", "failing or overdue"), ("h-unreadable", "failing or overdue"),
        ("c-hold", "hold"),
        ("a-healthy", "healthy"),
        ("b-not-started", "not started"),
    ]


def test_bad_data_is_an_error_item_not_a_crash(make_workspace):
    bad = "incident_id,opened_at,severity,kind,summary\nINC-1,2026-11-20T10:00:00Z,sev9,other,a customer wrote\n"
    changes = memo.changes(load_workspace(make_workspace({"incidents.csv": bad})), as_of="2026-11-22")
    assert [c["kind"] for c in changes] == ["error"]
    assert changes[0]["sentence"].startswith("What changed since 2026-11-15 could not be computed: incidents.csv")
    assert "sev9" in changes[0]["sentence"]
