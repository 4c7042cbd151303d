"""End to end: the weekly run over the committed demo workspaces, through papermill, as `make report` does it.

nbval alone misses failures that only break papermill runs (parameter injection, the kernel, HTML export).
"""

from __future__ import annotations

import json
import re

import pytest

from rolloutkit import paths, report
from rolloutkit.memo import NOTEBOOKS, TITLES

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)
MAX_PAGE_BYTES = 2 * 1024 * 1024


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return out, report.run([paths.DEMO_DIR], out=out, jobs=2)


@pytest.mark.slow
def test_every_notebook_renders_for_every_demo_agent(rendered):
    out, result = rendered
    failures = [f"{r.agent}/{r.notebook}: {r.error}" for r in result.runs if r.status != "ok"]
    assert not failures
    assert result.ok
    agents = {p.name for p in paths.DEMO_DIR.iterdir() if (p / "charter.yaml").exists()}
    assert {r.agent for r in result.runs} == agents
    for week in result.weeks:
        assert {f"{nb}.html" for nb in NOTEBOOKS} | {"index.html", "summary.json"} <= {p.name for p in week.iterdir()}


@pytest.mark.slow
def test_pages_are_self_contained_and_small(rendered):
    out, _ = rendered
    pages = list(out.rglob("*.html"))
    assert len(pages) > 10
    for page in pages:
        text = page.read_text()
        assert not EXTERNAL.search(text), f"{page} references another host"
        assert "<script src" not in text
        assert page.stat().st_size < MAX_PAGE_BYTES, f"{page} is {page.stat().st_size:,} bytes"


@pytest.mark.slow
def test_summary_json_carries_every_phase_decision(rendered):
    out, result = rendered
    for week in result.weeks:
        summary = json.loads((week / "summary.json").read_text())
        assert set(summary["decisions"]) == set(TITLES)
        assert all(d["status"] != "error" for d in summary["decisions"].values()), summary["decisions"]
    portfolio = (out / "index.html").read_text()
    assert all(f"{week.parent.name}/{week.name}/index.html" in portfolio for week in result.weeks)
