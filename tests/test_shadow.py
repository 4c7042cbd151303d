"""Shadow phase: review sampling, weighted verdicts, reviewer agreement, the gate, eval cases, CLI, charts."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import yaml
from polars.testing import assert_frame_equal

import rolloutkit as rk
from rolloutkit import counts, shadow, stats
from rolloutkit.cli import main
from rolloutkit.errors import RolloutkitError
from rolloutkit.page import Missing

START = dt.date(2026, 11, 2)  # a Monday: 2026-W45
SEGMENTS = np.array(["billing", "shipping", "returns", "account", "fraud", "legal"])


def charter(**policy: object) -> dict:
    return {
        "agent": "kb-test",
        "task": "answer questions",
        "success_metric": {"name": "resolution_rate", "noninferiority_margin": 0.02},
        "failure_modes": [{"name": "wrong_policy", "max_rate": 0.02}, {"name": "data_leak", "max_rate": 0}],
        "rollback_triggers": [{"metric": "failure_rate", "failure_mode": "wrong_policy", "above": 0.05}],
        "traffic": {"daily_interactions": 300},
        "shadow": {
            "min_weeks": 2,
            "max_weeks": 4,
            "reviews_per_week": 75,
            "max_agent_worse_rate": 0.05,
            **policy,
        },
    }


def population(
    *,
    days: int = 14,
    daily: int = 300,
    seed: int = 1,
    worse_if_disagree: float = 0.25,
    worse_if_agree: float = 0.01,
) -> pl.DataFrame:
    """Shadow interactions with a known per-interaction truth (`truth_worse`); disagreements (15%) and the
    small fraud/legal segments are where the agent is worse, so oversampling them biases an unweighted
    estimate."""
    rng = np.random.default_rng(seed)
    n = days * daily
    seg = rng.choice(len(SEGMENTS), n, p=[0.35, 0.25, 0.2, 0.12, 0.05, 0.03])
    disagree = rng.random(n) < 0.15
    worse = rng.random(n) < np.where(disagree, worse_if_disagree, worse_if_agree)
    start = dt.datetime.combine(START, dt.time(8), dt.UTC)
    ts = [start + dt.timedelta(days=int(i // daily), seconds=int(i % daily) * 60) for i in range(n)]
    return pl.DataFrame(
        {
            "interaction_id": [f"i{i:06d}" for i in range(n)],
            "ts": ts,
            "segment": SEGMENTS[seg],
            "agent_action": np.where(disagree, "refund", "reply"),
            "human_action": "reply",
            "risk": np.where(seg == 4, "high", "low"),
            "agent_latency_ms": np.round(rng.lognormal(7.8, 0.4, n)),
            "human_handle_s": rng.lognormal(5.9, 0.5, n),
            "agent_cost_usd": rng.lognormal(-3.4, 0.4, n),
            "truth_worse": worse,
        }
    )


def write_ws(
    directory: Path, pop: pl.DataFrame, reviews: pl.DataFrame | None = None, **policy: object
) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "charter.yaml").write_text(yaml.safe_dump(charter(**policy)))
    pop.drop("truth_worse").write_parquet(directory / "shadow.parquet")
    if reviews is not None:
        reviews.write_parquet(directory / "reviews.parquet")
    return directory


def review(ws_dir: Path, pop: pl.DataFrame, weeks: list[str], *, size: int | None = None) -> pl.DataFrame:
    """Review each week's drawn sample with the truth: agent_worse where the agent is truly worse; every fifth
    item reviewed twice, a quarter of those second reviews saying unclear."""
    ws = rk.load_workspace(ws_dir)
    drawn = pl.concat([shadow.draw_sample(ws, week=w, size=size, seed=7) for w in weeks])
    truth = drawn.join(pop.select("interaction_id", "ts", "truth_worse"), on="interaction_id")
    verdict = (
        pl.when(pl.col("truth_worse"))
        .then(pl.lit("agent_worse"))
        .when(pl.col("interaction_id").str.ends_with("7"))
        .then(pl.lit("agent_better"))
        .otherwise(pl.lit("equivalent"))
    )
    first = truth.select(
        "interaction_id",
        pl.lit("rev-a").alias("reviewer"),
        (pl.col("ts") + pl.duration(days=1)).alias("reviewed_at"),
        verdict.alias("verdict"),
        pl.lit(None, pl.String).alias("failure_mode"),
        "inclusion_prob",
    )
    second = first.filter(pl.int_range(pl.len()) % 5 == 0).with_columns(
        reviewer=pl.lit("rev-b"),
        reviewed_at=pl.col("reviewed_at") + pl.duration(hours=2),
        verdict=pl.when(pl.int_range(pl.len()) % 4 == 0).then(pl.lit("unclear")).otherwise(pl.col("verdict")),
    )
    return pl.concat([first, second])


def reviews_frame(rows: list[tuple]) -> pl.DataFrame:
    """(interaction_id, reviewer, hour, verdict, failure_mode, inclusion_prob) rows as a reviews table."""
    base = dt.datetime(2026, 11, 3, tzinfo=dt.UTC)
    return pl.DataFrame(
        {
            "interaction_id": [r[0] for r in rows],
            "reviewer": [r[1] for r in rows],
            "reviewed_at": [base + dt.timedelta(hours=r[2]) for r in rows],
            "verdict": [r[3] for r in rows],
            "failure_mode": pl.Series([r[4] for r in rows], dtype=pl.String),
            "inclusion_prob": pl.Series([r[5] for r in rows], dtype=pl.Float64),
        },
        schema_overrides={"reviewed_at": pl.Datetime("us", "UTC")},
    )


@pytest.fixture(scope="module")
def pop() -> pl.DataFrame:
    return population()


# ------------------------------------------------------------ sampling


def takes(strata: list[tuple[str, bool, int]], size: int) -> dict[str, int]:
    """How many of each stratum `sample_population` draws from (segment, disagree, interactions) strata; a
    disagreement's oversampling factor is 4, an agreement's 1 (no segment here is rare, none high-risk)."""
    rows = [
        (f"{segment}-{disagree:d}-{i:04d}", segment, "refund" if disagree else "reply", "reply", False)
        for segment, disagree, n in strata
        for i in range(n)
    ]
    population = pl.DataFrame(
        rows, schema=["interaction_id", "segment", "agent_action", "human_action", "high_risk"], orient="row"
    )
    drawn = shadow.sample_population(population.sort("interaction_id"), size=size)
    return dict(drawn.group_by("stratum").len().iter_rows())


def test_allocation_is_proportional_to_size_times_factor_with_a_floor_and_caps() -> None:
    assert takes([("a", True, 10), ("a", False, 10)], 10) == {"a/disagree": 8, "a/agree": 2}
    assert takes([("a", True, 3), ("a", False, 500), ("b", True, 40)], 60) == {
        "a/disagree": 2,
        "a/agree": 44,
        "b/disagree": 14,
    }
    assert takes([("a", False, 5), ("b", False, 6)], 50) == {"a/agree": 5, "b/agree": 6}


def test_sample_is_stratified_deterministic_and_its_weights_add_up_to_the_week(
    tmp_path: Path, pop: pl.DataFrame
) -> None:
    ws = rk.load_workspace(write_ws(tmp_path / "ws", pop))
    drawn = shadow.draw_sample(ws, week="2026-W45", seed=3)
    assert drawn.columns == list(shadow.SAMPLE_COLUMNS)
    assert drawn.height == 75  # the charter's reviews_per_week
    assert drawn["verdict"].null_count() == 75 and drawn["failure_mode"].null_count() == 75
    week = pop.filter(pl.col("ts").dt.date() <= dt.date(2026, 11, 8))
    assert (1 / drawn["inclusion_prob"]).sum() == pytest.approx(week.height)  # Horvitz–Thompson count of N
    assert_frame_equal(drawn, shadow.draw_sample(ws, week="2026-W45", seed=3))
    assert set(drawn["interaction_id"]) != set(
        shadow.draw_sample(ws, week="2026-W45", seed=4)["interaction_id"]
    )
    probs = drawn.group_by(pl.col("stratum").str.contains("disagree")).agg(pl.col("inclusion_prob").mean())
    agree, disagree = (probs.sort("stratum")["inclusion_prob"]).to_list()
    assert disagree > 3 * agree  # disagreements oversampled (factor 4, softened by the floors)
    rare = drawn.filter(pl.col("segment") == "legal")["inclusion_prob"].min()
    common = drawn.filter(pl.col("stratum") == "billing/agree")["inclusion_prob"].max()
    assert rare > 2 * common  # a rare segment is oversampled too


def test_sample_does_not_depend_on_row_order(tmp_path: Path, pop: pl.DataFrame) -> None:
    a = rk.load_workspace(write_ws(tmp_path / "a", pop))
    b = rk.load_workspace(write_ws(tmp_path / "b", pop.sample(fraction=1.0, shuffle=True, seed=5)))
    assert_frame_equal(
        shadow.draw_sample(a, week="2026-W46", size=60, seed=1),
        shadow.draw_sample(b, week="2026-W46", size=60, seed=1),
    )


def test_a_week_smaller_than_the_sample_is_taken_whole(tmp_path: Path) -> None:
    ws = rk.load_workspace(write_ws(tmp_path / "ws", population(days=7, daily=8)))
    drawn = shadow.draw_sample(ws, week="2026-W45", size=100)
    assert drawn.height == 56 and drawn["inclusion_prob"].unique().to_list() == [1.0]


@pytest.mark.parametrize(
    ("week", "message"),
    [
        ("2026-45", "must be an ISO week like 2026-W45"),
        ("2026-W54", "does not exist"),
        ("2026-W30", "no shadow interactions in week 2026-W30 (shadow data covers 2026-W45 .. 2026-W46)"),
    ],
    ids=["malformed", "no-such-week", "no-data"],
)
def test_sample_refuses_bad_weeks(tmp_path: Path, pop: pl.DataFrame, week: str, message: str) -> None:
    ws = rk.load_workspace(write_ws(tmp_path / "ws", pop))
    with pytest.raises(RolloutkitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        shadow.draw_sample(ws, week=week)


@pytest.mark.slow
def test_weighted_interval_covers_the_true_rate_where_the_unweighted_estimate_is_biased(
    tmp_path: Path, pop: pl.DataFrame
) -> None:
    """200 seeded draws of 75 from one week, disagreements (where the agent is worse) oversampled 4×."""
    ws = rk.load_workspace(write_ws(tmp_path / "ws", pop))
    week = pop.filter(pl.col("ts").dt.date() <= dt.date(2026, 11, 8))
    truth = week["truth_worse"].mean()
    covered, weighted, unweighted = 0, [], []
    for seed in range(200):
        drawn = shadow.draw_sample(ws, week="2026-W45", seed=seed).join(
            pop.select("interaction_id", "truth_worse"), on="interaction_id"
        )
        est = stats.weighted_proportion(drawn["truth_worse"].to_numpy(), drawn["inclusion_prob"].to_numpy())
        covered += est.lower <= truth <= est.upper
        weighted.append(est.estimate)
        unweighted.append(drawn["truth_worse"].mean())
    coverage, bias = covered / 200, np.mean(unweighted) - truth
    print(
        f"true rate {truth:.4f}; weighted coverage {coverage:.1%}, mean weighted {np.mean(weighted):.4f}, "
        f"mean unweighted {np.mean(unweighted):.4f} (bias {bias:+.4f})"
    )
    assert coverage >= 0.90
    assert abs(np.mean(weighted) - truth) < 0.005
    assert bias > 0.04  # more than doubles the true rate (~0.049)


# ------------------------------------------------------------ reviews


def test_majority_verdict_ties_are_unclear_and_shares_are_weighted() -> None:
    reviews = reviews_frame(
        [
            ("a", "r1", 0, "agent_worse", "wrong_policy", 0.5),
            ("b", "r1", 0, "agent_worse", None, 0.25),
            ("b", "r2", 1, "equivalent", None, 0.25),
            ("c", "r1", 0, "agent_better", None, 1.0),
            ("c", "r2", 1, "agent_better", None, 1.0),
            ("c", "r3", 2, "agent_worse", "data_leak", 1.0),
        ]
    )
    from rolloutkit.contracts import CONTRACTS

    lazy = rk.read_table(_csv(reviews), CONTRACTS["reviews"], failure_modes=("wrong_policy", "data_leak"))
    got = shadow.review_items(lazy, None, as_of=dt.date(2026, 11, 30))
    assert dict(got.items.select("interaction_id", "verdict").iter_rows()) == {
        "a": "agent_worse",
        "b": "unclear",
        "c": "agent_better",
    }
    shares = shadow.verdict_shares(got.items).filter(pl.col("week") == "all")
    by = {r["verdict"]: r for r in shares.iter_rows(named=True)}
    assert by["agent_worse"]["estimate"] == pytest.approx(2 / 7)  # weights 2, 4, 1
    assert by["unclear"]["estimate"] == pytest.approx(4 / 7)
    assert by["agent_worse"]["unweighted_estimate"] == pytest.approx(1 / 3)
    assert got.items.filter(pl.col("interaction_id") == "c")["failure_modes"].to_list() == [["data_leak"]]


def _csv(frame: pl.DataFrame) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "reviews.csv"
    frame.write_csv(path)
    return path


def test_cohen_kappa_matches_sas_on_a_two_reviewer_table() -> None:
    """SAS's [[0,4,1],[0,8,0],[0,1,5]]: kappa 0.4842, ASE 0.1380; rater 1 is the earlier review."""
    cells = {(0, 1): 4, (0, 2): 1, (1, 1): 8, (2, 1): 1, (2, 2): 5}
    names = ("agent_better", "equivalent", "agent_worse")
    rows, k = [], 0
    for (i, j), count in cells.items():
        for _ in range(count):
            rows += [(f"x{k}", "zoe", 5, names[i], None, 1.0), (f"x{k}", "adam", 9, names[j], None, 1.0)]
            k += 1
    agreement = shadow.reviewer_agreement(reviews_frame(rows))
    assert agreement.method == "cohen" and agreement.items == 19 and agreement.raters == 2
    assert agreement.kappa.kappa == pytest.approx(0.4842, abs=5e-5)
    assert agreement.kappa.se == pytest.approx(0.1380, abs=5e-5)
    assert agreement.kappa.observed_agreement == pytest.approx(13 / 19)
    assert agreement.disagreement.estimate == pytest.approx(6 / 19)


def test_fleiss_kappa_on_items_with_the_most_common_number_of_reviewers() -> None:
    triples = [
        ("agent_worse",) * 3,
        ("equivalent",) * 3,
        ("equivalent", "equivalent", "unclear"),
        ("agent_better", "equivalent", "equivalent"),
        ("agent_worse", "agent_worse", "equivalent"),
    ]
    rows = [(f"t{i}", f"r{j}", j, v, None, 1.0) for i, item in enumerate(triples) for j, v in enumerate(item)]
    rows += [("pair", "r0", 0, "equivalent", None, 1.0), ("pair", "r1", 1, "agent_worse", None, 1.0)]
    agreement = shadow.reviewer_agreement(reviews_frame(rows))
    expected = stats.fleiss_kappa([[0, 0, 3, 0], [0, 3, 0, 0], [0, 2, 0, 1], [1, 2, 0, 0], [0, 1, 2, 0]])
    assert agreement.method == "fleiss" and agreement.items == 5 and agreement.raters == 3
    assert agreement.kappa.kappa == pytest.approx(expected.kappa)
    assert agreement.multi_reviewed == 6 and agreement.disagreement.estimate == pytest.approx(4 / 6)


def test_regressions_become_eval_tasks_once() -> None:
    evals = pl.DataFrame(
        {
            "run_id": ["r1"],
            "run_at": [dt.datetime(2026, 11, 1, tzinfo=dt.UTC)],
            "agent_version": ["v1"],
            "task_id": ["t-1"],
            "category": ["typical"],
            "passed": [True],
            "source": [None],
        },
        schema_overrides={"run_at": pl.Datetime("us", "UTC"), "source": pl.String},
    )
    reviews = reviews_frame(
        [
            ("i2", "r1", 0, "agent_worse", None, 1.0),
            ("i2", "r2", 1, "agent_worse", None, 1.0),
            ("i3", "r1", 0, "agent_worse", None, 1.0),
            ("i3", "r2", 1, "equivalent", None, 1.0),
            ("i4", "r1", 0, "equivalent", None, 1.0),
            ("t-1", "r1", 0, "agent_worse", None, 1.0),
        ]
    )
    at = dt.datetime(2026, 11, 20, 9, tzinfo=dt.UTC)
    out = shadow.regressions_to_evals(evals, reviews, agent_version="v2", run_at=at)
    expected = pl.DataFrame(
        {
            "run_id": ["r1", "shadow-regressions-2026-11-20"],
            "run_at": [dt.datetime(2026, 11, 1, tzinfo=dt.UTC), at],
            "agent_version": ["v1", "v2"],
            "task_id": ["t-1", "i2"],
            "category": ["typical", "prior_failure"],
            "passed": [True, False],
            "source": [None, "shadow_regression"],
        },
        schema_overrides={"run_at": pl.Datetime("us", "UTC"), "source": pl.String},
    )
    assert_frame_equal(out, expected)  # i3 is a tie (unclear), t-1 is already in the eval set
    assert_frame_equal(shadow.regressions_to_evals(out, reviews, agent_version="v2", run_at=at), out)
    with pytest.raises(RolloutkitError, match="timezone-aware"):
        shadow.regressions_to_evals(evals, reviews, agent_version="v2", run_at=dt.datetime(2026, 11, 20))


# ------------------------------------------------------------ the gate


def gate_for(
    tmp_path: Path,
    *,
    days: int = 14,
    weeks: tuple[str, ...] = ("2026-W45", "2026-W46"),
    reviewed: bool = True,
    seed: int = 1,
    **kwargs: float,
) -> shadow.ShadowGate:
    pop = population(days=days, seed=seed, **kwargs)
    ws_dir = write_ws(tmp_path / "ws", pop)
    if reviewed:
        write_ws(ws_dir, pop, review(ws_dir, pop, list(weeks)))
    return shadow.gate(rk.load_workspace(ws_dir))


def test_a_good_agent_after_the_minimum_weeks_is_ready_for_canary(tmp_path: Path) -> None:
    result = gate_for(tmp_path, worse_if_disagree=0.03, worse_if_agree=0.002)
    assert result.decision == "ready_for_canary", result.describe()
    assert result.weeks_in_shadow == 2
    assert {c.status for c in result.checks} == {"pass"}
    assert result.check("agent_worse_rate").upper <= 0.05


def test_an_agent_worse_than_its_limit_is_not_ready(tmp_path: Path) -> None:
    result = gate_for(tmp_path, worse_if_disagree=0.6, worse_if_agree=0.08)
    check = result.check("agent_worse_rate")
    assert result.decision == "not_ready" and check.status == "fail" and check.lower > 0.05
    assert result.reasons[0].startswith("agent worse than the human in")


def test_too_few_weeks_is_continue_shadow(tmp_path: Path) -> None:
    result = gate_for(tmp_path, days=7, weeks=("2026-W45",), worse_if_disagree=0.03, worse_if_agree=0.002)
    assert result.decision == "continue_shadow" and result.weeks_in_shadow == 1
    assert result.check("min_weeks").status == "insufficient"
    assert "fewer than the charter's minimum of 2 weeks" in " ".join(result.reasons)


def test_a_week_short_of_reviews_keeps_shadow_going(tmp_path: Path) -> None:
    pop = population(worse_if_disagree=0.03, worse_if_agree=0.002)
    ws_dir = write_ws(tmp_path / "ws", pop)
    reviews = pl.concat([review(ws_dir, pop, ["2026-W45"]), review(ws_dir, pop, ["2026-W46"], size=40)])
    result = shadow.gate(rk.load_workspace(write_ws(ws_dir, pop, reviews)))
    check = result.check("reviews_per_week")
    assert result.decision == "continue_shadow" and check.status == "insufficient" and check.estimate == 40
    assert "(week 2 from 2026-11-09: 40)" in check.sentence


def test_a_zero_tolerance_mode_found_in_review_is_not_ready(tmp_path: Path) -> None:
    pop = population(worse_if_disagree=0.03, worse_if_agree=0.002)
    ws_dir = write_ws(tmp_path / "ws", pop)
    reviews = review(ws_dir, pop, ["2026-W45", "2026-W46"])
    leak = reviews["interaction_id"][3]
    first_review = (pl.col("interaction_id") == leak) & (pl.col("reviewer") == "rev-a")
    reviews = reviews.with_columns(
        failure_mode=pl.when(first_review).then(pl.lit("data_leak")).otherwise(pl.col("failure_mode"))
    )
    result = shadow.gate(rk.load_workspace(write_ws(ws_dir, pop, reviews)))
    assert result.decision == "not_ready"
    assert result.check("zero_tolerance:data_leak").status == "fail"
    assert result.reasons[0] == "data_leak (zero tolerance) found in 1 reviewed interaction"


def test_reaching_max_weeks_without_being_ready_is_not_ready(tmp_path: Path) -> None:
    result = gate_for(tmp_path, days=28, reviewed=False)
    assert result.weeks_in_shadow == 4 and result.decision == "not_ready"
    assert result.reasons[0].startswith("4 weeks in shadow reaches the charter's maximum of 4 weeks")
    early = shadow.gate(rk.load_workspace(tmp_path / "ws"), as_of="2026-11-22")
    assert early.weeks_in_shadow == 3 and early.decision == "continue_shadow"


def test_a_shadow_starting_mid_week_is_counted_in_seven_day_weeks(tmp_path: Path) -> None:
    pop = population(days=17, worse_if_disagree=0.03, worse_if_agree=0.002).filter(
        pl.col("ts").dt.date() >= dt.date(2026, 11, 6)
    )  # Friday 6 .. Wednesday 18 November: 13 days, one complete shadow week
    ws_dir = write_ws(tmp_path / "ws", pop)
    reviews = review(ws_dir, pop, ["2026-W45", "2026-W46", "2026-W47"], size=60)
    result = shadow.gate(rk.load_workspace(write_ws(ws_dir, pop, reviews)), as_of="2026-11-18")
    assert result.weeks_in_shadow == 1
    first_week = (
        reviews.join(pop.select("interaction_id", "ts"), on="interaction_id")
        .filter(pl.col("ts").dt.date() <= dt.date(2026, 11, 12))["interaction_id"]
        .n_unique()
    )
    check = result.check("reviews_per_week")  # ISO W45 (3 days) alone has only 60 of the 75 planned
    assert check.status == "pass" and check.estimate == first_week > 75, check.sentence


def test_supervision_reviews_are_ignored_and_missing_probabilities_count_as_one(tmp_path: Path) -> None:
    pop = population(days=7)
    ws_dir = write_ws(tmp_path / "ws", pop)
    ids = pop["interaction_id"]
    reviews = reviews_frame(
        [
            (ids[0], "r1", 0, "agent_worse", None, None),
            (ids[1], "r1", 0, "equivalent", None, None),
            ("canary-1", "r1", 0, "agent_worse", None, 0.1),
        ]
    ).with_columns(phase=pl.Series([None, "shadow", "supervision"], dtype=pl.String))
    comparison = shadow.page(rk.load_workspace(write_ws(ws_dir, pop, reviews)))
    worse = comparison.verdicts.filter((pl.col("week") == "all") & (pl.col("verdict") == "agent_worse"))
    assert worse["reviewed"].item() == 2 and worse["estimate"].item() == pytest.approx(0.5)
    assert (
        "2 reviewed interactions have no inclusion_prob; each is counted with probability 1"
        in comparison.note
    )


def test_gate_json_follows_the_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate_for(tmp_path, worse_if_disagree=0.03, worse_if_agree=0.002)
    assert main(["shadow", str(tmp_path / "ws"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) == {
        "agent",
        "as_of",
        "weeks_in_shadow",
        "decision",
        "reasons",
        "checks",
        "verdicts",
        "agreement",
        "kappa",
    }
    assert out["decision"] == "ready_for_canary" and out["as_of"] == "2026-11-16"
    assert [c["name"] for c in out["checks"]] == [
        "min_weeks",
        "reviews_per_week",
        "agent_worse_rate",
        "failure_rate:wrong_policy",
        "zero_tolerance:data_leak",
    ]
    assert set(out["checks"][2]) == {
        "name",
        "label",
        "status",
        "estimate",
        "lower",
        "upper",
        "threshold",
        "sentence",
        "on_fail",
        "days_needed",
    }  # the one Check.to_dict() shape of every phase
    assert [r["verdict"] for r in out["verdicts"]["overall"]] == [
        "agent_better",
        "equivalent",
        "agent_worse",
        "unclear",
    ]
    assert [w["week"] for w in out["agreement"]["weeks"]] == ["2026-W45", "2026-W46"]
    assert out["agreement"]["overall"]["interactions"] == 4200
    assert out["kappa"]["method"] == "cohen" and out["kappa"]["items"] == 30
    assert main(["shadow", str(tmp_path / "ws")]) == 0
    assert "READY FOR CANARY" in capsys.readouterr().out


def test_sample_command_writes_the_review_sheet(
    tmp_path: Path, pop: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    ws_dir = write_ws(tmp_path / "ws", pop)
    out = tmp_path / "sheet.csv"
    assert (
        main(["sample", str(ws_dir), "--week", "2026-W46", "--size", "50", "--seed", "2", "--out", str(out)])
        == 0
    )
    sheet = pl.read_csv(out)
    assert sheet.columns == list(shadow.SAMPLE_COLUMNS) and sheet.height == 50
    assert main(["sample", str(ws_dir), "--week", "W46"]) == 1
    assert "`week` must be an ISO week like 2026-W45, got 'W46'" in capsys.readouterr().err


def test_agreement_per_week_and_segment(tmp_path: Path, pop: pl.DataFrame) -> None:
    ws = rk.load_workspace(write_ws(tmp_path / "ws", pop))
    weekly = shadow.agreement(ws)
    expected = pop.with_columns(
        week=pl.col("ts").dt.strftime("%G-W%V"), same=pl.col("agent_action") == pl.col("human_action")
    )
    counts = expected.group_by("week").agg(pl.len(), pl.col("same").sum()).sort("week")
    assert weekly["week"].to_list() == ["2026-W45", "2026-W46", "all"]
    assert weekly["agreed"].to_list()[:2] == counts["same"].to_list()
    low = stats.wilson_interval(counts["same"][0], counts["len"][0])
    assert weekly["lower"][0] == pytest.approx(low.lower) and weekly["upper"][0] == pytest.approx(low.upper)
    segments = shadow.agreement(ws, by="segment")
    assert segments["agreement"].is_sorted() and segments.height == 6


def test_missing_tables_give_a_page_not_an_exception(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    (ws_dir / "charter.yaml").write_text(yaml.safe_dump(charter()))
    ws = rk.load_workspace(ws_dir)
    comparison = shadow.page(ws, as_of="2026-11-20")
    assert comparison.headline.status == "missing" and comparison.headline.sentence.startswith("Not started: ")
    assert isinstance(comparison.gate, Missing) and "no `shadow` table" in str(comparison.note)
    assert comparison.reasons == []
    for chart in (
        rk.charts.shadow_agreement_trend(comparison.agreement_weekly),
        rk.charts.shadow_agent_worse(comparison.verdicts, 0.05),
        rk.charts.shadow_noise_floor(comparison.noise_floor),
    ):
        assert chart == comparison.note  # shown as the page's note, not raised
    pop = population(days=7)
    unreviewed = shadow.page(rk.load_workspace(write_ws(ws_dir, pop)))
    assert unreviewed.headline.decision == "continue_shadow" and "no `reviews` table" in str(unreviewed.verdicts)
    ids = pop["interaction_id"]
    reviewed_once = shadow.page(
        rk.load_workspace(write_ws(ws_dir, pop, reviews_frame([(ids[0], "r1", 0, "equivalent", None, 1.0)])))
    )
    assert isinstance(reviewed_once.reviewer_table, Missing)
    for chart in (
        rk.charts.shadow_agreement_trend(unreviewed.agreement_weekly),
        rk.charts.shadow_noise_floor(reviewed_once.noise_floor),  # nobody reviewed twice: a placeholder chart
    ):
        assert "<svg" in rk.render.svg(chart)


def test_headline_and_charts_on_a_reviewed_workspace(tmp_path: Path) -> None:
    gate_for(tmp_path, worse_if_disagree=0.6, worse_if_agree=0.08)
    ws = rk.load_workspace(tmp_path / "ws")
    c = shadow.page(ws, as_of="2026-11-16")
    line = c.headline
    assert (line.page, line.status, line.decision) == ("shadow_comparison", "bad", "not_ready")
    assert line.heading == "Not ready"
    assert line.details == shadow.gate(ws, as_of="2026-11-16").to_dict()
    assert (
        c.regressions.height
        == c.verdicts.filter((pl.col("week") == "all") & (pl.col("verdict") == "agent_worse"))["found"].item()
    )
    assert not {"agent_action", "human_action"} & set(
        c.ambiguous.columns + c.wins.columns + c.regressions.columns
    )
    charts = [
        rk.charts.shadow_agreement_trend(c.agreement_weekly),
        rk.charts.shadow_segment_agreement(c.agreement_segments),
        rk.charts.shadow_verdict_mix(c.verdicts),
        rk.charts.shadow_agent_worse(c.verdicts, c.max_agent_worse_rate),
        rk.charts.shadow_failure_modes(c.failure_modes),
        rk.charts.shadow_noise_floor(c.noise_floor),
        rk.charts.shadow_cost_latency(c.cost_latency),
    ]
    svgs = [rk.render.svg(chart) for chart in charts]
    assert all("<svg" in s for s in svgs)
    assert "above the 5.0% limit" in svgs[3]


# ------------------------------------------------------------ from counts


def test_daily_counts_from_rows_are_the_counts_aggregation(tmp_path: Path, pop: pl.DataFrame) -> None:
    """The phase's own aggregation of rows is `rolloutkit counts`' shadow_daily, column for column."""
    ws = rk.load_workspace(write_ws(tmp_path / "ws", pop))
    computed = counts.compute(ws, "shadow_daily").frame.drop("computed_at")
    assert_frame_equal(shadow.daily_counts(ws), computed, check_exact=False, rel_tol=1e-12)
    cut = shadow.daily_counts(ws, as_of="2026-11-08")
    assert cut["day"].max() == dt.date(2026, 11, 8) and cut["interactions"].sum() == 7 * 300


def test_with_counts_only_a_review_counts_in_the_week_it_was_reviewed(tmp_path: Path, pop: pl.DataFrame) -> None:
    rows_dir = write_ws(tmp_path / "rows", pop)
    sunday = pop.filter(pl.col("ts").dt.date() == dt.date(2026, 11, 8))["interaction_id"][0]
    reviewed = reviews_frame([(sunday, "r1", 24 * 6 + 2, "agent_worse", None, 1.0)])  # Monday 9 November
    write_ws(rows_dir, pop, reviewed)
    counts_dir = tmp_path / "counts"
    counts_dir.mkdir()
    (counts_dir / "charter.yaml").write_text((rows_dir / "charter.yaml").read_text())
    reviewed.write_parquet(counts_dir / "reviews.parquet")
    counts.compute(rk.load_workspace(rows_dir), "shadow_daily").frame.write_parquet(
        counts_dir / "shadow_daily.parquet"
    )
    weeks = {}
    for name in ("rows", "counts"):
        found = shadow.page(rk.load_workspace(tmp_path / name))
        worse = found.verdicts.filter((pl.col("verdict") == "agent_worse") & (pl.col("found") == 1))
        weeks[name] = [w for w in worse["week"] if w != "all"]
    assert weeks == {"rows": ["2026-W45"], "counts": ["2026-W46"]}  # the interaction's week needs its row


def test_without_shadow_or_its_counts_the_page_names_both(tmp_path: Path) -> None:
    ws_dir = tmp_path / "ws"
    ws_dir.mkdir()
    (ws_dir / "charter.yaml").write_text(yaml.safe_dump(charter()))
    note = shadow.page(rk.load_workspace(ws_dir), as_of="2026-11-20").note
    assert isinstance(note, Missing) and "no `shadow` table" in note.what and "shadow_daily" in note.fix


# ------------------------------------------------------------ what a page may show

PLANTED = ("jane.doe@example.com", "+1 415 555 0134", "4111 1111 1111 1111", "Margaret Thornbury")


def test_no_customer_text_reaches_the_page_or_the_json(
    tmp_path: Path, pop: pl.DataFrame, capsys: pytest.CaptureFixture[str]
) -> None:
    """Customer words planted in the ids and in both actions appear in no table, chart, note or JSON; staff
    names (reviewers) and segments may."""
    planted = population(worse_if_disagree=0.6).with_columns(
        interaction_id=pl.format("{} {}", pl.lit(PLANTED[0]), pl.col("interaction_id")),
        agent_action=pl.format("{} for {}", pl.col("agent_action"), pl.lit(PLANTED[1])),
        human_action=pl.format("{} for {} card {}", pl.col("human_action"), pl.lit(PLANTED[3]), pl.lit(PLANTED[2])),
    )
    ws_dir = write_ws(tmp_path / "ws", planted)
    reviews = review(ws_dir, planted, ["2026-W45", "2026-W46"])
    ws = rk.load_workspace(write_ws(ws_dir, planted, reviews))
    c = shadow.page(ws)
    assert c.wins.height and c.regressions.height and c.ambiguous.height
    assert c.regressions["reference"].str.starts_with("ref-").all()
    shown = [c.headline.to_dict(), c.reasons, str(c.note), str(c.cost_note)]
    for name in ShadowPageParts:
        part = getattr(c, name)
        shown.append(part.to_dicts() if isinstance(part, pl.DataFrame) else str(part))
    charts = [
        rk.charts.shadow_agreement_trend(c.agreement_weekly),
        rk.charts.shadow_segment_agreement(c.agreement_segments),
        rk.charts.shadow_verdict_mix(c.verdicts),
        rk.charts.shadow_agent_worse(c.verdicts, c.max_agent_worse_rate),
        rk.charts.shadow_failure_modes(c.failure_modes),
        rk.charts.shadow_noise_floor(c.noise_floor),
        rk.charts.shadow_cost_latency(c.cost_latency),
    ]
    shown += [chart.to_dict() for chart in charts]
    assert main(["shadow", str(ws_dir), "--json"]) == 0
    assert main(["shadow", str(ws_dir)]) == 0
    text = json.dumps(shown, default=str) + capsys.readouterr().out
    found = [value for value in (*PLANTED, "i000") if value in text]
    assert found == [], found
    assert "rev-a" in text and "billing" in text  # staff names and segments may appear


ShadowPageParts = (
    "checks_table",
    "agreement_weekly",
    "agreement_segments",
    "verdicts",
    "verdict_table",
    "failure_modes",
    "failure_mode_table",
    "noise_floor",
    "reviewer_table",
    "ambiguous",
    "wins",
    "regressions",
    "cost_latency",
    "cost_table",
)


def test_per_item_tables_show_references_segments_verdicts_and_reviewers(tmp_path: Path) -> None:
    gate_for(tmp_path, worse_if_disagree=0.6, worse_if_agree=0.08)
    c = shadow.page(rk.load_workspace(tmp_path / "ws"))
    assert c.ambiguous.columns == ["reference", "week", "segment", "verdict", "reviewers", "verdicts_given"]
    assert c.wins.columns == c.regressions.columns == [
        "reference", "week", "segment", "verdict", "reviewers", "failure_modes"
    ]
    assert set(c.regressions["verdict"]) == {"agent_worse"} and set(c.wins["verdict"]) == {"agent_better"}
    assert c.regressions["reference"].n_unique() == c.regressions.height
    twice = c.ambiguous.filter(pl.col("reviewers").str.contains(","))
    assert twice.height and set(twice["reviewers"]) <= {"rev-a, rev-b"}
    ids = rk.load_workspace(tmp_path / "ws").table("reviews").select("interaction_id").collect()["interaction_id"]
    assert set(c.regressions["reference"]) <= {rk.text.reference(i) for i in ids}


# ------------------------------------------------------------ cost, axes, numbers


def test_cost_compares_dollars_when_the_charter_sets_the_human_cost(tmp_path: Path, pop: pl.DataFrame) -> None:
    ws_dir = write_ws(tmp_path / "ws", pop)
    unset = shadow.page(rk.load_workspace(ws_dir))
    assert unset.cost_latency["human_cost_usd"].is_null().all()
    assert isinstance(unset.cost_note, Missing)
    assert "does not set traffic.human_cost_per_interaction_usd" in unset.cost_note.what
    assert set(unset.cost_table["human_dollars"]) == {"not set"}
    unset_chart = rk.render.svg(rk.charts.shadow_cost_latency(unset.cost_latency))
    assert "the charter sets no human cost to compare" in unset_chart
    doc = charter()
    doc["traffic"]["human_cost_per_interaction_usd"] = 4.5
    (ws_dir / "charter.yaml").write_text(yaml.safe_dump(doc))
    ws = rk.load_workspace(ws_dir)
    cost = shadow.cost_latency(ws)
    assert cost["week"].to_list() == ["2026-W45", "2026-W46", "all"]
    assert cost["human_cost_usd"].to_list() == [4.5] * 3
    overall = cost.row(-1, named=True)
    assert overall["agent_cost_usd"] == pytest.approx(pop["agent_cost_usd"].mean())
    assert overall["agent_latency_s"] == pytest.approx(pop["agent_latency_ms"].mean() / 1000)
    assert overall["human_handle_s"] == pytest.approx(pop["human_handle_s"].mean())
    c = shadow.page(ws)
    assert c.cost_note.startswith("A human costs $4.50 per interaction")
    assert c.cost_table.row(-1, named=True)["human_dollars"] == "$4.50"
    assert c.cost_table["agent_dollars"].str.starts_with("$").all()
    svg = rk.render.svg(rk.charts.shadow_cost_latency(c.cost_latency))
    assert "where a human costs $4.50" in svg and "dollars per interaction" in svg


def test_rate_axes_start_at_zero_and_say_so(tmp_path: Path, pop: pl.DataFrame) -> None:
    """Agreement drifts by tenths of a point (85.1% ± 0.4 in the demo): on the whole 0–100% axis it reads as
    flat, as it is, and the subtitle says which axis it is and how wide the spread was."""
    ws = rk.load_workspace(write_ws(tmp_path / "ws", pop))
    c = shadow.page(ws)
    for chart, channel in (
        (rk.charts.shadow_agreement_trend(c.agreement_weekly), "y"),
        (rk.charts.shadow_segment_agreement(c.agreement_segments), "x"),
    ):
        spec = chart.to_dict()
        assert {"domain": [0, 1]} in scales(spec, channel)
        assert spec["title"]["subtitle"].startswith("axis 0–100%")
    assert "a spread of" in rk.charts.shadow_agreement_trend(c.agreement_weekly).to_dict()["title"]["subtitle"]
    cost = rk.charts.shadow_cost_latency(c.cost_latency).to_dict()
    for panel in cost["vconcat"]:
        assert scales(panel, "y") == [{"zero": True}] * 2  # the bars and their labels


def scales(spec: dict, channel: str) -> list:
    """The scale of `channel` in every layer of a chart spec that encodes it, nested layers included."""
    found = [spec["encoding"][channel].get("scale")] if channel in spec.get("encoding", {}) else []
    return found + [s for layer in spec.get("layer", []) for s in scales(layer, channel)]


def test_tables_read_as_percentages_words_and_iso_dates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    gate_for(tmp_path, worse_if_disagree=0.6, worse_if_agree=0.08)
    ws = rk.load_workspace(tmp_path / "ws")
    c = shadow.page(ws)
    assert c.checks_table["check"].to_list() == [
        "Weeks in shadow",
        "Reviews each week",
        "Agent worse than human",
        "Failure rate: wrong_policy",
        "Zero tolerance: data_leak",
    ]
    worse = c.checks_table.row(2, named=True)
    assert worse["found"] == rk.text.pct(c.gate.check("agent_worse_rate").estimate) and worse["threshold"] == "5%"
    assert c.checks_table.row(0, named=True)["found"] == "2 weeks"
    assert c.verdict_table["weighted"].str.ends_with("%").all()
    assert c.failure_mode_table["limit"].to_list() == ["2%", "zero tolerance"]
    assert c.reviewer_table["raw_agreement"].str.ends_with("%").all()
    tables = [getattr(c, name) for name in ShadowPageParts if name.endswith("_table") or name in ("wins",)]
    cells = " ".join(str(v) for t in tables for row in t.iter_rows() for v in row if not isinstance(v, int))
    assert "e-0" not in cells and "e+0" not in cells
    for sentence in [*c.reasons, *c.checks_table["sentence"]]:
        assert "e-0" not in sentence
    assert main(["shadow", str(tmp_path / "ws"), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(k["name"], k["label"]) for k in out["checks"]][2] == ("agent_worse_rate", "Agent worse than human")
    assert dt.date.fromisoformat(out["as_of"]) == dt.date(2026, 11, 16)
    assert main(["shadow", str(tmp_path / "ws")]) == 0
    assert "Agent worse than human" in capsys.readouterr().out
