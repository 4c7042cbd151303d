"""The weekly run: execute every notebook with papermill per workspace, export self-contained HTML, write the
week's index and `summary.json`, then the portfolio index.

Layout (docs/reports.md): reports/index.html, reports/<agent>/<YYYY-Www>/{index.html, <nb>.html, <nb>.ipynb,
summary.json}. A cron job runs it unwatched, so it keeps these promises:

- **As of yesterday**: without `as_of`, each workspace is reported to the last complete day before the run in its
  charter's time zone.
- **Atomic**: everything is built in a staging folder inside the output and the finished weeks are swapped into
  place together at the end; earlier weeks are never touched, and a stopped run leaves no half-written page.
- **Time-limited and fault-tolerant**: each notebook runs in a worker process with a time limit; a notebook past
  it, whose kernel dies or whose worker is killed is marked on the week's index and the others still render.
- **Stoppable**: SIGTERM or Ctrl-C stops every worker and kernel, removes the staging folder and raises `Stopped`.
- **One at a time**: a lock file in the output folder (with the holder's pid) makes a second run refuse.
- **Your own pages**: `notebooks=DIR` adds a team's notebooks, checked up front for the `parameters` contract.
"""

from rolloutkit.report._lock import LOCK_NAME, output_lock
from rolloutkit.report._notebooks import PARAMETERS, check_notebook, own_notebooks
from rolloutkit.report._results import DEFAULT_TIMEOUT, KERNEL_NAME, NotebookRun, OwnNotebook, RunResult, Stopped
from rolloutkit.report._run import run
from rolloutkit.report._week import default_as_of

__all__ = [
    "DEFAULT_TIMEOUT", "KERNEL_NAME", "LOCK_NAME", "PARAMETERS", "NotebookRun", "OwnNotebook", "RunResult",
    "Stopped", "check_notebook", "default_as_of", "output_lock", "own_notebooks", "run",
]
