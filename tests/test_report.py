"""The weekly run: layout, failure marking, earlier weeks that survive a failed run, failed workspaces on the
portfolio, the default day, a team's own notebooks, the CLI around it, and `make lab`."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from rolloutkit import paths, report
from rolloutkit.cli import main
from rolloutkit.errors import RolloutkitError

CANARY = "interaction_id,ts,arm,success,failure_mode\n" + "".join(
    f"c{day}{i},2026-11-{day:02d}T10:0{i}:00Z,{'agent' if i % 4 == 0 else 'human'},true,\n"
    for day in range(2, 13) for i in range(8)
)
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
PARAMETERS = 'workspace: str = ""  # workspace folder\nas_of: str | None = None  # day'


def folder_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def write_notebook(folder: Path, name: str, *cells: str, parameters: str | None = PARAMETERS,
                   tags: tuple[str, ...] = ("parameters",), heading: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    nb = nbformat.v4.new_notebook()
    if heading:
        nb.cells.append(nbformat.v4.new_markdown_cell(f"# {heading}"))
    if parameters is not None:
        first = nbformat.v4.new_code_cell(parameters)
        first.metadata["tags"] = list(tags)
        nb.cells.append(first)
    nb.cells += [nbformat.v4.new_code_cell(c) for c in cells]
    nb.metadata["kernelspec"] = {"name": "rolloutkit", "display_name": "rolloutkit", "language": "python"}
    nbformat.write(nb, folder / f"{name}.ipynb")
    return folder / f"{name}.ipynb"


@pytest.fixture
def notebooks(tmp_path) -> Path:
    """The real summary notebook plus one that raises, as a team's own folder."""
    folder = tmp_path / "notebooks"
    folder.mkdir()
    shutil.copy(paths.NOTEBOOKS_DIR / "summary.ipynb", folder)
    broken = nbformat.read(paths.NOTEBOOKS_DIR / "summary.ipynb", as_version=4)
    broken.cells = broken.cells[:2] + [nbformat.v4.new_code_cell("raise ValueError('boom: the data is odd')")]
    nbformat.write(broken, folder / "broken.ipynb")
    return folder


@pytest.mark.slow
def test_failed_notebook_is_marked_and_earlier_week_untouched(tmp_path, make_workspace, notebooks):
    ws = make_workspace({"canary.csv": CANARY})
    out = tmp_path / "reports"
    summary_only = tmp_path / "summary_only"
    summary_only.mkdir()
    shutil.copy(notebooks / "summary.ipynb", summary_only)
    jupyter_path = os.environ.get("JUPYTER_PATH")
    first = report.run([ws], as_of="2026-11-06", out=out, notebooks=summary_only, builtin=False)
    assert first.ok
    assert os.environ.get("JUPYTER_PATH") == jupyter_path, "the staging kernelspec must not outlive the run"
    week45 = out / "support-refunds" / "2026-W45"
    before = folder_digest(week45)
    assert {"index.html", "summary.html", "summary.ipynb", "summary.json"} <= set(before)

    second = report.run([ws], as_of="2026-11-12", out=out, notebooks=notebooks, builtin=False)
    assert not second.ok
    assert folder_digest(week45) == before, "an earlier week's report must not change"
    week46 = out / "support-refunds" / "2026-W46"
    index = (week46 / "index.html").read_text()
    assert "failed" in index and "ValueError: boom: the data is odd" in index
    summary = json.loads((week46 / "summary.json").read_text())
    assert summary["ok"] is False
    assert summary["notebooks"]["broken"]["status"] == "failed"
    assert summary["notebooks"]["summary"]["status"] == "ok"
    assert (week46 / "broken.html").exists(), "the failed page still renders, with its error"
    portfolio = (out / "index.html").read_text()
    assert "support-refunds/2026-W46/index.html" in portfolio and "1 failed: broken" in portfolio
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no staging folder or lock is left behind"
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert not EXTERNAL.search(text), f"{page.name} loads something from another host"
        assert "<script src" not in text


@pytest.mark.slow
def test_bad_workspace_gets_its_week_and_row_without_touching_earlier_reports(tmp_path, make_workspace, notebooks):
    good = make_workspace({"canary.csv": CANARY}, name="good")
    out = tmp_path / "reports"
    summary_only = tmp_path / "summary_only"
    summary_only.mkdir()
    shutil.copy(notebooks / "summary.ipynb", summary_only)
    assert report.run([good], as_of="2026-11-06", out=out, notebooks=summary_only, builtin=False).ok
    before = folder_digest(out / "support-refunds" / "2026-W45")
    bad = make_workspace({"canary.csv": CANARY.replace("human", "humn")}, name="bad")
    result = report.run([bad], as_of="2026-11-12", out=out)
    assert not result.ok and result.runs == []
    assert "column `arm` has values outside {agent, human}" in result.failed_workspaces["bad"]
    assert "'humn'" in result.failed_workspaces["bad"], "the owner's message (stderr) names the values"
    assert folder_digest(out / "support-refunds" / "2026-W45") == before
    week = out / "support-refunds" / "2026-W46"
    assert "column `arm` has values outside {agent, human}" in (week / "index.html").read_text()
    assert json.loads((week / "summary.json").read_text())["ok"] is False
    assert "support-refunds/2026-W46/index.html" in (out / "index.html").read_text(), "the latest week is the failure"


def test_only_a_bad_workspace_still_shows_on_the_portfolio(tmp_path, make_workspace):
    bad = make_workspace({"canary.csv": CANARY.replace("human", "humn")}, name="bad")
    out = tmp_path / "reports"
    result = report.run([bad], as_of="2026-11-12", out=out)
    assert not result.ok
    portfolio = (out / "index.html").read_text()
    assert "No reports yet" not in portfolio
    assert "support-refunds/2026-W46/index.html" in portfolio and "cannot be read" in portfolio
    assert "column `arm` has values outside {agent, human}" in portfolio
    index = (out / "support-refunds" / "2026-W46" / "index.html").read_text()
    assert f"rolloutkit check {bad}" in index, "the week index says how to see and fix the problem"
    assert "line" in index, "with the file lines"
    for page in (portfolio, index, (out / "support-refunds" / "2026-W46" / "summary.json").read_text()):
        assert "humn" not in page, "offending values (possibly customer text) stay off stakeholder pages"


def test_a_workspace_whose_charter_cannot_be_read_is_listed_by_its_folder(tmp_path):
    folder = tmp_path / "broken-agent"
    folder.mkdir()
    (folder / "charter.yaml").write_text("- a list, not a charter\n")
    empty = tmp_path / "no-charter"
    empty.mkdir()
    out = tmp_path / "reports"
    result = report.run([folder, empty], as_of="2026-11-22", out=out)
    assert sorted(result.failed_workspaces) == ["broken-agent", "no-charter"]
    assert "no charter.yaml here" in result.failed_workspaces["no-charter"]
    portfolio = (out / "index.html").read_text()
    assert "broken-agent/2026-W47/index.html" in portfolio and "no-charter/2026-W47/index.html" in portfolio


@pytest.mark.parametrize(("zone", "expected"), [
    ("UTC", dt.date(2026, 12, 1)),
    ("Pacific/Kiritimati", dt.date(2026, 12, 2)),  # UTC+14: already 00:30 on 3 December there
    ("Pacific/Pago_Pago", dt.date(2026, 11, 30)),  # UTC-11: still 23:30 on 1 December there
], ids=["utc", "ahead", "behind"])
def test_default_as_of_is_yesterday_in_the_charter_time_zone(zone, expected):
    assert report.default_as_of(zone, now=dt.datetime(2026, 12, 2, 10, 30, tzinfo=dt.UTC)) == expected


@pytest.mark.slow
def test_own_notebooks_run_with_the_default_day_and_are_linked_from_the_week(tmp_path, make_workspace, charter_dict):
    charter_dict["timezone"] = "Pacific/Kiritimati"
    ws = make_workspace(charter=charter_dict)
    own = tmp_path / "own"
    path = write_notebook(own, "team_costs", "print('as of', as_of, 'for', workspace)", heading="Team costs per queue")
    bare = nbformat.read(path, as_version=4)
    bare.metadata = {}  # a notebook saved without kernel metadata still runs, in the rolloutkit kernel
    nbformat.write(bare, path)
    out = tmp_path / "reports"
    result = report.run([ws], out=out, notebooks=own, builtin=False,
                        now=dt.datetime(2026, 11, 22, 13, 0, tzinfo=dt.UTC))  # 23 Nov, 03:00 in Kiritimati
    assert result.ok
    week = out / "support-refunds" / "2026-W47"
    assert json.loads((week / "summary.json").read_text())["as_of"] == "2026-11-22"
    executed = (week / "team_costs.ipynb").read_text()
    assert f"as of 2026-11-22 for {ws.resolve()}" in executed
    assert "<a href='team_costs.html'>Team costs per queue</a>" in (week / "index.html").read_text()


def test_own_notebooks_are_checked_up_front_with_every_problem_named(tmp_path):
    own = tmp_path / "own"
    write_notebook(own, "fine", "print(1)")
    write_notebook(own, "untagged", tags=())
    write_notebook(own, "no_as_of", parameters='workspace: str = ""')
    write_notebook(own, "no_code", parameters=None)
    write_notebook(own, "canary_readiness")
    write_notebook(own, "bad name")
    (own / "garbled.ipynb").write_text("{not json")
    with pytest.raises(RolloutkitError) as info:
        report.own_notebooks(own, taken=("summary", "canary_readiness"))
    message = str(info.value)
    assert message.startswith("your notebooks do not fit the report run:")
    expected = {
        "untagged": "the first code cell is not tagged `parameters`",
        "no_as_of": "the `parameters` cell does not define `as_of`",
        "no_code": "has no code cell",
        "canary_readiness": "a built-in page is called 'canary_readiness'; rename your notebook",
        "bad name": "the file name becomes the page's address; use letters, digits, - and _",
        "garbled": "not a readable notebook (JSONDecodeError",
    }
    for name, problem in expected.items():
        assert f"{own / name}.ipynb: {problem}" in message
    assert "fine.ipynb" not in message
    [checked] = report.own_notebooks(_only(own, "fine"))
    assert (checked.name, checked.title) == ("fine", "Fine")


def _only(folder: Path, name: str) -> Path:
    alone = folder.parent / f"only_{name}"
    alone.mkdir()
    shutil.copy(folder / f"{name}.ipynb", alone)
    return alone


def test_cli_refuses_bad_own_notebooks_before_running_anything(tmp_path, make_workspace, capsys):
    own = tmp_path / "own"
    write_notebook(own, "mine", parameters="x = 1")
    out = tmp_path / "reports"
    assert main(["report", str(make_workspace()), "--out", str(out), "--notebooks", str(own)]) == 1
    err = capsys.readouterr().err
    assert f"{own / 'mine'}.ipynb: the `parameters` cell does not define `workspace` and `as_of`" in err
    assert not out.exists()


def test_cli_report_usage_errors(tmp_path, make_workspace, capsys):
    assert main(["report", str(make_workspace()), "--no-builtin"]) == 2
    assert "--no-builtin needs --notebooks DIR" in capsys.readouterr().err
    assert main(["report", str(make_workspace(name="b")), "--timeout", "0", "--out", str(tmp_path / "r")]) == 1
    assert "`--timeout` must be a positive number of seconds, got 0" in capsys.readouterr().err
    assert main(["report", str(make_workspace(name="c")), "--as-of", "22/11/2026"]) == 1
    assert "`--as-of` must be a date like 2026-11-22, got '22/11/2026'" in capsys.readouterr().err


def test_cli_report_help_states_the_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert f"(default: {report.DEFAULT_TIMEOUT:g})" in text
    assert "default: yesterday, the last complete day, in each charter's time zone" in text
    assert "--notebooks DIR" in text and "--no-builtin" in text


def test_cli_check_reports_bad_input_with_exit_1(make_workspace, capsys):
    ws = make_workspace({"canary.csv": CANARY.replace("c21,", "c20,")})
    assert main(["check", str(ws)]) == 1
    err = capsys.readouterr().err
    assert "canary.csv: column `interaction_id` must be unique" in err and "'c20'" in err


def test_cli_check_prints_inventory(make_workspace, capsys):
    assert main(["check", str(make_workspace({"canary.csv": CANARY}))]) == 0
    out = capsys.readouterr().out
    assert "support-refunds: charter OK (2 failure modes, 1 rollback triggers)" in out
    assert "canary             88 rows  2026-11-02 .. 2026-11-12" in out
    assert "shadow     missing" in out


def test_cli_usage_error_exits_2(capsys):
    with pytest.raises(SystemExit) as info:
        main(["readiness"])
    assert info.value.code == 2
    assert main([]) == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_make_lab_starts_with_options_and_the_rolloutkit_kernel(tmp_path):
    """`make lab` as the user running the tests (root here: it needs --allow-root), LAB_ARGS passed through."""
    port, token = free_port(), "rk-test-token"
    # -o: never reinstall the venv from inside a test, even when pyproject.toml is newer than the stamp.
    lab = subprocess.Popen(
        ["make", "-s", "-o", ".venv/.installed", "lab",
         f"LAB_ARGS=--no-browser --port {port} --IdentityProvider.token={token} --ServerApp.port_retries=0"],
        cwd=paths.PROJECT_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime")})
    try:
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/kernelspecs",
                                         headers={"Authorization": f"token {token}"})
        until, specs = time.monotonic() + 90, None
        while specs is None and time.monotonic() < until and lab.poll() is None:
            try:
                with urllib.request.urlopen(request, timeout=2) as answer:
                    specs = json.load(answer)
            except OSError:
                time.sleep(0.5)
        assert specs is not None, f"the lab did not answer on port {port}; exit {lab.poll()}"
        assert specs["default"] == "rolloutkit"
        assert "rolloutkit" in specs["kernelspecs"]
    finally:
        os.killpg(lab.pid, 15)
        try:
            output = lab.communicate(timeout=20)[0]
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, 9)
            output = lab.communicate()[0]
    assert "Running as root is not recommended" not in output
