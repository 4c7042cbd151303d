"""The `rolloutkit` command. Exit 0 on success, 1 on invalid input (message on stderr), 2 on a usage error."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from rolloutkit import paths
from rolloutkit.errors import RolloutkitError


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help(sys.stderr)
        return 2
    try:
        return args.handler(args)
    except RolloutkitError as exc:
        print(f"rolloutkit {args.command}: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`rolloutkit plan WS | head`): stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="rolloutkit", description="Measured decisions for rolling an AI agent out to production traffic.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    report = sub.add_parser("report", help="render the weekly HTML report of one or more workspaces")
    report.add_argument("workspaces", nargs="*", type=Path, metavar="WS",
                        help=f"workspace folders, or folders of workspaces (default: {paths.DEMO_DIR})")
    report.add_argument("--as-of", help="last day of the reported week, YYYY-MM-DD (default: last day with data)")
    report.add_argument("--out", type=Path, default=None, help=f"output folder (default: {paths.REPORTS_DIR})")
    report.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default: 2)")
    report.set_defaults(handler=_report)

    check = sub.add_parser("check", help="validate a workspace and print its inventory")
    check.add_argument("workspace", type=Path, metavar="WS")
    check.set_defaults(handler=_check)

    for name, help_text in (("readiness", "today's canary decision: expand, hold or roll back"),
                            ("shadow", "the shadow gate: ready for canary, continue shadow or not ready")):
        cmd = sub.add_parser(name, help=help_text)
        cmd.add_argument("workspace", type=Path, metavar="WS")
        cmd.add_argument("--as-of", help="decide as of this day, YYYY-MM-DD (default: last day with data)")
        cmd.add_argument("--json", action="store_true", help="print the decision as JSON")
        cmd.set_defaults(handler=_readiness if name == "readiness" else _shadow)

    plan = sub.add_parser("plan", help="the sample-size-driven rollout plan")
    plan.add_argument("workspace", type=Path, metavar="WS")
    plan.add_argument("--start", help="plan start day, YYYY-MM-DD (default: first day with data, else today)")
    plan.add_argument("--as-of", help="plan from the rows dated on or before this day (default: last day with data)")
    plan.add_argument("--json", action="store_true", help="print the plan as JSON")
    plan.set_defaults(handler=_plan)

    sample = sub.add_parser("sample", help="draw a stratified review sample of a shadow week")
    sample.add_argument("workspace", type=Path, metavar="WS")
    sample.add_argument("--week", required=True, help="ISO week, e.g. 2026-W45")
    sample.add_argument("--size", type=int, default=None, help="sample size (default: the charter's reviews_per_week)")
    sample.add_argument("--seed", type=int, default=0, help="random seed (same seed, same sample)")
    sample.add_argument("--out", type=Path, default=None, help="CSV to write (default: print to stdout)")
    sample.set_defaults(handler=_sample)

    demo = sub.add_parser("demo", help="write a synthetic workspace with known true rates")
    demo.add_argument("directory", type=Path, metavar="DIR")
    demo.add_argument("--seed", type=int, default=0)
    demo.add_argument("--scenario", default="healthy", help="healthy, regressing, low_traffic, ... (see synth)")
    demo.set_defaults(handler=_demo)

    imports = sub.add_parser("import", help="build a workspace table from another tool's export")
    kinds = imports.add_subparsers(dest="kind", metavar="KIND", required=True)
    flags = kinds.add_parser("flags", help="the flags table from a flag platform's change history")
    flags.add_argument("workspace", type=Path, metavar="WS")
    flags.add_argument("files", nargs="+", type=Path, metavar="FILE",
                       help="JSON as the platform's API returned it (see docs/importers.md)")
    flags.add_argument("--from", dest="platform", required=True, choices=("launchdarkly", "unleash", "growthbook"))
    flags.add_argument("--flag", required=True, metavar="KEY", help="the flag's key")
    flags.add_argument("--environment", metavar="ENV", help="the environment (default: the only one named)")
    flags.add_argument("--variation", metavar="VALUE", help="the agent's variation (default: the flag on / true)")
    flags.add_argument("--replace", action="store_true", help="overwrite an existing flags table")
    flags.set_defaults(handler=_import_flags)
    langfuse = kinds.add_parser("langfuse", help="the reviews table from a Langfuse export's annotation scores")
    langfuse.add_argument("workspace", type=Path, metavar="WS")
    langfuse.add_argument("export", type=Path, metavar="EXPORT", help="a scores file, or the export's folder")
    langfuse.add_argument("--verdict-score", default="verdict", metavar="NAME",
                          help="the categorical score holding the verdict (default: verdict)")
    langfuse.add_argument("--failure-mode-score", default="failure_mode", metavar="NAME",
                          help="the categorical score holding the failure mode (default: failure_mode)")
    langfuse.add_argument("--replace", action="store_true", help="overwrite an existing reviews table")
    langfuse.set_defaults(handler=_import_langfuse)
    return parser


def _emit(result: Any, as_json: bool) -> None:
    print(json.dumps(result.to_dict(), indent=2, default=str) if as_json else result.describe())


def _report(args: argparse.Namespace) -> int:
    from rolloutkit import report

    if args.jobs < 1:
        raise RolloutkitError(f"`--jobs` must be at least 1, got {args.jobs}")
    run = report.run(args.workspaces or [paths.DEMO_DIR], as_of=args.as_of, out=args.out or paths.REPORTS_DIR,
                     jobs=args.jobs)
    print(run.describe())
    return 0 if run.ok else 1


def _check(args: argparse.Namespace) -> int:
    from rolloutkit.sources import describe
    from rolloutkit.workspace import load_workspace

    ws = load_workspace(args.workspace)
    ws.validate()
    inventory = ws.inventory()
    print(f"{ws.agent}: charter OK ({len(ws.charter.failure_modes)} failure modes, "
          f"{len(ws.charter.rollback_triggers)} rollback triggers)")
    for row in inventory.iter_rows(named=True):
        if row["present"]:
            print(f"  {row['table']:<10} {row['rows']:>10,} rows  {row['first_day']} .. {row['last_day']}  "
                  f"({row['file']})")
            for line in describe(ws.sources[row["table"]]):
                print(f"{'':15}{line}")
        else:
            print(f"  {row['table']:<10} missing")
    return 0


def _readiness(args: argparse.Namespace) -> int:
    from rolloutkit import canary
    from rolloutkit.workspace import load_workspace

    _emit(canary.readiness(load_workspace(args.workspace), as_of=args.as_of), args.json)
    return 0


def _shadow(args: argparse.Namespace) -> int:
    from rolloutkit import shadow
    from rolloutkit.workspace import load_workspace

    _emit(shadow.gate(load_workspace(args.workspace), as_of=args.as_of), args.json)
    return 0


def _plan(args: argparse.Namespace) -> int:
    from rolloutkit import timeline
    from rolloutkit.workspace import load_workspace

    _emit(timeline.plan(load_workspace(args.workspace), start=args.start, as_of=args.as_of), args.json)
    return 0


def _sample(args: argparse.Namespace) -> int:
    from rolloutkit import shadow
    from rolloutkit.workspace import load_workspace

    drawn = shadow.draw_sample(load_workspace(args.workspace), week=args.week, size=args.size, seed=args.seed)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        drawn.write_csv(args.out)
        print(f"wrote {drawn.height} interactions to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(drawn.write_csv())
    return 0


def _demo(args: argparse.Namespace) -> int:
    from rolloutkit import synth

    if args.scenario not in synth.SCENARIOS:
        raise RolloutkitError(f"`--scenario` must be one of {', '.join(synth.SCENARIOS)}, got {args.scenario!r}")
    truth = synth.write_workspace(args.directory, args.scenario, seed=args.seed)
    print(f"wrote scenario {args.scenario!r} (seed {args.seed}) to {args.directory}")
    print(truth)
    return 0


def _import_flags(args: argparse.Namespace) -> int:
    from rolloutkit import importers

    print(importers.import_flags(args.workspace, args.files, platform=args.platform, flag=args.flag,
                                 environment=args.environment, variation=args.variation,
                                 replace=args.replace).describe())
    return 0


def _import_langfuse(args: argparse.Namespace) -> int:
    from rolloutkit import importers

    print(importers.import_langfuse(args.workspace, args.export, verdict_score=args.verdict_score,
                                    failure_mode_score=args.failure_mode_score, replace=args.replace).describe())
    return 0


if __name__ == "__main__":
    sys.exit(main())
