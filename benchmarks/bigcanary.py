"""The benchmark workspace: a large canary table in day-partitioned Parquet parts, as a warehouse export lands.

    .venv/bin/python benchmarks/bigcanary.py DIR [--rows 10000000] [--days 28]

`DIR/charter.yaml` (the healthy scenario's charter, traffic scaled to the rows), `DIR/flags.parquet` (one stage of
the default ladder per week, at 09:00) and `DIR/canary/date=YYYY-MM-DD/part-0.parquet`, one part per day, written
day by day so that building 10M rows never holds more than a day's temporaries. Text columns are plain strings,
as an export has them. The same seed gives the same rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import numpy as np
import polars as pl
import yaml

from rolloutkit import synth
from rolloutkit.synth.canary import live_rows, session_numbers
from rolloutkit.synth.clock import DAY_US, arrivals, at, datetimes, step_lookup

#: Each stage holds a week (the charter's minimum hold), starting at 09:00.
HOLD_DAYS = 7
CHARTER_KEYS = ("agent", "task", "owner", "risk_tier", "timezone", "success_metric", "failure_modes",
                "rollback_triggers", "traffic", "shadow", "canary", "guardrails", "supervision")


def write(folder: str | Path, *, rows: int = 10_000_000, days: int = 28, seed: int = 0) -> Path:
    """Write the workspace into `folder` (created); returns it."""
    folder = Path(folder)
    (folder / "canary").mkdir(parents=True, exist_ok=True)
    sc = synth.SCENARIOS["healthy"]
    first = sc.end - dt.timedelta(days=days - 1)
    stages = list(synth.charter(sc)["canary"]["stages"])
    n_stages = min(len(stages), -(-days // HOLD_DAYS))
    change = np.array([at(first + dt.timedelta(days=HOLD_DAYS * k), 9) for k in range(n_stages)], dtype=np.int64)
    shares = np.array(stages[:n_stages], dtype=np.float64)

    # The charter keys every rolloutkit has read, so older checkouts can be measured on the same workspace.
    charter = {k: v for k, v in synth.charter(sc).items() if k in CHARTER_KEYS}
    charter["traffic"] = {"daily_interactions": rows // days}
    (folder / "charter.yaml").write_text(yaml.safe_dump(charter, sort_keys=False))
    pl.DataFrame([
        datetimes(change, "ts"),
        pl.Series("traffic_share", shares),
        pl.Series("actor", ["release-bot"] * n_stages),
        pl.Series("reason", [f"canary stage {k + 1}: {s:.0%}" for k, s in enumerate(shares)]),
    ]).write_parquet(folder / "flags.parquet")

    rng = np.random.default_rng(seed)
    ts = arrivals(rng, first, days, total=rows)
    share = step_lookup(change, shares, ts, before=shares[0])
    rates = np.array([[f.agent_rate] for f in sc.failure_modes])
    session = session_numbers(rng, ts.size)
    bounds = np.searchsorted(ts, [at(first + dt.timedelta(days=d), 0) for d in range(days + 1)])
    for d in range(days):
        lo, hi = int(bounds[d]), int(bounds[d + 1])
        part = folder / "canary" / f"date={first + dt.timedelta(days=d)}"
        part.mkdir(exist_ok=True)
        live_rows(sc, rng, ts[lo:hi], share[lo:hi], rates, prefix="cn-", first_id=lo + 1,
                  session=session[lo:hi]).write_parquet(part / "part-0.parquet")
    assert bounds[-1] == ts.size and ts[-1] < at(first, 0) + days * DAY_US
    return folder


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    write(args.folder, rows=args.rows, days=args.days, seed=args.seed)


if __name__ == "__main__":
    main()
