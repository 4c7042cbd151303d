"""The weekly run: execute every notebook with papermill per workspace, export self-contained HTML, write the
week's index and `summary.json`, then the portfolio index.

Layout (docs/reports.md): reports/index.html, reports/<agent>/<YYYY-Www>/{index.html, <nb>.html, <nb>.ipynb,
summary.json}. Everything is built in a staging folder beside the output and moved into place only when complete:
a week's folder is swapped whole, other weeks are never touched, and an interrupted run leaves no half-written page.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from pathlib import Path

from rolloutkit import paths
from rolloutkit.errors import RolloutkitError
from rolloutkit.memo import NOTEBOOKS, TITLES, headlines
from rolloutkit.portfolio import write_portfolio
from rolloutkit.render import PAGES_END, PAGES_START, export_html, failure_page, pages_block
from rolloutkit.text import iso_week
from rolloutkit.workspace import Workspace, find_workspaces, load_workspace

KERNEL_NAME = "rolloutkit"


@dataclass(frozen=True)
class Job:
    agent: str
    week: str
    notebook: str
    source: str
    workspace: str
    as_of: str
    folder: str


@dataclass
class NotebookRun:
    agent: str
    week: str
    notebook: str
    status: str  # "ok" | "failed"
    seconds: float
    error: str | None = None


@dataclass
class RunResult:
    out: Path
    runs: list[NotebookRun] = field(default_factory=list)
    weeks: list[Path] = field(default_factory=list)
    failed_workspaces: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.failed_workspaces and all(r.status == "ok" for r in self.runs)

    def describe(self) -> str:
        lines = [f"{len(self.runs)} notebooks rendered into {self.out}"]
        lines += [f"  {p.relative_to(self.out)}/index.html" for p in self.weeks]
        lines += [f"FAILED {r.agent}/{r.week}/{r.notebook}: {r.error}" for r in self.runs if r.status != "ok"]
        lines += [f"FAILED workspace {name}: {error}" for name, error in self.failed_workspaces.items()]
        lines.append(f"portfolio: {self.out / 'index.html'}")
        return "\n".join(lines)


def run(
    workspaces: list[str | Path],
    *,
    as_of: str | None = None,
    out: str | Path = paths.REPORTS_DIR,
    jobs: int = 2,
    notebooks: tuple[str, ...] = NOTEBOOKS,
    notebooks_dir: str | Path = paths.NOTEBOOKS_DIR,
) -> RunResult:
    """Render the weekly report of every workspace (or folder of workspaces) into `out`.

    `notebooks` are names in `notebooks_dir`; `summary` is the week's memo and becomes its index.html.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    result = RunResult(out=out)
    opened: list[tuple[Workspace, dt.date]] = []
    for folder in [ws for arg in workspaces for ws in find_workspaces(arg)]:
        try:
            ws = load_workspace(folder)
            ws.validate()
            opened.append((ws, ws.resolve_as_of(as_of)))
        except RolloutkitError as exc:
            result.failed_workspaces[folder.name] = str(exc)
    if not opened:
        write_portfolio(out, [])
        return result

    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=out))
    try:
        jobs_list = [Job(ws.agent, iso_week(day), nb, str(Path(notebooks_dir, f"{nb}.ipynb").resolve()),
                         str(ws.path.resolve()), day.isoformat(),
                         str(staging / ws.agent / iso_week(day)))
                     for ws, day in opened for nb in notebooks]
        for job in jobs_list:
            Path(job.folder).mkdir(parents=True, exist_ok=True)
        result.runs = _execute_all(jobs_list, jobs=jobs, kernel_dir=staging / "kernels")
        for ws, day in opened:
            week_dir = staging / ws.agent / iso_week(day)
            runs = [r for r in result.runs if r.agent == ws.agent and r.week == iso_week(day)]
            _finish_week(ws, day, week_dir, runs)
            result.weeks.append(_move_into_place(week_dir, out / ws.agent / iso_week(day)))
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    write_portfolio(out, [ws for ws, _ in opened])
    return result


def _execute_all(jobs_list: list[Job], *, jobs: int, kernel_dir: Path) -> list[NotebookRun]:
    runs: list[NotebookRun] = []
    progress = _Progress(len(jobs_list))
    # The staging kernelspec is deleted after the run: restore JUPYTER_PATH so a caller that runs reports
    # repeatedly (tests, a notebook) does not keep collecting dead entries.
    saved = os.environ.get("JUPYTER_PATH")
    _install_kernel(kernel_dir)
    try:
        with ProcessPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(execute_notebook, job) for job in jobs_list]
            for future in as_completed(futures):
                done = future.result()
                runs.append(done)
                progress.step(done)
    finally:
        progress.close()
        if saved is None:
            os.environ.pop("JUPYTER_PATH", None)
        else:
            os.environ["JUPYTER_PATH"] = saved
    order = {(j.agent, j.notebook): i for i, j in enumerate(jobs_list)}
    return sorted(runs, key=lambda r: order[(r.agent, r.notebook)])


def _install_kernel(kernel_dir: Path) -> None:
    """A kernelspec named `rolloutkit` running this very interpreter, first on JUPYTER_PATH for the workers.

    So notebooks always run in the project's own environment, never in a `python3` kernel found elsewhere.
    """
    spec_dir = kernel_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "rolloutkit", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
    os.environ["JUPYTER_PATH"] = os.pathsep.join(filter(None, [str(kernel_dir), os.environ.get("JUPYTER_PATH")]))


def execute_notebook(job: Job) -> NotebookRun:
    """Run one notebook with papermill and export it to HTML; failures are recorded, never raised."""
    import logging

    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    # papermill cannot parse the `str | None` annotation of the parameters cell and warns on every run; the
    # parameters are injected all the same, so keep cron logs to what matters.
    logging.getLogger("papermill").setLevel(logging.ERROR)


    started = time.perf_counter()
    folder = Path(job.folder)
    executed = folder / f"{job.notebook}.ipynb"
    error = None
    # IPC sockets in a private folder: nothing listens on TCP, and ipykernel has no plain-TCP warning to print.
    sockets = tempfile.mkdtemp(prefix="rk-kernel-")
    try:
        papermill.execute_notebook(
            job.source, str(executed),
            parameters={"workspace": job.workspace, "as_of": job.as_of},
            kernel_name=KERNEL_NAME, progress_bar=False, cwd=str(paths.NOTEBOOKS_DIR),
            config=Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "k")}}),
        )
    except PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except Exception as exc:  # noqa: BLE001 — a kernel that dies must not take the other notebooks with it
        error = f"{type(exc).__name__}: {exc}"
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    if executed.exists():
        try:
            export_html(executed, folder / f"{job.notebook}.html", nav=_nav(job.agent, job.week, job.notebook))
        except Exception as exc:  # noqa: BLE001
            error = error or f"HTML export failed: {type(exc).__name__}: {exc}"
    else:
        error = error or "the notebook did not produce an output file"
    return NotebookRun(job.agent, job.week, job.notebook, "failed" if error else "ok",
                       round(time.perf_counter() - started, 1), error)


def _nav(agent: str, week: str, notebook: str) -> str:
    up = "<a href='../../index.html'>All agents</a>"
    if notebook == "summary":
        return f"{up} &rsaquo; {agent} &rsaquo; {week}"
    return f"{up} &rsaquo; <a href='index.html'>{agent} {week}</a> &rsaquo; {notebook.replace('_', ' ')}"


def _finish_week(ws: Workspace, day: dt.date, week_dir: Path, runs: list[NotebookRun]) -> None:
    """Write summary.json and turn the summary page into index.html with each page's status."""
    summary = {
        "agent": ws.agent, "week": iso_week(day), "as_of": day.isoformat(),
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "ok": all(r.status == "ok" for r in runs),
        "decisions": {h.page: h.to_dict() for h in headlines(ws, as_of=day)},
        "notebooks": {r.notebook: {**asdict(r), "html": f"{r.notebook}.html"} for r in runs},
    }
    (week_dir / "summary.json").write_text(json.dumps(summary, indent=2, default=str))
    block = pages_block(runs, titles=TITLES)
    summary_html = week_dir / "summary.html"
    if summary_html.exists() and PAGES_START in (text := summary_html.read_text(encoding="utf-8")):
        before, rest = text.split(PAGES_START, 1)
        index = before + PAGES_START + block + PAGES_END + rest.split(PAGES_END, 1)[-1]
    else:
        index = failure_page(ws.agent, iso_week(day), block)
    (week_dir / "index.html").write_text(index, encoding="utf-8")


def _move_into_place(built: Path, target: Path) -> Path:
    """Swap a finished week folder into place: the old one is renamed aside first, removed last."""
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        target.rename(old)
    built.rename(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target


class _Progress:
    """A progress bar on a terminal, plain lines otherwise (cron and CI logs)."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, unit="notebook", desc="rendering", file=sys.stderr)

    def step(self, run: NotebookRun) -> None:
        self.done += 1
        line = f"[{self.done}/{self.total}] {run.agent} {run.week} {run.notebook}: {run.status} ({run.seconds} s)"
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
