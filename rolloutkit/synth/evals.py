"""The eval set: tasks in four categories, added over time, run against every agent version."""

from __future__ import annotations

import datetime as dt

import numpy as np
import polars as pl

from rolloutkit.synth.clock import HOUR_US, at, datetimes, ids
from rolloutkit.synth.scenarios import Scenario

CATEGORIES = ("typical", "edge", "prior_failure", "adversarial")
_CATEGORY_P = np.array([0.56, 0.22, 0.15, 0.07])  # adversarial stays thin
_DIFFICULTY = np.array([-1.6, -0.2, 0.2, 0.6])
REGRESSED_TASKS = 4  # tasks that pass on a version and fail on the next


def evals_table(sc: Scenario, rng: np.random.Generator) -> pl.DataFrame:
    """(run, task) rows: one run per version spread from before shadow to the end, plus a re-run of the last."""
    n = sc.eval_tasks
    first_run = sc.start - dt.timedelta(days=10)
    shadow_end = sc.start + dt.timedelta(days=sc.shadow_days)
    live = sc.canary_days > 0
    source = rng.choice(3, size=n, p=[0.82, 0.12, 0.06] if live else [0.88, 0.12, 0.0])
    # Shadow regressions and incidents become tasks, mostly prior failures and edge cases.
    category = np.where(source == 0, rng.choice(4, size=n, p=_CATEGORY_P), rng.choice([1, 2], size=n, p=[0.3, 0.7]))
    added_day = np.where(source == 0, -14, np.where(source == 1, rng.integers(3, max(sc.shadow_days, 4), size=n),
                                                    sc.shadow_days + rng.integers(2, max(sc.canary_days, 3), size=n)))
    added_us = at(sc.start, 0) + added_day.astype(np.int64) * 24 * HOUR_US
    difficulty = _DIFFICULTY[category] + rng.normal(0, 0.8, size=n)

    versions = sc.eval_versions
    span = (sc.end - first_run).days - 1
    run_days = [first_run + dt.timedelta(days=int(d)) for d in np.linspace(0, span, len(versions))]
    run_days[min(1, len(run_days) - 1)] = min(run_days[min(1, len(run_days) - 1)], shadow_end)
    runs = [(v, at(day, 16 + k / 10)) for k, (v, day) in enumerate(zip(versions, run_days, strict=True))]
    runs.append((versions[-1], runs[-1][1] + 20 * HOUR_US))  # a re-run of the latest version
    regressed = rng.permutation(n)[:REGRESSED_TASKS]

    frames = []
    for r, (version, run_us) in enumerate(runs):
        tasks = np.flatnonzero(added_us <= run_us)
        skill = 0.9 + 0.35 * versions.index(version)
        score = 1 / (1 + np.exp(-2 * (skill - difficulty[tasks] + rng.normal(0, 0.35, size=tasks.size))))
        if version != versions[0]:
            is_regressed = np.isin(tasks, regressed)
            if version == versions[-1]:
                score = np.where(is_regressed, rng.uniform(0.1, 0.4, size=tasks.size), score)
            else:
                score = np.where(is_regressed, rng.uniform(0.6, 0.9, size=tasks.size), score)
        frames.append(pl.DataFrame({
            "run_id": f"run-{r + 1:03d}", "run_at": np.full(tasks.size, run_us), "agent_version": version,
            "task": tasks, "passed": score >= 0.5, "score": np.round(score, 3),
        }))
    rows = pl.concat(frames)
    task_ids = ids("T-", n, width=4)
    return rows.select(
        "run_id", datetimes(rows["run_at"].to_numpy(), "run_at"), "agent_version",
        task_ids.gather(rows["task"]).alias("task_id"),
        pl.Series(CATEGORIES).gather(pl.Series(category).gather(rows["task"])).alias("category"),
        "passed", "score",
        pl.Series(["seed", "shadow_regression", "incident"]).gather(pl.Series(source).gather(rows["task"]))
        .alias("source"),
    ).sort("run_id", "task_id")
