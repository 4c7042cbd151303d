"""The eval set: the 100–300 tasks every agent version runs against before it ships.

Four questions, each answered from the `evals` table aggregated to counts:
- coverage — how many distinct tasks per category against the 100–300 target, and which categories are thin;
- pass rates — each version's latest run, with Wilson intervals;
- comparison — two versions paired on the tasks both ran: exact McNemar test on the discordant tasks, the paired
  Newcombe interval on the difference of pass rates, and the tasks that regressed;
- growth — how the set grew week by week, by `source` (e.g. shadow regressions and incidents added as tasks).

A version's result is its latest run (`run_at`), so a re-run replaces an earlier one. `page(ws, as_of=...)`
computes all four once, with the memo's headline: whether the eval set blocks the release.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import asdict, dataclass
from typing import Any

import polars as pl

from rolloutkit import stats
from rolloutkit.contracts import CATEGORIES
from rolloutkit.errors import MissingTableError, RolloutkitError
from rolloutkit.page import Headline, Missing, missing_headline, missing_table
from rolloutkit.text import iso_week_expr, json_rows, plural
from rolloutkit.workspace import Workspace

__all__ = [
    "ORIGINAL_SOURCE", "SLUG", "TARGET_TASKS", "TITLE", "Coverage", "EvalSetPage", "VersionComparison",
    "added_tasks", "compare", "coverage", "growth", "page", "pass_rates", "versions",
]

SLUG = "eval_set"
TITLE = "Eval set"
#: The playbook's size of an eval set: 100–300 tasks.
TARGET_TASKS = (100, 300)
#: Tasks without a `source` were in the set from the start.
ORIGINAL_SOURCE = "original"


@dataclass(frozen=True, kw_only=True)
class Coverage:
    """Distinct tasks per category (`by_category`: category, tasks, share, thin) against the 100–300 target."""

    as_of: dt.date
    tasks: int
    target_low: int
    target_high: int
    min_tasks_per_category: int
    by_category: pl.DataFrame

    @property
    def status(self) -> str:
        """"below", "within" or "above" the 100–300 target."""
        if self.tasks < self.target_low:
            return "below"
        return "above" if self.tasks > self.target_high else "within"

    @property
    def thin(self) -> list[str]:
        return self.by_category.filter(pl.col("thin"))["category"].to_list()

    def to_dict(self) -> dict[str, Any]:
        return {"as_of": self.as_of.isoformat(), "tasks": self.tasks, "target_low": self.target_low,
                "target_high": self.target_high, "status": self.status, "thin": self.thin,
                "min_tasks_per_category": self.min_tasks_per_category,
                "by_category": self.by_category.to_dicts()}

    def describe(self) -> str:
        parts = ", ".join(f"{r['category']} {r['tasks']}" for r in self.by_category.iter_rows(named=True))
        thin = f"; thin: {', '.join(self.thin)}" if self.thin else ""
        return (f"{self.tasks} tasks ({self.status} the {self.target_low}–{self.target_high} target): "
                f"{parts}{thin}")


@dataclass(frozen=True, kw_only=True)
class VersionComparison:
    """`candidate` against `baseline` on the tasks both ran (latest run of each).

    `difference` is candidate − baseline pass rate with the paired Newcombe interval; `mcnemar` tests the
    discordant tasks (`regressed`: passed in baseline, failed in candidate; `fixed`: the reverse).
    `regressed_tasks`: task_id, category, source of each regressed task; `by_category`: category, regressed,
    fixed, paired (every category, in contract order).
    """

    baseline: str
    candidate: str
    baseline_run: str
    candidate_run: str
    candidate_day: dt.date
    paired_tasks: int
    both_passed: int
    fixed: int
    regressed: int
    both_failed: int
    difference: stats.Interval
    mcnemar: stats.TestResult
    confidence: float
    regressed_tasks: pl.DataFrame
    by_category: pl.DataFrame

    @property
    def significant_regression(self) -> bool:
        """More regressions than fixes, and McNemar rejects equal pass rates at 1 − confidence."""
        return self.regressed > self.fixed and bool(self.mcnemar.reject)

    @property
    def p_text(self) -> str:
        """The McNemar p-value in words ("no task changed outcome" when there is none)."""
        if self.mcnemar.error:
            return "no task changed outcome"
        return f"exact McNemar p = {self.mcnemar.p_value:.2g}"

    @property
    def table(self) -> list[list[int]]:
        """The paired 2×2 table: rows candidate pass/fail, columns baseline pass/fail."""
        return [[self.both_passed, self.fixed], [self.regressed, self.both_failed]]

    def to_dict(self) -> dict[str, Any]:
        return {"baseline": self.baseline, "candidate": self.candidate, "baseline_run": self.baseline_run,
                "candidate_run": self.candidate_run, "candidate_day": self.candidate_day.isoformat(),
                "paired_tasks": self.paired_tasks, "table": self.table, "regressed": self.regressed,
                "fixed": self.fixed, "difference": asdict(self.difference), "mcnemar": asdict(self.mcnemar),
                "confidence": self.confidence, "significant_regression": self.significant_regression,
                "regressed_task_ids": self.regressed_tasks["task_id"].to_list(),
                "by_category": self.by_category.to_dicts()}

    def describe(self) -> str:
        d = self.difference
        return (f"{self.candidate} vs {self.baseline} on {self.paired_tasks} shared tasks: {self.regressed} regressed, "
                f"{self.fixed} fixed; pass rate difference {d.estimate:+.1%} "
                f"({self.confidence:.0%} CI {d.lower:+.1%} to {d.upper:+.1%}); {self.p_text}")


def _evals(ws: Workspace, as_of: dt.date | str | None) -> tuple[pl.LazyFrame, dt.date]:
    day = ws.resolve_as_of(as_of)
    return ws.table("evals").filter(pl.col("day") <= day), day


def versions(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """One row per agent version in order of first run: agent_version, run_id, run_at, day (its latest run), runs."""
    evals, _ = _evals(ws, as_of)
    return _versions(evals).collect()


def _versions(evals: pl.LazyFrame) -> pl.LazyFrame:
    runs = evals.group_by("run_id").agg(pl.col("agent_version").first(), pl.col("run_at").min(),
                                        pl.col("day").min())
    return (runs.sort("run_at", "run_id")
            .group_by("agent_version")
            .agg(pl.col("run_id").last(), pl.col("run_at").last(), pl.col("day").last(),
                 pl.len().alias("runs"), pl.col("run_at").first().alias("first_run_at"))
            .sort("first_run_at", "agent_version")
            .drop("first_run_at"))


def coverage(ws: Workspace, *, as_of: dt.date | str | None = None, min_tasks_per_category: int = 10,
             min_share: float = 0.10) -> Coverage:
    """Distinct tasks per category run so far, against the 100–300 target.

    A category is thin when it has fewer than `min_tasks_per_category` tasks or less than `min_share` of the set:
    a pass rate on a handful of adversarial tasks says little. A task's category is its latest label.
    """
    evals, day = _evals(ws, as_of)
    counts = (evals.sort("run_at").group_by("task_id").agg(pl.col("category").last())
              .group_by("category").agg(pl.len().alias("tasks")).collect())
    frame = (pl.DataFrame({"category": list(CATEGORIES)})
             .join(counts, on="category", how="left")
             .with_columns(pl.col("tasks").fill_null(0).cast(pl.Int64)))
    total = int(frame["tasks"].sum())
    frame = frame.with_columns(
        share=pl.col("tasks") / max(total, 1),
    ).with_columns(thin=(pl.col("tasks") < min_tasks_per_category) | (pl.col("share") < min_share))
    return Coverage(as_of=day, tasks=total, target_low=TARGET_TASKS[0], target_high=TARGET_TASKS[1],
                    min_tasks_per_category=min_tasks_per_category, by_category=frame)


def pass_rates(ws: Workspace, *, as_of: dt.date | str | None = None, confidence: float = 0.95,
               by_category: bool = False) -> pl.DataFrame:
    """Pass rate of each version's latest run with a Wilson interval.

    Columns: agent_version, run_id, day, [category,] tasks, passed, pass_rate, lower, upper; versions in order of
    first run.
    """
    evals, _ = _evals(ws, as_of)
    latest = _versions(evals).with_row_index("order")
    keys = ["order", "agent_version", "run_id", "day"] + (["category"] if by_category else [])
    counts = (evals.drop("day", "agent_version").join(latest, on="run_id", how="inner")
              .group_by(keys).agg(pl.len().alias("tasks"), pl.col("passed").sum().alias("passed"))
              .sort(keys).collect())
    intervals = [stats.wilson_interval(x, n, confidence=confidence)
                 for x, n in zip(counts["passed"], counts["tasks"], strict=True)]
    return counts.drop("order").with_columns(
        pl.col("passed").cast(pl.Int64), pl.col("tasks").cast(pl.Int64),
        pass_rate=pl.Series([i.estimate for i in intervals], dtype=pl.Float64),
        lower=pl.Series([i.lower for i in intervals], dtype=pl.Float64),
        upper=pl.Series([i.upper for i in intervals], dtype=pl.Float64),
    )


def compare(ws: Workspace, *, baseline: str | None = None, candidate: str | None = None,
            as_of: dt.date | str | None = None, confidence: float = 0.95) -> VersionComparison:
    """Pair `candidate` with `baseline` on the tasks both ran; default: the last two versions to be run.

    Raises `RolloutkitError` when fewer than two versions were run or a named version is unknown.
    """
    evals, _ = _evals(ws, as_of)
    order = _versions(evals).collect()
    names = order["agent_version"].to_list()
    if candidate is None:
        candidate = names[-1] if names else None
    if baseline is None:
        earlier = [v for v in names if v != candidate]
        baseline = earlier[-1] if earlier else None
    for label, version in (("baseline", baseline), ("candidate", candidate)):
        if version is None:
            raise RolloutkitError(f"`{label}`: the eval set has {len(names)} version(s) run; a comparison needs two")
        if version not in names:
            raise RolloutkitError(f"`{label}` must be a version run on the eval set ({', '.join(names)}), "
                                  f"got {version!r}")
    if baseline == candidate:
        raise RolloutkitError(f"`baseline` and `candidate` must differ, got {baseline!r} twice")
    runs = dict(zip(order["agent_version"], order["run_id"], strict=True))
    days = dict(zip(order["agent_version"], order["day"], strict=True))

    source = pl.col("source") if "source" in evals.collect_schema() else pl.lit(None, pl.String).alias("source")

    def outcome(version: str, name: str) -> pl.LazyFrame:
        return (evals.filter(pl.col("run_id") == runs[version])
                .select("task_id", "category", source, pl.col("passed").alias(name)))

    paired = outcome(baseline, "base").join(outcome(candidate, "cand").select("task_id", "cand"),
                                            on="task_id", how="inner")
    cells = paired.select(
        both_passed=(pl.col("base") & pl.col("cand")).sum(),
        fixed=(~pl.col("base") & pl.col("cand")).sum(),
        regressed=(pl.col("base") & ~pl.col("cand")).sum(),
        both_failed=(~pl.col("base") & ~pl.col("cand")).sum(),
    ).collect().row(0, named=True)
    cells = {k: int(v or 0) for k, v in cells.items()}
    regressed = (paired.filter(pl.col("base") & ~pl.col("cand")).select("task_id", "category", "source")
                 .sort("category", "task_id").collect())
    per_category = (paired.group_by("category")
                    .agg(regressed=(pl.col("base") & ~pl.col("cand")).sum().cast(pl.Int64),
                         fixed=(~pl.col("base") & pl.col("cand")).sum().cast(pl.Int64),
                         paired=pl.len().cast(pl.Int64))
                    .collect())
    by_category = (pl.DataFrame({"category": list(CATEGORIES)}).join(per_category, on="category", how="left")
                   .with_columns(pl.col("regressed", "fixed", "paired").fill_null(0)))
    table = [[cells["both_passed"], cells["fixed"]], [cells["regressed"], cells["both_failed"]]]
    return VersionComparison(
        baseline=baseline, candidate=candidate, baseline_run=runs[baseline], candidate_run=runs[candidate],
        candidate_day=days[candidate], paired_tasks=sum(cells.values()), **cells,
        difference=stats.paired_newcombe_interval(table, confidence=confidence),
        mcnemar=stats.mcnemar_exact(cells["fixed"], cells["regressed"], alpha=1 - confidence),
        confidence=confidence, regressed_tasks=regressed, by_category=by_category,
    )


def _first_runs(evals: pl.LazyFrame) -> pl.LazyFrame:
    """Per task: the day of its first run, its first category and its first non-null source (else `original`)."""
    source = pl.col("source") if "source" in evals.collect_schema() else pl.lit(None, pl.String)
    return (evals.with_columns(source=source).sort("run_at")
            .group_by("task_id")
            .agg(pl.col("day").first(), pl.col("category").first(), pl.col("source").drop_nulls().first())
            .with_columns(pl.col("source").fill_null(ORIGINAL_SOURCE)))


def growth(ws: Workspace, *, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Tasks added to the set per ISO week and source, with the running total per source and overall.

    A task is added in the week of its first run; its source is the first non-null `source` it carries
    (tasks without one are `original`). Columns: week (Monday), week_label, source, added, cumulative, total.
    """
    evals, _ = _evals(ws, as_of)
    added = (_first_runs(evals).group_by(week=pl.col("day").dt.truncate("1w"), source=pl.col("source"))
             .agg(pl.len().cast(pl.Int64).alias("added")).collect())
    if added.is_empty():
        return pl.DataFrame(schema={"week": pl.Date, "week_label": pl.String, "source": pl.String,
                                    "added": pl.Int64, "cumulative": pl.Int64, "total": pl.Int64})
    weeks = pl.DataFrame({"week": pl.date_range(added["week"].min(), added["week"].max(), "1w", eager=True)})
    sources = added.select(pl.col("source").unique().sort())
    return (weeks.join(sources, how="cross")
            .join(added, on=["week", "source"], how="left")
            .with_columns(pl.col("added").fill_null(0))
            .sort("source", "week")
            .with_columns(cumulative=pl.col("added").cum_sum().over("source"))
            .with_columns(total=pl.col("cumulative").sum().over("week"))
            .with_columns(week_label=iso_week_expr(pl.col("week")))
            .select("week", "week_label", "source", "added", "cumulative", "total")
            .sort("week", "source"))


def added_tasks(ws: Workspace, *, since: dt.date, as_of: dt.date | str | None = None) -> pl.DataFrame:
    """Tasks whose first run falls from `since` to `as_of`, per source and category: source, category, tasks,
    first_day (the earliest first run of the group). Sources and categories as in `growth` and `coverage`."""
    evals, _ = _evals(ws, as_of)
    return (_first_runs(evals).filter(pl.col("day") >= since)
            .group_by("source", "category")
            .agg(pl.len().cast(pl.Int64).alias("tasks"), pl.col("day").min().alias("first_day"))
            .sort("source", "category")
            .collect())


@dataclass(frozen=True, kw_only=True)
class EvalSetPage:
    """Everything the eval-set page shows as of one day, computed once; a part that cannot be shown is `Missing`
    (no `evals` table, no run yet, or fewer than two versions to compare)."""

    agent: str
    as_of: dt.date
    coverage: Coverage | Missing
    pass_rates: pl.DataFrame | Missing
    comparison: VersionComparison | Missing
    #: The tasks that passed in the baseline and fail in the candidate (task_id, category, source).
    regressed_tasks: pl.DataFrame | Missing
    growth: pl.DataFrame | Missing
    #: One line under the banner: what the page is computed from, or what is missing.
    note: str | Missing
    headline: Headline


def page(ws: Workspace, *, as_of: dt.date | str | None = None, confidence: float = 0.95) -> EvalSetPage:
    """Coverage, pass rates, the last two versions compared and the growth of the set, as of `as_of`."""
    day = ws.resolve_as_of(as_of)
    ws = ws.cut(day)
    try:
        rates = pass_rates(ws, as_of=day, confidence=confidence)
    except MissingTableError as exc:
        missing = missing_table(exc.table)
        return _empty_page(ws, day, missing, missing_headline(SLUG, TITLE, missing))
    cov = coverage(ws, as_of=day)
    if rates.height >= 2:
        comparison: VersionComparison | Missing = compare(ws, as_of=day, confidence=confidence)
        regressed: pl.DataFrame | Missing = comparison.regressed_tasks
    else:
        comparison = regressed = Missing(
            f"Nothing to compare: fewer than two versions run on the eval set (only {rates['agent_version'][0]}).",
            "The comparison appears when the next version has run on the set.")
    return EvalSetPage(
        agent=ws.agent, as_of=day, coverage=cov, pass_rates=rates, comparison=comparison,
        regressed_tasks=regressed, growth=growth(ws, as_of=day),
        note=f"Eval runs of {ws.agent} up to {day.isoformat()}; a version's result is its latest run.",
        headline=_headline(cov, rates, comparison))


def _empty_page(ws: Workspace, day: dt.date, missing: Missing, headline: Headline) -> EvalSetPage:
    return EvalSetPage(agent=ws.agent, as_of=day, coverage=missing, pass_rates=missing, comparison=missing,
                       regressed_tasks=missing, growth=missing, note=missing,
                       headline=dataclasses.replace(headline, heading=f"{TITLE}: not started"))


def _headline(cov: Coverage, rates: pl.DataFrame, comparison: VersionComparison | Missing) -> Headline:
    """The eval set on the summary page: size against target, latest version's pass rate, and its regressions.

    Status: `bad` when the latest version regressed significantly against the one before (decision `block`),
    `warn` when the set is outside 100–300 tasks, a category is thin or some tasks regressed (decision `review`),
    `good` otherwise (decision `ship`); a single version run gives no decision. The heading says whether the
    eval set blocks the release.
    """
    latest = rates.row(-1, named=True)
    details: dict[str, Any] = {"coverage": cov.to_dict(), "pass_rates": json_rows(rates)}
    size = f"The eval set has {cov.tasks} tasks ({cov.status} the {cov.target_low}–{cov.target_high} target"
    size += f"; thin: {', '.join(cov.thin)})" if cov.thin else ")"
    rate = (f"{latest['agent_version']} passes {latest['pass_rate']:.0%} "
            f"({latest['lower']:.0%}–{latest['upper']:.0%})")
    gaps = [f"thin categories ({', '.join(cov.thin)})"] if cov.thin else []
    gaps += [f"its size ({cov.tasks} tasks, {cov.status} the target)"] if cov.status != "within" else []

    def line(status: str, sentence: str, decision: str | None, heading: str) -> Headline:
        return Headline(page=SLUG, title=TITLE, status=status, sentence=sentence, decision=decision,
                        heading=f"{TITLE}: {heading}", details=details)

    if isinstance(comparison, Missing):
        return line("warn" if gaps else "info", f"{size}; {rate}; no earlier version to compare.", None,
                    "does not block — one version run, nothing to compare")
    details["comparison"] = comparison.to_dict()
    sentence = (f"{size}; {rate}; against {comparison.baseline} it regressed {comparison.regressed} and fixed "
                f"{comparison.fixed} of {comparison.paired_tasks} shared tasks ({comparison.p_text}).")
    regressed = plural(comparison.regressed, "task")
    if comparison.significant_regression:
        return line("bad", sentence, "block", f"blocks release — {comparison.candidate} regressed on {regressed}")
    if gaps or comparison.regressed:
        review = ([f"{plural(comparison.regressed, 'regressed task')}"] if comparison.regressed else []) + gaps
        return line("warn", sentence, "review", f"does not block — review {' and '.join(review)}")
    return line("good", sentence, "ship", f"does not block — {comparison.candidate} regressed on no task")
