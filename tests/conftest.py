"""Shared fixtures: a valid charter mapping, a writer for small workspaces, one local Spark session."""

from __future__ import annotations

import copy
from pathlib import Path

import nbformat
import pytest
import yaml

CHARTER = {
    "agent": "support-refunds",
    "task": "Resolve tier-1 refund requests end to end",
    "owner": "support-ai",
    "success_metric": {"name": "resolution_rate", "noninferiority_margin": 0.02},
    "failure_modes": [
        {"name": "wrong_policy", "max_rate": 0.01, "description": "answer contradicts the refund policy"},
        {"name": "pii_leak", "max_rate": 0},
    ],
    "rollback_triggers": [{"metric": "failure_rate", "failure_mode": "wrong_policy", "above": 0.02}],
    "traffic": {"daily_interactions": 5000},
}


@pytest.fixture
def charter_dict() -> dict:
    return copy.deepcopy(CHARTER)


@pytest.fixture
def make_workspace(tmp_path: Path):
    """Write a charter and tables given as {name: text or polars frame} into a fresh folder."""

    def write(tables: dict | None = None, charter: dict | None = None, name: str = "ws") -> Path:
        folder = tmp_path / name
        folder.mkdir()
        (folder / "charter.yaml").write_text(yaml.safe_dump(charter or CHARTER, sort_keys=False))
        for file_name, content in (tables or {}).items():
            if isinstance(content, str):
                (folder / file_name).write_text(content)
            else:
                content.write_parquet(folder / file_name)
        return folder

    return write


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole run (two cores, four shuffle partitions, no UI)."""
    from rolloutkit import counts

    session = counts.spark_session("local[2]")
    session.conf.set("spark.sql.shuffle.partitions", "4")
    yield session
    session.stop()


def write_notebook(folder: Path, name: str, *cells: str) -> Path:
    """A notebook honouring the report's contract: the tagged parameters cell, then `cells`."""
    folder.mkdir(parents=True, exist_ok=True)
    parameters = nbformat.v4.new_code_cell('workspace: str = ""  # workspace folder\nas_of: str | None = None  # day')
    parameters.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(cells=[parameters, *(nbformat.v4.new_code_cell(c) for c in cells)])
    nb.metadata["kernelspec"] = {"name": "rolloutkit", "display_name": "rolloutkit", "language": "python"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return path
