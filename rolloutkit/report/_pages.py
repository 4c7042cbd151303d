"""The run's own small HTML pages: a stand-in for a page that produced none, the week of a workspace that could not
be read, and a week index when the memo notebook is not part of the run. Same style as the portfolio, no script."""

from __future__ import annotations

import html

from rolloutkit.render import PAGE_STYLE, pill


def nav(agent: str, week: str, notebook: str) -> str:
    """The breadcrumb at the top of every page of a week."""
    up = "<a href='../../index.html'>All agents</a>"
    if notebook == "summary":
        return f"{up} &rsaquo; {html.escape(agent)} &rsaquo; {week}"
    return (f"{up} &rsaquo; <a href='index.html'>{html.escape(agent)} {week}</a> &rsaquo; "
            f"{html.escape(notebook.replace('_', ' '))}")


def _page(title: str, nav_html: str, body: str) -> str:
    return (f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{PAGE_STYLE}</style></head><body><p>{nav_html}</p>{body}</body></html>")


def stand_in_page(agent: str, week: str, notebook: str, title: str, status: str, error: str) -> str:
    """For a notebook that timed out, or whose kernel or worker died before it could be exported."""
    label = "timed out" if status == "timed_out" else "failed"
    return _page(f"{agent} {week} — {title}", nav(agent, week, notebook),
                 f"<h1>{html.escape(title)}</h1><p>{pill('bad', label)} {html.escape(error)}</p>"
                 "<p>This page could not be rendered this week; the other pages of the week are not affected.</p>")


def workspace_failure_page(agent: str, week: str, where: str, problem: str) -> str:
    """The week index of a workspace that cannot be read: what is wrong and what to do."""
    fix = (f"<p>Fix the workspace, check it with <code>rolloutkit check {html.escape(where)}</code> (it lists the "
           "offending values and rows), then run the report again.</p>")
    return _page(f"{agent} {week}", "<a href='../../index.html'>All agents</a>",
                 f"<h1>{html.escape(agent)} — {week}</h1><p>{pill('bad', 'cannot be read')} The workspace "
                 f"<code>{html.escape(where)}</code> could not be read, so no page was rendered this week.</p>"
                 f"<pre style='white-space:pre-wrap'>{html.escape(problem)}</pre>{fix}")


def week_index(agent: str, week: str, block: str) -> str:
    """A week index listing the pages when the run renders no memo (only a team's own notebooks)."""
    return _page(f"{agent} {week}", "<a href='../../index.html'>All agents</a>",
                 f"<h1>{html.escape(agent)} — {week}</h1>{block}")
