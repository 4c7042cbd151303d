"""Writing an imported table into a workspace: never over an existing table unless asked, never a half-written
file, and read back through the workspace so what was written is what `rolloutkit check` will accept."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import polars as pl

from rolloutkit.errors import RolloutkitError
from rolloutkit.tables import FORMATS, find_table, read_table
from rolloutkit.workspace import load_workspace


def write_table(workspace: str | Path, name: str, frame: pl.DataFrame, *,
                replace: bool) -> tuple[Path, tuple[Path, ...]]:
    """Write `frame` as `<name>.parquet` in the workspace; returns the file and the files of the table it replaced.

    Refuses when the workspace already has the table in any format (`replace=False`), or reads it from elsewhere
    (a `sources.yaml` location, which an import cannot know how to rewrite). The frame is validated against the
    table's contract and the charter before anything in the workspace changes.
    """
    ws = load_workspace(workspace)
    own = [ws.path / f"{name}{ext}" for ext in FORMATS] + [ws.path / name]
    existing = find_table(ws.path, name)
    if existing is None and ws.has(name):
        raise RolloutkitError(f"{ws.path}: the `{name}` table is read from another location (sources.yaml); "
                              f"remove that location from sources.yaml before importing `{name}`")
    if existing is not None and not replace:
        raise RolloutkitError(f"{ws.path}: already has a `{name}` table ({existing.name}); pass --replace to "
                              "overwrite it")
    target = ws.path / f"{name}.parquet"
    with tempfile.TemporaryDirectory(dir=ws.path, prefix=f".{name}-import-") as staging:
        staged = Path(staging) / target.name
        frame.write_parquet(staged)
        read_table(staged, name, failure_modes=ws.charter.failure_mode_names, timezone=ws.charter.timezone).collect()
        replaced = tuple(p for p in own if p.exists())
        for old in replaced:
            if old.is_dir():
                shutil.rmtree(old)
            elif old != target:
                old.unlink()
        os.replace(staged, target)
    load_workspace(ws.path).table(name).collect()
    return target, replaced
