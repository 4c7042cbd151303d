"""rolloutkit.synth: deterministic, valid workspaces whose realised rates match the truth they were drawn from."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from rolloutkit.contracts import CONTRACTS
from rolloutkit.synth import SCENARIOS, Scenario, Truth, canary_frame, canary_frame_flags, write_demo, write_workspace
from rolloutkit.workspace import load_workspace

SEED = 7


@pytest.fixture(scope="module")
def written(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Truth]]:
    """Every scenario written once: the demo's three plus the others."""
    root = tmp_path_factory.mktemp("synth")
    demo = write_demo(root / "demo", seed=SEED)
    out = {truth.scenario: (root / "demo" / folder, truth) for folder, truth in demo.items()}
    for name in SCENARIOS:
        if name not in out:
            out[name] = (root / name, write_workspace(root / name, name, seed=SEED))
    return out


def _within(count: int, trials: int, rate: float, sigmas: float = 4.0) -> bool:
    """`count` of `trials` is within `sigmas` binomial standard deviations of `rate` (plus one for tiny rates)."""
    return abs(count - trials * rate) <= sigmas * math.sqrt(trials * rate * (1 - rate)) + 1


def _small(name: str = "healthy") -> Scenario:
    return dataclasses.replace(SCENARIOS[name], daily_interactions=400)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path, fmt: str) -> None:
    scenario = _small()
    first = write_workspace(tmp_path / "a", scenario, seed=3, fmt=fmt)
    write_workspace(tmp_path / "b", scenario, seed=3, fmt=fmt)
    write_workspace(tmp_path / "c", scenario, seed=4, fmt=fmt)
    files = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert files == sorted(["charter.yaml", *(f"{t}.{fmt}" for t in first.tables)])
    for name in files:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes(), name
    assert (tmp_path / "a" / f"canary.{fmt}").read_bytes() != (tmp_path / "c" / f"canary.{fmt}").read_bytes()


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_every_scenario_loads_and_validates(written: dict, name: str) -> None:
    path, truth = written[name]
    ws = load_workspace(path)
    ws.validate()
    assert ws.agent == truth.agent == SCENARIOS[name].agent
    assert tuple(t for t in CONTRACTS if ws.has(t)) == tuple(t for t in CONTRACTS if t in truth.tables)
    assert ws.last_day() == truth.end
    assert truth.end.month == 11 and truth.end.year == 2026
    assert truth.start.weekday() == 0  # shadow weeks are ISO weeks
    assert ws.has("canary") == (truth.canary_start is not None)


def test_csv_reads_back_equal_to_parquet(tmp_path: Path) -> None:
    scenario = _small("regressing")
    write_workspace(tmp_path / "pq", scenario, seed=1)
    write_workspace(tmp_path / "csv", scenario, seed=1, fmt="csv")
    pq, csv = load_workspace(tmp_path / "pq"), load_workspace(tmp_path / "csv")
    for table in ("shadow", "reviews", "canary", "flags", "evals", "incidents"):
        assert_frame_equal(csv.table(table).collect(), pq.table(table).collect(), check_dtypes=True)


def test_expected_decisions_follow_the_scenarios(written: dict) -> None:
    decisions = {name: (truth.expected_shadow_decision, truth.expected_canary_decision)
                 for name, (_, truth) in written.items()}
    assert decisions == {
        "healthy": ("ready_for_canary", "expand"),
        "regressing": ("ready_for_canary", "rollback"),
        "low_traffic": ("ready_for_canary", "hold"),
        "srm_mismatch": ("ready_for_canary", "hold"),
        "shadow_short": ("continue_shadow", None),
        "shadow_bad": ("not_ready", None),
        "supervised": ("ready_for_canary", "hold"),
    }
    failing = {name: truth.expected_failing_checks for name, (_, truth) in written.items()}
    assert failing["healthy"] == ()
    assert failing["srm_mismatch"] == ("srm",)
    assert "failure_rate:wrong_coverage" in failing["regressing"]
    assert {"failure_rate:wrong_salary", "failure_rate:wrong_recipient"} <= set(failing["low_traffic"])
    healthy = written["healthy"][1]
    assert healthy.stage == 0.40 and healthy.days_at_stage >= 7 and healthy.as_of == healthy.end


def test_canary_rates_per_stage_match_the_truth(written: dict) -> None:
    path, truth = written["healthy"]
    ws = load_workspace(path)
    canary = ws.table("canary").collect()
    stages = ws.table("flags").filter(pl.col("reason").str.contains("stage|expand")).collect()["ts"]
    staged = canary.with_columns(stage=stages.search_sorted(canary["ts"], side="right").cast(pl.Int64) - 1)
    for (stage,), part in staged.filter(pl.col("arm") == "agent").group_by("stage"):
        n = part.height
        for mode, rates in truth.failure_rates.items():
            assert _within(part.filter(pl.col("failure_mode") == mode).height, n, rates[stage]), (mode, stage)
    for arm, rate in truth.success_rates.items():
        part = canary.filter(pl.col("arm") == arm)
        assert _within(int(part["success"].sum()), part.height, rate), arm


def test_regression_starts_on_its_day_and_is_rolled_back(written: dict) -> None:
    path, truth = written["regressing"]
    ws = load_workspace(path)
    agent = ws.table("canary").filter(pl.col("arm") == "agent").collect()
    mode, day = truth.regression_mode, truth.regression_day
    after = agent.filter(pl.col("day") >= day)
    before = agent.filter(pl.col("day") < day, pl.col("day") >= truth.stage_started)
    hits = pl.col("failure_mode") == mode
    assert _within(after.filter(hits).height, after.height, truth.regression_rate)
    assert _within(before.filter(hits).height, before.height, truth.failure_rates[mode][2])
    assert truth.regression_rate > 3 * truth.max_rates[mode]
    assert truth.as_of == truth.rollback_day - dt.timedelta(days=1) and truth.expected_canary_decision == "rollback"
    flags = ws.table("flags").collect()
    rollback = flags.filter(pl.col("reason").str.starts_with("rollback:"))
    assert rollback["traffic_share"].to_list() == [0.0] and rollback["day"][0] == truth.rollback_day
    assert agent.filter(pl.col("ts") > rollback["zero_at"][0]).height == 0  # nothing served after the rollback


def test_traffic_split_follows_the_flag_times_the_skew(written: dict) -> None:
    for name in ("healthy", "srm_mismatch"):
        path, truth = written[name]
        canary = load_workspace(path).table("canary").filter(pl.col("day") >= truth.stage_started).collect()
        agents = int((canary["arm"] == "agent").sum())
        assert _within(agents, canary.height, truth.stage * truth.srm_skew), name
    assert written["srm_mismatch"][1].srm_skew < 0.9


def test_weekends_carry_about_forty_percent_less_traffic(written: dict) -> None:
    shadow = load_workspace(written["healthy"][0]).table("shadow").collect()
    per_day = shadow.group_by("day").len().with_columns(weekend=pl.col("day").dt.weekday() >= 6)
    means = dict(per_day.group_by("weekend").agg(pl.col("len").mean()).iter_rows())
    assert 0.5 < means[True] / means[False] < 0.7
    assert shadow["segment"].n_unique() == 6 and set(shadow["risk"].unique()) == {"low", "medium", "high"}


@pytest.mark.parametrize("name", ["shadow_bad", "healthy"])
def test_review_weights_undo_the_oversampling(written: dict, name: str) -> None:
    path, truth = written[name]
    ws = load_workspace(path)
    population = ws.table("shadow").select(pl.len()).collect().item()
    reviews = ws.table("reviews").filter(pl.col("phase") == "shadow").collect()
    assert reviews["inclusion_prob"].is_between(0, 1, closed="right").all()
    items = reviews.sort("reviewed_at", "reviewer").group_by("interaction_id", maintain_order=True).agg(
        pl.col("verdict").first(), pl.col("inclusion_prob").first(), pl.len().alias("reviewers"))
    worse = (items["verdict"] == "agent_worse").cast(pl.Float64)
    weights = 1 / items["inclusion_prob"]
    ht = float((worse * weights).sum()) / population
    se = math.sqrt(float((worse * (1 - items["inclusion_prob"]) * weights**2).sum())) / population
    plain = float(worse.mean())
    realised = truth.realised_verdict_shares["agent_worse"]
    assert plain > ht  # disagreements, where the agent is worse, are oversampled
    assert abs(ht - realised) <= 4 * se + 0.002, (ht, realised, se)
    share_double = float((items["reviewers"] >= 2).mean())
    assert 0.12 < share_double < 0.3 and (items["reviewers"] == 3).sum() >= 3


def test_flags_drills_and_incidents(written: dict) -> None:
    ws = load_workspace(written["supervised"][0])
    flags = ws.table("flags").collect()
    drills = flags.filter(pl.col("reason") == "rollback drill")
    seconds = (drills["zero_at"] - drills["ts"]).dt.total_seconds().to_list()
    assert len(seconds) == 3 and sum(s < 60 for s in seconds) == 2 and max(seconds) > 60
    incidents = ws.table("incidents").collect()
    assert incidents.height >= 3 and incidents["closed_at"].null_count() < incidents.height
    assert incidents["interaction_id"].is_in(ws.table("canary").select("interaction_id").collect()
                                             .to_series().implode()).all()
    sampled = ws.table("reviews").filter(pl.col("phase") == "supervision").collect()
    agent_at_100 = ws.table("canary").filter(pl.col("arm") == "agent", pl.col("day") >= written["supervised"][1]
                                             .stage_started).select(pl.len()).collect().item()
    assert _within(sampled["interaction_id"].n_unique(), agent_at_100, 0.05)
    shadow_only = load_workspace(written["shadow_short"][0]).table("flags").collect()
    assert shadow_only["traffic_share"].to_list() == [0.0]


def test_evals_have_versions_categories_and_regressed_tasks(written: dict) -> None:
    evals = load_workspace(written["healthy"][0]).table("evals").collect()
    tasks = evals["task_id"].n_unique()
    assert 120 <= tasks <= 250 and evals["agent_version"].n_unique() >= 2
    share = dict(evals.unique("task_id").group_by("category").len().iter_rows())
    assert share["adversarial"] < share["edge"] < share["typical"]
    assert set(evals["source"]) == {"seed", "shadow_regression", "incident"}
    last, previous = evals["agent_version"].max(), sorted(set(evals["agent_version"]))[-2]
    wide = evals.filter(pl.col("agent_version").is_in([previous, last])).group_by("task_id").agg(
        pl.col("passed").filter(pl.col("agent_version") == previous).all().alias("before"),
        pl.col("passed").filter(pl.col("agent_version") == last).any().alias("after"))
    assert wide.filter(pl.col("before") & ~pl.col("after")).height >= 3


def test_canary_frame_has_the_contract_columns_and_ramps() -> None:
    frame = canary_frame(200_000, seed=2)
    assert frame.height == 200_000
    assert set(c.name for c in CONTRACTS["canary"].columns) <= set(frame.columns)
    assert frame["interaction_id"].is_unique().all() and frame["ts"].is_sorted()
    share = frame.group_by(pl.col("ts").dt.date()).agg((pl.col("arm") == "agent").mean()).sort("ts")["arm"]
    assert share[0] < 0.1 and share[-1] == 1.0
    flags = canary_frame_flags()
    assert flags["traffic_share"].to_list() == [0.05, 0.15, 0.40, 0.80, 1.0]
    assert flags["ts"][0].date() == frame["ts"][0].date() and flags["ts"][-1] < frame["ts"][-1]
    assert_frame_equal(canary_frame(1_000, seed=2), canary_frame(1_000, seed=2))


def test_demo_is_small(written: dict) -> None:
    demo = written["supervised"][0].parent
    size = sum(p.stat().st_size for p in demo.rglob("*") if p.is_file())
    assert sorted(p.name for p in demo.iterdir()) == ["invoice-triage", "kb-answers", "support-refunds"]
    assert size < 20_000_000
