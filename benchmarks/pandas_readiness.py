"""The pandas script an analyst writes instead of rolloutkit: daily counts per arm, failures per mode and Wilson
intervals from a workspace's canary rows, with no validation. One of the two yardsticks `make bench` measures the
readiness command against.

    .venv/bin/python benchmarks/pandas_readiness.py WS

Written the usual way: `pd.read_parquet` of the whole table (a folder of parts reads as one frame), a local day from
the timestamps, one `groupby`, the intervals vectorised. Prints the last day's rows as JSON.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from scipy.stats import norm


def wilson(successes: pd.Series, trials: pd.Series, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    z = norm.ppf(0.5 + confidence / 2)
    n = trials.to_numpy(dtype=float)
    p = successes.to_numpy(dtype=float) / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def main(workspace: Path) -> None:
    charter = yaml.safe_load((workspace / "charter.yaml").read_text())
    modes = [m["name"] for m in charter["failure_modes"]]
    table = workspace / "canary"
    df = pd.read_parquet(table if table.is_dir() else workspace / "canary.parquet")
    df["day"] = df["ts"].dt.tz_convert(charter.get("timezone", "UTC")).dt.normalize()
    for mode in modes:
        df[f"fail__{mode}"] = df["failure_mode"] == mode
    daily = (df.groupby(["day", "arm"])
             .agg(n=("success", "size"), successes=("success", "sum"),
                  **{f"fail__{m}": (f"fail__{m}", "sum") for m in modes})
             .reset_index())
    daily["success_lower"], daily["success_upper"] = wilson(daily["successes"], daily["n"])
    for mode in modes:
        daily[f"fail__{mode}_lower"], daily[f"fail__{mode}_upper"] = wilson(daily[f"fail__{mode}"], daily["n"])
    last = daily[daily["day"] == daily["day"].max()]
    print(last.to_json(orient="records", date_format="iso"))


if __name__ == "__main__":
    main(Path(sys.argv[1]))
