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
    report.add_argument("--as-of", help="last day of the reported week, YYYY-MM-DD (default: yesterday, the last "
                                        "complete day, in each charter's time zone)")
    report.add_argument("--out", type=Path, default=None, help=f"output folder (default: {paths.REPORTS_DIR})")
    report.add_argument("--jobs", type=int, default=2, help="notebooks executed in parallel (default: 2)")
    report.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                        help="seconds one notebook may run before it is stopped and marked timed out (default: 600)")
    report.add_argument("--notebooks", type=Path, default=None, metavar="DIR",
                        help="also run your own notebooks from DIR (first code cell tagged `parameters`, defining "
                             "`workspace` and `as_of`); the week's index links them")
    report.add_argument("--no-builtin", action="store_true",
                        help="with --notebooks: run only your own notebooks, not the built-in pages")
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

    counts = sub.add_parser("counts", help="daily counts (canary_daily, shadow_daily) computed where the rows are")
    counts.add_argument("workspace", type=Path, metavar="WS")
    counts.add_argument("--engine", default="polars", choices=("polars", "duckdb", "spark"),
                        help="polars (default), duckdb (local data larger than memory) or spark (a lake, a cluster)")
    counts.add_argument("--source", metavar="URI", help="canary rows: a Parquet/CSV path or glob, "
                        "duckdb:PATH.db:TABLE, spark:DB.TABLE or spark:PATH (default: the workspace's canary table)")
    counts.add_argument("--shadow-source", metavar="URI", help="shadow rows, as --source (default: the workspace's)")
    counts.add_argument("--as-of", help="count days up to this one, YYYY-MM-DD (default: the last day in the rows)")
    counts.add_argument("--out", type=Path, metavar="DIR", help="folder to write the counts to (default: WS)")
    counts.add_argument("--spark-master", default="local[2]", metavar="URL", help="Spark master (default: local[2])")
    counts.add_argument("--duckdb-memory", default="3GB", metavar="SIZE",
                        help="DuckDB's memory limit; it spills to disk beyond it (default: 3GB)")
    counts.set_defaults(handler=_counts)

    sql = sub.add_parser("sql", help="print the daily-counts aggregation as SQL for a warehouse")
    sql.add_argument("workspace", type=Path, metavar="WS")
    sql.add_argument("--dialect", required=True, help="duckdb, spark, bigquery, snowflake, trino or postgres")
    sql.add_argument("--table", metavar="NAME", help="the table of rows (default: canary, or shadow)")
    sql.add_argument("--counts", default="canary_daily", choices=("canary_daily", "shadow_daily"),
                     help="the counts table the query computes (default: canary_daily)")
    sql.add_argument("--as-of", help="flags up to this day, and count no later day (default: every flag)")
    sql.add_argument("--since", help="first local day counted (default: a year before the first flag)")
    sql.add_argument("--until", help="last local day counted (default: --as-of, else a year from today)")
    sql.add_argument("--columns", metavar="COL,COL", help="optional columns the table has (default: those of the "
                     "workspace's own table, else those the charter's guardrails need)")
    sql.set_defaults(handler=_sql)
    audit = sub.add_parser("audit", help="every flag change against the kit's advice the day before: followed "
                           "or overridden, authorized or not, time to roll back")
    audit.add_argument("workspace", type=Path, metavar="WS")
    audit.add_argument("--as-of", help="audit the changes up to this day, YYYY-MM-DD (default: last day with data)")
    audit.add_argument("--json", action="store_true", help="print the audit as JSON")
    audit.set_defaults(handler=_audit)
    return parser


def _emit(result: Any, as_json: bool) -> None:
    print(json.dumps(result.to_dict(), indent=2, default=str) if as_json else result.describe())


def _report(args: argparse.Namespace) -> int:
    from rolloutkit import report

    if args.no_builtin and args.notebooks is None:
        print("rolloutkit report: --no-builtin needs --notebooks DIR (your own notebooks to run)", file=sys.stderr)
        return 2
    try:
        run = report.run(args.workspaces or [paths.DEMO_DIR], as_of=args.as_of, out=args.out or paths.REPORTS_DIR,
                         jobs=args.jobs, timeout=args.timeout, notebooks=args.notebooks,
                         builtin=not args.no_builtin)
    except report.Stopped as stop:
        print(f"rolloutkit report: stopped by {stop.name}; kernels stopped, staging folder removed, earlier "
              "reports unchanged", file=sys.stderr)
        return 128 + stop.signum
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



def _counts(args: argparse.Namespace) -> int:
    from rolloutkit import counts
    from rolloutkit.workspace import load_workspace

    written = counts.write(load_workspace(args.workspace), engine=args.engine, source=args.source,
                           shadow_source=args.shadow_source, as_of=args.as_of, out=args.out,
                           spark_master=args.spark_master, duckdb_memory=args.duckdb_memory,
                           progress=lambda line: print(line, file=sys.stderr, flush=True))
    for done in written:
        print(f"wrote {(args.out or args.workspace) / f'{done.table}.parquet'}")
    return 0


def _sql(args: argparse.Namespace) -> int:
    from rolloutkit import counts
    from rolloutkit.workspace import load_workspace

    columns = [c.strip() for c in args.columns.split(",") if c.strip()] if args.columns is not None else None
    sys.stdout.write(counts.sql(load_workspace(args.workspace), dialect=args.dialect, table=args.table,
                                counts=args.counts, as_of=args.as_of, since=args.since, until=args.until,
                                columns=columns))
    return 0


def _audit(args: argparse.Namespace) -> int:
    from rolloutkit import audit
    from rolloutkit.workspace import load_workspace

    _emit(audit.audit(load_workspace(args.workspace), as_of=args.as_of), args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
