"""The eval set: coverage, pass rates per version, the paired comparison of two versions, growth, the page."""

from __future__ import annotations

import datetime as dt
import json

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from scipy.stats import binomtest

import rolloutkit as rk
from rolloutkit import evalset, stats
from rolloutkit.page import Missing

UTC = dt.UTC
CATEGORIES = ("typical", "edge", "prior_failure", "adversarial")


def _run(run_id: str, day: dt.date, version: str, outcomes: list[bool], *, prefix: str = "t",
         categories: list[str] | None = None, source: str | None = None, offset: int = 0) -> pl.DataFrame:
    n = len(outcomes)
    return pl.DataFrame({
        "run_id": [run_id] * n,
        "run_at": [dt.datetime(day.year, day.month, day.day, 16, tzinfo=UTC)] * n,
        "agent_version": [version] * n,
        "task_id": [f"{prefix}{i + offset:03d}" for i in range(n)],
        "category": categories or [CATEGORIES[(i + offset) % 4] for i in range(n)],
        "passed": outcomes,
        "source": pl.Series([source] * n, dtype=pl.String),
    })


def _paired(a: int, b: int, c: int, d: int) -> pl.DataFrame:
    """Baseline v1 and candidate v2 on a + b + c + d tasks; rows candidate pass/fail, columns baseline pass/fail.

    v1 was also run once before (every task failing); its later run replaces it.
    """
    base = [True] * a + [False] * b + [True] * c + [False] * d
    cand = [True] * a + [True] * b + [False] * c + [False] * d
    n = len(base)
    return pl.concat([
        _run("r0", dt.date(2026, 9, 1), "v1", [False] * n),
        _run("r1", dt.date(2026, 9, 2), "v1", base),
        _run("r2", dt.date(2026, 9, 9), "v2", cand),
    ])


@pytest.fixture
def workspace(make_workspace):
    names = iter(range(100))

    def build(evals: pl.DataFrame | None) -> rk.Workspace:
        tables = {"evals.parquet": evals} if evals is not None else {}
        return rk.load_workspace(make_workspace(tables, name=f"ws{next(names)}"))
    return build


def test_paired_newcombe_and_exact_mcnemar_match_the_references(workspace):
    ws = workspace(_paired(59, 6, 16, 80))
    result = evalset.compare(ws)
    assert (result.baseline, result.candidate, result.baseline_run) == ("v1", "v2", "r1")
    assert result.table == [[59, 6], [16, 80]]
    # Fagerland, Lydersen & Laake (2014): −0.0621, (−0.1186, −0.0046).
    assert result.difference.estimate == pytest.approx(-0.0621, abs=5e-5)
    assert result.difference.lower == pytest.approx(-0.1186, abs=5e-5)
    assert result.difference.upper == pytest.approx(-0.0046, abs=5e-5)
    assert result.mcnemar.p_value == pytest.approx(binomtest(6, 22, 0.5).pvalue, rel=1e-12)
    assert result.regressed == 16 and result.fixed == 6
    assert not result.significant_regression  # p ≈ 0.052
    assert sorted(result.regressed_tasks["task_id"]) == [f"t{i:03d}" for i in range(65, 81)]
    assert result.by_category["regressed"].sum() == 16 and result.by_category["fixed"].sum() == 6


def test_comparison_is_only_on_tasks_both_versions_ran(workspace):
    evals = pl.concat([_paired(10, 0, 2, 0), _run("r2", dt.date(2026, 9, 9), "v2", [False] * 5, offset=50)])
    result = evalset.compare(workspace(evals))
    assert result.paired_tasks == 12 and result.regressed == 2


def test_compare_needs_two_known_versions(workspace):
    ws = workspace(_run("r1", dt.date(2026, 9, 2), "v1", [True] * 5))
    with pytest.raises(rk.RolloutkitError, match="needs two"):
        evalset.compare(ws)
    with pytest.raises(rk.RolloutkitError, match="v9"):
        evalset.compare(workspace(_paired(3, 1, 1, 1)), candidate="v9")


def test_pass_rates_use_each_versions_latest_run_with_wilson_intervals(workspace):
    rates = evalset.pass_rates(workspace(_paired(59, 6, 16, 80)))
    expected_ci = [stats.wilson_interval(75, 161), stats.wilson_interval(65, 161)]
    expected = pl.DataFrame({
        "agent_version": ["v1", "v2"], "run_id": ["r1", "r2"], "day": [dt.date(2026, 9, 2), dt.date(2026, 9, 9)],
        "tasks": [161, 161], "passed": [75, 65], "pass_rate": [75 / 161, 65 / 161],
        "lower": [i.lower for i in expected_ci], "upper": [i.upper for i in expected_ci],
    })
    assert_frame_equal(rates, expected)


def test_coverage_counts_distinct_tasks_and_flags_thin_categories(workspace):
    categories = ["typical"] * 70 + ["edge"] * 25 + ["prior_failure"] * 10 + ["adversarial"] * 3
    evals = _run("r1", dt.date(2026, 9, 2), "v1", [True] * 108, categories=categories)
    cov = evalset.coverage(workspace(pl.concat([evals, evals.with_columns(run_id=pl.lit("r2"))])))
    assert (cov.tasks, cov.status) == (108, "within")
    assert cov.by_category["tasks"].to_list() == [70, 25, 10, 3]
    assert cov.thin == ["prior_failure", "adversarial"]  # 10 tasks is under 10% of 108; 3 is under 10 tasks


@pytest.mark.parametrize(("tasks", "status"), [(99, "below"), (100, "within"), (300, "within"), (301, "above")],
                         ids=["99", "100", "300", "301"])
def test_coverage_target_is_100_to_300_tasks(workspace, tasks, status):
    cov = evalset.coverage(workspace(_run("r1", dt.date(2026, 9, 2), "v1", [True] * tasks)))
    assert cov.status == status


def test_growth_counts_tasks_by_the_week_they_joined_and_their_source(workspace):
    evals = pl.concat([
        _run("r1", dt.date(2026, 9, 2), "v1", [True] * 4),
        _run("r2", dt.date(2026, 9, 16), "v2", [True] * 4),
        _run("r2", dt.date(2026, 9, 16), "v2", [True] * 2, prefix="s", source="shadow_regression"),
        _run("r3", dt.date(2026, 9, 23), "v3", [True] * 4),
        _run("r3", dt.date(2026, 9, 23), "v3", [True] * 2, prefix="s", source="shadow_regression"),
        _run("r3", dt.date(2026, 9, 23), "v3", [True] * 1, prefix="i", source="incident"),
    ])
    grown = evalset.growth(workspace(evals)).filter(pl.col("source") != "incident")
    weeks = [dt.date(2026, 8, 31), dt.date(2026, 9, 7), dt.date(2026, 9, 14), dt.date(2026, 9, 21)]
    expected = pl.DataFrame({
        "week": [w for w in weeks for _ in range(2)],
        "week_label": [f"2026-W{n}" for n in (36, 37, 38, 39) for _ in range(2)],
        "source": ["original", "shadow_regression"] * 4,
        "added": [4, 0, 0, 0, 0, 2, 0, 0],
        "cumulative": [4, 0, 4, 0, 4, 2, 4, 2],
        "total": [4, 4, 4, 4, 6, 6, 7, 7],
    })
    assert_frame_equal(grown, expected)


@pytest.mark.parametrize(("cells", "status", "decision", "heading"), [
    ((100, 2, 16, 42), "bad", "block", "Eval set: blocks release — v2 regressed on 16 tasks"),
    ((100, 6, 16, 38), "warn", "review", "Eval set: does not block — review 16 regressed tasks"),
    ((150, 5, 0, 5), "good", "ship", "Eval set: does not block — v2 regressed on no task"),
], ids=["significant-regression", "some-regressions", "no-regressions"])
def test_headline_blocks_a_significant_regression(workspace, cells, status, decision, heading):
    head = evalset.page(workspace(_paired(*cells))).headline
    assert (head.page, head.status, head.decision) == ("eval_set", status, decision)
    assert head.details["comparison"]["table"] == [[cells[0], cells[1]], [cells[2], cells[3]]]
    assert head.heading == heading


def test_headline_says_missing_without_an_evals_table(workspace):
    head = evalset.page(workspace(None)).headline
    assert head.status == "missing" and "evals" in head.sentence
    assert head.sentence.startswith("Not started: ")
    assert isinstance(evalset.page(workspace(None)).comparison, Missing)


def test_as_of_leaves_out_later_runs(workspace):
    ws = workspace(_paired(59, 6, 16, 80))
    assert evalset.versions(ws, as_of="2026-09-05")["agent_version"].to_list() == ["v1"]
    one_version = evalset.page(ws, as_of="2026-09-05")
    assert one_version.headline.decision is None
    assert one_version.headline.heading == "Eval set: does not block — one version run, nothing to compare"
    assert isinstance(one_version.regressed_tasks, Missing)


def test_page_before_the_first_run_says_not_started(workspace):
    before = evalset.page(workspace(_paired(3, 1, 1, 1)), as_of="2026-08-31")
    assert before.headline.status == "missing"
    assert before.headline.sentence == "Not started: this workspace has no `evals` table yet."  # as of that day
    assert isinstance(before.coverage, Missing) and before.note == before.growth


def test_added_tasks_by_source_and_category_since_a_day(workspace):
    evals = pl.concat([_run("r1", dt.date(2026, 9, 2), "v1", [True] * 4),
                       _run("r2", dt.date(2026, 9, 16), "v2", [True] * 4),
                       _run("r2", dt.date(2026, 9, 16), "v2", [True] * 2, prefix="i", source="incident")])
    added = evalset.added_tasks(workspace(evals), since=dt.date(2026, 9, 10))
    assert added.rows() == [("incident", "edge", 1, dt.date(2026, 9, 16)),
                            ("incident", "typical", 1, dt.date(2026, 9, 16))]


def test_charts_state_the_finding_and_render_offline(workspace):
    evals = pl.concat([_paired(59, 6, 16, 80),
                       _run("r2", dt.date(2026, 9, 9), "v2", [True] * 3, prefix="i", source="incident")])
    report = evalset.page(workspace(evals))
    charts = {
        "coverage": (rk.charts.evalset_coverage(report.coverage), "164 tasks, within the 100–300 target"),
        "rates": (rk.charts.evalset_pass_rates(report.pass_rates), "v2 passes 41.5% of 164 tasks"),
        "comparison": (rk.charts.evalset_comparison(report.comparison),
                       "v2 vs v1: 16 regressed, 6 fixed — no significant regression"),
        "growth": (rk.charts.evalset_growth(report.growth), "The set grew from 161 to 164 tasks (incident 3)"),
    }
    for name, (chart, title) in charts.items():
        assert title in json.dumps(chart.to_dict(), ensure_ascii=False), name
        assert rk.render.svg(chart).startswith("<svg")


def test_charts_without_eval_runs_say_so(workspace):
    ws = workspace(_paired(3, 1, 1, 1))
    before = "2026-08-31"  # the first run is on Sep 1
    for chart in (rk.charts.evalset_coverage(evalset.coverage(ws, as_of=before)),
                  rk.charts.evalset_pass_rates(evalset.pass_rates(ws, as_of=before)),
                  rk.charts.evalset_growth(evalset.growth(ws, as_of=before))):
        text = json.dumps(chart.to_dict(), ensure_ascii=False)
        assert "no eval runs" in text or "fewer than two versions run" in text
        assert rk.render.svg(chart).startswith("<svg")
    comparison = rk.charts.evalset_comparison(evalset.page(ws, as_of="2026-09-05").comparison)
    assert isinstance(comparison, Missing) and "fewer than two versions run" in str(comparison)


def test_charts_of_a_workspace_without_evals_pass_its_notes_through(workspace):
    report = evalset.page(workspace(None))
    for chart in (rk.charts.evalset_coverage(report.coverage), rk.charts.evalset_pass_rates(report.pass_rates),
                  rk.charts.evalset_comparison(report.comparison), rk.charts.evalset_growth(report.growth)):
        assert chart == report.note
        assert "no `evals` table" in chart._repr_html_()
