"""The bench script's table without running the bench: a skipped weekly run, and the --portfolio sizes."""

from __future__ import annotations

import argparse
import importlib.util
import sys

import pytest

from rolloutkit import paths

_SPEC = importlib.util.spec_from_file_location("bench_run", paths.PROJECT_DIR / "benchmarks" / "run.py")
bench = sys.modules["bench_run"] = importlib.util.module_from_spec(_SPEC)  # dataclasses look it up
_SPEC.loader.exec_module(bench)


def _runs(wall: float) -> bench.Runs:
    return bench.Runs(walls=[wall], peak_mb=100.0)


def test_the_table_says_skipped_for_the_weekly_run_and_the_largest_page(capsys):
    shared = ("pandas script", "polars floor", "import polars, scipy.stats")
    results = {("shared", label): _runs(2.0) for label in shared}
    results |= {("after", label): _runs(1.0) for label in ("readiness", "import rolloutkit", "rolloutkit --help",
                                                             "rolloutkit check")}
    args = argparse.Namespace(rows=1000, days=28, repeat=1, weekly_repeat=0)
    bench.report(results, {}, {"after": "expand"}, [bench.Tree("after", paths.PROJECT_DIR)], args, 1.0)
    lines = capsys.readouterr().out.splitlines()
    weekly = [line for line in lines if line.startswith(("weekly run", "  weekly run", "largest page",
                                                         "  largest page"))]
    assert len(weekly) == 4 and all("skipped" in line for line in weekly)
    assert any(line.startswith("  readiness / polars floor") and "0.50×" in line for line in lines)


def test_portfolio_sizes():
    assert bench.portfolio_sizes("20,5,10") == [5, 10, 20]
    for bad in ("", "0,5", "five"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.portfolio_sizes(bad)
