"""A week of one workspace: the day it runs to, its `summary.json` and index page, and moving finished weeks into
place all at once.

`as_of` defaults to the last complete day before the run — yesterday in the charter's own time zone — so a cron
job never reports a day that is still going on, and data that stopped arriving shows as stale instead of fresh.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from zoneinfo import ZoneInfo

from rolloutkit.errors import DataError, RolloutkitError
from rolloutkit.memo import TITLES, changes, headlines
from rolloutkit.render import PAGES_END, PAGES_START, failure_page, pages_block
from rolloutkit.report._pages import stand_in_page, week_index, workspace_failure_page
from rolloutkit.report._results import NotebookRun
from rolloutkit.text import iso_week
from rolloutkit.workspace import Workspace


def default_as_of(timezone: str = "UTC", *, now: dt.datetime | None = None) -> dt.date:
    """The last complete day before `now` (default: the present) in `timezone`: yesterday there."""
    moment = now or dt.datetime.now(dt.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(ZoneInfo(timezone)).date() - dt.timedelta(days=1)


def finish_week(ws: Workspace, day: dt.date, week_dir: Path, runs: list[NotebookRun], *,
                titles: dict[str, str]) -> None:
    """Write summary.json and the week's index.html (the memo page with each page's status swapped in)."""
    week = iso_week(day)
    for run in runs:
        if run.status != "ok" and not (week_dir / f"{run.notebook}.html").exists():
            (week_dir / f"{run.notebook}.html").write_text(
                stand_in_page(ws.agent, week, run.notebook, titles.get(run.notebook, run.notebook), run.status,
                              run.error or ""), encoding="utf-8")
    now = headlines(ws, as_of=day)
    summary = {
        "agent": ws.agent, "week": week, "as_of": day.isoformat(),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "ok": all(r.status == "ok" for r in runs),
        # what changed since the previous week leads, as on the memo page
        "changes": changes(ws, as_of=day, current=now),
        "decisions": {h.page: h.to_dict() for h in now},
        "notebooks": {r.notebook: {**asdict(r), "html": f"{r.notebook}.html"} for r in runs},
    }
    (week_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str), encoding="utf-8")
    block = pages_block(runs, titles={**TITLES, **titles})
    summary_html = week_dir / "summary.html"
    if summary_html.exists() and PAGES_START in (text := summary_html.read_text(encoding="utf-8")):
        before, rest = text.split(PAGES_START, 1)
        index = before + PAGES_START + block + PAGES_END + rest.split(PAGES_END, 1)[-1]
    elif any(r.notebook == "summary" for r in runs):
        index = failure_page(ws.agent, week, block)
    else:
        index = week_index(ws.agent, week, block)
    (week_dir / "index.html").write_text(index, encoding="utf-8")


def failed_week(agent: str, day: dt.date, week_dir: Path, *, where: str, error: RolloutkitError) -> None:
    """The week of a workspace that cannot be read: an index saying what to fix, a summary.json with the error.

    Both go to stakeholders, so the offending values of a `DataError` (they may be customer text) are left out;
    `rolloutkit check`, which the page points to, prints them for the workspace's owner.
    """
    problem = public_problem(error)
    week_dir.mkdir(parents=True, exist_ok=True)
    (week_dir / "summary.json").write_text(json.dumps({
        "agent": agent, "week": iso_week(day), "as_of": day.isoformat(),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "ok": False, "error": problem, "decisions": {}, "notebooks": {},
    }, indent=2), encoding="utf-8")
    (week_dir / "index.html").write_text(workspace_failure_page(agent, iso_week(day), where, problem),
                                         encoding="utf-8")


def public_problem(error: RolloutkitError) -> str:
    """The error as a stakeholder page may show it: file, column, rule and rows. Not the offending values, nor the
    suggested fix (it quotes them, e.g. a value map)."""
    if not isinstance(error, DataError):  # charter and sources errors name keys and the team's own settings
        return str(error)
    where = f"{error.file}: column `{error.column}`" if error.column else error.file
    text = f"{where} {error.rule}"
    if error.rows:
        shown = ", ".join(str(r) for r in error.rows[:5])
        text += f" ({error.unit}{'s' if len(error.rows) > 1 else ''} {shown}"
        text += f" and {error.total_rows - min(5, len(error.rows)):,} more)" if error.total_rows > 5 else ")"
    return text


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGTERM and SIGINT for a few renames, so a stop lands before or after them, never between."""
    held = {signal.SIGTERM, signal.SIGINT}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def move_into_place(built: list[tuple[Path, Path]]) -> None:
    """Swap every finished week folder (staging → target) into place, all or none.

    Each existing target is renamed aside first; if any rename fails, the ones done are undone, so the output
    holds either every new week or exactly what it held before. The old folders are removed last.
    """
    done: list[tuple[Path, Path, Path | None]] = []
    try:
        with signals_held():
            for source, target in built:
                target.parent.mkdir(parents=True, exist_ok=True)
                old = None
                if target.exists():
                    old = target.with_name(f".{target.name}.old-{os.getpid()}")
                    target.rename(old)
                try:
                    source.rename(target)
                except OSError:
                    if old is not None:
                        old.rename(target)
                    raise
                done.append((source, target, old))
    except OSError:
        for source, target, old in reversed(done):
            target.rename(source)
            if old is not None:
                old.rename(target)
        raise
    for _, _, old in done:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
