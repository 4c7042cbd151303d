from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from rolloutkit.contracts import CONTRACTS
from rolloutkit.errors import DataError
from rolloutkit.tables import read_table
from rolloutkit.workspace import MissingTableError, load_workspace

MODES = ("wrong_policy", "pii_leak")
CANARY_CSV = """interaction_id,ts,arm,success,failure_mode,region
a1,2026-11-02T10:00:00Z,agent,true,,eu
a2,2026-11-02 23:30:00Z,agent,false,wrong_policy,us
a3,2026-11-03T00:00:00+00:00,human,1,,us
a4,2026-11-04T01:00:00+02:00,human,0,,eu
"""


def canary_frame() -> pl.DataFrame:
    return pl.read_csv(CANARY_CSV.encode(), infer_schema=False)


def read(tmp_path, name, text, contract, **kwargs):
    path = tmp_path / name
    path.write_text(text)
    return read_table(path, contract, failure_modes=MODES, **kwargs).collect()


def test_csv_is_typed_and_normalised_to_utc(tmp_path):
    table = read(tmp_path, "canary.csv", CANARY_CSV, "canary")
    assert table.schema["ts"] == pl.Datetime("us", "UTC")
    assert table["success"].to_list() == [True, False, True, False]
    assert table["ts"].to_list()[3] == dt.datetime(2026, 11, 3, 23, 0, tzinfo=dt.UTC)
    assert table["failure_mode"].to_list() == [None, "wrong_policy", None, None]
    assert table["region"].to_list() == ["eu", "us", "us", "eu"], "extra columns are kept"


def test_day_is_bucketed_in_the_charter_timezone(tmp_path):
    utc = read(tmp_path, "canary.csv", CANARY_CSV, "canary")
    berlin = read_table(tmp_path / "canary.csv", "canary", failure_modes=MODES, timezone="Europe/Berlin").collect()
    assert utc["day"].to_list()[1] == dt.date(2026, 11, 2)
    assert berlin["day"].to_list()[1] == dt.date(2026, 11, 3), "23:30 UTC is past midnight in Berlin"


def test_all_formats_read_the_same(tmp_path):
    from_csv = read(tmp_path, "canary.csv", CANARY_CSV, "canary")
    typed = from_csv.drop("day")
    typed.write_parquet(tmp_path / "c.parquet")
    typed.write_ndjson(tmp_path / "c.ndjson")
    parts = tmp_path / "parts"
    (parts / "month=11").mkdir(parents=True)
    typed.head(2).write_parquet(parts / "month=11" / "p0.parquet")
    typed.tail(2).write_parquet(parts / "month=11" / "p1.parquet")
    for path in (tmp_path / "c.parquet", tmp_path / "c.ndjson", parts):
        got = read_table(path, "canary", failure_modes=MODES).collect().select(from_csv.columns)
        assert_frame_equal(got, from_csv, check_dtypes=False)


def test_csv_cells_are_trimmed_and_parquet_strings_read_as_written(tmp_path):
    padded = CANARY_CSV.replace("a1,", " a1 ,").replace(",agent,true,,eu", ", agent ,true, ,eu")
    table = read(tmp_path, "canary.csv", padded, "canary")
    assert table["interaction_id"][0] == "a1" and table["arm"][0] == "agent" and table["failure_mode"][0] is None
    # a program wrote the Parquet file: a padded value is what it wrote, refused by name rather than guessed at
    frame = canary_frame().with_columns(arm=pl.Series(["agent ", "agent", "human", "human"]),
                                        failure_mode=pl.Series(["", "wrong_policy", None, None]))
    frame.write_parquet(tmp_path / "canary.parquet")
    with pytest.raises(DataError) as error:
        read_table(tmp_path / "canary.parquet", "canary", failure_modes=MODES).collect()
    assert "outside {agent, human}" in str(error.value) and "'agent '" in str(error.value)
    # an empty string is an empty value in every format
    frame.with_columns(arm=pl.Series(["agent", "agent", "human", "human"])).write_parquet(tmp_path / "canary.parquet")
    typed = read_table(tmp_path / "canary.parquet", "canary", failure_modes=MODES).collect()
    assert typed["failure_mode"].to_list() == [None, "wrong_policy", None, None]


def test_naive_parquet_timestamps_are_utc(tmp_path):
    frame = canary_frame().with_columns(pl.col("ts").str.slice(0, 10).str.to_date().cast(pl.Datetime("ms")))
    frame.write_parquet(tmp_path / "canary.parquet")
    table = read_table(tmp_path / "canary.parquet", "canary", failure_modes=MODES).collect()
    assert table.schema["ts"] == pl.Datetime("us", "UTC")


BAD = [
    ("unknown-arm", "canary", CANARY_CSV.replace("human,1", "agnet,1"),
     "canary.csv: column `arm` has values outside {agent, human} — 1 row: 'agnet' (line 4)"),
    ("duplicate-id", "canary", CANARY_CSV.replace("a4,", "a1,"),
     "canary.csv: column `interaction_id` must be unique; duplicated values — 2 rows: 'a1' ×2 (lines 2, 5)"),
    ("bad-timestamp", "canary", CANARY_CSV.replace("2026-11-03T00:00:00+00:00,", "yesterday,"),
     "canary.csv: column `ts` cannot be read as a timestamp"),
    ("unknown-failure-mode", "canary", CANARY_CSV.replace("wrong_policy", "rudeness"),
     "column `failure_mode` has values that are not failure modes of the charter (wrong_policy, pii_leak)"),
    ("bad-bool", "canary", CANARY_CSV.replace("agent,true", "agent,maybe"),
     "canary.csv: column `success` cannot be read as true/false — 1 row: 'maybe' (line 2)"),
    ("empty-required", "canary", CANARY_CSV.replace("a2,2026-11-02 23:30:00Z,agent", "a2,2026-11-02 23:30:00Z,"),
     "canary.csv: column `arm` has empty values (it is required) — 1 row (line 3)"),
    ("missing-column", "canary", "interaction_id,ts,arm\na1,2026-11-02,agent\n",
     "canary.csv is missing required column(s) success, failure_mode"),
    ("share-out-of-range", "flags", "ts,traffic_share,actor,reason\n2026-11-02,0.05,ana,start\n2026-11-09,15,ana,x\n",
     "flags.csv: column `traffic_share` must be in [0, 1] — 1 row: '15' (line 3)"),
    ("share-not-a-number", "flags", "ts,traffic_share,actor,reason\n2026-11-02,five percent,ana,start\n",
     "flags.csv: column `traffic_share` cannot be read as a number"),
    ("unknown-verdict", "reviews",
     "interaction_id,reviewer,reviewed_at,verdict,failure_mode\ni1,r1,2026-11-02,better,\n",
     "reviews.csv: column `verdict` has values outside {agent_better, equivalent, agent_worse, unclear}"),
    ("inclusion-prob-zero", "reviews",
     "interaction_id,reviewer,reviewed_at,verdict,failure_mode,inclusion_prob\ni1,r1,2026-11-02,equivalent,,0\n",
     "reviews.csv: column `inclusion_prob` must be in (0, 1]"),
    ("duplicate-review", "reviews",
     "interaction_id,reviewer,reviewed_at,verdict,failure_mode\ni1,r1,2026-11-02,equivalent,\n"
     "i1,r1,2026-11-03,agent_worse,wrong_policy\n",
     "reviews.csv: column `interaction_id, reviewer` must identify a row; duplicated combinations — 2 rows"),
    ("unknown-severity", "incidents",
     "incident_id,opened_at,severity,kind,summary\nINC-1,2026-11-02,critical,regression,refund denied\n",
     "incidents.csv: column `severity` has values outside {sev1, sev2, sev3, sev4}"),
    ("unknown-category", "evals",
     "run_id,run_at,agent_version,task_id,category,passed\nr1,2026-11-02,v1,t1,tricky,true\n",
     "evals.csv: column `category` has values outside {typical, edge, prior_failure, adversarial}"),
    ("negative-dollars", "canary", CANARY_CSV.replace(",region\n", ",dollars\n").replace(",eu\n", ",-5\n", 1)
     .replace(",us\n", ",3\n").replace(",eu\n", ",4\n"),
     "canary.csv: column `dollars` must be >= 0 — 1 row: '-5' (line 2)"),
]


@pytest.mark.parametrize(("contract", "text", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_table_is_refused_naming_file_column_rule_rows(tmp_path, contract, text, message):
    with pytest.raises(DataError) as info:
        read(tmp_path, f"{contract}.csv", text, contract)
    assert message in str(info.value)


def test_error_lists_at_most_five_rows_and_counts_the_rest(tmp_path):
    lines = "".join(f"x{i},2026-11-02,robot,true,\n" for i in range(12))
    with pytest.raises(DataError) as info:
        read(tmp_path, "canary.csv", "interaction_id,ts,arm,success,failure_mode\n" + lines, "canary")
    assert "— 12 rows: 'robot' ×12 (lines 2, 3, 4, 5, 6 and 7 more)" in str(info.value)
    assert info.value.column == "arm"
    assert info.value.rows[:5] == [2, 3, 4, 5, 6], "file lines: the header is line 1"


def test_unknown_format_and_duplicate_tables(tmp_path, make_workspace):
    (tmp_path / "canary.xlsx").write_text("")
    with pytest.raises(DataError, match="unknown format"):
        read_table(tmp_path / "canary.xlsx", "canary")
    folder = make_workspace({"canary.csv": CANARY_CSV, "canary.ndjson": "{}"})
    with pytest.raises(DataError, match="holds table `canary` more than once"):
        load_workspace(folder)


def test_workspace_reads_tables_lazily_and_reports_missing(make_workspace):
    ws = load_workspace(make_workspace({"canary.csv": CANARY_CSV}))
    assert ws.has("canary") and not ws.has("shadow")
    with pytest.raises(MissingTableError, match="no `shadow` table"):
        ws.table("shadow")
    inventory = ws.inventory()
    assert inventory.filter(pl.col("table") == "canary")["rows"].item() == 4
    assert inventory.filter(~pl.col("present"))["table"].to_list() == ["shadow", "reviews", "flags", "evals",
                                                                          "incidents"]
    assert ws.resolve_as_of(None) == dt.date(2026, 11, 3)
    assert ws.resolve_as_of("2026-11-01") == dt.date(2026, 11, 1)


def test_every_contract_has_a_time_column():
    assert all(contract.time_column for contract in CONTRACTS.values())
