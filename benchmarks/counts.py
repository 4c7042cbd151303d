"""Speed and memory of daily counts (`canary_daily`) from 10M and 100M canary rows, polars vs DuckDB.

    .venv/bin/python benchmarks/counts.py [--rows 10000000 100000000] [--engines polars duckdb] [--repeat 1]
                                          [--data DIR] [--duckdb-memory 3GB]

Builds a workspace per size under the system temp folder (or DIR, kept for the next run): the `healthy` charter in
America/New_York (the window crosses the end of DST), its flags, and `rolloutkit.synth.canary_frame` rows written as
Parquet parts of 10M rows (ids and sessions made unique per part). Each measurement runs `rolloutkit.counts.compute`
with the rows as `--source` in a fresh interpreter, so wall time and peak RSS belong to that engine alone. Figures
are printed, nothing is asserted. Target: 100M rows with DuckDB within 60 s and 4 GB on 2 cores.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import yaml

from rolloutkit import synth
from rolloutkit.synth.canary import FRAME_DAYS
from rolloutkit.synth.scenarios import SCENARIOS

PART = 10_000_000
CHILD = """
import json, resource, sys, time
from rolloutkit import counts, load_workspace
ws = load_workspace(sys.argv[1])
start = time.perf_counter()
found = counts.compute(ws, engine=sys.argv[2], source=sys.argv[3], duckdb_memory=sys.argv[4] or None)
wall = time.perf_counter() - start
print(json.dumps({"wall_s": wall, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "rows": found.rows, "counts": found.frame.height, "n": int(found.frame["n"].sum())}))
"""


def write_workspace(folder: Path, rows: int) -> Path:
    """A workspace with charter and flags, and its canary rows as Parquet parts in `folder/rows/`."""
    parts = folder / "rows"
    if (folder / "done").exists():
        return parts
    parts.mkdir(parents=True, exist_ok=True)
    charter = synth.charter(SCENARIOS["healthy"])
    charter["timezone"] = "America/New_York"
    charter["traffic"] = {"daily_interactions": rows // FRAME_DAYS}
    (folder / "charter.yaml").write_text(yaml.safe_dump(charter, sort_keys=False))
    synth.canary_frame_flags().write_parquet(folder / "flags.parquet")
    for i in range(-(-rows // PART)):
        size = min(PART, rows - i * PART)
        frame = synth.canary_frame(size, seed=i).with_columns(
            pl.concat_str(pl.lit(f"p{i}-"), "interaction_id").alias("interaction_id"),
            pl.concat_str(pl.lit(f"p{i}-"), "session_id").alias("session_id"))
        frame.write_parquet(parts / f"part-{i:03d}.parquet")
        del frame
    (folder / "done").touch()
    return parts


def measure(folder: Path, engine: str, source: Path, memory: str) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, str(folder), engine, str(source), memory],
                         capture_output=True, text=True, env={**os.environ, "PYTHONHASHSEED": "0"})
    if out.returncode:
        return {"error": (out.stderr.strip().splitlines() or ["failed"])[-1]}
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[10_000_000, 100_000_000])
    parser.add_argument("--engines", nargs="+", default=["polars", "duckdb"], choices=["polars", "duckdb", "spark"])
    parser.add_argument("--repeat", type=int, default=1, help="runs per engine and size; the best wall time is shown")
    parser.add_argument("--data", type=Path, help="keep the generated workspaces here (default: a temp folder)")
    parser.add_argument("--duckdb-memory", default="3GB", help="DuckDB's memory limit (default: 3GB, as the CLI)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rolloutkit-bench-counts-") as tmp:
        root = args.data or Path(tmp)
        print(f"{'rows':>12} {'engine':<8} {'best wall':>10} {'peak RSS':>10} {'rows/s':>14} {'counts':>7}")
        for rows in args.rows:
            folder = root / f"canary-{rows}"
            start = time.perf_counter()
            source = write_workspace(folder, rows)
            size = sum(p.stat().st_size for p in source.glob("*.parquet")) / 2**20
            print(f"{rows:>12,} rows: {size:,.0f} MB of Parquet in {len(list(source.glob('*.parquet')))} part(s) "
                  f"(ready in {time.perf_counter() - start:.0f} s)")
            for engine in args.engines:
                runs = [measure(folder, engine, source, args.duckdb_memory) for _ in range(args.repeat)]
                failed = [r for r in runs if "error" in r]
                if failed:
                    print(f"{rows:>12,} {engine:<8} failed: {failed[0]['error']}")
                    continue
                best = min(runs, key=lambda r: r["wall_s"])
                assert best["rows"] == rows, best
                rss = max(r["peak_rss_mb"] for r in runs)
                print(f"{rows:>12,} {engine:<8} {best['wall_s']:>9.1f}s {rss:>8,.0f}MB "
                      f"{rows / best['wall_s']:>14,.0f} {best['counts']:>7,}")
        print("(wall = counts.compute from the Parquet parts: the profile pass — rows, span, rule checks — then the "
              "aggregation; peak RSS is the whole process)")


if __name__ == "__main__":
    main()
