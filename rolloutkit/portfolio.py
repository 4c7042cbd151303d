"""The portfolio index (reports/index.html): every agent's latest week, its decisions, and the AgentOps load.

Built from the `summary.json` files already in the output folder, so agents rendered in earlier runs stay listed,
and a workspace that could not be read (its summary carries an `error`) has its row with the error. A phase that
is over reads as history on its row ("done: ready for canary", with the day the canary began) beside "Now"; the
JSON keeps the headline's codes as they are.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
from pathlib import Path

from rolloutkit.memo import attention_order, current_phase, portfolio_view
from rolloutkit.render import PAGE_STYLE, pill
from rolloutkit.workspace import Workspace

_DECISION_PAGES = ("shadow_comparison", "canary_readiness", "timeline_planning", "supervision")


def latest_summaries(out: Path) -> list[dict]:
    """The newest week's summary.json of each agent folder under `out`."""
    found = []
    for agent_dir in sorted(p for p in out.iterdir() if p.is_dir() and not p.name.startswith(".")):
        weeks = sorted(p for p in agent_dir.iterdir() if not p.name.startswith(".") and (p / "summary.json").is_file())
        if weeks:
            summary = json.loads((weeks[-1] / "summary.json").read_text())
            summary["href"] = f"{agent_dir.name}/{weeks[-1].name}/index.html"
            summary["older_weeks"] = [w.name for w in weeks[:-1]]
            found.append(summary)
    return found


def write_portfolio(out: Path, workspaces: list[Workspace]) -> Path:
    """Write reports/index.html atomically (a temporary file renamed over the old one)."""
    from rolloutkit.supervision import agentops_scale

    summaries = attention_order(latest_summaries(out))
    scale = agentops_scale(workspaces) if workspaces else None
    empty = f"<tr><td colspan='{len(_DECISION_PAGES) + 4}'>No reports yet.</td></tr>"
    rows = "".join(_row(s) for s in summaries) or empty
    heads = "".join(f"<th>{html.escape(p.replace('_', ' ').capitalize())}</th>" for p in _DECISION_PAGES)
    scale_html = (f"<h2>AgentOps load</h2><p>{pill('warn' if scale.dedicated_ownership_due else 'info')} "
                  f"{html.escape(scale.sentence)}</p>") if scale else ""
    page = (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>Agent rollouts — portfolio</title>"
        f"<style>{PAGE_STYLE}</style></head><body><h1>Agent rollouts</h1>"
        f"<p>Each agent's latest weekly report. Generated {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC.</p>"
        f"<table><tr><th>Agent</th><th>Now</th><th>Week</th>{heads}<th>Pages</th></tr>{rows}</table>{scale_html}"
        "</body></html>"
    )
    target = out / "index.html"
    temporary = out / f".index.html.{os.getpid()}"
    temporary.write_text(page, encoding="utf-8")
    os.replace(temporary, target)
    return target


def _row(summary: dict) -> str:
    week = (f"<td>{html.escape(summary['week'])}<br><small>as of {html.escape(summary['as_of'])}</small></td>")
    view = portfolio_view(summary)  # the phase in force and its decision first; needs-attention rows sort first
    link = (f"<td><a href='{html.escape(summary['href'])}'>{html.escape(summary['agent'])}</a></td>"
            f"<td><b>{html.escape(view['phase'])}</b><br>{pill(view['status'], view['decision'])}<br>"
            f"<small>{html.escape(view['attention'])}</small></td>")
    if summary.get("error"):  # the workspace could not be read: its week index says what to fix
        first = summary["error"].split("\n", 1)[0]
        return (f"<tr>{link}{week}<td colspan='{len(_DECISION_PAGES)}'>{pill('bad', 'cannot be read')} "
                f"{html.escape(first)} <a href='{html.escape(summary['href'])}'>What to fix &rsaquo;</a></td>"
                f"<td>{pill('bad', 'no pages')}</td></tr>")
    decisions = summary.get("decisions", {})
    over = finished_phases(summary)
    cells = []
    for page in _DECISION_PAGES:
        headline = decisions.get(page)
        if not headline:
            cells.append("<td>—</td>")
        elif page in over:
            cells.append(_done_cell(page, headline, over[page]))
        else:
            label = headline.get("decision") or headline.get("status")
            cells.append(f"<td>{pill(headline['status'], label)}<br><small>{html.escape(headline['sentence'])}"
                         "</small></td>")
    failed = [name for name, nb in summary.get("notebooks", {}).items() if nb["status"] != "ok"]
    pages = pill("bad", f"{len(failed)} failed: {', '.join(failed)}") if failed else pill("good", "all rendered")
    return f"<tr>{link}{week}{''.join(cells)}<td>{pages}</td></tr>"


def finished_phases(summary: dict) -> dict[str, str | None]:
    """The decision pages whose phase is over, each with the day it ended (None when the summary does not say):
    the shadow once the canary has begun (also after a rollback, which goes back to the canary's 0%, not to
    shadow) unless its page is missing or in error; the canary once the rollout holds at 100% with no rollback
    called."""
    phase = current_phase(summary)
    decisions = summary.get("decisions") or {}
    over: dict[str, str | None] = {}
    shadow = decisions.get("shadow_comparison") or {}
    if phase.startswith(("canary", "supervision")) and shadow.get("status") not in (None, "missing", "error"):
        over["shadow_comparison"] = _shadow_ended(decisions)
    readiness = decisions.get("canary_readiness") or {}
    if phase.startswith("supervision") and readiness.get("decision") != "rollback" \
            and readiness.get("status") not in ("bad", "error"):
        started = (readiness.get("details") or {}).get("stage_started")
        over["canary_readiness"] = str(started)[:10] if started else _progress(decisions).get("reached_100")
    return over


def _shadow_ended(decisions: dict) -> str | None:
    """The day the shadow ended (the canary began), from the timeline's progress."""
    return next((p.get("actual_end") for p in _progress(decisions).get("phases") or [] if p.get("kind") == "shadow"),
                None)


def _progress(decisions: dict) -> dict:
    """The timeline page's record of what happened (`details.progress`), empty when the summary has none."""
    return ((decisions.get("timeline_planning") or {}).get("details") or {}).get("progress") or {}


def _done_cell(page: str, headline: dict, day: str | None) -> str:
    """A finished phase's cell: its last decision as history, and the day the phase ended."""
    on = f" on {day}" if day else ""
    if page == "canary_readiness":
        since = f"since {day}" if day else "since its last stage began"
        return (f"<td>{pill('good', 'done: reached 100%')}<br><small>Canary over: 100% of traffic "
                f"{html.escape(since)}; supervision applies.</small></td>")
    label = (headline.get("decision") or headline.get("status") or "").replace("_", " ")
    return (f"<td>{pill(headline['status'], f'done: {label}')}<br><small>Shadow over: the canary began"
            f"{html.escape(on)}. Its verdict on the shadow data: {html.escape(headline['sentence'])}</small></td>")
