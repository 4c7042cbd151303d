"""What a weekly run is made of and what it returns. A leaf: no computation, nothing heavy."""

from __future__ import annotations

import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

#: How long one notebook may run (kernel start, every cell, HTML export) before it is stopped.
DEFAULT_TIMEOUT = 600.0
#: The kernelspec name notebooks run in; the run installs one pointing at this interpreter.
KERNEL_NAME = "rolloutkit"
#: The environment variable carrying the run's mark on its workers; kernels inherit it, so the run finds and
#: stops every process it started, even one whose parent was killed.
PROCESS_MARK = "ROLLOUTKIT_REPORT_PROCESS"
#: Where a worker sends its own output and its kernels' (set by the run).
LOG_VAR = "ROLLOUTKIT_REPORT_LOG"

Status = Literal["ok", "failed", "timed_out"]


@dataclass(frozen=True, kw_only=True)
class Job:
    """One notebook to execute for one workspace and week; plain strings so it crosses a pipe as JSON."""

    agent: str
    week: str
    notebook: str
    source: str
    workspace: str
    as_of: str
    folder: str


@dataclass(frozen=True)
class NotebookRun:
    """How one notebook went: `status` is "ok", "failed" (with its error) or "timed_out"."""

    agent: str
    week: str
    notebook: str
    status: Status
    seconds: float
    error: str | None = None


@dataclass(frozen=True)
class OwnNotebook:
    """A team's own notebook from `--notebooks DIR`, checked for the `parameters` contract."""

    name: str
    path: Path
    title: str


@dataclass
class RunResult:
    """Every notebook's outcome, the week folders written and the workspaces that could not be read."""

    out: Path
    runs: list[NotebookRun] = field(default_factory=list)
    weeks: list[Path] = field(default_factory=list)
    failed_workspaces: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.failed_workspaces and all(r.status == "ok" for r in self.runs)

    def describe(self) -> str:
        lines = [*self.notes, f"{len(self.runs)} notebooks rendered into {self.out}"]
        lines += [f"  {p.relative_to(self.out)}/index.html" for p in self.weeks]
        lines += [f"FAILED {r.agent}/{r.week}/{r.notebook}: {r.error}" for r in self.runs if r.status != "ok"]
        lines += [f"FAILED workspace {name}: {error}" for name, error in self.failed_workspaces.items()]
        lines.append(f"portfolio: {self.out / 'index.html'}")
        return "\n".join(lines)


class Stopped(KeyboardInterrupt):
    """The run was stopped by a signal (SIGTERM, or SIGINT from Ctrl-C) after cleaning up after itself.

    A `KeyboardInterrupt`, so code that catches `Exception` never swallows it.
    """

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.name = signal.Signals(signum).name
        super().__init__(f"stopped by {self.name}")
