"""The weekly run under faults: a hung notebook, a dying kernel, a killed worker, SIGTERM and Ctrl-C, two runs at
once, an output folder that cannot be written. Each test says what it leaves behind and checks it.

The notebooks here are tiny (a `parameters` cell and a line or two) and run as a team's own notebooks with
`builtin=False`, so each case costs a kernel start, not the demo's pages. Workspaces hold only a charter: valid,
with every phase "Not started".
"""

from __future__ import annotations

import errno
import hashlib
import os
import pathlib
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
from conftest import write_notebook

from rolloutkit import report
from rolloutkit.errors import RolloutkitError

AS_OF = "2026-11-22"
WEEK = "2026-W47"
AGENT = "support-refunds"
CLI = [sys.executable, "-m", "rolloutkit.cli", "report"]


def digest(folder: Path) -> dict[str, str]:
    """Every file under `folder` (hidden ones too) with its SHA-256."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def alive(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_for(path: Path, seconds: float = 120) -> str:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if path.exists() and path.read_text().strip():
            return path.read_text().strip()
        time.sleep(0.1)
    raise AssertionError(f"{path} never appeared")


@pytest.fixture
def earlier(tmp_path, make_workspace):
    """A workspace, a folder of quick notebooks and an output folder holding an earlier report of week 47."""
    ws = make_workspace()
    quick = tmp_path / "quick"
    write_notebook(quick, "quick", "print('fine')")
    out = tmp_path / "reports"
    assert report.run([ws], as_of=AS_OF, out=out, notebooks=quick, builtin=False).ok
    return ws, quick, out


@pytest.mark.slow
def test_a_notebook_past_its_timeout_is_stopped_and_marked(tmp_path, make_workspace):
    own = tmp_path / "own"
    pid_file = tmp_path / "kernel.pid"
    write_notebook(own, "hangs", f"import os, time\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))",
                   "time.sleep(600)")
    write_notebook(own, "quick", "print('fine')")
    out = tmp_path / "reports"
    started = time.monotonic()
    result = report.run([make_workspace()], as_of=AS_OF, out=out, notebooks=own, builtin=False, timeout=10)
    took = time.monotonic() - started
    runs = {r.notebook: r for r in result.runs}
    assert runs["hangs"].status == "timed_out"
    assert runs["hangs"].error == "timed out after 10 s, in code cell 3 of 3"
    assert runs["quick"].status == "ok" and not result.ok
    assert took < 60, f"the run took {took:.0f} s for a 10 s limit"
    assert not alive(int(pid_file.read_text())), "the hung kernel must be killed"
    week = out / AGENT / WEEK
    assert "timed out after 10 s" in (week / "index.html").read_text()
    assert "timed out after 10 s" in (week / "hangs.html").read_text(), "a stand-in page, so the link works"
    assert (week / "quick.html").exists()


@pytest.mark.slow
def test_a_dead_kernel_or_killed_worker_fails_only_its_notebook(tmp_path, make_workspace):
    own = tmp_path / "own"
    pid_file = tmp_path / "orphan.pid"
    write_notebook(own, "a_kernel_exits", "import os\nos._exit(1)")
    # Kills the worker process and stays alive: an orphan the run must still stop. (The kernel's parent is the
    # worker's kernel template, which it was forked from; the worker is the process with its mark running the worker.)
    find_worker = ("import psutil\nworker = [p for p in psutil.process_iter(['cmdline', 'environ']) if "
                   "'rolloutkit.report._worker' in (p.info['cmdline'] or []) and (p.info['environ'] or {})"
                   ".get('ROLLOUTKIT_REPORT_PROCESS') == os.environ['ROLLOUTKIT_REPORT_PROCESS']][0]")
    write_notebook(own, "b_worker_killed", f"import os, signal, time\nopen({str(pid_file)!r}, 'w')"
                   f".write(str(os.getpid()))\n{find_worker}\nworker.kill()\ntime.sleep(600)")
    write_notebook(own, "c_quick", "print('fine')")
    out = tmp_path / "reports"
    result = report.run([make_workspace()], as_of=AS_OF, out=out, notebooks=own, builtin=False, jobs=1,
                        timeout=120)
    runs = {r.notebook: r for r in result.runs}
    assert runs["a_kernel_exits"].status == "failed"
    assert "the kernel died" in runs["a_kernel_exits"].error
    assert runs["b_worker_killed"].status == "failed"
    assert runs["b_worker_killed"].error.startswith("the worker process running it was killed by SIGKILL")
    assert runs["c_quick"].status == "ok", "the notebooks after them still render, on a fresh worker"
    assert not alive(int(pid_file.read_text())), "the orphaned kernel of the killed worker must be stopped"
    index = (out / AGENT / WEEK / "index.html").read_text()
    assert "the kernel died" in index and "killed by SIGKILL" in index
    assert {p.name for p in (out / AGENT / WEEK).glob("*.html")} >= {"a_kernel_exits.html", "b_worker_killed.html",
                                                                      "c_quick.html", "index.html"}


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGTERM to the run", "Ctrl-C on the terminal"])
def test_a_stopped_run_cleans_up_and_leaves_earlier_reports_alone(tmp_path, earlier, how):
    ws, _, out = earlier
    before = digest(out)
    own = tmp_path / "sleeps"
    marker = tmp_path / "started"
    write_notebook(own, "sleeps", f"import os, time\nopen({str(marker)!r}, 'w').write(str(os.getpid()))\n"
                   "time.sleep(600)")
    proc = subprocess.Popen([*CLI, str(ws), "--out", str(out), "--as-of", AS_OF, "--notebooks", str(own),
                             "--no-builtin"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        kernel = int(wait_for(marker))
        family = psutil.Process(proc.pid).children(recursive=True)
        assert kernel in [p.pid for p in family], "a kernel of the run is running the notebook"
        assert [p.name for p in out.glob(".staging-*")], "the run is building in its staging folder"
        sent = time.monotonic()
        if how == "SIGTERM to the run":
            proc.send_signal(signal.SIGTERM)
        else:  # the terminal sends SIGINT to the whole foreground process group
            os.killpg(proc.pid, signal.SIGINT)
        _, err = proc.communicate(timeout=30)
        took = time.monotonic() - sent
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    signum = signal.SIGTERM if how == "SIGTERM to the run" else signal.SIGINT
    assert proc.returncode == 128 + signum
    assert took < 10, f"stopping took {took:.1f} s"
    assert f"stopped by {signal.Signals(signum).name}" in err and "Traceback" not in err
    assert [p for p in family if alive(p.pid)] == [], "no worker or kernel outlives the run"
    assert digest(out) == before, "no staging folder or lock left, every earlier file byte-identical"


@pytest.mark.slow
def test_a_second_run_refuses_while_the_first_holds_the_folder_and_a_dead_holder_is_taken_over(tmp_path, earlier):
    ws, quick, out = earlier
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time\nfrom rolloutkit.report import output_lock\n"
                               f"with output_lock({str(out)!r}):\n    print('held', flush=True)\n    time.sleep(600)"],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        before = digest(out)
        second = subprocess.run([*CLI, str(ws), "--out", str(out), "--as-of", AS_OF, "--notebooks", str(quick),
                                 "--no-builtin"], capture_output=True, text=True, timeout=120)
        assert second.returncode == 1
        assert f"another report run (pid {holder.pid} on" in second.stderr and "Traceback" not in second.stderr
        assert digest(out) == before, "the refused run wrote nothing"
    finally:
        holder.kill()
        holder.communicate()
    assert f'"pid": {holder.pid}' in (out / report.LOCK_NAME).read_text(), "SIGKILL leaves a stale lock file"
    result = report.run([ws], as_of=AS_OF, out=out, notebooks=quick, builtin=False)
    assert result.ok
    assert result.notes == [f"note: took over the lock of an earlier run (pid {holder.pid}) that is no longer running"]
    assert not (out / report.LOCK_NAME).exists(), "released at the end"


def test_a_run_refuses_while_this_process_holds_the_lock(tmp_path, make_workspace):
    out = tmp_path / "reports"
    out.mkdir()
    with report.output_lock(out):
        with pytest.raises(RolloutkitError, match=rf"another report run \(pid {os.getpid()} on .*never interleave"):
            report.run([make_workspace()], as_of=AS_OF, out=out)
    assert list(out.iterdir()) == []


def test_an_output_path_that_is_a_file_fails_clearly(tmp_path, make_workspace):
    """A stand-in for an unwritable folder that works as root too (root ignores chmod)."""
    taken = tmp_path / "reports"
    taken.write_text("not a folder")
    done = subprocess.run([*CLI, str(make_workspace()), "--out", str(taken), "--as-of", AS_OF],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr == f"rolloutkit report: cannot write the report into {taken}: it is a file, not a folder\n"
    assert taken.read_text() == "not a folder"


def test_a_read_only_output_folder_fails_clearly(tmp_path, make_workspace, monkeypatch):
    """Read-only, simulated in this process: the first file the run creates there (its lock) gets EROFS."""
    out = tmp_path / "reports"
    out.mkdir()
    real_open = os.open

    def read_only(path, flags, *args, **kwargs):
        if str(path).startswith(str(out)) and flags & os.O_CREAT:
            raise OSError(errno.EROFS, os.strerror(errno.EROFS), str(path))
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", read_only)
    with pytest.raises(RolloutkitError) as info:
        report.run([make_workspace()], as_of=AS_OF, out=out)
    assert str(info.value).startswith(f"cannot write the report into {out}: Read-only file system")
    assert "Earlier reports are unchanged" in str(info.value)
    assert list(out.iterdir()) == []


@pytest.mark.slow
def test_a_full_disk_while_finishing_the_week_fails_clearly_and_keeps_earlier_reports(earlier, monkeypatch):
    """ENOSPC, simulated in the run's own process at its first write of the week (summary.json in staging): the
    notebooks ran in workers (not patched); the run stops before anything is moved into place."""
    ws, quick, out = earlier
    before = digest(out)
    real_write = pathlib.Path.write_text

    def full(self, *args, **kwargs):
        if str(self).startswith(str(out)) and self.name == "summary.json":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(self))
        return real_write(self, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "write_text", full)
    with pytest.raises(RolloutkitError) as info:
        report.run([ws], as_of=AS_OF, out=out, notebooks=quick, builtin=False)
    assert str(info.value).startswith(f"cannot write the report into {out}: No space left on device")
    assert digest(out) == before


@pytest.mark.slow
def test_a_kernel_enforced_write_limit_stops_the_run_clearly(tmp_path, earlier):
    """A real write failure across every process of the run, without mounting anything: `RLIMIT_FSIZE` makes
    any write past 128 KB fail with EFBIG, in the run, its workers and its kernels alike — as a full disk would.
    The notebook prints 300 KB, so the worker's write of the executed notebook fails. What it does not cover:
    ENOSPC's own message."""
    ws, _, out = earlier
    before = digest(out)
    big = tmp_path / "big"
    write_notebook(big, "big", "print('x' * 300_000)")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (128 * 1024, 128 * 1024))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)

    done = subprocess.run([*CLI, str(ws), "--out", str(out), "--as-of", AS_OF, "--notebooks", str(big),
                           "--no-builtin"], capture_output=True, text=True, timeout=300, preexec_fn=limit)
    assert done.returncode == 1
    assert f"rolloutkit report: cannot write the report into {out}: File too large" in done.stderr
    assert "Traceback" not in done.stderr
    assert digest(out) == before


def test_the_longest_notebooks_start_first(tmp_path, make_workspace):
    """One worker, so the order shows: without an earlier week the notebooks run as listed; a week later the one
    that took longest goes first, so it never starts last while the other workers sit idle."""
    ws, own, order = make_workspace(), tmp_path / "own", tmp_path / "order.txt"
    log = f"open({str(order)!r}, 'a').write(NAME + '\\n')"
    write_notebook(own, "a_quick", log.replace("NAME", "'a_quick'"))
    write_notebook(own, "b_slow", log.replace("NAME", "'b_slow'"), "import time\ntime.sleep(2)")
    out = tmp_path / "reports"
    assert report.run([ws], as_of="2026-11-15", out=out, notebooks=own, builtin=False, jobs=1).ok
    assert order.read_text().split() == ["a_quick", "b_slow"]
    order.unlink()
    assert report.run([ws], as_of=AS_OF, out=out, notebooks=own, builtin=False, jobs=1).ok
    assert order.read_text().split() == ["b_slow", "a_quick"]
