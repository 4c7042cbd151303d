"""AgentOps scale: a portfolio's production load, and whether a dedicated AgentOps owner is due."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import polars as pl

from rolloutkit.supervision._counts import daily_volumes, has_traffic
from rolloutkit.supervision._results import AgentLoad, AgentOpsScale
from rolloutkit.supervision._reviews import current_share
from rolloutkit.text import plural
from rolloutkit.workspace import Workspace

#: Above about 3 production agents or 50,000 monthly tasks, an AgentOps owner is due (the playbook's rule of thumb).
MAX_AGENTS = 3
MAX_MONTHLY_TASKS = 50_000


def agentops_scale(workspaces: Sequence[Workspace], *, as_of: dt.date | str | None = None,
                   max_agents: int = MAX_AGENTS, max_monthly_tasks: int = MAX_MONTHLY_TASKS) -> AgentOpsScale:
    """Production agents and monthly agent tasks across workspaces; dedicated ownership is due above either limit.

    A production agent is one whose latest flag share (as of its `as_of`) is above 0 — any live share, not only
    100%, because monitoring traces, the eval set and incident response are needed from the first canary user.
    Without a flags table an agent is live when it served agent-arm traffic in the window. Monthly tasks are
    agent-arm interactions over the 30 days ending `as_of` (None: each workspace's cut day when it is cut, as the
    weekly run cuts each at its week's day, else its own last day with data), from
    `canary.daily_counts`: the same from canary rows as from `canary_daily` counts.
    """
    loads = tuple(_load(ws, as_of) for ws in workspaces)
    live = sum(a.live for a in loads)
    tasks = sum(a.monthly_tasks for a in loads)
    due = live > max_agents or tasks > max_monthly_tasks
    counted = f"{plural(live, 'production agent')} and {tasks:,} agent tasks over the last 30 days"
    if due:
        over = [f"more than {max_agents} agents"] if live > max_agents else []
        over += [f"more than {max_monthly_tasks:,} monthly tasks"] if tasks > max_monthly_tasks else []
        sentence = (f"{counted}: with {' and '.join(over)}, dedicated AgentOps ownership (monitoring traces, "
                    "eval sets, incident response) is due.")
    else:
        sentence = (f"{counted}: within {max_agents} agents and {max_monthly_tasks:,} monthly tasks, the owning "
                    "teams can run monitoring, eval sets and incident response themselves.")
    return AgentOpsScale(agents=loads, production_agents=live, monthly_tasks=tasks, max_agents=max_agents,
                         max_monthly_tasks=max_monthly_tasks, dedicated_ownership_due=due, sentence=sentence)


def _load(ws: Workspace, as_of: dt.date | str | None) -> AgentLoad:
    day = ws.resolve_as_of(as_of if as_of is not None else ws.cut_day)
    tasks = 0
    if has_traffic(ws):
        tasks = int(daily_volumes(ws, as_of=day)
                    .filter(pl.col("day").is_between(day - dt.timedelta(days=29), day))["agent"].sum())
    share = current_share(ws, as_of=day)
    live = share > 0 if share is not None else tasks > 0
    return AgentLoad(agent=ws.agent, as_of=day, traffic_share=share, live=bool(live), monthly_tasks=tasks)
