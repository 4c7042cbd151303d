"""The weekly memo: charter in plain words, freshness states, daily interactions, headlines of missing phases."""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit import memo, paths
from rolloutkit.charter import parse_charter
from rolloutkit.workspace import load_workspace

INVOICE = paths.DEMO_DIR / "invoice-triage"
KB = paths.DEMO_DIR / "kb-answers"


def test_charter_artifacts_in_plain_words(charter_dict):
    artifacts = memo.charter_artifacts(parse_charter(charter_dict))
    words = dict(artifacts.iter_rows())
    assert list(words) == ["Task", "Success metric", "Intolerable failure modes", "Rollback triggers"]
    assert "at most 2.0% (absolute) worse than humans" in words["Success metric"]
    assert "wrong_policy: at most 1.00% (answer contradicts the refund policy)" in words["Intolerable failure modes"]
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
