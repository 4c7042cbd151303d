"""The live agent version and its eval-set regressions, day by day, for the `eval_regressions` check.

The live version on a day is the one in the canary's optional `agent_version` column (the agent rows' last version
that day, carried forward), else the version of the latest eval run up to that day. It is compared with the version
run before it on the eval set (`rolloutkit.evalset.compare`, the latest run of each): a task the earlier version
passed and the live one fails is a regression (which of them hold a stage: `LiveVersion.holding`). Both change
only on days with an eval run or a new live version, so one comparison per such day serves every day of the
decision history.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from rolloutkit import evalset
from rolloutkit.canary._results import VERSION_SCHEMA, LiveVersion
from rolloutkit.workspace import Workspace


def _canary_versions(ws: Workspace, day: dt.date) -> pl.DataFrame | None:
    """Per day with agent rows that name one: the last version of the day (day, version); None without the column."""
    if not ws.has("canary") or "agent_version" not in ws.table("canary").collect_schema():
        return None
    return (ws.table("canary")
            .filter(pl.col("arm") == "agent", pl.col("day") <= day, pl.col("agent_version").is_not_null())
            .group_by("day").agg(pl.col("agent_version").cast(pl.String).sort_by("ts").last().alias("version"))
            .sort("day").collect())


def live_versions(ws: Workspace, day: dt.date) -> pl.DataFrame | None:
    """From each day the live version or its eval results changed, up to `day`: the live version, where it is
    known from, its baseline, latest eval run day, regressed task ids and fixed count (`VERSION_SCHEMA`; empty
    until a version is known). None when the canary has no `agent_version` column and there is no eval set."""
    from_canary = _canary_versions(ws, day)
    if from_canary is None and not ws.has("evals"):
        return None
    run_days = (ws.table("evals").filter(pl.col("day") <= day).select("day").unique().collect()["day"].to_list()
                if ws.has("evals") else [])
    changes = sorted({*run_days, *(from_canary["day"].to_list() if from_canary is not None else [])})
    rows: list[dict] = []
    for on in changes:
        order = evalset.versions(ws, as_of=on) if ws.has("evals") else pl.DataFrame(
            schema={"agent_version": pl.String, "run_at": pl.Datetime("us", "UTC"), "day": pl.Date})
        if from_canary is not None:
            known = from_canary.filter(pl.col("day") <= on)
            if not known.height:
                continue
            version, source = known["version"][-1], "canary"
        elif order.height:
            version, source = order.sort("run_at")["agent_version"][-1], "evals"
        else:
            continue
        names = order["agent_version"].to_list()
        row = {"from_day": on, "version": version, "source": source, "baseline": None, "run_day": None,
               "regressed": [], "categories": [], "fixed": 0, "significant": False, "p_text": ""}
        if version in names:
            index = names.index(version)
            row["run_day"] = order["day"][index]
            if index:
                row["baseline"] = names[index - 1]
                comparison = evalset.compare(ws, baseline=names[index - 1], candidate=version, as_of=on)
                regressed = comparison.regressed_tasks.sort("task_id")
                row |= {"regressed": regressed["task_id"].to_list(), "categories": regressed["category"].to_list(),
                        "fixed": comparison.fixed, "significant": comparison.significant_regression,
                        "p_text": comparison.p_text}
        if not rows or {k: v for k, v in rows[-1].items() if k != "from_day"} != {
                k: v for k, v in row.items() if k != "from_day"}:
            rows.append(row)
    return pl.DataFrame(rows, schema=VERSION_SCHEMA)


def live_on(versions: pl.DataFrame | None, day: dt.date) -> LiveVersion | None:
    """The live version on `day` and its eval results; None when no version is known by then."""
    if versions is None:
        return None
    known = versions.filter(pl.col("from_day") <= day)
    if not known.height:
        return None
    row = known.row(-1, named=True)
    return LiveVersion(version=row["version"], source=row["source"], baseline=row["baseline"],
                       run_day=row["run_day"], regressed=tuple(row["regressed"]),
                       categories=tuple(row["categories"]), fixed=row["fixed"], significant=row["significant"],
                       p_text=row["p_text"])
