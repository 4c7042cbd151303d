"""Notebook hygiene (docs/notebooks.md): thin, parameterized, committed without outputs, run in our kernel."""

from __future__ import annotations

import re

import nbformat
import pytest
from papermill.translators import PythonTranslator

from rolloutkit import paths
from rolloutkit.memo import NOTEBOOKS

PAGES = sorted(paths.NOTEBOOKS_DIR.glob("*.ipynb"))


def test_every_report_page_has_a_notebook():
    assert {p.stem for p in PAGES} == set(NOTEBOOKS)


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_notebook_is_thin_parameterized_and_stripped(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "parameters" in code[0].metadata.get("tags", [])
    assert code[0].source.splitlines() == [
        'workspace: str = ""  # workspace folder; empty means the demo workspace',
        'as_of: "Optional[str]" = None  # last day of the report, YYYY-MM-DD; None means the last day with data',
    ]
    assert nb.metadata.kernelspec.name == "rolloutkit"
    assert all(not c.outputs and c.execution_count is None for c in code), "commit notebooks without outputs"
    assert not any(re.search(r"^\s*(def|class)\s", c.source, re.M) for c in code), "move functions to the package"
    assert not any(re.search(r"""["'](\.\./|data/|notebooks/)""", c.source) for c in code), "use rolloutkit.paths"


@pytest.mark.parametrize("path", PAGES, ids=[p.stem for p in PAGES])
def test_papermill_sees_every_parameter(path):
    # papermill's parser takes `Optional[str]` but not `str | None`: with the latter `--help-notebook` lists only
    # `workspace` and every run logs "Unable to parse line 2"
    found = {p.name: p for p in PythonTranslator.inspect(nbformat.read(path, as_version=4).cells[0])}
    assert (found["workspace"].inferred_type_name, found["workspace"].default) == ("str", '""')
    assert (found["as_of"].inferred_type_name, found["as_of"].default) == ("Optional[str]", "None")
