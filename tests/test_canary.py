"""Canary readiness on hand-built workspaces whose truth is known: stage timeline, checks and decisions."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

from rolloutkit import canary, load_workspace, text
from rolloutkit.errors import DataError
from rolloutkit.memo import headlines
from rolloutkit.page import Missing

START = dt.date(2026, 10, 1)
DAY_US = 86_400_000_000
CHARTER = {
    "agent": "invoice-triage",
    "task": "Route invoices",
    "success_metric": {"name": "routing_accuracy", "noninferiority_margin": 0.02},
    "failure_modes": [{"name": "wrong_route", "max_rate": 0.01}, {"name": "duplicate_payment", "max_rate": 0}],
    "rollback_triggers": [{"metric": "failure_rate", "failure_mode": "wrong_route", "above": 0.05}],
    "traffic": {"daily_interactions": 4000},
    "guardrails": {"action_allowlist": ["route"], "review_required": ["hold_payment"]},
}


def _us(day: int, hour: float) -> int:
    return int((dt.datetime.combine(START, dt.time(), tzinfo=dt.UTC).timestamp() + day * 86400 + hour * 3600)
               * 1_000_000)


def write_canary(folder: Path, *, flags: list[tuple[int, float, float, str]], days: int, daily: int = 4000,
                 rates: dict[str, float] | None = None, regression: tuple[int, float] | None = None,
                 agent_success: float = 0.88, human_success: float = 0.86, skew: float = 1.0,
                 breach_days: tuple[int, ...] = (), charter: dict | None = None, seed: int = 1) -> Path:
    """A workspace with `days` days of canary rows from START and the given flag changes.

    `flags` are (day, hour, share, reason); `regression` = (from day, wrong_route rate); `breach_days` get one
    agent interaction with a disallowed action.
    """
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True)
    (folder / "charter.yaml").write_text(yaml.safe_dump(charter or CHARTER, sort_keys=False))
    change = np.array([_us(d, h) for d, h, _, _ in flags])
    share_at = np.array([s for _, _, s, _ in flags])
    ts = np.sort(rng.integers(_us(0, 0), _us(days, 0), size=daily * days))
    idx = np.searchsorted(change, ts, side="right") - 1
    share = np.where(idx >= 0, share_at[np.clip(idx, 0, None)], 0.0)
    agent = rng.random(ts.size) < share * skew
    day = (ts - _us(0, 0)) // DAY_US
    rate = np.full(ts.size, (rates or {}).get("wrong_route", 0.002))
    if regression:
        rate = np.where(day >= regression[0], regression[1], rate)
    u = rng.random(ts.size)
    wrong = np.where(agent, u < rate, u < 0.002)
    dup = agent & (u >= rate) & (u < rate + (rates or {}).get("duplicate_payment", 0.0))
    success = ~wrong & ~dup & (rng.random(ts.size) < np.where(agent, agent_success, human_success) / 0.99)
    disallowed = np.zeros(ts.size, dtype=np.int64)
    for d in breach_days:
        hit = np.flatnonzero(agent & (day == d))
        disallowed[hit[:1]] = 1
    pl.DataFrame({
        "interaction_id": [f"i{i}" for i in range(ts.size)],
        "ts": pl.Series(ts).cast(pl.Datetime("us", "UTC")),
        "arm": np.where(agent, "agent", "human"),
        "success": success,
        "failure_mode": pl.Series(np.where(wrong, "wrong_route", np.where(dup, "duplicate_payment", ""))).replace(
            "", None),
        "disallowed_actions": disallowed,
        "unreviewed_irreversible": np.zeros(ts.size, dtype=np.int64),
    }).write_parquet(folder / "canary.parquet")
    pl.DataFrame({
        "ts": pl.Series(change).cast(pl.Datetime("us", "UTC")),
        "traffic_share": share_at.astype(float),
        "actor": ["ops"] * len(flags),
        "reason": [r for *_, r in flags],
    }).write_parquet(folder / "flags.parquet")
    return folder


LADDER = [(0, 9.0, 0.05, "canary start"), (7, 9.0, 0.15, "expand"), (14, 9.5, 0.40, "expand")]


@pytest.fixture(scope="module")
def healthy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_canary(tmp_path_factory.mktemp("canary") / "healthy", flags=LADDER, days=22)


def test_healthy_expands_after_bake_time_and_not_before(healthy: Path) -> None:
    ws = load_workspace(healthy)
    before = canary.readiness(ws, as_of=START + dt.timedelta(days=19))
    after = canary.readiness(ws, as_of=START + dt.timedelta(days=20))
    assert (before.stage, before.days_at_stage, before.decision) == (0.40, 6, "hold")
    assert before.driver == "bake_time" and before.days_needed == 1
    assert (after.stage, after.days_at_stage, after.decision, after.next_stage) == (0.40, 7, "expand", 0.80)
    assert all(c.status == "pass" for c in after.checks)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cases")


def test_stage_segments_classify_drills_rollbacks_and_ramps(folder: Path) -> None:
    flags = [(0, 9.0, 0.05, "start"), (2, 14.0, 0.0, "rollback drill"), (2, 15.0, 0.05, "drill: restore"),
             (4, 9.0, 0.0, "rollback: bad routes"), (5, 9.0, 0.05, "fixed"), (6, 9.0, 0.15, "expand"),
             (7, 9.0, 0.0, "drill"), (7, 10.0, 0.15, "restore")]
    counts = canary.canary_counts(load_workspace(write_canary(folder / "segments", flags=flags, days=8, daily=200)))
    segments = counts.segments
    expected = pl.DataFrame({
        "kind": ["start", "ramp", "drill", "drill_restore", "rollback", "ramp", "ramp", "drill", "drill_restore"],
        "epoch": [0, 1, 1, 1, 2, 3, 4, 4, 4]})
    assert_frame_equal(segments.select("kind", "epoch"), expected)
    assert counts.epochs["share"].to_list() == [0.0, 0.05, 0.0, 0.05, 0.15]


def test_a_drill_does_not_restart_the_stage_but_a_rollback_does(folder: Path) -> None:
    drill = [*LADDER[:2], (9, 14.0, 0.0, "rollback drill"), (9, 14.2, 0.15, "rollback drill: restore")]
    ws = load_workspace(write_canary(folder / "drill", flags=drill, days=14))
    result = canary.readiness(ws)
    assert (result.stage, result.days_at_stage, result.decision) == (0.15, 7, "expand")
    rollback = [*LADDER[:2], (9, 14.0, 0.0, "rollback: wrong routes"), (10, 9.0, 0.15, "re-enter after fix")]
    ws = load_workspace(write_canary(folder / "rollback", flags=rollback, days=14))
    result = canary.readiness(ws)
    assert (result.stage, result.days_at_stage, result.stage_change, result.decision) == (0.15, 4, "ramp", "hold")
    assert result.stage_started == dt.datetime(2026, 10, 11, 9, tzinfo=dt.UTC)
    at_zero = canary.readiness(ws, as_of=START + dt.timedelta(days=9))
    assert (at_zero.stage, at_zero.decision, at_zero.next_stage) == (0.0, "hold", 0.05)
    assert "after a rollback" in at_zero.reasons[0]


def test_regression_rolls_back_within_days_of_its_start(folder: Path) -> None:
    ws = load_workspace(write_canary(folder / "regressing", flags=LADDER, days=20, regression=(16, 0.03)))
    history = canary.decision_history(ws)
    first = history.filter(pl.col("decision") == "rollback").row(0, named=True)
    assert START + dt.timedelta(days=16) <= first["day"] <= START + dt.timedelta(days=18)
    assert first["driver"] in ("failure_rate:wrong_route", "trigger:1")
    result = canary.readiness(ws)
    assert result.decision == "rollback" and result.next_stage == 0.80
    assert result.check("failure_rate:wrong_route").status == "fail"
    assert history.height == 20 and history["day"].is_sorted()
    assert history.filter(pl.col("stage_change").is_not_null())["day"].to_list() == [
        START, START + dt.timedelta(days=7), START + dt.timedelta(days=14)]


def test_low_traffic_holds_with_days_needed_and_the_share_that_would_get_there(folder: Path) -> None:
    charter = {**CHARTER, "traffic": {"daily_interactions": 400}}
    ws = load_workspace(write_canary(folder / "low", flags=LADDER[:1], days=9, daily=400, charter=charter,
                                     rates={"wrong_route": 0.0005}))
    result = canary.readiness(ws)
    assert result.decision == "hold" and result.driver in ("failure_rate:wrong_route", "success_noninferiority")
    assert result.days_needed is not None and result.days_needed > 14 - 9
    assert result.share_needed is not None and result.share_needed > 0.05
    assert "past the 14-day maximum hold" in result.days_needed_note
    overdue = load_workspace(write_canary(folder / "overdue", flags=LADDER[:1], days=16, daily=400, charter=charter))
    assert canary.readiness(overdue).overdue


def test_a_split_that_does_not_match_the_flag_holds_on_srm(folder: Path) -> None:
    ws = load_workspace(write_canary(folder / "srm", flags=LADDER, days=22, skew=0.9))
    result = canary.readiness(ws)
    assert (result.decision, result.driver) == ("hold", "srm")
    assert result.check("srm").status == "fail" and result.check("srm").estimate == pytest.approx(0.36, abs=0.01)
    assert result.days_needed is None and result.days_needed_note.startswith("Needs a fix")


def test_zero_tolerance_rolls_back_and_guardrail_breach_holds(folder: Path) -> None:
    ws = load_workspace(write_canary(folder / "zero", flags=LADDER, days=22, rates={"duplicate_payment": 0.0005}))
    result = canary.readiness(ws)
    assert (result.decision, result.driver) == ("rollback", "zero_tolerance:duplicate_payment")
    ws = load_workspace(write_canary(folder / "breach", flags=LADDER, days=22, breach_days=(19,)))
    result = canary.readiness(ws)
    assert (result.decision, result.driver) == ("hold", "guardrails")
    assert result.check("guardrails").days_needed == 19 + 7 - 21  # the breach leaves the 7-day window
    assert "1 interactions with a disallowed action" in result.check("guardrails").sentence


def test_final_stage_holds_with_no_next_stage(folder: Path) -> None:
    ladder = [(0, 9.0, 0.05, "start"), (1, 9.0, 1.0, "all traffic")]
    ws = load_workspace(write_canary(folder / "final", flags=ladder, days=20))
    result = canary.readiness(ws)
    assert (result.stage, result.decision, result.next_stage, result.overdue) == (1.0, "hold", None, False)
    assert "rollout is complete" in result.reasons[0] and result.status == "info"
    assert result.check("success_noninferiority").status == "insufficient"


def test_json_contract_and_headline(healthy: Path) -> None:
    ws = load_workspace(healthy)
    data = json.loads(json.dumps(canary.readiness(ws).to_dict()))
    assert {"agent", "as_of", "stage", "stage_started", "days_at_stage", "decision", "next_stage", "reasons",
            "checks", "days_needed", "overdue"} <= set(data)
    assert data["as_of"] == "2026-10-22" and data["decision"] == "expand" and data["next_stage"] == 0.8
    names = [c["name"] for c in data["checks"]]
    assert names == ["zero_tolerance:duplicate_payment", "failure_rate:wrong_route", "success_noninferiority",
                     "trigger:1", "guardrails", "srm", "bake_time", "stability", "incidents", "eval_regressions",
                     "freshness"]
    assert all(set(c) >= {"name", "status", "estimate", "lower", "upper", "threshold", "sentence"}
               for c in data["checks"])
    line = canary.page(ws).headline
    assert (line.page, line.status, line.decision) == ("canary_readiness", "good", "expand")
    assert line.sentence.startswith("Expand from 40% to 80%")
    assert line.heading == "Expand 40% → 80%" and line.details == data


def test_cli_readiness_json(healthy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from rolloutkit.cli import main

    assert main(["readiness", str(healthy), "--as-of", "2026-10-20", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["decision"], data["days_at_stage"], data["days_needed"]) == ("hold", 6, 1)
    assert main(["readiness", str(healthy)]) == 0
    assert "EXPAND" in capsys.readouterr().out


def test_missing_flags_table_is_missing_on_the_memo(folder: Path) -> None:
    path = write_canary(folder / "noflags", flags=LADDER, days=10)
    (path / "flags.parquet").unlink()
    line = next(h for h in headlines(load_workspace(path)) if h.page == "canary_readiness")
    assert line.status == "missing" and "flags" in line.sentence


def _rows(folder: Path) -> Path:
    """Five interactions over two days around a flag change at noon, with sessions, costs and latencies."""
    charter = {**CHARTER, "guardrails": {**CHARTER["guardrails"], "max_actions_per_session": 5}}
    folder.mkdir(parents=True)
    (folder / "charter.yaml").write_text(yaml.safe_dump(charter, sort_keys=False))
    at = [dt.datetime(2026, 10, 1, 8), dt.datetime(2026, 10, 1, 13), dt.datetime(2026, 10, 1, 14),
          dt.datetime(2026, 10, 2, 9), dt.datetime(2026, 10, 2, 10)]
    pl.DataFrame({
        "interaction_id": ["a", "b", "c", "d", "e"], "ts": at, "arm": ["human", "agent", "agent", "agent", "human"],
        "success": [True, True, False, True, False],
        "failure_mode": [None, None, "wrong_route", None, "duplicate_payment"],
        "session_id": ["s1", "s2", "s3", "s2", None], "actions": [1, 3, 4, 3, 2],
        "disallowed_actions": [0, 0, 1, 0, 0], "unreviewed_irreversible": [0, 0, 0, 1, 0],
        "cost_usd": [None, 0.5, None, 0.25, None], "latency_ms": [100.0, 200.0, 300.0, None, 400.0],
    }).write_parquet(folder / "canary.parquet")
    pl.DataFrame({"ts": [dt.datetime(2026, 10, 1, 12)], "traffic_share": [0.5], "actor": ["ops"],
                  "reason": ["start"]}).write_parquet(folder / "flags.parquet")
    return folder


def test_daily_counts_are_the_canary_daily_shape(folder: Path) -> None:
    ws = load_workspace(_rows(folder / "rows"))
    noon = dt.datetime(2026, 10, 1, 12, tzinfo=dt.UTC)
    expected = pl.DataFrame({
        "day": [dt.date(2026, 10, 1), dt.date(2026, 10, 1), dt.date(2026, 10, 2), dt.date(2026, 10, 2)],
        "segment_start": [None, noon, noon, noon], "arm": ["human", "agent", "agent", "human"],
        "n": [1, 2, 1, 1], "successes": [1, 1, 1, 0], "fail__wrong_route": [0, 1, 0, 0],
        "fail__duplicate_payment": [0, 0, 0, 1], "disallowed": [0, 1, 0, 0], "unreviewed": [0, 0, 1, 0],
        # session s2 (3 + 3 actions, over the limit of 5) counts on its first day only
        "over_actions": [0, 1, 0, 0], "cost_usd": [0.0, 0.5, 0.25, 0.0], "cost_n": [0, 1, 1, 0],
        "latency_ms_sum": [100.0, 500.0, 0.0, 400.0], "latency_ms_sumsq": [1e4, 1.3e5, 0.0, 1.6e5],
        "latency_n": [1, 2, 0, 1],
    }, schema_overrides={"segment_start": pl.Datetime("us", "UTC")})
    assert_frame_equal(canary.daily_counts(ws), expected)
    # as of the first day, rows after it are unknown: s2 has 3 actions so far, within the limit
    assert_frame_equal(canary.daily_counts(ws, as_of="2026-10-01"),
                       expected.head(2).with_columns(over_actions=pl.lit(0, dtype=pl.Int64)))


def test_sessions_counted_in_hash_buckets_are_counted_once(folder: Path) -> None:
    # 3,000 agent sessions of 1-4 interactions, some crossing midnight or a flag change, some without an id:
    # however many buckets the sessions are split into, each is counted once, on its first row's day and segment
    rng = np.random.default_rng(7)
    n = 6000
    session = rng.integers(0, 3000, n)
    ts = (dt.datetime(2026, 10, 1, tzinfo=dt.UTC).timestamp() + session * 60 + rng.integers(0, 7200, n)) * 1e6
    folder = folder / "sessions"
    folder.mkdir()
    (folder / "charter.yaml").write_text(yaml.safe_dump({**CHARTER, "guardrails": {
        **CHARTER["guardrails"], "max_actions_per_session": 6, "max_dollars_per_session": 50}}, sort_keys=False))
    pl.DataFrame({
        "interaction_id": [f"i{k}" for k in range(n)],
        "ts": pl.Series(ts.astype("int64")).cast(pl.Datetime("us", "UTC")),
        "arm": "agent", "success": True, "failure_mode": None,
        "session_id": [None if k % 50 == 0 else f"s{s}" for k, s in enumerate(session)],
        "actions": rng.integers(0, 5, n), "dollars": rng.uniform(0, 30, n),
    }, schema_overrides={"failure_mode": pl.String}).write_parquet(folder / "canary.parquet")
    pl.DataFrame({"ts": [dt.datetime(2026, 10, 1, 20)], "traffic_share": [1.0], "actor": ["ops"],
                  "reason": ["start"]}).write_parquet(folder / "flags.parquet")
    ws = load_workspace(folder)
    one = canary.daily_counts(ws, session_buckets=1)
    assert one["over_actions"].sum() > 100 and one["over_dollars"].sum() > 100 and one["day"].n_unique() > 1
    for buckets in (2, 3, 16):
        assert_frame_equal(canary.daily_counts(ws, session_buckets=buckets), one)
    assert_frame_equal(canary.daily_counts(ws), one)


def test_counts_from_daily_give_the_decisions_the_rows_give(healthy: Path, folder: Path) -> None:
    ws = load_workspace(healthy)
    flags = ws.table("flags").collect()
    for day in (dt.date(2026, 10, 5), dt.date(2026, 10, 20), dt.date(2026, 10, 22)):
        from_rows = canary.canary_counts(ws, as_of=day)
        # a warehouse's counts: all days, the flag history without the local day
        from_daily = canary.counts_from_daily(canary.daily_counts(ws), flags.drop("day"), ws.charter, as_of=day)
        assert_frame_equal(from_daily.daily, from_rows.daily)
        assert_frame_equal(from_daily.segments, from_rows.segments)
        assert canary.readiness(from_daily).to_dict() == canary.readiness(from_rows).to_dict()
    small = load_workspace(_rows(folder / "rows-again"))
    counts = canary.canary_counts(small)
    assert counts.guardrail_columns == ("disallowed", "unreviewed", "over_actions") and counts.has_cost
    assert counts.daily["seg"].to_list() == [0, 1, 1, 1] and counts.daily["over_dollars"].to_list() == [0] * 4


def test_counts_from_daily_refuse_a_missing_mode_and_an_unknown_segment(healthy: Path) -> None:
    ws = load_workspace(healthy)
    daily, flags = canary.daily_counts(ws), ws.table("flags").collect()
    with pytest.raises(DataError, match="missing required column.*fail__duplicate_payment"):
        canary.counts_from_daily(daily.drop("fail__duplicate_payment"), flags, ws.charter, as_of=START)
    shifted = daily.with_columns(pl.col("segment_start") + dt.timedelta(seconds=1))
    with pytest.raises(DataError, match="segment_start.*no flag time"):
        canary.counts_from_daily(shifted, flags, ws.charter, as_of=START + dt.timedelta(days=21))


def test_page_holds_everything_the_notebook_shows(healthy: Path) -> None:
    ws = load_workspace(healthy)
    page = canary.page(ws, as_of="2026-10-20")
    result = canary.readiness(ws, as_of="2026-10-20")
    assert page.readiness == result and page.headline.heading == "Hold at 40%"
    assert page.reasons == [*result.reasons] and page.reasons[0].startswith("6 of at least 7 days")
    assert page.checks_table["status"].to_list() == [c.status for c in result.checks]
    assert_frame_equal(page.history, canary.decision_history(ws, as_of="2026-10-20"))
    assert_frame_equal(page.failure_bounds, canary.failure_bounds(ws, as_of="2026-10-20"))
    assert page.incidents.is_empty() and page.guardrails["breaches"].sum() == 0


def test_page_without_canary_or_flags_is_missing_parts_and_never_raises(folder: Path) -> None:
    for table in ("canary", "flags"):
        path = write_canary(folder / f"no-{table}", flags=LADDER, days=3, daily=100)
        (path / f"{table}.parquet").unlink()
        page = canary.page(load_workspace(path))
        assert page.headline.status == "missing" and page.headline.sentence.startswith("Not started: ")
        assert f"`{table}`" in page.headline.sentence and page.reasons == []
        parts = (page.readiness, page.checks_table, page.counts, page.history, page.failure_bounds,
                 page.success_gap, page.guardrails, page.traffic_share)
        assert all(isinstance(part, Missing) for part in parts) and page.incidents.is_empty()


# --- the whole picture: incidents and eval regressions; safe advice; freshness; readable, customer-free text ---

PII = ("jane.doe@example.com", "+1 415 555 0100", "4111 1111 1111 1111", "Jane Doe")


def _incidents(path: Path, rows: list[tuple[str, int, str, str, int | None]], *, link: str | None = None) -> None:
    """incidents.parquet from (id, opened day, severity, kind, closed day or None), each opened at 10:00 and
    closed at 12:00, with a summary full of customer data; `link` is the interaction every one is linked to."""
    def at(day: int | None) -> dt.datetime | None:
        return None if day is None else dt.datetime.combine(START + dt.timedelta(days=day), dt.time(10),
                                                             tzinfo=dt.UTC)
    pl.DataFrame({
        "incident_id": [r[0] for r in rows], "opened_at": [at(r[1]) for r in rows], "severity": [r[2] for r in rows],
        "kind": [r[3] for r in rows], "summary": [f"{PII[3]} ({PII[0]}, {PII[1]}) was charged on {PII[2]}"] * len(rows),
        "closed_at": [None if r[4] is None else at(r[4]) + dt.timedelta(hours=2) for r in rows],
        "interaction_id": [link] * len(rows),
    }, schema_overrides={"opened_at": pl.Datetime("us", "UTC"), "closed_at": pl.Datetime("us", "UTC"),
                         "interaction_id": pl.String}).write_parquet(path / "incidents.parquet")


def test_an_open_sev1_or_sev2_opened_at_the_stage_holds_and_lower_severities_do_not(healthy: Path,
                                                                                   tmp_path: Path) -> None:
    import shutil

    path = tmp_path / "incidents"
    shutil.copytree(healthy, path)
    _incidents(path, [("INC-0001", 10, "sev1", "regression", None),  # at 15%, still open: not this stage's
                      ("INC-0002", 15, "sev2", "guardrail_breach", 16),
                      ("INC-0003", 17, "sev3", "customer_escalation", None),
                      ("INC-0004", 19, "sev1", "regression", None)])
    ws = load_workspace(path)
    result = canary.readiness(ws)  # day 8 at 40%: every other check passes
    check = result.check("incidents")
    assert (result.decision, result.driver, check.status, check.on_fail) == ("hold", "incidents", "fail", "hold")
    assert check.sentence == ("Open sev1/sev2 incident opened at this stage: INC-0004 (sev1, regression, opened "
                              "2026-10-20); the stage holds until it is closed. Also at this stage: INC-0002 (sev2, "
                              "guardrail breach, closed), INC-0003 (sev3, customer escalation, open).")
    assert result.days_needed_note == "Needs a fix, not more days: Open incidents."
    assert [i.incident_id for i in result.stage_incidents] == ["INC-0002", "INC-0003", "INC-0004"]
    # as of the day INC-0002 opened it was open; a day later it was closed, and a sev3 never holds
    assert canary.readiness(ws, as_of=START + dt.timedelta(days=15)).check("incidents").status == "fail"
    assert canary.readiness(ws, as_of=START + dt.timedelta(days=18)).check("incidents").status == "pass"
    history = canary.decision_history(ws)
    assert history.filter(pl.col("day") == START + dt.timedelta(days=15))["driver"].to_list() == ["incidents"]
    assert history.filter(pl.col("day") == START + dt.timedelta(days=21))["driver_label"].to_list() == [
        "Open incidents"]
    page = canary.page(ws)
    assert page.context[1] == ("Incidents opened at this stage: INC-0002 (sev2, guardrail breach, closed), INC-0003 "
                               "(sev3, customer escalation, open), INC-0004 (sev1, regression, open).")
    assert page.stage_incidents["incident"].to_list() == ["INC-0002", "INC-0003", "INC-0004"]
    assert "INC-0004" in page.headline.sentence and page.headline.details["stage_incidents"][2] == {
        "incident_id": "INC-0004", "severity": "sev1", "kind": "regression", "opened_on": "2026-10-20", "open": True}


def _evals(path: Path, outcomes: dict[str, dict[str, bool]], *, days: dict[str, int],
           categories: dict[str, str]) -> None:
    """evals.parquet: one run per version on day `days[version]` at 16:00, a row per (version, task)."""
    rows = [{"run_id": f"run-{version}", "agent_version": version, "task_id": task, "passed": passed,
             "category": categories.get(task, "typical"),
             "run_at": dt.datetime.combine(START + dt.timedelta(days=days[version]), dt.time(16), tzinfo=dt.UTC)}
            for version, tasks in outcomes.items() for task, passed in tasks.items()]
    pl.DataFrame(rows).write_parquet(path / "evals.parquet")


def _live(path: Path, version: str) -> None:
    rows = pl.read_parquet(path / "canary.parquet")
    rows.with_columns(agent_version=pl.lit(version)).write_parquet(path / "canary.parquet")


def test_eval_regressions_of_the_live_version_hold_by_task_id(healthy: Path, tmp_path: Path) -> None:
    import shutil

    tasks = [f"T-{i:03d}" for i in range(1, 41)]
    v1 = dict.fromkeys(tasks, True)
    v2 = {**v1, "T-001": False, "T-002": False}
    path = tmp_path / "evals"
    shutil.copytree(healthy, path)
    _evals(path, {"v1": v1, "v2": v2}, days={"v1": 2, "v2": 16}, categories={"T-001": "prior_failure"})
    ws = load_workspace(path)
    # no agent_version column: the live version is the latest eval run's, v2 from day 16
    result = canary.readiness(ws)
    check = result.check("eval_regressions")
    assert (result.decision, result.driver, check.status) == ("hold", "eval_regressions", "fail")
    assert check.sentence == ("The live version v2 (the latest version run on the eval set) fails 1 prior-failure or "
                              "adversarial task v1 passed: T-001 (prior failure); it also regressed on T-002. The "
                              "stage holds until a version that passes them is live.")
    assert (result.live_version.version, result.to_dict()["live_version_source"]) == ("v2", "evals")
    history = canary.decision_history(ws)
    assert history.filter(pl.col("day") == START + dt.timedelta(days=15))["driver"].to_list() == ["bake_time"]
    assert set(history.filter(pl.col("day") >= START + dt.timedelta(days=16))["driver"]) == {"eval_regressions"}
    # the canary says v1 is live: v2's regressions are a release candidate's, and the stage expands
    _live(path, "v1")
    result = canary.readiness(load_workspace(path))
    assert result.decision == "expand" and result.context()[0] == (
        "Live agent version: v1 (the canary's agent_version column).")
    assert result.check("eval_regressions").sentence == "v1 is the first version run on the eval set: nothing to " \
                                                        "regress against."
    # a live version never run on the eval set cannot pass
    _live(path, "v3")
    check = canary.readiness(load_workspace(path)).check("eval_regressions")
    assert check.status == "insufficient" and "v3 (the canary's agent_version column) has not been run" in \
        check.sentence
    # a typical task flipping, not significant overall, is named for review and does not hold
    _live(path, "v2")
    _evals(path, {"v1": v1, "v2": {**v1, "T-002": False}}, days={"v1": 2, "v2": 16}, categories={})
    result = canary.readiness(load_workspace(path))
    assert result.decision == "expand" and result.check("eval_regressions").sentence == (
        "The live version v2 (the canary's agent_version column) regressed on 1 typical or edge task v1 passed "
        "(T-002) and fixed 0; not significant (exact McNemar p = 1), so they are for review, not a hold.")
    # ... but a significant regression overall holds, every regressed task named
    _evals(path, {"v1": v1, "v2": {**v1, **dict.fromkeys(tasks[:10], False)}}, days={"v1": 2, "v2": 16},
           categories={})
    check = canary.readiness(load_workspace(path)).check("eval_regressions")
    assert check.status == "fail" and check.sentence.startswith(
        "The live version v2 (the canary's agent_version column) regressed significantly against v1 (10 tasks "
        "regressed, 0 fixed; exact McNemar p = 0.002): T-001 (typical), T-002 (typical), ")


def test_data_ending_10_days_before_the_day_of_the_decision_holds_on_freshness(healthy: Path) -> None:
    ws = load_workspace(healthy)  # data to 2026-10-22: every check passes on that day
    result = canary.readiness(ws, as_of="2026-11-01")
    check = result.check("freshness")
    assert (result.decision, result.driver, check.status, check.estimate) == ("hold", "freshness", "fail", 10.0)
    assert result.reasons[0] == check.sentence == (
        "The canary data ends on 2026-10-22, 10 days before 2026-11-01: the export may have stopped, and the stage "
        "holds until the data is fresh.")
    assert result.sentence().startswith("Hold at 40% (day 18 — overdue; needs a fix, not more days): The canary data "
                                        "ends on 2026-10-22")
    assert canary.readiness(ws, as_of="2026-10-23").check("freshness").status == "fail"
    assert canary.readiness(ws).check("freshness").sentence == "Data reaches 2026-10-22."


def test_low_traffic_never_advises_more_than_the_next_stage_and_says_what_the_charter_allows(folder: Path) -> None:
    charter = {**CHARTER, "owner": "finance-ops", "traffic": {"daily_interactions": 400}}
    ws = load_workspace(write_canary(folder / "low-advice", flags=LADDER[:1], days=9, daily=400, charter=charter,
                                     rates={"wrong_route": 0.0005}))
    result = canary.readiness(ws)
    assert result.share_needed in (None, 0.15) and result.next_stage == 0.15 and not result.overdue
    assert "Routing" not in result.days_needed_note and "100%" not in result.days_needed_note
    assert result.days_needed_note.endswith(
        "When the maximum hold runs out on 2026-10-14, the charter allows two courses: hold longer with the "
        "sign-off of finance-ops, the owner, or roll back.")
    # at the maximum hold: overdue, and the reasons say plainly what the charter allows
    at_max = load_workspace(write_canary(folder / "low-max", flags=LADDER[:1], days=14, daily=400, charter=charter,
                                         rates={"wrong_route": 0.0005}))
    result = canary.readiness(at_max)
    assert (result.days_at_stage, result.decision, result.overdue, result.title) == (14, "hold", True,
                                                                                     "Hold at 5% (overdue)")
    assert result.reasons[-1] == ("The decision is overdue: day 14 at 5%, and the maximum hold is 14 days; the "
                                  "charter allows two courses: hold longer with the sign-off of finance-ops, the "
                                  "owner, or roll back.")
    assert "— overdue" in result.sentence() and "When the maximum hold runs out" not in (result.days_needed_note or "")
    unowned = load_workspace(write_canary(folder / "low-unowned", flags=LADDER[:1], days=14, daily=400,
                                          charter={k: v for k, v in charter.items() if k != "owner"}))
    assert "a named owner's sign-off (the charter names no `owner`: add one)" in canary.readiness(unowned).reasons[-1]


def _as_counts(rows: Path, target: Path) -> Path:
    """A copy of a workspace whose canary rows are replaced by their daily counts, as a warehouse hands them over."""
    import shutil

    shutil.copytree(rows, target)
    canary.daily_counts(load_workspace(rows)).write_parquet(target / "canary_daily.parquet")
    (target / "canary.parquet").unlink()
    return target


def test_a_workspace_holds_rows_or_counts_and_validates_its_counts(healthy: Path, tmp_path: Path) -> None:
    import shutil

    both = tmp_path / "both"
    shutil.copytree(healthy, both)
    canary.daily_counts(load_workspace(healthy)).write_parquet(both / "canary_daily.parquet")
    with pytest.raises(DataError, match=r"^canary.parquet and canary_daily.parquet are both in both: a workspace "
                                        "holds canary rows or their daily counts, not both; remove "
                                        "canary_daily.parquet to decide from the rows, or move canary.parquet out"):
        load_workspace(both)
    counts = _as_counts(healthy, tmp_path / "counts")
    ws = load_workspace(counts)
    assert ws.has("canary_daily") and not ws.has("canary") and ws.last_day() == dt.date(2026, 10, 22)
    assert ws.inventory().filter(pl.col("table") == "canary_daily")["file"].to_list() == ["canary_daily.parquet"]
    assert_frame_equal(canary.daily_counts(ws, as_of="2026-10-10"),
                       canary.daily_counts(load_workspace(healthy), as_of="2026-10-10"))
    bad = pl.read_parquet(counts / "canary_daily.parquet").with_columns(successes=pl.col("n") + 1)
    bad.write_parquet(counts / "canary_daily.parquet")
    with pytest.raises(DataError, match="canary_daily.parquet.*`successes` must not exceed `n`"):
        canary.readiness(load_workspace(counts))


def test_only_counts_say_what_needs_rows(healthy: Path, tmp_path: Path) -> None:
    import shutil

    rows = tmp_path / "rows"
    shutil.copytree(healthy, rows)
    first = pl.read_parquet(rows / "canary.parquet").filter(pl.col("arm") == "agent")["interaction_id"][-1]
    _incidents(rows, [("INC-0009", 20, "sev3", "other", None)], link=first)
    from_rows = canary.page(load_workspace(rows))
    from_counts = canary.page(load_workspace(_as_counts(rows, tmp_path / "counts")))
    assert from_counts.readiness.to_dict() == from_rows.readiness.to_dict()
    assert from_rows.stage_incidents.select("interaction", "arm").row(0) == (text.reference(first), "agent")
    assert from_counts.stage_incidents.select("interaction", "arm").row(0) == (text.reference(first), None)
    assert from_counts.context[-1].startswith("This workspace holds daily counts (`canary_daily`), not rows")
    assert from_counts.context[:-1] == from_rows.context


def test_no_customer_text_and_readable_numbers_on_the_page_and_in_json(healthy: Path, tmp_path: Path) -> None:
    import re
    import shutil

    import rolloutkit as rk

    path = tmp_path / "pii"
    shutil.copytree(healthy, path)
    rows = pl.read_parquet(path / "canary.parquet")
    rows = rows.with_columns(interaction_id=pl.lit(PII[0] + "/") + pl.col("interaction_id"))
    rows.write_parquet(path / "canary.parquet")
    linked = rows.filter(pl.col("arm") == "agent")["interaction_id"][-1]
    _incidents(path, [("INC-0001", 16, "sev2", "customer_escalation", None)], link=linked)
    ws = load_workspace(path)
    page = canary.page(ws)
    frames = [page.checks_table, page.history, page.incidents, page.stage_incidents, page.failure_bounds,
              page.success_gap, page.guardrails, page.traffic_share]
    shown = json.dumps(page.headline.to_dict()) + json.dumps(page.reasons + page.context)
    shown += "".join(json.dumps(f.with_columns(pl.all().cast(pl.String)).to_dicts()) for f in frames)
    shown += rk.render.svg(rk.charts.canary_decision_history(page.history, page.incidents))
    shown += rk.charts.canary_decision_history(page.history, page.incidents).to_json()
    assert not [value for value in (*PII, linked) if value in shown]
    assert text.reference(linked) in page.stage_incidents["interaction"].to_list()
    sentences = [*page.reasons, *page.context, *page.checks_table["sentence"], *page.history["reason"]]
    assert not [s for s in sentences if re.search(r"\d[eE][-+]?\d", s)]
    assert not [s for s in sentences if re.search(r"\b(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d", s)]
    table = page.checks_table
    assert table["check"].to_list()[:3] == ["Zero tolerance: duplicate_payment", "Failure rate: wrong_route",
                                            "Success vs humans"]
    assert table.filter(pl.col("check") == "Failure rate: wrong_route")["threshold"].to_list() == ["1%"]
    assert table.filter(pl.col("check") == "Days at stage")["estimate"].to_list() == ["8 days"]
    assert not [v for v in table.select("estimate", "lower", "upper", "threshold").to_series().drop_nulls()
                if re.search(r"\d[eE][-+]?\d", v)]
