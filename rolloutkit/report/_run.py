"""`run()`: the weekly run from workspaces to the portfolio, with its guarantees kept in one place.

Order: check the team's notebooks, take the output folder's lock, open every workspace, execute the notebooks in
a staging folder beside the output, finish each week there, swap the finished weeks into place, write the
portfolio. Whatever stops it — an error, a full disk, SIGTERM, Ctrl-C — the kernels are stopped, the staging
folder is removed and the lock released; earlier reports are untouched because nothing outside staging is written
before the final swap.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from rolloutkit import cache, paths
from rolloutkit.errors import RolloutkitError
from rolloutkit.memo import NOTEBOOKS, TITLES
from rolloutkit.portfolio import latest_summaries, write_portfolio
from rolloutkit.report._lock import output_lock
from rolloutkit.report._notebooks import own_notebooks
from rolloutkit.report._pool import execute_all
from rolloutkit.report._results import DEFAULT_TIMEOUT, Job, NotebookRun, RunResult, Stopped
from rolloutkit.report._week import default_as_of, failed_week, finish_week, move_into_place
from rolloutkit.text import iso_week
from rolloutkit.workspace import Workspace, find_workspaces, load_workspace, parse_day


def run(
    workspaces: list[str | Path],
    *,
    as_of: str | dt.date | None = None,
    out: str | Path = paths.REPORTS_DIR,
    jobs: int = 2,
    timeout: float | None = None,
    notebooks: str | Path | None = None,
    builtin: bool = True,
    now: dt.datetime | None = None,
) -> RunResult:
    """Render the weekly report of every workspace (or folder of workspaces) into `out`.

    `as_of` None means the last complete day before `now` in each charter's time zone. `timeout` is each
    notebook's limit in seconds (default 600). `notebooks` is a folder of the team's own notebooks, run beside the
    built-in ones, or instead of them with `builtin=False`. Raises `RolloutkitError` for bad arguments, a locked
    or unwritable output folder; raises `Stopped` on SIGTERM or Ctrl-C after cleaning up.
    """
    timeout = DEFAULT_TIMEOUT if timeout is None else timeout
    if jobs < 1:
        raise RolloutkitError(f"`--jobs` must be at least 1, got {jobs}")
    if not timeout > 0:
        raise RolloutkitError(f"`--timeout` must be a positive number of seconds, got {timeout:g}")
    if not builtin and notebooks is None:
        raise RolloutkitError("without the built-in notebooks there is nothing to run: pass `--notebooks DIR`")
    day = parse_day(as_of, name="--as-of") if as_of is not None else None
    own = own_notebooks(notebooks, taken=NOTEBOOKS if builtin else ()) if notebooks is not None else []
    pages = [(nb, paths.NOTEBOOKS_DIR / f"{nb}.ipynb") for nb in NOTEBOOKS] if builtin else []
    pages += [(nb.name, nb.path) for nb in own]
    titles = {**TITLES, **{nb.name: nb.title for nb in own}}

    out = Path(out)
    with _stop_on_signals(), _writing_into(out):
        if out.exists() and not out.is_dir():
            raise RolloutkitError(f"cannot write the report into {out}: it is a file, not a folder")
        out.mkdir(parents=True, exist_ok=True)
        with output_lock(out) as stale:
            result = RunResult(out=out)
            if stale:
                result.notes.append(f"note: took over the lock of an earlier run (pid {stale.get('pid', '?')}) "
                                    "that is no longer running")
            _remove_leftovers(out)
            staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
            # the run's notebooks and its summary.json share each week's headlines through a cache in staging
            saved = os.environ.get(cache.CACHE_VAR)
            os.environ[cache.CACHE_VAR] = str(staging / ".cache")
            try:
                _render(workspaces, result, staging, pages=pages, titles=titles, day=day, now=now, jobs=jobs,
                        timeout=timeout)
            finally:
                if saved is None:
                    os.environ.pop(cache.CACHE_VAR, None)
                else:
                    os.environ[cache.CACHE_VAR] = saved
                shutil.rmtree(staging, ignore_errors=True)
    return result


#: The built-in pages from the usually slowest (the memo computes every phase, this week's and last week's).
_USUAL_COST = ("summary", "canary_readiness", "shadow_comparison", "supervision", "timeline_planning", "eval_set")


def _longest_first(jobs: list[Job], out: Path) -> list[Job]:
    """The notebooks longest first, so that no long one starts last while the other workers sit idle: by the
    seconds each took in its agent's latest week already under `out`, else in the built-in pages' usual order of
    cost, agents taking turns."""
    took = {(summary.get("agent"), name): run["seconds"] for summary in (latest_summaries(out) if out.is_dir() else [])
            for name, run in (summary.get("notebooks") or {}).items() if isinstance(run.get("seconds"), int | float)}
    rank = {name: i for i, name in enumerate(_USUAL_COST)}
    return sorted(jobs, key=lambda job: (-took.get((job.agent, job.notebook), -1.0),
                                         rank.get(job.notebook, len(rank))))


def _render(workspaces: list[str | Path], result: RunResult, staging: Path, *, pages: list[tuple[str, Path]],
            titles: dict[str, str], day: dt.date | None, now: dt.datetime | None, jobs: int,
            timeout: float) -> None:
    opened: list[tuple[Workspace, dt.date]] = []
    failed: list[tuple[str, dt.date, Path, RolloutkitError]] = []
    folders = []
    for arg in workspaces:
        try:
            folders += find_workspaces(arg)
        except RolloutkitError as exc:  # a path without a charter: still a row, under its folder's name
            name = Path(arg).resolve().name
            failed.append((name, day or default_as_of("UTC", now=now), Path(arg), exc))
            result.failed_workspaces[name] = str(exc)
    for folder in folders:
        ws = None
        try:
            ws = load_workspace(folder)
            ws.validate()
            opened.append((ws, day or default_as_of(ws.charter.timezone, now=now)))
        except RolloutkitError as exc:
            agent = ws.agent if ws is not None else folder.name
            zone = ws.charter.timezone if ws is not None else "UTC"
            failed.append((agent, day or default_as_of(zone, now=now), folder, exc))
            result.failed_workspaces[folder.name] = str(exc)

    def week_dir(agent: str, week_day: dt.date) -> Path:
        return staging / agent / iso_week(week_day)

    job_list = [Job(agent=ws.agent, week=iso_week(d), notebook=nb, source=str(source), workspace=str(ws.path.resolve()),
                    as_of=d.isoformat(), folder=str(week_dir(ws.agent, d)))
                for ws, d in opened for nb, source in pages]
    job_list = _longest_first(job_list, result.out)
    for job in job_list:
        Path(job.folder).mkdir(parents=True, exist_ok=True)
    if job_list:
        progress = _Progress(len(job_list))
        try:
            result.runs = execute_all(job_list, workers=jobs, timeout=timeout, kernel_dir=staging / ".kernels",
                                      log_dir=staging / ".logs", on_done=progress.step)
        finally:
            progress.close()
    built = []
    for ws, d in opened:
        runs = [r for r in result.runs if r.agent == ws.agent and r.week == iso_week(d)]
        finish_week(ws, d, week_dir(ws.agent, d), runs, titles=titles)
        built.append((week_dir(ws.agent, d), result.out / ws.agent / iso_week(d)))
    for agent, d, folder, exc in failed:
        failed_week(agent, d, week_dir(agent, d), where=str(folder), error=exc)
        built.append((week_dir(agent, d), result.out / agent / iso_week(d)))
    move_into_place(built)
    result.weeks = [target for _, target in built]
    # each agent's load as of its own week's day, never from rows after it
    write_portfolio(result.out, [ws.cut(d) for ws, d in opened])


def _remove_leftovers(out: Path) -> None:
    """What a killed run (SIGKILL, power loss) left: its staging folder and weeks renamed aside. We hold the lock,
    so no live run owns them."""
    for path in [*out.glob(".staging-*"), *out.glob("*/.*.old-*"), *out.glob(".index.html.*")]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


@contextmanager
def _writing_into(out: Path) -> Iterator[None]:
    """Turn an operating-system error while writing the output, here or in a worker, into one clear sentence."""
    try:
        yield
    except OSError as exc:
        what = f"{exc.strerror or exc}" + (f" ({exc.filename})" if exc.filename else "")
        raise RolloutkitError(f"cannot write the report into {out}: {what}. Earlier reports are unchanged; "
                              "free some space or fix the folder's permissions, then run again.") from None


@contextmanager
def _stop_on_signals() -> Iterator[None]:
    """SIGTERM and SIGINT raise `Stopped` here, so every `finally` on the way out runs; further signals are
    ignored while it cleans up. Only the main thread can own signals; elsewhere nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}

    def stop(signum: int, _frame: object) -> None:
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        raise Stopped(signum)

    for sig in previous:
        signal.signal(sig, stop)
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class _Progress:
    """A progress bar on a terminal, plain lines otherwise (cron and CI logs)."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.bar = None
        if sys.stderr.isatty() and not os.environ.get("CI"):
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="notebook", desc="rendering", file=sys.stderr)

    def step(self, run: NotebookRun) -> None:
        self.done += 1
        status = run.status.replace("_", " ")
        line = f"[{self.done}/{self.total}] {run.agent} {run.week} {run.notebook}: {status} ({run.seconds} s)"
        if run.error:
            line += f" — {run.error}"
        if self.bar is not None:
            self.bar.update(1)
            self.bar.set_postfix_str(f"{run.agent}/{run.notebook}")
            if run.error:
                self.bar.write(line)
        else:
            print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
