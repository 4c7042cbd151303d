"""Daily counts on every engine and in every dialect against an oracle that walks the rows one by one with zoneinfo.

The conformance rows sit where day bucketing breaks: at local midnight and 1 µs either side on five days around a
zone's offset change (and at the change itself, ± 1 µs), with flag changes at a row's exact time — at noon, at the
offset change and at a local midnight. Zones: New York and London (DST), Adelaide (a half-hour zone with DST),
Kolkata (a half-hour zone without). Sums are of dyadic values, so every engine's floats are exact too.
"""

from __future__ import annotations

import bisect
import datetime as dt
import shutil
from collections import defaultdict
from pathlib import Path
from zoneinfo import ZoneInfo

import duckdb
import polars as pl
import pytest
import sqlglot
import yaml
from polars.testing import assert_frame_equal

from rolloutkit import canary, counts, load_workspace, paths
from rolloutkit.cli import main
from rolloutkit.errors import DataError, MissingTableError, RolloutkitError
from rolloutkit.tables import read_table

UTC = dt.UTC
US = dt.timedelta(microseconds=1)
#: zone → a day on which its offset changes (Kolkata has none: the window is plain +05:30).
ZONES = {"America/New_York": dt.date(2026, 3, 8), "Europe/London": dt.date(2026, 3, 29),
         "Australia/Adelaide": dt.date(2026, 4, 5), "Asia/Kolkata": dt.date(2026, 3, 8)}
MODES = ("wrong_policy", "data_leak")
LIMITS = {"actions": 4, "dollars": 30.0}
CHARTER = {
    "agent": "conformance", "task": "Count rows at the edges of days", "owner": "analytics",
    "success_metric": {"name": "resolution_rate", "noninferiority_margin": 0.02},
    "failure_modes": [{"name": m, "max_rate": 0.01} for m in MODES],
    "rollback_triggers": [{"metric": "failure_rate", "failure_mode": "wrong_policy", "above": 0.02}],
    "traffic": {"daily_interactions": 100},
    "guardrails": {"max_actions_per_session": LIMITS["actions"], "max_dollars_per_session": LIMITS["dollars"]},
}


def _change(zone: str, start: dt.datetime, end: dt.datetime) -> dt.datetime | None:
    """The zone's offset change between two instants, found minute by minute (independently of rolloutkit)."""
    tz, t = ZoneInfo(zone), start
    while t < end:
        if (t + dt.timedelta(minutes=1)).astimezone(tz).utcoffset() != t.astimezone(tz).utcoffset():
            return t + dt.timedelta(minutes=1)
        t += dt.timedelta(minutes=1)
    return None


def _case(zone: str) -> dict:
    """Rows, flags and as_of for one zone."""
    tz = ZoneInfo(zone)
    days = [ZONES[zone] + dt.timedelta(days=d) for d in range(-2, 3)]
    midnights = [dt.datetime.combine(d, dt.time(0), tz).astimezone(UTC) for d in days]
    change = _change(zone, midnights[0], midnights[-1])
    pivot = change or midnights[2] + dt.timedelta(hours=6)
    instants = [t for m in midnights for t in (m - US, m, m + US, m + dt.timedelta(hours=13))]
    instants += [pivot - US, pivot, pivot + US]
    # flag changes at a row's exact time: 13:00 of day 2, the offset change (or 06:00 of day 3), midnight of day 4;
    # the last one is on a day after as_of, so it is not yet known
    flags = [midnights[1] + dt.timedelta(hours=13), pivot, midnights[3], midnights[4] + dt.timedelta(hours=13)]
    rows = []
    for k, ts in enumerate(t for t in sorted(instants) for _ in range(3)):
        rows.append({
            "interaction_id": f"i{k:03d}", "ts": ts, "arm": "agent" if k % 3 != 1 else "human",
            "success": k % 4 != 0, "failure_mode": (None, "wrong_policy", None, "data_leak", None)[k % 5],
            "session_id": f"s{k // 2}" if k % 7 != 6 else None, "actions": k % 4,
            "dollars": (k % 3) * 12.5, "disallowed_actions": int(k % 11 == 0), "unreviewed_irreversible": k % 13 // 12,
            "cost_usd": None if k % 9 == 0 else (k % 4) * 0.25, "latency_ms": None if k % 8 == 0 else (k % 6) * 250.0,
        })
    shadow = [{"interaction_id": f"sh{k:03d}", "ts": r["ts"], "segment": "ab"[k % 2],
               "agent_action": "refund" if k % 3 else "reply", "human_action": "refund",
               "agent_cost_usd": (k % 4) * 0.125, "agent_latency_ms": (k % 5) * 100.0,
               "human_handle_s": None if k % 6 == 0 else k * 2.0} for k, r in enumerate(rows)]
    return {"zone": zone, "rows": rows, "flags": flags, "shadow": shadow, "as_of": days[3], "midnights": midnights}


def _workspace(folder: Path, case: dict, *, parts: int = 1) -> Path:
    folder.mkdir(parents=True)
    (folder / "charter.yaml").write_text(yaml.safe_dump({**CHARTER, "timezone": case["zone"]}, sort_keys=False))
    rows = _frame(case["rows"])
    if parts == 1:
        rows.write_parquet(folder / "canary.parquet")
    else:  # a folder of Parquet parts, each a slice of time
        (folder / "canary").mkdir()
        size = -(-rows.height // parts)
        for i in range(parts):
            rows.slice(i * size, size).write_parquet(folder / "canary" / f"part-{i}.parquet")
    pl.DataFrame({"ts": case["flags"], "traffic_share": [0.05, 0.15, 0.4, 0.8], "actor": ["bot"] * 4,
                  "reason": ["ramp"] * 4}, schema_overrides={"ts": pl.Datetime("us", "UTC")}
                 ).write_parquet(folder / "flags.parquet")
    _frame(case["shadow"]).write_parquet(folder / "shadow.parquet")
    return folder


def _frame(rows: list[dict]) -> pl.DataFrame:
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(pl.col("ts").cast(pl.Datetime("us", "UTC")))


def oracle_canary(case: dict) -> pl.DataFrame:
    """canary_daily by walking the rows: local day from zoneinfo, the last flag at or before the row."""
    tz, as_of = ZoneInfo(case["zone"]), case["as_of"]
    flags = sorted(f for f in case["flags"] if f.astimezone(tz).date() <= as_of)
    groups: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    sessions: dict[str, dict] = {}
    for r in case["rows"]:
        day = r["ts"].astimezone(tz).date()
        if day > as_of:
            continue
        seg = bisect.bisect_right(flags, r["ts"])
        g = groups[(day, seg, r["arm"])]
        g["n"] += 1
        g["successes"] += r["success"]
        for mode in MODES:
            g[f"fail__{mode}"] += r["failure_mode"] == mode
        g["disallowed"] += r["disallowed_actions"] > 0
        g["unreviewed"] += r["unreviewed_irreversible"] > 0
        for column, name in (("cost_usd", "cost"), ("latency_ms", "latency")):
            if r[column] is not None:
                g[f"{name}_sum"] += r[column]
                g[f"{name}_sq"] += r[column] ** 2
                g[f"{name}_n"] += 1
        if r["arm"] == "agent":
            s = sessions.setdefault(r["session_id"] or r["interaction_id"],
                                    {"day": day, "seg": seg, "actions": 0, "dollars": 0.0})
            s["day"], s["seg"] = min(s["day"], day), min(s["seg"], seg)
            s["actions"] += r["actions"]
            s["dollars"] += r["dollars"]
    for s in sessions.values():
        for column, limit in LIMITS.items():
            groups[(s["day"], s["seg"], "agent")][f"over_{column}"] += s[column] > limit
    out = []
    for (day, seg, arm), g in sorted(groups.items()):
        out.append({"day": day, "segment_start": flags[seg - 1] if seg else None, "arm": arm, "n": g["n"],
                    "successes": g["successes"], **{f"fail__{m}": g[f"fail__{m}"] for m in MODES},
                    "disallowed": g["disallowed"], "unreviewed": g["unreviewed"], "over_actions": g["over_actions"],
                    "over_dollars": g["over_dollars"], "cost_usd": g["cost_sum"], "cost_n": g["cost_n"],
                    "latency_ms_sum": g["latency_sum"], "latency_ms_sumsq": g["latency_sq"],
                    "latency_n": g["latency_n"]})
    floats = ("cost_usd", "latency_ms_sum", "latency_ms_sumsq")
    return pl.DataFrame(out, schema={"day": pl.Date, "segment_start": pl.Datetime("us", "UTC"), "arm": pl.String,
                                     **{c: pl.Float64 if c in floats else pl.Int64 for c in list(out[0])[3:]}})


def oracle_shadow(case: dict) -> pl.DataFrame:
    tz = ZoneInfo(case["zone"])
    groups: dict[tuple, dict] = defaultdict(lambda: defaultdict(float))
    for r in case["shadow"]:
        day = r["ts"].astimezone(tz).date()
        if day > case["as_of"]:
            continue
        g = groups[(day, r["segment"])]
        g["interactions"] += 1
        g["agreed"] += r["agent_action"] == r["human_action"]
        g["agent_cost_usd"] += r["agent_cost_usd"]
        g["agent_cost_n"] += 1
        for column, prefix, count in (("agent_latency_ms", "agent_latency_ms", "agent_latency_n"),
                                      ("human_handle_s", "human_handle_s", "human_handle_n")):
            if r[column] is not None:
                g[f"{prefix}_sum"] += r[column]
                g[f"{prefix}_sumsq"] += r[column] ** 2
                g[count] += 1
    names = ("interactions", "agreed", "agent_cost_usd", "agent_cost_n", "agent_latency_ms_sum",
             "agent_latency_ms_sumsq", "agent_latency_n", "human_handle_s_sum", "human_handle_s_sumsq",
             "human_handle_n")
    out = [{"day": day, "segment": seg, **{c: g[c] for c in names}} for (day, seg), g in sorted(groups.items())]
    return pl.DataFrame(out, schema={"day": pl.Date, "segment": pl.String,
                                     **{c: pl.Int64 if c.endswith(("_n", "interactions", "agreed")) else pl.Float64
                                        for c in names}})


@pytest.fixture(scope="module", params=list(ZONES))
def case(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict:
    found = _case(request.param)
    found["ws"] = _workspace(tmp_path_factory.mktemp("counts") / "ws", found)
    return found


@pytest.fixture(scope="module")
def new_york(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workspace in New York time, for what does not depend on the zone."""
    return _workspace(tmp_path_factory.mktemp("sql") / "ws", _case("America/New_York"))


def _without_stamp(frame: pl.DataFrame) -> pl.DataFrame:
    assert frame["computed_at"].null_count() == 0
    return frame.drop("computed_at")


def test_the_cases_sit_on_the_edges(case: dict) -> None:
    """The data is what the docstring says: rows 1 µs either side of local midnight, flags at row times."""
    times = {r["ts"] for r in case["rows"]}
    assert all(m - US in times and m in times for m in case["midnights"])
    assert all(f in times for f in case["flags"])
    offsets = {m.astimezone(ZoneInfo(case["zone"])).utcoffset() for m in case["midnights"]}
    assert len(offsets) == (1 if case["zone"] == "Asia/Kolkata" else 2)


def _duckdb_database(case: dict, folder: Path) -> str:
    path = folder / "rows.db"
    con = duckdb.connect(str(path))
    rows = _frame(case["rows"])  # noqa: F841 — read by DuckDB's replacement scan
    con.execute("CREATE SCHEMA lake; CREATE TABLE lake.interactions AS SELECT * FROM rows")
    con.close()
    return f"duckdb:{path}:lake.interactions"


def _csv(case: dict, folder: Path) -> str:
    path = folder / "rows.csv"
    _frame(case["rows"]).with_columns(pl.col("ts").dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")).write_csv(path)
    return str(path)


SOURCES = {"polars": ("polars", None), "polars-csv": ("polars", _csv), "duckdb": ("duckdb", None),
           "duckdb-table": ("duckdb", _duckdb_database), "duckdb-csv": ("duckdb", _csv)}


@pytest.mark.parametrize("how", list(SOURCES))
def test_canary_counts_equal_the_oracle(case: dict, how: str, tmp_path: Path) -> None:
    engine, make = SOURCES[how]
    source = make(case, tmp_path) if make else None
    found = counts.compute(load_workspace(case["ws"]), engine=engine, source=source, as_of=case["as_of"])
    assert_frame_equal(_without_stamp(found.frame), oracle_canary(case), check_exact=True)


@pytest.mark.parametrize("engine", ["polars", "duckdb"])
def test_shadow_counts_equal_the_oracle(case: dict, engine: str) -> None:
    found = counts.compute(load_workspace(case["ws"]), "shadow_daily", engine=engine, as_of=case["as_of"])
    assert_frame_equal(_without_stamp(found.frame), oracle_shadow(case), check_exact=True)


def test_the_phase_counts_the_same(case: dict) -> None:
    """The canary phase's own aggregation of the validated rows gives the same counts."""
    ws = load_workspace(case["ws"])
    assert_frame_equal(canary.daily_counts(ws, as_of=case["as_of"]), oracle_canary(case))


def test_duckdb_runs_the_sql_it_prints(case: dict) -> None:
    """`rolloutkit sql --dialect duckdb` executed over the rows is the same table (plus computed_at)."""
    ws = load_workspace(case["ws"])
    text = counts.sql(ws, dialect="duckdb", table="agent_interactions", as_of=case["as_of"])
    con = duckdb.connect()
    agent_interactions = _frame(case["rows"])  # noqa: F841 — read by DuckDB's replacement scan
    con.execute("SET TimeZone = 'Pacific/Chatham'")  # a session zone of +12:45 changes nothing
    got = con.sql(text.rstrip().rstrip(";")).pl()
    assert got.columns[-1] == "computed_at"
    expected = oracle_canary(case)
    got = got.drop("computed_at").with_columns(pl.col("segment_start").dt.convert_time_zone("UTC"))
    assert_frame_equal(got, expected, check_exact=True)


@pytest.mark.parametrize("dialect", counts.DIALECTS)
@pytest.mark.parametrize("table", counts.TABLES)
def test_every_dialect_parses_back(new_york: Path, dialect: str, table: str) -> None:
    ws = load_workspace(new_york)
    text = counts.sql(ws, dialect=dialect, counts=table, table="warehouse.analytics.rows")
    parsed = sqlglot.parse(text, read=dialect)
    assert len([p for p in parsed if p is not None]) == 1
    select = parsed[0]
    names = [e.alias_or_name for e in select.expressions]
    key = ["day", "segment_start", "arm"] if table == "canary_daily" else ["day", "segment"]
    assert names[:len(key)] == key and names[-1] == "computed_at"
    assert "warehouse.analytics.rows" in select.sql(dialect=dialect).replace("`", "").replace('"', "")


def test_dialects_spell_time_without_a_session_zone(new_york: Path) -> None:
    ws = load_workspace(new_york)
    spelled = {d: counts.sql(ws, dialect=d) for d in counts.DIALECTS}
    assert "EPOCH_US(ts)" in spelled["duckdb"] and "UNIX_MICROS(ts)" in spelled["spark"]
    assert "UNIX_MICROS(ts)" in spelled["bigquery"] and "DATE_PART(EPOCH_MICROSECOND, ts)" in spelled["snowflake"]
    assert "TO_UNIXTIME(ts)" in spelled["trino"] and "EXTRACT(EPOCH FROM ts)" in spelled["postgres"]
    assert "MOD(" in spelled["snowflake"] or "%" in spelled["snowflake"]  # exact division, no 6-decimal rounding
    for text in spelled.values():
        assert "AT TIME ZONE" not in text.upper() and "America/New_York" not in text.split("\n", 4)[-1]
        assert "+00:00'" in text  # flag instants carry their offset


def test_sql_window_and_columns(new_york: Path) -> None:
    ws = load_workspace(new_york)
    text = counts.sql(ws, dialect="bigquery", since="2026-03-01", until="2026-03-31", columns=["cost_usd"])
    assert "local days 2026-03-01 .. 2026-03-31 in America/New_York" in text
    assert "cost_usd" in text and "latency_ms" not in text and "over_actions" not in text
    with pytest.raises(RolloutkitError, match="optional columns are"):
        counts.sql(ws, dialect="bigquery", columns=["colour"])
    with pytest.raises(RolloutkitError, match="`--until` 2026-02-01 is before `--since` 2026-03-01"):
        counts.sql(ws, dialect="bigquery", since="2026-03-01", until="2026-02-01")
    with pytest.raises(RolloutkitError, match="`--dialect` must be one of duckdb, spark, bigquery"):
        counts.sql(ws, dialect="oracle")


def test_as_of_cuts_rows_and_flags(case: dict) -> None:
    ws = load_workspace(case["ws"])
    last = counts.compute(ws, engine="duckdb")
    assert last.as_of == case["as_of"] + dt.timedelta(days=1)  # by default, the last local day in the rows
    assert last.rows == len(case["rows"]) and last.frame["day"].max() == last.as_of
    earlier = case["as_of"] - dt.timedelta(days=1)
    got = _without_stamp(counts.compute(ws, engine="duckdb", as_of=earlier).frame)
    assert got["day"].max() == earlier
    assert case["flags"][2] not in got["segment_start"].to_list()  # the flag of the day after is not known yet
    assert_frame_equal(got, _without_stamp(counts.compute(ws, as_of=earlier).frame), check_exact=True)


def test_written_counts_pass_their_contract(case: dict, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["counts", str(case["ws"]), "--engine", "duckdb", "--out", str(tmp_path),
                 "--as-of", str(case["as_of"])]) == 0
    captured = capsys.readouterr()
    assert "canary_daily: counting canary rows from canary.parquet with duckdb" in captured.err
    assert f"through {case['as_of']}, duckdb" in captured.err
    for table, oracle in (("canary_daily", oracle_canary), ("shadow_daily", oracle_shadow)):
        written = read_table(tmp_path / f"{table}.parquet", table, failure_modes=MODES).collect()
        assert_frame_equal(written.drop("computed_at"), oracle(case), check_exact=True)


def test_counts_contract_refuses_bad_counts(tmp_path: Path) -> None:
    good = pl.DataFrame({"day": [dt.date(2026, 3, 1)] * 2, "segment_start": [None, dt.datetime(2026, 3, 1, 9)],
                         "arm": ["agent", "human"], "n": [5, 4], "successes": [4, 4], "fail__wrong_policy": [1, 0],
                         "fail__data_leak": [0, 0]})
    cases = {
        "successes > n": (good.with_columns(successes=pl.Series([6, 4])), "column `successes` must not exceed `n`"),
        "negative": (good.with_columns(fail__data_leak=pl.Series([-1, 0])), "column `fail__data_leak` must be >= 0"),
        "duplicate key": (good.with_columns(segment_start=pl.lit(None, pl.Datetime("us")), arm=pl.lit("agent")),
                          "must identify a row"),
        "missing mode": (good.drop("fail__data_leak"), "is missing required column(s) fail__data_leak"),
        "arm": (good.with_columns(arm=pl.Series(["agent", "control"])), "has values outside {agent, human}"),
    }
    for name, (frame, message) in cases.items():
        path = tmp_path / name / "canary_daily.parquet"
        path.parent.mkdir()
        frame.write_parquet(path)
        with pytest.raises(DataError, match=message.replace("(", r"\(").replace(")", r"\)")):
            read_table(path, "canary_daily", failure_modes=MODES).collect()
    path = tmp_path / "canary_daily.csv"
    good.write_csv(path)
    assert read_table(path, "canary_daily", failure_modes=MODES).collect()["day"].dtype == pl.Date


@pytest.mark.parametrize(("uri", "message"), [
    ("duckdb:rows.db", "a DuckDB source is `duckdb:PATH.db:TABLE`"),
    ("duckdb:missing.db:t", "no DuckDB database at missing.db"),
    ("spark:", "a Spark source is `spark:DB.TABLE` or `spark:PATH`"),
    ("s4:bucket/rows", "unknown scheme 's4'"),
    ("rows.xlsx", "unknown file type .xlsx"),
    ("nowhere/*.parquet", "no file matches nowhere/*.parquet"),
    ("", "`--source` is empty"),
])
def test_bad_source_uris_say_what_is_wrong(uri: str, message: str) -> None:
    with pytest.raises(RolloutkitError, match=message.replace("(", r"\(").replace("*", r"\*")):
        counts.parse_source(uri)


def test_source_uris(tmp_path: Path) -> None:
    (tmp_path / "parts").mkdir()
    pl.DataFrame({"a": [1]}).write_parquet(tmp_path / "parts" / "p.parquet")
    assert counts.parse_source(str(tmp_path / "parts")).folder
    assert counts.parse_source(str(tmp_path / "parts" / "*.parquet")).format == "parquet"
    assert counts.parse_source("spark:lake.canary") == counts.Source("spark", "spark:lake.canary", table="lake.canary")
    assert counts.parse_source("spark:s3a://bucket/canary/*.parquet").path == "s3a://bucket/canary/*.parquet"
    assert counts.parse_source("s3://bucket/canary/*.parquet").kind == "files"


def test_errors_name_the_source_and_the_rule(case: dict, tmp_path: Path) -> None:
    ws = load_workspace(case["ws"])
    rows = _frame(case["rows"])
    bad = tmp_path / "bad.parquet"
    rows.with_columns(arm=pl.when(pl.col("interaction_id") == "i004").then(pl.lit("agnet")).otherwise("arm")
                      ).write_parquet(bad)
    for engine in ("polars", "duckdb"):
        with pytest.raises(DataError, match=r"bad.parquet: column `arm` has values outside \{agent, human\} — 1 row: "
                                            r"'agnet'"):
            counts.compute(ws, engine=engine, source=str(bad))
    rows.drop("success").write_parquet(bad)
    with pytest.raises(DataError, match="bad.parquet is missing required column.s. success for canary rows"):
        counts.compute(ws, engine="duckdb", source=str(bad))
    rows.with_columns(failure_mode=pl.lit("hallucination")).write_parquet(bad)
    with pytest.raises(DataError, match="not failure modes of the charter .wrong_policy, data_leak."):
        counts.compute(ws, engine="duckdb", source=str(bad))
    rows.with_columns(ts=pl.col("ts").dt.strftime("%d/%m/%Y")).write_parquet(bad)
    with pytest.raises(DataError, match="column `ts` has type str; it must be datetime"):
        counts.compute(ws, source=str(bad))
    with pytest.raises(RolloutkitError, match="run it with `--engine duckdb`"):
        counts.compute(ws, engine="polars", source=_duckdb_database(case, tmp_path))
    with pytest.raises(RolloutkitError, match="`--engine` must be one of polars, duckdb, spark"):
        counts.compute(ws, engine="pandas")
    assert main(["counts", str(case["ws"]), "--source", "duckdb:x"]) == 1
    assert main(["sql", str(case["ws"]), "--dialect", "oracle"]) == 1


def test_a_workspace_without_rows(tmp_path: Path) -> None:
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / "charter.yaml").write_text(yaml.safe_dump(CHARTER))
    with pytest.raises(MissingTableError, match="no `canary` table to count"):
        counts.compute(load_workspace(folder))
    text = counts.sql(load_workspace(folder), dialect="snowflake")  # guardrails name the columns the SQL reads
    assert "session_id" in text and "over_dollars" in text and "cost_usd" not in text


# Spark: the session-scoped `spark` fixture of conftest.py.


@pytest.mark.slow
def test_spark_counts_equal_the_oracle_over_parquet_parts(spark, tmp_path: Path) -> None:
    """Rows in 4 Parquet parts, in a DST zone and a half-hour zone with DST (London's and Kolkata's edges are the
    same code path): Spark aggregates partially per part, shuffles, and counts the same as the oracle."""
    for zone in ("America/New_York", "Australia/Adelaide"):
        case = _case(zone)
        ws = load_workspace(_workspace(tmp_path / zone.replace("/", "-"), case, parts=4))
        assert len(spark.read.parquet(str(ws.files["canary"])).inputFiles()) == 4
        found = counts.compute(ws, engine="spark", spark=spark, as_of=case["as_of"])
        assert_frame_equal(_without_stamp(found.frame), oracle_canary(case), check_exact=True)
        assert "partial_count(1)" in found.plan and "partial_sum(" in found.plan
        assert "Exchange hashpartitioning(" in found.plan
        if zone == "Australia/Adelaide":  # the shadow's counts take the same path; one zone is enough
            shadow = counts.compute(ws, "shadow_daily", engine="spark", spark=spark, as_of=case["as_of"])
            assert_frame_equal(_without_stamp(shadow.frame), oracle_shadow(case), check_exact=True)


@pytest.mark.slow
def test_spark_runs_the_sql_it_prints(spark, new_york: Path) -> None:
    """`rolloutkit sql --dialect spark` over a view of the rows, in a session whose zone is Tokyo's."""
    case = _case("America/New_York")
    ws = load_workspace(new_york)
    spark.read.parquet(str(ws.files["canary"])).createOrReplaceTempView("agent_interactions")
    zone = spark.conf.get("spark.sql.session.timeZone")
    spark.conf.set("spark.sql.session.timeZone", "Asia/Tokyo")
    try:
        text = counts.sql(ws, dialect="spark", table="agent_interactions", as_of=case["as_of"])
        got = pl.from_arrow(spark.sql(text.rstrip().rstrip(";")).toArrow())
    finally:
        spark.conf.set("spark.sql.session.timeZone", zone)
        spark.catalog.dropTempView("agent_interactions")
    got = got.drop("computed_at").with_columns(pl.col("segment_start").dt.convert_time_zone("UTC"))
    assert_frame_equal(got, oracle_canary(case), check_exact=True)


@pytest.mark.slow
def test_spark_reads_a_spark_path_source(spark, new_york: Path) -> None:
    case = _case("America/New_York")
    ws = load_workspace(new_york)
    found = counts.compute(ws, engine="spark", spark=spark, source=f"spark:{ws.files['canary']}",
                           as_of=case["as_of"])
    assert_frame_equal(_without_stamp(found.frame), oracle_canary(case), check_exact=True)
    with pytest.raises(RolloutkitError, match="run it with `--engine spark`"):
        counts.compute(ws, engine="duckdb", source="spark:lake.canary")


def test_counts_beside_the_canary_rows_are_refused_and_say_where_to_write_them(tmp_path, capsys):
    folder = tmp_path / "ws"
    shutil.copytree(paths.DEMO_DIR / "invoice-triage", folder)
    assert main(["counts", str(folder)]) == 1
    assert "would give it both; write the counts to another workspace folder with --out DIR" in capsys.readouterr().err
    assert not (folder / "canary_daily.parquet").exists()
    assert main(["counts", str(folder), "--out", str(tmp_path / "counts")]) == 0
    assert (tmp_path / "counts" / "canary_daily.parquet").exists()
