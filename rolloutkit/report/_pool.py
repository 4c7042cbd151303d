"""The run's side of its workers: start them, hand out notebooks, enforce each notebook's time limit, notice a
worker or kernel that died, and stop every process the run started — whatever happens.

Each worker is a process of its own (`_worker`), in its own session, carrying a mark in its environment that its
kernels inherit. A notebook past its limit gets its worker and kernel killed and a fresh worker takes the next
notebook; a worker that dies takes only its own notebook with it. At the end, and on any error or signal, every
process bearing the run's mark is killed, so nothing outlives the run, not even a kernel whose worker was killed.
"""

from __future__ import annotations

import collections
import json
import os
import selectors
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import psutil

from rolloutkit.errors import RolloutkitError
from rolloutkit.report._results import KERNEL_NAME, LOG_VAR, PROCESS_MARK, Job, NotebookRun

#: Seconds a worker may take to import papermill and say it is ready.
STARTUP_LIMIT = 120.0


class _Worker:
    def __init__(self, *, mark: str, env: dict[str, str], log: Path) -> None:
        self.mark, self.log = mark, log
        with log.open("ab") as stderr:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "rolloutkit.report._worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                stderr=stderr, env={**env, PROCESS_MARK: mark, LOG_VAR: str(log)}, start_new_session=True,
                close_fds=True)
        os.set_blocking(self.proc.stdout.fileno(), False)
        self.started = time.monotonic()
        self.ready = False
        self.job: Job | None = None
        self.dispatched = self.deadline = float("inf")
        self.buffer = b""

    def send(self, job: Job, timeout: float) -> None:
        self.dispatched = time.monotonic()
        self.job, self.deadline = job, self.dispatched + timeout
        self.proc.stdin.write((json.dumps(asdict(job)) + "\n").encode())
        self.proc.stdin.flush()

    def read(self) -> tuple[list[dict], bool]:
        """The complete messages waiting on the pipe, and whether the worker closed it (exited)."""
        try:
            chunk = os.read(self.proc.stdout.fileno(), 65536)
        except BlockingIOError:
            return [], False
        self.buffer += chunk
        *lines, self.buffer = self.buffer.split(b"\n")
        return [json.loads(line) for line in lines if line.strip()], not chunk

    def kill(self) -> None:
        kill_marked(lambda mark: mark == self.mark)
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass
        self.proc.wait()

    def exit_reason(self) -> str:
        try:
            code = self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "stopped answering"
        if code < 0:
            return f"was killed by {signal.Signals(-code).name}"
        return f"exited with code {code}"

    def log_tail(self, lines: int = 5) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.strip().splitlines()[-lines:])


def execute_all(jobs: list[Job], *, workers: int, timeout: float, kernel_dir: Path, log_dir: Path,
                on_done: Callable[[NotebookRun], None]) -> list[NotebookRun]:
    """Run every job on at most `workers` workers; each notebook may take `timeout` seconds.

    Raises `OSError` when a worker cannot write the output (disk full, read-only), `RolloutkitError` when a
    worker cannot start.
    """
    run_mark = uuid.uuid4().hex
    _install_kernel(kernel_dir)
    env = {**os.environ, "JUPYTER_PATH": os.pathsep.join(filter(None, [str(kernel_dir),
                                                                          os.environ.get("JUPYTER_PATH")])),
           # charts as SVG alone (rolloutkit.render.CHARTS_VAR): a page shows nothing else, and without each
           # chart's Vega-Lite spec the executed notebook papermill saves after every cell is half the size
           "ROLLOUTKIT_CHARTS": "static"}
    log_dir.mkdir(parents=True, exist_ok=True)
    pending = collections.deque(jobs)
    done: list[NotebookRun] = []
    slots: list[_Worker | None] = [None] * max(1, min(workers, len(jobs)))
    started = 0
    selector = selectors.DefaultSelector()

    def record(run: NotebookRun) -> None:
        done.append(run)
        on_done(run)

    def drop(slot: int) -> _Worker:
        """Kill the worker of `slot` and its kernel (first, so its partial notebook is read at rest)."""
        worker = slots[slot]
        selector.unregister(worker.proc.stdout)
        worker.kill()
        slots[slot] = None
        return worker

    try:
        while pending or any(w is not None and w.job is not None for w in slots):
            for slot, worker in enumerate(slots):
                if worker is None and pending:
                    started += 1
                    worker = slots[slot] = _Worker(mark=f"{run_mark}:{started}", env=env,
                                                   log=log_dir / f"worker-{started}.log")
                    selector.register(worker.proc.stdout, selectors.EVENT_READ, slot)
                if worker is not None and worker.ready and worker.job is None and pending:
                    worker.send(pending.popleft(), timeout)
            now = time.monotonic()
            wait = min([w.deadline - now for w in slots if w is not None] + [0.5])
            for key, _ in selector.select(max(wait, 0.0)):
                slot, worker = key.data, slots[key.data]
                messages, closed = worker.read()
                for message in messages:
                    if message.get("ready"):
                        worker.ready = True
                        continue
                    if message.get("write_error"):  # the disk is full or read-only: stop the whole run
                        problem = message["write_error"]
                        raise OSError(problem["errno"], problem["strerror"], problem["filename"])
                    worker.job, worker.deadline = None, float("inf")
                    record(NotebookRun(**message["run"]))
                if closed:
                    job = worker.job
                    if not worker.ready:
                        raise RolloutkitError(f"a worker process could not start ({worker.exit_reason()}); its "
                                              f"last lines:\n{worker.log_tail()}")
                    if job is None:  # died between notebooks: a fresh one takes the next
                        drop(slot)
                        continue
                    why = f"the worker process running it {worker.exit_reason()}"
                    record(_lost(job, drop(slot), why))
            now = time.monotonic()
            for slot, worker in enumerate(slots):
                if worker is None:
                    continue
                if worker.job is not None and now > worker.deadline:
                    job = worker.job
                    record(_lost(job, drop(slot), f"timed out after {timeout:g} s", status="timed_out"))
                elif not worker.ready and now - worker.started > STARTUP_LIMIT:
                    raise RolloutkitError(f"a worker process did not start within {STARTUP_LIMIT:g} s")
    finally:
        for worker in slots:
            if worker is not None:
                try:
                    worker.proc.stdin.close()
                except OSError:
                    pass
        _stop(slots)
        kill_marked(lambda mark: mark.split(":", 1)[0] == run_mark)
        selector.close()
    order = {(j.agent, j.week, j.notebook): i for i, j in enumerate(jobs)}
    return sorted(done, key=lambda r: order[(r.agent, r.week, r.notebook)])


def _stop(slots: list[_Worker | None], grace: float = 2.0) -> None:
    """Idle workers exit on their own once their stdin closes; any still running after `grace` are killed."""
    until = time.monotonic() + grace
    for worker in slots:
        if worker is None:
            continue
        try:
            worker.proc.wait(timeout=max(0.0, until - time.monotonic()) if worker.job is None else 0)
        except subprocess.TimeoutExpired:
            pass
        worker.kill()


def _lost(job: Job, worker: _Worker, why: str, *, status: str = "failed") -> NotebookRun:
    """The result of a notebook whose worker had to be stopped, or died, before reporting."""
    where = _running_cell(Path(job.folder) / f"{job.notebook}.ipynb")
    return NotebookRun(job.agent, job.week, job.notebook, status, round(time.monotonic() - worker.dispatched, 1),
                       why + where)


def _running_cell(executed: Path) -> str:
    """", in code cell 3 of 7" from papermill's progress marks in the partial notebook, when it can be read."""
    try:
        cells = json.loads(executed.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError, TypeError):
        executed.unlink(missing_ok=True)  # half-written by a killed worker: no use to anyone
        return ""
    code = [c for c in cells if c.get("cell_type") == "code"
            and "injected-parameters" not in c.get("metadata", {}).get("tags", [])]
    running = [i for i, c in enumerate(code, 1) if c.get("metadata", {}).get("papermill", {}).get("status")
               == "running"]
    return f", in code cell {running[0]} of {len(code)}" if running else ""


def kill_marked(match: Callable[[str], bool]) -> None:
    """Kill every process whose mark matches, and wait until they are gone (or zombies left to their parent)."""
    found = []
    for proc in psutil.process_iter():
        if proc.pid == os.getpid():
            continue
        try:
            mark = proc.environ().get(PROCESS_MARK)
        except (psutil.Error, OSError):
            continue
        if mark and match(mark):
            found.append(proc)
    for proc in found:
        try:
            proc.kill()
        except psutil.Error:
            pass
    until = time.monotonic() + 5
    while found and time.monotonic() < until:
        found = [p for p in found if _alive(p)]
        if found:
            time.sleep(0.05)


def _alive(proc: psutil.Process) -> bool:
    try:
        return proc.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _install_kernel(kernel_dir: Path) -> None:
    """A kernelspec named `rolloutkit` running this very interpreter, first on the workers' JUPYTER_PATH.

    So notebooks always run in the project's own environment, never in a `python3` kernel found elsewhere.
    History off: many kernels at once would contend for IPython's history database and print its warnings.
    """
    spec_dir = kernel_dir / "kernels" / KERNEL_NAME
    spec_dir.mkdir(parents=True, exist_ok=True)
    spec = {"argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}",
                     "--HistoryManager.enabled=False"],
            "display_name": "rolloutkit", "language": "python"}
    (spec_dir / "kernel.json").write_text(json.dumps(spec))
