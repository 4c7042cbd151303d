"""The kernel template of a worker: a process that imports the kernel's heavy libraries once, then forks a fresh
kernel for each notebook.

Why: every kernel used to spend about 3 s of CPU on starting Python, ipykernel, numpy, scipy and altair before
the notebook's first line ran — on the 2-core machine half the CPU of a small page, 18 times a week. A fork of this
template starts with them already imported, in a few milliseconds.

Still a fresh kernel per notebook: each kernel is a new process with its own memory, forked from a template that
never runs notebook code and never starts a kernel itself, so nothing one notebook does (a module cache, altair's
renderer, polars' settings, `os.environ`, the cwd) can reach the next one. The child sets the notebook's cwd and
environment and builds its kernel (sockets, event loop, IPython) after the fork, exactly as `ipykernel_launcher`.

Only libraries that start no thread on import are preloaded, because a fork copies just the forking thread:
numpy's and scipy's OpenBLAS threads are shut down around a fork by OpenBLAS itself; polars is not preloaded (its
import starts jemalloc and spill-cleaner threads, and polars documents fork as unsafe), nor rolloutkit (it imports
polars). vl-convert is imported but its engine only starts on the first chart, in the kernel.

Run as a script (`python .../_zygote.py`), not as `-m rolloutkit.report._zygote`: importing the rolloutkit package
would import polars. Protocol: one JSON request a line on stdin (`argv`, `cwd`, `env` of the kernel to start), one
JSON reply a line on the original stdout (`{"ready": true}` first, then `{"pid": N}` per request). It exits when
its stdin closes (the worker is gone); the kernels it forked watch their parent and exit too.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import traceback


def serve() -> None:
    # As python -m ipykernel_launcher does: the script's folder (this package) must not shadow anything.
    del sys.path[0]
    replies = os.fdopen(os.dup(1), "w", buffering=1, encoding="utf-8")
    os.dup2(2, 1)  # our prints and the kernels' go to the worker's log, never into the replies
    # The same skip of jsonschema's IRI checker as rolloutkit.render, so a forked kernel's altair is the one a fresh
    # kernel would get (see there: it is 1.6 s of a start).
    sys.modules.setdefault("rfc3987_syntax", None)
    # What a kernel of the weekly run imports anyway before its first cell ends, and that is safe to fork.
    import altair  # noqa: F401
    import ipykernel.ipkernel  # noqa: F401
    import ipykernel.kernelapp  # noqa: F401
    import numpy  # noqa: F401
    import scipy.special  # noqa: F401
    import vl_convert  # noqa: F401

    # Reap each kernel as it exits (the worker watches them by pid); reaped, not ignored, so their CPU time is
    # counted in ours and the worker's, as a kernel the worker started itself would be.
    signal.signal(signal.SIGCHLD, _reap)
    replies.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        request = json.loads(line)
        pid = os.fork()
        if pid == 0:
            replies.close()
            _become_kernel(request)  # never returns
        replies.write(json.dumps({"pid": pid}) + "\n")


def _reap(_signum: int, _frame: object) -> None:
    try:
        while os.waitpid(-1, os.WNOHANG)[0]:
            pass
    except ChildProcessError:
        pass


def _become_kernel(request: dict) -> None:
    """In the forked child: become `python -m ipykernel_launcher ARGS` in the notebook's cwd and environment."""
    code = 1
    try:
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)  # the notebook's own subprocesses must be waitable
        os.setsid()  # a session of its own, as jupyter_client starts kernels: a kill of its group is the kernel's
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)  # a kernel reads nothing from stdin (jupyter_client gives it a pipe it never writes)
        os.close(null)
        sys.stdin = open(0, encoding="utf-8", closefd=False)  # noqa: SIM115 — fd 0 lives as long as the process
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        import numpy

        numpy.random.seed()  # numpy's global generator was seeded once, in the template (`random` reseeds itself)
        from ipykernel import kernelapp

        sys.argv = [kernelapp.__file__.replace("ipykernel/kernelapp.py", "ipykernel_launcher.py"), *request["argv"]]
        kernelapp.launch_new_instance()
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BaseException:  # noqa: BLE001 — whatever happens, the child must not return into the template's loop
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    serve()
