"""The weekly run: layout, offline pages, failure marking, and that earlier weeks survive a failed run."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest

from rolloutkit import paths, report
from rolloutkit.cli import main

CANARY = "interaction_id,ts,arm,success,failure_mode\n" + "".join(
    f"c{day}{i},2026-11-{day:02d}T10:0{i}:00Z,{'agent' if i % 4 == 0 else 'human'},true,\n"
    for day in range(2, 13) for i in range(8)
)
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


def folder_digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def notebooks(tmp_path) -> Path:
    """The real summary notebook plus one that raises."""
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
    jupyter_path = os.environ.get("JUPYTER_PATH")
    first = report.run([ws], as_of="2026-11-06", out=out, notebooks=("summary",), notebooks_dir=notebooks)
    assert first.ok
    assert os.environ.get("JUPYTER_PATH") == jupyter_path, "the staging kernelspec must not outlive the run"
    week45 = out / "support-refunds" / "2026-W45"
    before = folder_digest(week45)
    assert {"index.html", "summary.html", "summary.ipynb", "summary.json"} <= set(before)

    second = report.run([ws], as_of="2026-11-12", out=out, notebooks=("summary", "broken"), notebooks_dir=notebooks)
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
    assert not [p for p in out.iterdir() if p.name.startswith(".")], "no staging folder is left behind"
    for page in out.rglob("*.html"):
        text = page.read_text()
        assert not EXTERNAL.search(text), f"{page.name} loads something from another host"
        assert "<script src" not in text


@pytest.mark.slow
def test_bad_workspace_fails_the_run_without_touching_reports(tmp_path, make_workspace, notebooks):
    good = make_workspace({"canary.csv": CANARY}, name="good")
    out = tmp_path / "reports"
    assert report.run([good], out=out, notebooks=("summary",), notebooks_dir=notebooks).ok
    before = folder_digest(out / "support-refunds")
    bad = make_workspace({"canary.csv": CANARY.replace("human", "humn")}, name="bad")
    result = report.run([bad], out=out, notebooks=("summary",), notebooks_dir=notebooks)
    assert not result.ok
    assert "column `arm` has values outside {agent, human}" in result.failed_workspaces["bad"]
    assert folder_digest(out / "support-refunds") == before


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


def test_iso_week_labels():
    import datetime as dt

    assert report.iso_week(dt.date(2026, 11, 22)) == "2026-W47"
    assert report.iso_week(dt.date(2027, 1, 1)) == "2026-W53"
