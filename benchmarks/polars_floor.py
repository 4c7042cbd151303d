"""The floor: bare lazy polars doing the pandas script's aggregation (daily counts per arm, failures per mode,
Wilson intervals) over a workspace's canary rows, with no validation. `make bench` holds the readiness command to a
few times this.

    .venv/bin/python benchmarks/polars_floor.py WS

One lazy scan (the folder of parts as one table), one `group_by`, the intervals as expressions, collected once on
the streaming engine. Prints the last day's rows as JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import yaml
from scipy.special import ndtri


def wilson(successes: str, trials: str, confidence: float = 0.95) -> list[pl.Expr]:
    z = float(ndtri(0.5 + confidence / 2))
    n = pl.col(trials).cast(pl.Float64)
    p = pl.col(successes) / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * (p * (1 - p) / n + z * z / (4 * n * n)).sqrt() / (1 + z * z / n)
    return [(centre - half).alias(f"{successes}_lower"), (centre + half).alias(f"{successes}_upper")]


def main(workspace: Path) -> None:
    charter = yaml.safe_load((workspace / "charter.yaml").read_text())
    modes = [m["name"] for m in charter["failure_modes"]]
    table = workspace / "canary"
    rows = (pl.scan_parquet(table / "**" / "*.parquet", hive_partitioning=True) if table.is_dir()
            else pl.scan_parquet(workspace / "canary.parquet"))
    daily = (rows.with_columns(day=pl.col("ts").dt.convert_time_zone(charter.get("timezone", "UTC")).dt.date())
             .group_by("day", "arm")
             .agg(pl.len().alias("n"), pl.col("success").sum().alias("successes"),
                  *[(pl.col("failure_mode") == m).sum().alias(f"fail__{m}") for m in modes])
             .with_columns(*wilson("successes", "n"), *[e for m in modes for e in wilson(f"fail__{m}", "n")])
             .sort("day", "arm")
             .collect(engine="streaming"))
    print(daily.filter(pl.col("day") == daily["day"].max()).write_json())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
