"""`make bench`: rolloutkit beside the pandas script and the bare polars floor, start-up, the weekly run of the demo
and the largest page, in one table with ratios (figures printed, nothing asserted).

    .venv/bin/python benchmarks/run.py [--rows 10000000] [--days 28] [--repeat 5] [--before DIR] [--tree NAME=DIR]
                                       [--data DIR] [--weekly-repeat 1] [--portfolio 5,10,20 [--portfolio-repeat 1]]

Every figure is a whole process, started fresh: wall is the median of `--repeat` runs, peak RSS the largest sum of
the resident memory of the process and all its children seen during any run (sampled every 5 ms for the first
second, every 50 ms after, and never below
the kernel's own peak for the process). The big workspace (`bigcanary.py`: 10M canary rows in 28 day-partitioned
Parquet parts) is built once under the system temp folder, or taken from `--data`.

`--before DIR` measures another checkout (e.g. a git worktree of an older commit) in the same run, and `--tree
NAME=DIR` any number more; each repetition of each command alternates between the trees, so all columns share the
machine's conditions. A tree is run as `rolloutkit`/`python` with `PYTHONPATH=DIR` from a neutral folder, so the
checkout's package wins over the installed one. The pandas and polars scripts do not depend on the tree and are
measured once. `--weekly-repeat 0` skips the weekly run (and so the largest page).

`--portfolio 5,10,20` (off by default: about 40 s an agent on 2 cores, so 5+10+20 agents take about 25 minutes)
also times `rolloutkit report DIR --jobs 2` on synthetic portfolios of that many agents (`agents.py`: a mix of
five phases repeating, each agent its own name and seed) and prints the wall per size, the seconds per agent, and
the per-agent time at the largest size over the smallest: a portfolio that grows linearly keeps it near 1×.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
PROJECT = HERE.parent
DEMO_AS_OF = "2026-11-22"
#: (label, target as text, check on the ratio or value)
TARGETS = {
    "readiness / polars floor": ("≤ 3×", lambda r: r <= 3),
    "readiness / pandas": ("≤ 0.4×", lambda r: r <= 0.4),
    "readiness peak": ("≤ 500 MB", lambda mb: mb <= 500),
    "import rolloutkit / import polars, scipy.stats": ("≤ 1.25×", lambda r: r <= 1.25),
    "weekly run": ("≤ 45 s", lambda s: s <= 45),
    "largest page": ("≤ 250 KB", lambda kb: kb <= 250),
}


@dataclass
class Runs:
    walls: list[float] = field(default_factory=list)
    peak_mb: float = 0.0
    outputs: list[str] = field(default_factory=list)

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)


def measure(cmd: list[str], *, env: dict[str, str], cwd: Path, ok_codes: tuple[int, ...] = (0,)
            ) -> tuple[float, float, str]:
    """Run `cmd` once: wall seconds, peak RSS of its process tree in MB, and its stdout. An exit code outside
    `ok_codes` stops the bench with the ends of both outputs."""
    with tempfile.TemporaryFile() as out:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.PIPE, env=env, cwd=cwd)
        root = psutil.Process(proc.pid)
        peak = 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            try:
                tree = [root, *root.children(recursive=True)]
                peak = max(peak, sum(_rss(p) for p in tree))
            except psutil.NoSuchProcess:
                pass
            # every 5 ms for the first second, then every 50 ms: each look walks every process on the machine,
            # which at 5 ms took a tenth of the CPU a 40 s weekly run has (its kernels come and go for seconds)
            time.sleep(0.005 if time.perf_counter() - start < 1 else 0.05)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        stderr = proc.stderr.read().decode(errors="replace")
        proc.stderr.close()
        out.seek(0)
        stdout = out.read().decode(errors="replace")
    if proc.returncode not in ok_codes:
        raise SystemExit(f"{' '.join(cmd)} exited with {proc.returncode}:\n{stderr[-2000:]}\n{stdout[-2000:]}")
    return wall, max(peak, usage.ru_maxrss * 1024) / 2**20, stdout


def _rss(process: psutil.Process) -> int:
    try:
        return process.memory_info().rss
    except psutil.Error:
        return 0


@dataclass(frozen=True)
class Tree:
    """A checkout to measure: its package on PYTHONPATH, its demo data."""

    name: str
    root: Path

    def env(self) -> dict[str, str]:
        # The tree's own package first; no cache or report-run settings leak in from the caller's shell.
        env = {k: v for k, v in os.environ.items() if not k.startswith("ROLLOUTKIT_")}
        return {**env, "PYTHONPATH": str(self.root), "PYTHONHASHSEED": "0"}


def commands(tree: Tree, big: Path, scratch: Path) -> dict[str, list[str]]:
    python, cli = sys.executable, str(Path(sys.executable).with_name("rolloutkit"))
    demo = tree.root / "data" / "demo"
    return {
        "readiness": [cli, "readiness", str(big), "--json"],
        "import rolloutkit": [python, "-c", "import rolloutkit"],
        "rolloutkit --help": [cli, "--help"],
        "rolloutkit check": [cli, "check", str(demo / "support-refunds")],
        "weekly run": [cli, "report", str(demo), "--as-of", DEMO_AS_OF, "--out", str(scratch / tree.name / "reports"),
                       "--jobs", "2"],
    }


def portfolio_sizes(text: str) -> list[int]:
    """`--portfolio 5,10,20` → [5, 10, 20] (sorted, each at least 1)."""
    try:
        sizes = sorted({int(part) for part in text.split(",") if part.strip()})
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected agent counts such as 5,10,20, got {text!r}") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError(f"expected agent counts of at least 1, such as 5,10,20, got {text!r}")
    return sizes


def measure_portfolios(trees: list[Tree], sizes: list[int], repeat: int, scratch: Path,
                       neutral: Path) -> tuple[dict[tuple[str, int], Runs], str]:
    """Build the largest portfolio once; each size is a folder linking its first N agents. Every repetition runs
    each size on each tree into a fresh output folder. Returns the runs and the day reported."""
    built = scratch / "agents"
    started = time.perf_counter()
    listing = subprocess.run([sys.executable, str(HERE / "agents.py"), str(built / "all"), "--agents",
                              str(sizes[-1])], check=True, cwd=PROJECT, capture_output=True, text=True).stdout
    as_of, *names = listing.split()
    print(f"built {sizes[-1]} synthetic agents ({time.perf_counter() - started:.0f} s), reported as of {as_of}",
          file=sys.stderr)
    for size in sizes:
        folder = built / f"n{size}"
        folder.mkdir()
        for name in names[:size]:
            (folder / name).symlink_to(built / "all" / name, target_is_directory=True)
    cli = str(Path(sys.executable).with_name("rolloutkit"))
    results: dict[tuple[str, int], Runs] = {}
    for _ in range(repeat):
        for size in sizes:
            for tree in trees:
                out = scratch / "portfolio-out" / tree.name / f"n{size}"
                shutil.rmtree(out, ignore_errors=True)
                cmd = [cli, "report", str(built / f"n{size}"), "--as-of", as_of, "--jobs", "2", "--out", str(out)]
                # exit 1: the run finished but a notebook failed; timed all the same, its FAILED lines shown
                wall, peak, out_text = measure(cmd, env=tree.env(), cwd=neutral, ok_codes=(0, 1))
                runs = results.setdefault((tree.name, size), Runs())
                runs.outputs += [line for line in out_text.splitlines() if line.startswith("FAILED")]
                runs.walls.append(wall)
                runs.peak_mb = max(runs.peak_mb, peak)
                print(f"  portfolio of {size}: {tree.name} {wall:.1f} s ({wall / size:.1f} s an agent)",
                      file=sys.stderr)
    return results, as_of


def portfolio_report(results: dict[tuple[str, int], Runs], trees: list[Tree], sizes: list[int], repeat: int,
                     as_of: str) -> None:
    names = [t.name for t in trees]
    print(f"\nportfolio: rolloutkit report DIR --as-of {as_of} --jobs 2 on N synthetic agents (benchmarks/agents.py), "
          f"median of {repeat} runs")
    head = f"{'agents':<10}" + "".join(f"{name + ' wall':>15}{name + ' peak':>17}{name + ' s/agent':>17}"
                                       for name in names)
    print(head)
    print("-" * len(head))
    for size in sizes:
        cells = []
        for name in names:
            runs = results[(name, size)]
            cells.append(f"{runs.wall:>15.1f}{runs.peak_mb:>14,.0f} MB{runs.wall / size:>17.2f}")
        print(f"{size:<10}" + "".join(cells))
    for name in names:
        small, large = (results[(name, n)].wall / n for n in (sizes[0], sizes[-1]))
        print(f"({name}: s/agent at {sizes[-1]} agents / at {sizes[0]}: {large / small:.2f}×; "
              "linear growth keeps it near 1×)")
        for size in sizes:
            for line in results[(name, size)].outputs:
                print(f"({name}, {size} agents: {line[:300]})")


def largest_page_kb(folder: Path) -> tuple[float, str]:
    pages = sorted(folder.rglob("*.html"), key=lambda p: p.stat().st_size)
    return pages[-1].stat().st_size / 1024, str(pages[-1].relative_to(folder))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=28)
    parser.add_argument("--repeat", type=int, default=5, help="runs per command; the median wall is shown")
    parser.add_argument("--weekly-repeat", type=int, default=1, help="runs of the weekly report (slow)")
    parser.add_argument("--before", type=Path, help="another checkout to measure side by side (e.g. /tmp/base)")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=DIR",
                        help="a further checkout to measure side by side, shown as NAME")
    parser.add_argument("--data", type=Path, help="a big workspace built earlier by bigcanary.py (kept)")
    parser.add_argument("--portfolio", type=portfolio_sizes, metavar="N,N,...",
                        help="also time the weekly run of synthetic portfolios of these sizes (slow: ~40 s an agent)")
    parser.add_argument("--portfolio-repeat", type=int, default=1, help="runs of each portfolio size")
    args = parser.parse_args()
    if args.repeat < 1 or args.weekly_repeat < 0 or args.portfolio_repeat < 1:
        parser.error("--repeat and --portfolio-repeat must be at least 1, --weekly-repeat at least 0 (0 skips "
                     "the weekly run)")

    trees = ([Tree("before", args.before.resolve())] if args.before else []) + [Tree("after", PROJECT)]
    trees += [Tree(name, Path(folder).resolve()) for name, _, folder in (t.partition("=") for t in args.tree)]
    with tempfile.TemporaryDirectory(prefix="rolloutkit-bench-") as tmp:
        scratch = Path(tmp)
        big = args.data or scratch / "big"
        if not (big / "charter.yaml").is_file():
            started = time.perf_counter()
            subprocess.run([sys.executable, str(HERE / "bigcanary.py"), str(big), "--rows", str(args.rows),
                            "--days", str(args.days)], check=True, cwd=PROJECT)
            print(f"built {big}: {args.rows:,} canary rows in {args.days} day parts "
                  f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        size = sum(p.stat().st_size for p in (big / "canary").rglob("*.parquet")) / 2**20
        neutral = scratch / "cwd"
        neutral.mkdir()

        shared = {
            "pandas script": [sys.executable, str(HERE / "pandas_readiness.py"), str(big)],
            "polars floor": [sys.executable, str(HERE / "polars_floor.py"), str(big)],
            "import polars, scipy.stats": [sys.executable, "-c", "import polars, scipy.stats"],
        }
        results: dict[tuple[str, str], Runs] = {}
        base_env = Tree("shared", PROJECT).env()
        for label, cmd in shared.items():
            runs = results[("shared", label)] = Runs()
            for _ in range(args.repeat):
                wall, peak, _ = measure(cmd, env=base_env, cwd=neutral)
                runs.walls.append(wall)
                runs.peak_mb = max(runs.peak_mb, peak)
            print(f"  {label}: {runs.wall:.2f} s", file=sys.stderr)
        per_tree = {tree.name: commands(tree, big, scratch) for tree in trees}
        for label in per_tree[trees[-1].name]:
            repeat = args.weekly_repeat if label == "weekly run" else args.repeat
            if repeat < 1:  # skipped (`--weekly-repeat 0`): the table says so
                print(f"  {label}: skipped", file=sys.stderr)
                continue
            for _ in range(repeat):
                for tree in trees:
                    wall, peak, out = measure(per_tree[tree.name][label], env=tree.env(), cwd=neutral)
                    runs = results.setdefault((tree.name, label), Runs())
                    runs.walls.append(wall)
                    runs.peak_mb = max(runs.peak_mb, peak)
                    runs.outputs.append(out)
            print(f"  {label}: " + ", ".join(f"{t.name} {results[(t.name, label)].wall:.2f} s" for t in trees),
                  file=sys.stderr)
        pages = ({tree.name: largest_page_kb(scratch / tree.name / "reports") for tree in trees}
                 if args.weekly_repeat > 0 else {})
        decisions = {tree.name: json.loads(results[(tree.name, "readiness")].outputs[0])["decision"] for tree in trees}
        report(results, pages, decisions, trees, args, size)
        if args.portfolio:
            timed, as_of = measure_portfolios(trees, args.portfolio, args.portfolio_repeat, scratch, neutral)
            portfolio_report(timed, trees, args.portfolio, args.portfolio_repeat, as_of)


def report(results: dict[tuple[str, str], Runs], pages: dict[str, tuple[float, str]], decisions: dict[str, str],
           trees: list[Tree], args: argparse.Namespace, size_mb: float) -> None:
    """Print the table. A command that was not run (the weekly run with `--weekly-repeat 0`) and the figures
    that need it (the largest page) show as "skipped"."""
    names = [t.name for t in trees]
    head = f"{'':<52}" + "".join(f"{name + ' wall':>15}{name + ' peak':>17}" for name in names)
    print(f"\nrolloutkit bench: {args.rows:,} canary rows in {args.days} Parquet parts ({size_mb:,.0f} MB), "
          f"median of {args.repeat} runs (weekly run: {args.weekly_repeat or 'skipped'}), peak RSS of the process tree")
    print(head)
    print("-" * len(head))

    def row(label: str, cells: list[str]) -> None:
        print(f"{label:<52.52}" + "".join(f"{c:>15}" if i % 2 == 0 else f"{c:>17}" for i, c in enumerate(cells)))

    def runs_of(name: str, label: str) -> Runs | None:
        return results.get((name, label)) or results.get(("shared", label))

    def timed(label: str, shown: str | None = None) -> None:
        cells = []
        for name in names:
            runs = runs_of(name, label)
            cells += [f"{runs.wall:.2f} s", f"{runs.peak_mb:,.0f} MB"] if runs else ["skipped", ""]
        row(shown or label, cells)

    def ratio(label: str, value: dict[str, float | None], unit: str = "×") -> None:
        target, ok = TARGETS[label]
        cells = []
        for name in names:
            v = value.get(name)
            if v is None:
                cells += ["skipped", f"   {target}"]
                continue
            text = f"{v:.2f}{unit}" if unit == "×" else f"{v:,.0f}{unit}"
            cells += [text, ("ok" if ok(v) else "MISSED") + f" {target}"]
        row(f"  {label}", cells)

    wall = {name: {label: runs.wall if (runs := runs_of(name, label)) else None
                   for label in ("readiness", "pandas script", "polars floor", "import rolloutkit",
                                 "import polars, scipy.stats", "weekly run")} for name in names}
    timed("readiness", "rolloutkit readiness WS --json")
    timed("pandas script", "pandas script (benchmarks/pandas_readiness.py)")
    timed("polars floor", "bare lazy polars (benchmarks/polars_floor.py)")
    ratio("readiness / polars floor", {n: wall[n]["readiness"] / wall[n]["polars floor"] for n in names})
    ratio("readiness / pandas", {n: wall[n]["readiness"] / wall[n]["pandas script"] for n in names})
    ratio("readiness peak", {n: results[(n, "readiness")].peak_mb for n in names}, " MB")
    timed("import rolloutkit", 'python -c "import rolloutkit"')
    timed("import polars, scipy.stats", 'python -c "import polars, scipy.stats"')
    ratio("import rolloutkit / import polars, scipy.stats",
          {n: wall[n]["import rolloutkit"] / wall[n]["import polars, scipy.stats"] for n in names})
    timed("rolloutkit --help")
    timed("rolloutkit check", "rolloutkit check (demo support-refunds)")
    timed("weekly run", "weekly run: report data/demo --jobs 2 (18 nbs)")
    ratio("weekly run", {n: wall[n]["weekly run"] for n in names}, " s")
    row("largest page", [c for n in names for c in (f"{pages[n][0]:,.0f} KB" if n in pages else "skipped", "")])
    ratio("largest page", {n: pages[n][0] if n in pages else None for n in names}, " KB")
    for name in names:
        largest = pages[name][1] if name in pages else "not measured (weekly run skipped)"
        print(f"({name}: readiness decided {decisions[name]}; largest page {largest})")


if __name__ == "__main__":
    main()
