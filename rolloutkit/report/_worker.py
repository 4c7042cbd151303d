"""A worker process of the weekly run: executes notebooks with papermill, one at a time, and exports each to HTML.

Started by the run as `python -m rolloutkit.report._worker` in a session of its own, so a Ctrl-C on the terminal
reaches only the run, which then stops every worker and kernel itself. Jobs arrive as JSON lines on stdin; each
result leaves as one JSON line on the original stdout. Everything else the worker, papermill, nbclient or a kernel
prints (the kernel inherits the worker's stdout and stderr) goes to the worker's log file, never to the cron log.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import asdict
from pathlib import Path

from rolloutkit import paths
from rolloutkit.report._kernels import kernel_manager_class, start_template
from rolloutkit.report._pages import nav
from rolloutkit.report._results import KERNEL_NAME, LOG_VAR, Job, NotebookRun

#: OS errors that mean the output cannot be written: the run stops instead of marking one page failed.
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EFBIG, errno.EACCES, errno.EPERM})


def serve() -> None:
    results = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1, encoding="utf-8")
    log = os.open(os.environ.get(LOG_VAR, os.devnull), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    _exit_with_parent()
    start_template()  # the kernels' template imports their libraries while we import ours
    import papermill  # noqa: F401 — import before saying ready, so a job's time is the notebook's own

    from rolloutkit.render import export_html  # noqa: F401

    results.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        job = Job(**json.loads(line))
        run, write_error = execute_notebook(job)
        results.write(json.dumps({"run": asdict(run), "write_error": write_error}) + "\n")


def _exit_with_parent() -> None:
    """If the run dies without stopping us (SIGKILL, OOM), stop our kernel and exit instead of running on."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        import psutil

        for child in psutil.Process().children(recursive=True):
            child.kill()
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


def execute_notebook(job: Job) -> tuple[NotebookRun, dict | None]:
    """Run one notebook and export it; a failure is recorded in the result, never raised.

    The second value is set when the output could not be written (disk full, read-only): the run then stops.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError
    from traitlets.config import Config

    from rolloutkit.render import export_html

    started = time.perf_counter()
    folder = Path(job.folder)
    executed = folder / f"{job.notebook}.ipynb"
    error = write_error = None
    # IPC sockets in a private folder: nothing listens on TCP, and ipykernel has no plain-TCP warning to print.
    sockets = tempfile.mkdtemp(prefix="rk-kernel-")
    try:
        papermill.execute_notebook(
            job.source, str(executed),
            parameters={"workspace": job.workspace, "as_of": job.as_of},
            kernel_name=KERNEL_NAME, language="python", progress_bar=False, cwd=str(paths.NOTEBOOKS_DIR),
            kernel_manager_class=kernel_manager_class(), shutdown_kernel="immediate",
            config=Config({"KernelManager": {"transport": "ipc", "ip": os.path.join(sockets, "k")}}),
        )
    except PapermillExecutionError as exc:
        error = f"{exc.ename}: {exc.evalue}"
    except OSError as exc:
        if exc.errno in WRITE_ERRNOS:
            write_error = _problem(exc, executed)
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 — a kernel that dies must not take the other notebooks with it
        error = _describe(exc)
    finally:
        shutil.rmtree(sockets, ignore_errors=True)
    if executed.exists() and write_error is None:
        try:
            export_html(executed, folder / f"{job.notebook}.html", nav=nav(job.agent, job.week, job.notebook))
        except OSError as exc:
            if exc.errno in WRITE_ERRNOS:
                write_error = _problem(exc, folder / f"{job.notebook}.html")
            error = error or f"HTML export failed: {type(exc).__name__}: {exc}"
        except Exception as exc:  # noqa: BLE001
            error = error or f"HTML export failed: {type(exc).__name__}: {exc}"
    elif not executed.exists():
        error = error or "the notebook did not produce an output file"
    run = NotebookRun(job.agent, job.week, job.notebook, "failed" if error else "ok",
                      round(time.perf_counter() - started, 1), error)
    return run, write_error


def _problem(exc: OSError, writing: Path) -> dict:
    """What could not be written, for the run's message (a failed write() names no file of its own)."""
    return {"errno": exc.errno, "strerror": exc.strerror, "filename": exc.filename or str(writing)}


def _describe(exc: Exception) -> str:
    from nbclient.exceptions import DeadKernelError

    if isinstance(exc, DeadKernelError):
        return f"the kernel died while running the notebook ({exc})"
    return f"{type(exc).__name__}: {exc}"


if __name__ == "__main__":
    serve()
