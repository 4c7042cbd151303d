"""Charts for the eval set. Inputs are the parts of `rolloutkit.evalset.page` (aggregated frames and results); each
title states the finding, an empty part gives a chart that says so, and a `Missing` part is passed through as its
note."""

from __future__ import annotations

import altair as alt
import polars as pl

from rolloutkit.charts.base import COLOURS, HEIGHT, WIDTH, no_data, passes_missing, threshold_rule, titled
from rolloutkit.evalset import Coverage, VersionComparison
from rolloutkit.text import pct

__all__ = ["evalset_comparison", "evalset_coverage", "evalset_growth", "evalset_pass_rates"]

SOURCE_COLOURS = ("#3d5a80", "#98c1d9", "#ee6c4d", "#8d99ae", "#293241", "#e0fbfc")


@passes_missing
def evalset_coverage(coverage: Coverage) -> alt.TopLevelMixin:
    """Distinct tasks per category, thin categories in the warning colour, the per-category minimum drawn."""
    if coverage.tasks == 0:
        return no_data("Eval set coverage", "no eval runs")
    data = coverage.by_category
    colour = alt.Color("state:N", title=None, scale=alt.Scale(domain=["enough", "thin"],
                                                              range=[COLOURS["agent"], COLOURS["hold"]]))
    bars = alt.Chart(data.with_columns(state=pl.when(pl.col("thin")).then(pl.lit("thin"))
                                       .otherwise(pl.lit("enough")))).mark_bar().encode(
        x=alt.X("tasks:Q", title="distinct tasks"), y=alt.Y("category:N", sort=list(data["category"]), title=None),
        color=colour, tooltip=["category:N", "tasks:Q", alt.Tooltip("share:Q", format=".0%"), "thin:N"])
    rule = threshold_rule(coverage.min_tasks_per_category, f"minimum {coverage.min_tasks_per_category}", axis="x")
    thin = f"; thin: {', '.join(coverage.thin)}" if coverage.thin else "; every category has enough tasks"
    return titled((bars + rule).properties(width=WIDTH, height=150),
                  f"{coverage.tasks} tasks, {coverage.status} the {coverage.target_low}–{coverage.target_high} "
                  f"target{thin}",
                  "a category is thin below the minimum or under 10% of the set")


@passes_missing
def evalset_pass_rates(rates: pl.DataFrame) -> alt.TopLevelMixin:
    """Each version's pass rate (latest run) with its 95% Wilson interval, versions in the order they were run."""
    if rates.is_empty():
        return no_data("Pass rate per version", "no eval runs")
    latest = rates.row(-1, named=True)
    order = rates["agent_version"].to_list()
    base = alt.Chart(rates)
    x = alt.X("agent_version:N", sort=order, title="agent version (in the order run)", axis=alt.Axis(labelAngle=0))
    tooltip = ["agent_version:N", "run_id:N", "day:T", "passed:Q", "tasks:Q",
               alt.Tooltip("pass_rate:Q", format=".1%"), alt.Tooltip("lower:Q", format=".1%"),
               alt.Tooltip("upper:Q", format=".1%")]
    whiskers = base.mark_rule(color=COLOURS["agent"], strokeWidth=2).encode(x=x, y="lower:Q", y2="upper:Q")
    points = base.mark_point(filled=True, size=80, color=COLOURS["agent"]).encode(
        x=x, y=alt.Y("pass_rate:Q", axis=alt.Axis(format="%"), title="tasks passed", scale=alt.Scale(zero=False)),
        tooltip=tooltip)
    first = rates.row(0, named=True)
    rule = threshold_rule(first["pass_rate"], f"{first['agent_version']} {pct(first['pass_rate'], digits=0)}",
                          colour=COLOURS["muted"])
    return titled((whiskers + points + rule).properties(width=WIDTH, height=HEIGHT),
                  f"{latest['agent_version']} passes {pct(latest['pass_rate'], digits=1)} of {latest['tasks']} tasks "
                  f"({pct(latest['lower'], digits=1)}–{pct(latest['upper'], digits=1)})",
                  "latest run of each version; lines are 95% Wilson intervals; dashed: the first version")


@passes_missing
def evalset_comparison(comparison: VersionComparison) -> alt.TopLevelMixin:
    """Tasks that regressed and tasks that were fixed from baseline to candidate, per category."""
    data = comparison.by_category.unpivot(index=["category", "paired"], on=["regressed", "fixed"],
                                          variable_name="change", value_name="tasks")
    data = data.with_columns(signed=pl.when(pl.col("change") == "regressed").then(-pl.col("tasks"))
                             .otherwise(pl.col("tasks")))
    colour = alt.Color("change:N", title=None, scale=alt.Scale(domain=["regressed", "fixed"],
                                                               range=[COLOURS["rollback"], COLOURS["pass"]]))
    bars = alt.Chart(data).mark_bar().encode(
        x=alt.X("signed:Q", title="← regressed · fixed →", axis=alt.Axis(tickMinStep=1, labelExpr="abs(datum.value)")),
        y=alt.Y("category:N", sort=list(comparison.by_category["category"]), title=None), color=colour,
        tooltip=["category:N", "change:N", "tasks:Q", alt.Tooltip("paired:Q", title="tasks both ran")])
    zero = threshold_rule(0, "", axis="x", colour="#333")
    d = comparison.difference
    verdict = "a significant regression" if comparison.significant_regression else "no significant regression"
    return titled((bars + zero).properties(width=WIDTH, height=150),
                  f"{comparison.candidate} vs {comparison.baseline}: {comparison.regressed} regressed, "
                  f"{comparison.fixed} fixed — {verdict}",
                  f"{comparison.paired_tasks} tasks run by both; pass rate {d.estimate:+.1%} "
                  f"({d.lower:+.1%} to {d.upper:+.1%}, paired Newcombe); {comparison.p_text}")


@passes_missing
def evalset_growth(growth: pl.DataFrame) -> alt.TopLevelMixin:
    """Cumulative tasks per source week by week (stacked), with the 100 and 300 task marks."""
    if growth.is_empty():
        return no_data("Growth of the eval set", "no eval runs")
    last = growth.filter(pl.col("week") == growth["week"].max())
    first = growth.filter(pl.col("week") == growth["week"].min())
    total, start = int(last["total"][0]), int(first["total"][0])
    later = (last.join(first.select("source", pl.col("cumulative").alias("before")), on="source")
             .with_columns(added_later=pl.col("cumulative") - pl.col("before"))
             .filter(pl.col("added_later") > 0).sort("added_later", descending=True))
    parts = ", ".join(f"{r['source']} {r['added_later']}" for r in later.iter_rows(named=True))
    # the tasks there from the first week stack at the bottom, later sources above them in order of arrival
    sources = (first.sort("cumulative", descending=True)["source"].to_list())
    data = growth.with_columns(stack=pl.col("source").replace_strict({s: i for i, s in enumerate(sources)},
                                                                      return_dtype=pl.Int64))
    area = alt.Chart(data).mark_area(opacity=0.85).encode(
        x=alt.X("week:T", title="week", axis=alt.Axis(format="%b %d")), order=alt.Order("stack:Q"),
        y=alt.Y("cumulative:Q", stack="zero", title="tasks in the set"),
        color=alt.Color("source:N", title="source", scale=alt.Scale(domain=sources,
                                                                    range=list(SOURCE_COLOURS[:len(sources)]))),
        tooltip=["week_label:N", "source:N", "added:Q", "cumulative:Q", "total:Q"])
    low = threshold_rule(100, "100 tasks", colour=COLOURS["muted"])
    high = threshold_rule(300, "300 tasks", colour=COLOURS["muted"])
    return titled((area + low + high).properties(width=WIDTH, height=HEIGHT),
                  f"The set grew from {start} to {total} tasks" + (f" ({parts})" if parts else ""),
                  "tasks by the week of their first run and their source")
