"""The run's kernels: each notebook gets a fresh kernel, forked from its worker's kernel template, and nothing one
notebook does reaches the next; a template that is gone only means kernels start the usual way.

Both notebooks of a test run one after the other on the same worker (`jobs=1`), so the second kernel is forked
from the very template the first one was, after the first one changed everything it could.
"""

from __future__ import annotations

import json

import pytest
from conftest import write_notebook

from rolloutkit import paths, report

AS_OF = "2026-11-22"
#: Sets `worker` to the pid of the worker running the notebook: the process with the kernel's mark running the worker.
WORKER_PID = ("import os, psutil\n"
              "worker = [p.pid for p in psutil.process_iter(['cmdline', 'environ'])\n"
              "          if 'rolloutkit.report._worker' in (p.info['cmdline'] or [])\n"
              "          and (p.info['environ'] or {}).get('ROLLOUTKIT_REPORT_PROCESS')\n"
              "          == os.environ['ROLLOUTKIT_REPORT_PROCESS']][0]")


#: What a notebook's kernel looks like from inside, written to a JSON file (the cell runs first thing, before the
#: notebook imports anything itself).
LOOK = (
    "import json, os, random, sys\n"
    f"{WORKER_PID}\n"
    "seen = {'pid': os.getpid(), 'ppid': os.getppid(), 'worker': worker,\n"
    "        'cwd': os.getcwd(), 'leak_env': os.environ.get('RK_LEAK'), 'leak_module': 'rk_leak' in sys.modules,\n"
    "        'polars_preloaded': 'polars' in sys.modules, 'altair_preloaded': 'altair' in sys.modules,\n"
    "        'charts': os.environ.get('ROLLOUTKIT_CHARTS'), 'random': random.random()}\n"
    "import altair as alt, numpy\n"
    "seen.update(renderer=alt.renderers.active, numpy_random=float(numpy.random.random()))\n"
    "open(PATH, 'w').write(json.dumps(seen))"
)
#: Everything a notebook could leave behind in a kernel that was reused.
LEAVE_STATE = (
    "import os, sys, altair as alt, polars as pl\n"
    "os.environ['RK_LEAK'] = '1'\n"
    "sys.modules['rk_leak'] = sys\n"
    "alt.renderers.enable('json')\n"
    "pl.Config.set_tbl_rows(3)\n"
    "os.chdir('/')"
)


@pytest.mark.slow
def test_every_notebook_gets_a_fresh_kernel_forked_from_the_template(tmp_path, make_workspace):
    own = tmp_path / "own"
    first, second = tmp_path / "first.json", tmp_path / "second.json"
    write_notebook(own, "a_first", LOOK.replace('PATH', repr(str(first))), LEAVE_STATE)
    write_notebook(own, "b_second", LOOK.replace('PATH', repr(str(second))))
    result = report.run([make_workspace()], as_of=AS_OF, out=tmp_path / "reports", notebooks=own, builtin=False,
                        jobs=1)
    assert result.ok, [r.error for r in result.runs]
    a, b = json.loads(first.read_text()), json.loads(second.read_text())
    assert a["pid"] != b["pid"], "a kernel of its own per notebook"
    assert a["ppid"] == b["ppid"] != a["worker"], "both forked from the worker's template, not started by it"
    assert a["altair_preloaded"] and b["altair_preloaded"], "the template had altair imported"
    assert not a["polars_preloaded"] and not b["polars_preloaded"], "polars is not fork-safe: never preloaded"
    for seen in (a, b):
        assert seen["cwd"] == str(paths.NOTEBOOKS_DIR)
        assert seen["charts"] == "static"
        assert seen["renderer"] == "default"
    assert b["leak_env"] is None and not b["leak_module"], "nothing of the first notebook reaches the second"
    assert a["random"] != b["random"] and a["numpy_random"] != b["numpy_random"], "each kernel reseeded"


@pytest.mark.slow
def test_a_template_that_is_gone_means_kernels_start_the_usual_way(tmp_path, make_workspace):
    own = tmp_path / "own"
    second = tmp_path / "second.json"
    # The first notebook kills its kernel's parent, the worker's template; the next kernel cannot be forked.
    write_notebook(own, "a_kills_template", "import os, signal\nos.kill(os.getppid(), signal.SIGKILL)")
    write_notebook(own, "b_after", LOOK.replace('PATH', repr(str(second))))
    result = report.run([make_workspace()], as_of=AS_OF, out=tmp_path / "reports", notebooks=own, builtin=False,
                        jobs=1, timeout=120)
    runs = {r.notebook: r for r in result.runs}
    # The orphaned first kernel may notice its parent is gone and exit before papermill sees the cell finish.
    assert runs["a_kills_template"].status in ("ok", "failed")
    assert runs["b_after"].status == "ok", runs["b_after"].error
    b = json.loads(second.read_text())
    assert b["ppid"] == b["worker"], "started by the worker itself"
    assert b["cwd"] == str(paths.NOTEBOOKS_DIR) and b["charts"] == "static"
