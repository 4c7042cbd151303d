"""Speed and memory of canary readiness on a large canary table (figures printed, nothing asserted or written).

    .venv/bin/python benchmarks/run.py [--rows 10000000] [--repeat 3]

Builds a temporary workspace (a charter, `flags`, and `rolloutkit.synth.canary_frame(rows)` as one Parquet file)
under the system temp folder, then measures each stage in a fresh subprocess so peak RSS belongs to that stage
alone: table validation (`ws.table`), validation + daily aggregation (`canary_counts`), and the whole
`canary.readiness`. Target: readiness under 3 s and 2 GB peak on a 2-core machine.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from rolloutkit import synth
from rolloutkit.synth.clock import at, datetimes
from rolloutkit.synth.scenarios import DEFAULT_STAGES, SCENARIOS

#: The ladder `synth.canary_frame` draws: 56 days ending on the healthy scenario's last day, stages changing
#: at 09:00 after these holds.
DAYS, HOLDS = 56, (10, 10, 12, 12, 12)

#: A probe, not an API: the tables typed as `ws.table()` types them but without the contract checks, so the
#: peak memory of readiness itself can be told apart from the validation's.
UNVALIDATED = """
import polars as pl
from rolloutkit import tables
for name in ("canary", "flags"):
    contract, raw = tables.CONTRACTS[name], tables.scan(ws.files[name])
    schema = raw.collect_schema()
    ws._cache[name] = raw.with_columns(tables._cast(c, schema[c.name]) for c in contract.columns
                                       if c.name in schema).with_columns(day=pl.col("ts").dt.date())
day = ws.table("canary").select(pl.col("day").max()).collect().item()
"""
#: stage: (untimed setup, timed code). "after validation" times only what readiness adds to `ws.table()`.
STAGES = {
    "validate": ("", "ws.table('canary'); ws.table('flags')"),
    "aggregate": ("", "canary.canary_counts(ws)"),
    "readiness": ("", "canary.readiness(ws)"),
    "after validation": ("ws.table('canary'); ws.table('flags'); day = ws.resolve_as_of(None)",
                         "canary.readiness(ws, as_of=day)"),
    "unvalidated": (UNVALIDATED, "canary.readiness(ws, as_of=day)"),
}
CHILD = """
import json, resource, sys, time
from rolloutkit import canary, load_workspace
ws = load_workspace(sys.argv[1])
{setup}
start = time.perf_counter()
result = {code}
wall = time.perf_counter() - start
decision = getattr(result, "decision", None)
print(json.dumps({{"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                   "decision": decision}}))
"""


def write_workspace(folder: Path, rows: int) -> None:
    sc = SCENARIOS["healthy"]
    charter = synth.charter(sc)
    charter["traffic"] = {"daily_interactions": rows // DAYS}
    (folder / "charter.yaml").write_text(yaml.safe_dump(charter, sort_keys=False))
    synth.canary_frame(rows).write_parquet(folder / "canary.parquet")
    first = sc.end - dt.timedelta(days=DAYS - 1)
    change_days = np.cumsum((0, *HOLDS[:-1]))
    pl.DataFrame([
        datetimes(np.array([at(first + dt.timedelta(days=int(d)), 9) for d in change_days]), "ts"),
        pl.Series("traffic_share", DEFAULT_STAGES, dtype=pl.Float64),
        pl.Series("actor", ["release-bot"] * len(DEFAULT_STAGES)),
        pl.Series("reason", [f"stage {share:.0%}" for share in DEFAULT_STAGES]),
    ]).write_parquet(folder / "flags.parquet")


def measure(folder: Path, stage: str) -> dict:
    """One fresh interpreter running one stage; returns its wall time, peak RSS and decision."""
    setup, code = STAGES[stage]
    out = subprocess.run([sys.executable, "-c", CHILD.format(setup=setup, code=code), str(folder)],
                         capture_output=True, text=True, check=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per stage; the best wall time is shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rolloutkit-bench-") as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        write_workspace(folder, args.rows)
        size = (folder / "canary.parquet").stat().st_size / 2**20
        built = time.perf_counter() - start
        print(f"canary table: {args.rows:,} rows, {size:,.0f} MB Parquet (built in {built:.1f} s)")
        print(f"{'stage':<16} {'best wall':>10} {'peak RSS':>10} {'rows/s':>14}  decision")
        for stage in STAGES:
            runs = [measure(folder, stage) for _ in range(args.repeat)]
            best = min(runs, key=lambda r: r["wall_s"])
            rss = max(r["peak_rss_mb"] for r in runs)
            print(f"{stage:<16} {best['wall_s']:>9.2f}s {rss:>8,.0f}MB {args.rows / best['wall_s']:>14,.0f}  "
                  f"{best['decision'] or '-'}")
        print("(validate = ws.table() contract checks only; aggregate = validate + the daily-count query; "
              "readiness = everything, including resolving as_of; after validation = readiness minus validation "
              "and as_of; unvalidated = readiness on the typed tables without contract checks; peak RSS is the "
              "whole process)")


if __name__ == "__main__":
    main()
