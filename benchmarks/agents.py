"""A synthetic portfolio for the bench: N agent workspaces from `rolloutkit.synth`, each its own name and seed.

    .venv/bin/python benchmarks/agents.py DIR --agents 20

Agent k (0-based) is scenario `MIX[k % len(MIX)]` renamed `<scenario's agent>-<k>` and drawn with seed k, written
to `DIR/<its name>/`; it prints the last day with data across the portfolio (the `--as-of` to report it at), then
the agents' folder names in the order k, one a line. The
mix repeats every `len(MIX)` agents, so portfolios whose sizes are multiples of it hold the same mix of phases and
their time per agent can be compared; agent k is the same bytes whatever N is.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

from rolloutkit import synth

#: One of each phase: supervised at 100%, mid-canary, rolled back, a low-traffic canary, in shadow.
MIX = ("supervised", "healthy", "regressing", "low_traffic", "shadow_short")


def write(folder: str | Path, agents: int) -> tuple[str, list[str]]:
    """Write `agents` workspaces under `folder`: the last day with data of any of them (YYYY-MM-DD) and their
    folder names in the order k."""
    folder = Path(folder)
    ends, names = [], []
    for k in range(agents):
        base = synth.SCENARIOS[MIX[k % len(MIX)]]
        scenario = dataclasses.replace(base, agent=f"{base.agent}-{k:02d}")
        truth = synth.write_workspace(folder / scenario.agent, scenario, seed=k)
        ends.append(truth.end)
        names.append(scenario.agent)
    return max(ends).isoformat(), names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--agents", type=int, default=20)
    args = parser.parse_args()
    as_of, names = write(args.folder, args.agents)
    print("\n".join([as_of, *names]))


if __name__ == "__main__":
    main()
