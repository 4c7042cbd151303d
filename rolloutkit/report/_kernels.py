"""The worker's side of its kernels: the kernel manager papermill runs each notebook with, and the kernel template
(`_zygote`) it forks them from.

A kernel of the `rolloutkit` kernelspec (`python -m ipykernel_launcher ...`) is forked from the worker's template,
which has the heavy libraries imported already; any other command, or a template that is gone, starts the usual
way. Either way jupyter_client manages the kernel as its own: it polls, signals and kills it through
`ForkedKernel`, a stand-in for the `Popen` object it keeps of a kernel it started itself. The guarantees of the run
hold unchanged: a forked kernel is its own process group (jupyter_client's kill and the run's timeout reach it),
carries the worker's mark in its environment (the run finds and kills it whatever happened to its worker), writes
to the worker's log, and exits when the template, hence the worker, is gone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil

#: Seconds the template may take to import its libraries before kernels start the usual way instead.
TEMPLATE_LIMIT = 60.0
_LAUNCHER = ["-m", "ipykernel_launcher"]


class KernelTemplate:
    """One per worker: the `_zygote` process, started at once so its imports overlap the worker's own."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.proc: subprocess.Popen | None = None
        self.ready = False
        try:
            self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("_zygote.py"))],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, close_fds=True)
        except OSError:
            self.proc = None

    def fork(self, argv: list[str], *, cwd: str, env: dict[str, str]) -> int | None:
        """The pid of a kernel forked with `argv` (the arguments after `-m ipykernel_launcher`), or None when the
        template cannot fork one (it died, or did not start in time): the caller then starts the kernel itself."""
        with self.lock:
            if self.proc is None or self.proc.poll() is not None:
                return None
            try:
                if not self.ready:
                    self.ready = self._reply(TEMPLATE_LIMIT).get("ready", False)
                self.proc.stdin.write((json.dumps({"argv": argv, "cwd": cwd, "env": env}) + "\n").encode())
                self.proc.stdin.flush()
                return int(self._reply(10.0)["pid"])
            except (OSError, ValueError, KeyError, TimeoutError):
                self.close()
                return None

    def _reply(self, limit: float) -> dict:
        import selectors

        with selectors.DefaultSelector() as selector:
            selector.register(self.proc.stdout, selectors.EVENT_READ)
            if not selector.select(limit):
                raise TimeoutError
        line = self.proc.stdout.readline()
        if not line:
            raise ValueError("the kernel template exited")
        return json.loads(line)

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


class ForkedKernel:
    """What jupyter_client's local provisioner keeps of a kernel process (a `Popen`'s poll, wait, signals), for a
    kernel that is the template's child, not ours: watched through psutil, which also guards against a reused pid."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        try:
            self._proc: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self._proc = None

    def poll(self) -> int | None:
        if self.returncode is None:
            try:
                alive = self._proc is not None and self._proc.is_running() and \
                    self._proc.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                alive = False
            if not alive:
                self.returncode = -signal.SIGKILL  # the template reaps it, so its exit code is not ours to read
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        until = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if until is not None and time.monotonic() > until:
                raise subprocess.TimeoutExpired(f"kernel {self.pid}", timeout)
            time.sleep(0.02)
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, signum)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)


_template: KernelTemplate | None = None


def start_template() -> None:
    """Start this worker's kernel template (once)."""
    global _template
    if _template is None:
        _template = KernelTemplate()


def kernel_manager_class() -> type:
    """jupyter_client's kernel manager, forking its kernel from the worker's template, and minus the SIGINT it sends
    an idle kernel before shutting it down.

    That interrupt is what made kernels log "KeyboardInterrupt caught in kernel" under load: it lands while the
    kernel is still handling its last message. A notebook that is done needs no interrupt; a hung one is stopped
    by the run's timeout, which kills the kernel outright.
    """
    from jupyter_client.manager import AsyncKernelManager
    from jupyter_client.provisioning import LocalProvisioner

    class ReportKernelManager(AsyncKernelManager):
        async def _async_interrupt_kernel(self) -> None:
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

        async def _async_launch_kernel(self, kernel_cmd: list[str], **kw: object) -> None:
            # jupyter_client's documented place to launch a kernel differently
            pid = None
            if _template is not None and isinstance(self.provisioner, LocalProvisioner) and \
                    kernel_cmd[:3] == [sys.executable, *_LAUNCHER]:
                pid = _template.fork(kernel_cmd[3:], cwd=str(kw.get("cwd") or os.getcwd()),
                                     env=dict(kw.get("env") or os.environ))
            if pid is None:
                await super()._async_launch_kernel(kernel_cmd, **kw)
                return
            provisioner = self.provisioner
            provisioner.process = ForkedKernel(pid)
            provisioner.pid = provisioner.pgid = pid  # the child is its own process group (setsid)
            provisioner.cwd = kw.get("cwd")
            self._reconcile_connection_info(provisioner.connection_info)

    return ReportKernelManager
