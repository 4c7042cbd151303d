"""sources.yaml: a team's own exports (other names, values, text timestamps, percent shares) read as the contract."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from rolloutkit import synth
from rolloutkit.cli import main
from rolloutkit.errors import DataError, SourcesError
from rolloutkit.sources import load_sources
from rolloutkit.workspace import load_workspace

LOCAL = "%m/%d/%Y %H:%M:%S"
SOURCES = """\
canary:
  path: exports/interactions_*.csv
  columns: {interaction_id: id, ts: created_at, arm: variant, success: resolved, failure_mode: failure}
  values:
    arm: {treatment: agent, control: human}
    success: {"yes": true, "no": false}
  timestamps: {format: "%m/%d/%Y %H:%M:%S", timezone: America/Phoenix}
flags:
  path: flag_history.csv
  columns: {ts: changed_at, traffic_share: rollout_percent, zero_at: zeroed_at}
  traffic_share: percent
  timestamps: {format: "%m/%d/%Y %H:%M:%S", timezone: America/Phoenix}
shadow:
  path: shadow_parts/
  columns: {ts: logged_at}
  timestamps: {timezone: America/Phoenix}
reviews:
  path: review_export.ndjson
  values:
    verdict: {better: agent_better, same: equivalent, worse: agent_worse, unsure: unclear}
evals:
  path: eval_runs.csv
  delimiter: ";"
  values:
    passed: {PASS: true, FAIL: false}
incidents:
  values:
    severity: {SEV-1: sev1, SEV-2: sev2, SEV-3: sev3, SEV-4: sev4}
  timestamps: {format: "%d.%m.%Y %H:%M:%S", timezone: Asia/Kolkata}
"""


def _local(column: str, zone: str, fmt: str = LOCAL) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(zone).dt.strftime(fmt)


def rewrite(original: Path, theirs: Path) -> None:
    """The workspace as a team's exports would hold it: every table renamed, recoded and re-timed differently.

    canary: two CSV files (a glob) with other column names, treatment/control and yes/no, local text timestamps
    (America/Phoenix); flags: CSV with percent shares; shadow: a folder of Parquet parts with naive local datetimes;
    reviews: NDJSON with other verdict words and offset timestamps; evals: `;`-separated with PASS/FAIL;
    incidents: day-first local text timestamps (Asia/Kolkata) and SEV-n severities, found by its name.
    """
    theirs.mkdir()
    shutil.copy(original / "charter.yaml", theirs / "charter.yaml")
    canary = pl.read_parquet(original / "canary.parquet").with_columns(
        _local("ts", "America/Phoenix"),
        pl.col("arm").replace({"agent": "treatment", "human": "control"}),
        pl.when(pl.col("success")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias("success"),
    ).rename({"interaction_id": "id", "ts": "created_at", "arm": "variant", "success": "resolved",
              "failure_mode": "failure"})
    (theirs / "exports").mkdir()
    half = canary.height // 2
    canary.head(half).write_csv(theirs / "exports" / "interactions_1.csv")
    canary.slice(half).write_csv(theirs / "exports" / "interactions_2.csv")
    pl.read_parquet(original / "flags.parquet").with_columns(
        _local("ts", "America/Phoenix"), _local("zero_at", "America/Phoenix"),
        (pl.col("traffic_share") * 100).round(6),
    ).rename({"ts": "changed_at", "traffic_share": "rollout_percent", "zero_at": "zeroed_at"}).write_csv(
        theirs / "flag_history.csv")
    shadow = pl.read_parquet(original / "shadow.parquet").with_columns(
        pl.col("ts").dt.convert_time_zone("America/Phoenix").dt.replace_time_zone(None)).rename({"ts": "logged_at"})
    (theirs / "shadow_parts").mkdir()
    shadow.head(1000).write_parquet(theirs / "shadow_parts" / "part-0.parquet")
    shadow.slice(1000).write_parquet(theirs / "shadow_parts" / "part-1.parquet")
    pl.read_parquet(original / "reviews.parquet").with_columns(
        _local("reviewed_at", "America/Phoenix", "%Y-%m-%dT%H:%M:%S%:z"),
        pl.col("verdict").replace({"agent_better": "better", "equivalent": "same", "agent_worse": "worse",
                                   "unclear": "unsure"}),
    ).write_ndjson(theirs / "review_export.ndjson")
    pl.read_parquet(original / "evals.parquet").with_columns(
        pl.col("run_at").dt.strftime("%Y-%m-%dT%H:%M:%SZ"),
        pl.when(pl.col("passed")).then(pl.lit("PASS")).otherwise(pl.lit("FAIL")).alias("passed"),
    ).write_csv(theirs / "eval_runs.csv", separator=";")
    pl.read_parquet(original / "incidents.parquet").with_columns(
        _local("opened_at", "Asia/Kolkata", "%d.%m.%Y %H:%M:%S"),
        _local("closed_at", "Asia/Kolkata", "%d.%m.%Y %H:%M:%S"),
        pl.col("severity").str.replace("sev", "SEV-"),
    ).write_csv(theirs / "incidents.csv")
    (theirs / "sources.yaml").write_text(SOURCES)


@pytest.fixture(scope="module")
def pair(tmp_path_factory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("sources")
    synth.write_workspace(root / "original", "healthy", seed=0)
    rewrite(root / "original", root / "theirs")
    return root / "original", root / "theirs"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_a_rewritten_workspace_reads_identically(pair):
    original, theirs = (load_workspace(p) for p in pair)
    assert sorted(theirs.sources) == sorted(original.sources) == sorted(
        ["shadow", "reviews", "canary", "flags", "evals", "incidents"])
    assert all(theirs.sources[name].declared for name in theirs.sources)
    for name in original.sources:
        assert_frame_equal(theirs.table(name).collect(), original.table(name).collect())


@pytest.mark.parametrize("command", ["readiness", "shadow", "plan"])
def test_the_phases_json_follows(pair, command):
    original, theirs = (run(command, str(p), "--json") for p in pair)
    assert original[0] == theirs[0] == 0
    assert theirs[1] == original[1]


def test_check_prints_the_mapping_it_used(pair):
    code, out, _ = run("check", str(pair[1]))
    assert code == 0
    lines = [line.strip() for line in out.splitlines()]
    assert "read as sources.yaml says: 2 files (exports/interactions_1.csv, exports/interactions_2.csv)" in lines
    assert ("columns: interaction_id ← id, ts ← created_at, arm ← variant, success ← resolved, "
            "failure_mode ← failure") in lines
    assert "values of arm: treatment → agent, control → human" in lines
    assert "timestamps written as %m/%d/%Y %H:%M:%S, those without an offset in America/Phoenix" in lines
    assert "traffic_share in percent (5 = 5%)" in lines
    assert "delimiter semicolon" in lines
    plain = run("check", str(pair[0]))[1]
    assert "sources.yaml" not in plain, "a workspace without sources.yaml prints no mapping"


def _variant(pair, tmp_path, sources=None, files=None) -> Path:
    folder = tmp_path / "variant"
    shutil.copytree(pair[1], folder)
    if sources:
        text = (folder / "sources.yaml").read_text()
        assert sources[0] in text
        (folder / "sources.yaml").write_text(text.replace(sources[0], sources[1]))
    if files:
        files(folder)
    return folder


def _yes_no_as_letters(folder: Path) -> None:
    for path in (folder / "exports").glob("*.csv"):
        path.write_text(path.read_text().replace(",yes,", ",Y,").replace(",no,", ",N,"))


MISTAKES = [
    ("column-not-mapped", ("ts: created_at, ", ""), None,
     ["exports/interactions_*.csv is missing required column(s) ts (it has: id, created_at, variant",
      "the closest present column: `ts` ← `created_at`",
      "    canary:\n        columns: {interaction_id: id, arm: variant, success: resolved, failure_mode: failure, "
      "ts: created_at}"]),
    ("values-not-mapped", ("    arm: {treatment: agent, control: human}\n", ""), None,
     ["exports/interactions_*.csv: column `variant` (read as `arm`) has values outside {agent, human} — 110,679 rows:"
      " 'control' ×88,045, 'treatment' ×22,634 (exports/interactions_1.csv lines 2, 3, 4, 5, 6 and 110,674 more)",
      "    canary:\n        values:\n          arm: {control: human, treatment: agent}"]),
    ("booleans-in-letters", ('    success: {"yes": true, "no": false}\n', ""), _yes_no_as_letters,
     ["column `resolved` (read as `success`) cannot be read as true/false — 110,679 rows: 'Y' ×95,335, 'N' ×15,344",
      "success: {\"Y\": true, \"N\": false}"]),
    ("percent-not-said", ("  traffic_share: percent\n", ""), None,
     ["flag_history.csv: column `rollout_percent` (read as `traffic_share`) must be in [0, 1] — 4 rows: "
      "'15.0' ×2, '40.0', '5.0' (lines 3, 4, 6, 7)",
      "is `rollout_percent` a percent (5 meaning 5%)?", "    flags:\n        traffic_share: percent"]),
    ("local-timestamps-without-format",
     ('  timestamps: {format: "%m/%d/%Y %H:%M:%S", timezone: America/Phoenix}\nflags', "flags"), None,
     ["column `created_at` (read as `ts`) cannot be read as a timestamp (ISO 8601, e.g. 2026-11-02T14:05:00Z)",
      'they read with the format "%m/%d/%Y %H:%M:%S"; say so in sources.yaml',
      '        timestamps: {format: "%m/%d/%Y %H:%M:%S", timezone: <the zone they were written in, e.g. UTC>}']),
]


@pytest.mark.parametrize(("edit", "files", "parts"), [m[1:] for m in MISTAKES], ids=[m[0] for m in MISTAKES])
def test_each_mistake_is_refused_with_its_fix(pair, tmp_path, edit, files, parts):
    code, _, err = run("check", str(_variant(pair, tmp_path, edit, files)))
    assert code == 1
    assert "Traceback" not in err
    for part in parts:
        assert part in err
    assert "\n  fix: " in err


def test_a_mapped_column_that_is_not_there_names_the_closest(pair, tmp_path):
    folder = _variant(pair, tmp_path, ("ts: changed_at", "ts: changed"))
    code, _, err = run("check", str(folder))
    assert code == 1
    assert "flag_history.csv has no column `changed`, which sources.yaml maps to `ts`" in err
    assert "the closest present column: `ts` ← `changed_at`" in err


def test_a_semicolon_export_gets_the_delimiter(pair, tmp_path):
    code, _, err = run("check", str(_variant(pair, tmp_path, ('  delimiter: ";"\n', ""))))
    assert code == 1
    assert "eval_runs.csv is missing required column(s) run_id, run_at" in err
    assert "the file looks semicolon-separated" in err and '    evals:\n        delimiter: ";"' in err


@pytest.fixture
def tiny(make_workspace):
    """A workspace of a few flag rows, with a sources.yaml of the test's choosing."""

    def write(flags: str, sources: str, name: str = "flags.csv") -> Path:
        folder = make_workspace({name: flags})
        (folder / "sources.yaml").write_text(sources)
        return folder

    return write


def test_sources_yaml_problems_come_all_at_once(tiny):
    folder = tiny("ts,traffic_share,actor,reason\n2026-11-02T09:00:00Z,0.05,ana,start\n", """\
flag:
  path: flags.csv
flags:
  path: flags.csv
  colums: {ts: changed_at}
  columns: {time: changed_at, actor: who, reason: who}
  timestamps: {format: "%H:%M", timezone: Mars/Base}
  traffic_share: percentage
canary:
  path: exports/*.csv
  values:
    arm: {treatment: agnet}
""")
    with pytest.raises(SourcesError) as info:
        load_workspace(folder)
    message = str(info.value)
    assert message.startswith("sources.yaml: 9 problems:\n")
    for part in ("`flag` is not a known key (did you mean `flags`?",
                 "`flags.colums` is not a known key (did you mean `columns`?",
                 "`flags.columns.time` is not a known key",
                 "`flags.columns.reason` must name another column than `actor` does, got 'who'",
                 "`flags.timestamps.format` must read back the timestamps it writes",
                 "`flags.timestamps.timezone` must be an IANA time zone",
                 "`flags.traffic_share` must be `percent` (5 means 5%) or `fraction`, got 'percentage'",
                 "`canary.path` must match at least one file, got 'exports/*.csv'",
                 "`canary.values.arm.treatment` must be one of agent, human, got 'agnet'"):
        assert f"  - {part}" in message


def test_a_value_map_may_target_only_charter_failure_modes(tiny):
    folder = tiny("ts,traffic_share,actor,reason\n2026-11-02T09:00:00Z,0.05,ana,start\n", """\
canary:
  path: flags.csv
  values:
    failure_mode: {policy: wrong_policy, rude: rudeness, none: null}
""")
    with pytest.raises(SourcesError, match=r"`canary.values.failure_mode.rude` must be a failure mode of the "
                                           r"charter \(wrong_policy, pii_leak\) or null, got 'rudeness'"):
        load_workspace(folder)


def test_a_table_in_two_places_is_refused(tiny):
    folder = tiny("ts,traffic_share,actor,reason\n2026-11-02T09:00:00Z,0.05,ana,start\n",
                  "flags:\n  path: history.csv\n")
    (folder / "history.csv").write_text((folder / "flags.csv").read_text())
    with pytest.raises(SourcesError, match="`flags.path` reads history.csv, but the workspace also holds flags.csv"):
        load_workspace(folder)


def test_percent_shares_may_carry_a_percent_sign_and_a_tsv_is_tab_separated(tiny):
    folder = tiny("when\tshare\tactor\treason\n2026-11-02T09:00:00Z\t5%\tana\tstart\n"
                  "2026-11-09T09:00:00Z\t15\tana\tx\n",
                  "flags:\n  path: history.tsv\n  columns: {ts: when, traffic_share: share}\n"
                  "  traffic_share: percent\n", name="history.tsv")
    flags = load_workspace(folder).table("flags").collect()
    assert flags["traffic_share"].to_list() == [0.05, 0.15]
    assert flags.columns[:2] == ["ts", "traffic_share"]


def test_value_maps_on_typed_columns_and_empty_cells(make_workspace):
    frame = pl.DataFrame({"interaction_id": ["a", "b", "c"], "ts": ["2026-11-02T10:00:00Z"] * 3,
                          "arm": ["A", "B", "A"], "success": [1, 0, 1], "failure_mode": [None, "policy", None]})
    folder = make_workspace({"canary.parquet": frame})
    (folder / "sources.yaml").write_text("canary:\n  values:\n    arm: {A: agent, B: human}\n"
                                         "    success: {1: true, 0: false}\n    failure_mode: {policy: wrong_policy}\n")
    canary = load_workspace(folder).table("canary").collect()
    assert canary["arm"].to_list() == ["agent", "human", "agent"]
    assert canary["success"].to_list() == [True, False, True]
    assert canary["failure_mode"].to_list() == [None, "wrong_policy", None]


def test_local_times_that_repeat_when_clocks_go_back_are_refused(tiny):
    folder = tiny("ts,traffic_share,actor,reason\n2026-10-31 12:00:00,0.05,ana,start\n"
                  "2026-11-01 01:30:00,0.15,ana,up\n",
                  "flags:\n  timestamps: {timezone: America/Chicago}\n")
    with pytest.raises(DataError) as info:
        load_workspace(folder).table("flags")
    message = str(info.value)
    assert ("flags.csv: column `ts` (zone America/Chicago) holds local times that do not exist or repeat in "
            "America/Chicago (clocks changed) — 1 row: '2026-11-01 01:30:00' (line 3)") in message
    assert "export these times with their UTC offset" in message


def test_local_times_are_placed_in_their_zone(tiny):
    folder = tiny("ts,traffic_share,actor,reason\n2026-11-02 09:00:00,0.05,ana,start\n",
                  "flags:\n  timestamps: {timezone: America/Chicago}\n")
    ts = load_workspace(folder).table("flags").collect()["ts"].item()
    assert ts.isoformat() == "2026-11-02T15:00:00+00:00"


def test_an_error_in_a_glob_names_the_file_and_its_line(make_workspace):
    header = "interaction_id,ts,arm,success,failure_mode\n"
    folder = make_workspace({"week1.csv": header + "a1,2026-11-02T10:00:00Z,agent,true,\n",
                             "week2.csv": header + "a2,2026-11-09T10:00:00Z,agent,true,\na3,2026-11-09T11:00:00Z,"
                                                   "robot,true,\n"})
    (folder / "sources.yaml").write_text("canary:\n  path: week*.csv\n")
    with pytest.raises(DataError) as info:
        load_workspace(folder).table("canary")
    assert str(info.value).startswith("week*.csv: column `arm` has values outside {agent, human} — 1 row: 'robot' "
                                      "(week2.csv line 3)")
    assert info.value.files == ["week2.csv"] and info.value.rows == [3]


def test_the_mapping_stays_lazy(pair):
    ws = load_workspace(pair[1])
    canary = ws.table("canary")
    assert isinstance(canary, pl.LazyFrame)
    plan = canary.explain()
    assert "interactions_1.csv" in plan or "Csv SCAN" in plan.upper().replace("CSV SCAN", "Csv SCAN")
    assert "DF [" not in plan, "no materialised frame in the plan: the files are scanned, renamed and recoded lazily"


def test_tables_not_in_sources_yaml_are_found_by_name(pair):
    sources = load_sources(pair[1])
    assert sources["incidents"].location == "incidents.csv" and sources["incidents"].declared
    plain = load_sources(pair[0])
    assert {s.declared for s in plain.values()} == {False}


def test_a_folder_of_csv_parts_and_a_value_map_for_empty_cells(make_workspace):
    header = "interaction_id,ts,arm,success,failure_mode\n"
    folder = make_workspace({})
    (folder / "daily").mkdir()
    (folder / "daily" / "2026-11-02.csv").write_text(header + "a1,2026-11-02T10:00:00Z,agent,true,\n")
    (folder / "daily" / "2026-11-03.csv").write_text(header + "a2,2026-11-03T10:00:00Z,,false,policy\n")
    (folder / "sources.yaml").write_text("canary:\n  path: daily/\n  values:\n    arm: {~: human}\n"
                                         "    failure_mode: {policy: wrong_policy}\n")
    canary = load_workspace(folder).table("canary").collect()
    assert canary["interaction_id"].to_list() == ["a1", "a2"]
    assert canary["arm"].to_list() == ["agent", "human"], "an empty cell mapped by the null key"
    assert canary["failure_mode"].to_list() == [None, "wrong_policy"]
