"""Bad input of every kind is refused through `rolloutkit check`: exit 1, one message on stderr naming the file, the
column, the rule and the rows (or the charter field), long values cut — never a traceback, never a silent guess."""

from __future__ import annotations

import contextlib
import copy
import io
from pathlib import Path

import polars as pl
import pytest
import yaml
from conftest import CHARTER

from rolloutkit.cli import main

CANARY = ("interaction_id,ts,arm,success,failure_mode\n"
          "c1,2026-11-02T10:00:00Z,agent,true,\n"
          "c2,2026-11-02T11:00:00Z,human,false,wrong_policy\n"
          "c3,2026-11-03T09:30:00Z,agent,true,\n")
FLAGS = "ts,traffic_share,actor,reason\n2026-11-02T09:00:00Z,0.05,ana,start\n2026-11-09T09:00:00Z,0.15,ana,expand\n"
REVIEWS = ("interaction_id,reviewer,reviewed_at,verdict,failure_mode\n"
           "s1,rev-a,2026-10-20T10:00:00Z,equivalent,\ns2,rev-a,2026-10-20T11:00:00Z,agent_worse,wrong_policy\n")
SHADOW = ("interaction_id,ts,segment,agent_action,human_action\n"
          "s1,2026-10-20T09:00:00Z,standard,refund,refund\ns2,2026-10-20T09:05:00Z,priority,refund,deny\n")
EVALS = "run_id,run_at,agent_version,task_id,category,passed\nr1,2026-10-01T10:00:00Z,v1,t1,typical,true\n"
INCIDENTS = "incident_id,opened_at,severity,kind,summary\nINC-1,2026-11-03T10:00:00Z,sev3,other,slow reply\n"
TABLES = {"canary.csv": CANARY, "flags.csv": FLAGS, "reviews.csv": REVIEWS, "shadow.csv": SHADOW, "evals.csv": EVALS,
          "incidents.csv": INCIDENTS}
LONG = "x" * 10_000
DROP = object()


def sub(text: str, old: str, new: str) -> str:
    assert old in text, old
    return text.replace(old, new)


def charter_text(**changes) -> str:
    """The valid charter with top-level keys changed (DROP removes one)."""
    charter = copy.deepcopy(CHARTER)
    for key, value in changes.items():
        if value is DROP:
            del charter[key]
        else:
            charter[key] = value
    return yaml.safe_dump(charter, sort_keys=False)


def canary_with(column: str, values: tuple[str, str]) -> str:
    return (f"interaction_id,ts,arm,success,failure_mode,{column}\n"
            f"c1,2026-11-02T10:00:00Z,agent,true,,{values[0]}\nc2,2026-11-02T11:00:00Z,human,false,,{values[1]}\n")


# (id, files: {name: text | bytes | frame | None to delete | "dir" for an empty folder}, parts of the message)
CASES = [
    # the charter
    ("charter-missing", {"charter.yaml": None}, ["charter.yaml: no charter found"]),
    ("charter-empty", {"charter.yaml": ""}, ["charter.yaml: the charter is empty; it needs agent, failure_modes"]),
    ("charter-a-list", {"charter.yaml": "- agent\n- task\n"},
     ["charter.yaml: the charter must be a mapping of keys (agent, task", "got list ['agent', 'task']"]),
    ("charter-a-sentence", {"charter.yaml": "just a sentence\n"}, ["got str 'just a sentence'"]),
    ("charter-not-yaml", {"charter.yaml": "agent: [unclosed\n"}, ["charter.yaml: not valid YAML: line 2, column 1"]),
    ("charter-not-utf8", {"charter.yaml": "agent: caf\xe9\n".encode("latin-1")},
     ["charter.yaml: line 1 is not UTF-8 text (byte 0xe9)"]),
    ("charter-python-tag", {"charter.yaml": "agent: !!python/object/apply:os.system ['echo pwned']\n"},
     ["charter.yaml: not valid YAML: line 1, column 8: could not determine a constructor"]),
    ("charter-key-twice", {"charter.yaml": charter_text() + "owner: again\n"},
     ["charter.yaml: key `owner` is given twice (lines 3 and 19); keep one"]),
    ("charter-required-keys-missing", {"charter.yaml": "agent: support\n"},
     ["charter.yaml: 5 problems:", "`task` is required but missing", "`traffic` is required but missing"]),
    ("charter-unknown-key", {"charter.yaml": charter_text(colour="blue")}, ["`colour` is not a known key"]),
    ("charter-10000-character-string", {"charter.yaml": charter_text(agent=LONG)},
     ["`agent` must be a slug of up to 64", "…' (10,000 characters)"]),
    ("charter-bad-timezone", {"charter.yaml": charter_text(timezone="Mars/Olympus")},
     ["`timezone` must be an IANA time zone", "got 'Mars/Olympus'"]),
    ("charter-bad-rollback-authority", {"charter.yaml": charter_text(rollback_authority="jane")},
     ["`rollback_authority` must be a non-empty list of people or roles"]),
    ("charter-bad-human-path", {"charter.yaml": charter_text(human_path={"min_daily_interactions": -5})},
     ["`human_path.min_daily_interactions` must be at least 0, got -5"]),
    ("charter-no-failure-modes", {"charter.yaml": charter_text(failure_modes=[])},
     ["`failure_modes` must list at least one intolerable failure mode"]),
    # files that cannot be read
    ("empty-file", {"canary.csv": ""}, ["canary.csv is empty (0 bytes)"]),
    ("header-only", {"canary.csv": CANARY.splitlines(True)[0]}, ["canary.csv has a header but no rows"]),
    ("semicolon-delimiter", {"canary.csv": CANARY.replace(",", ";")},
     ["canary.csv is missing required column(s) interaction_id, ts", "the file looks semicolon-separated",
      '    canary:\n        delimiter: ";"']),
    ("tab-delimiter", {"canary.csv": CANARY.replace(",", "\t")},
     ["the file looks tab-separated", '        delimiter: "\\t"']),
    ("ragged-line", {"canary.csv": CANARY + "c4,2026-11-03T10:00:00Z,agent,true,,extra\n"},
     ["canary.csv has a line with 6 fields where the header has 5", "(line 5)"]),
    ("duplicated-column", {"canary.csv": sub(CANARY, "failure_mode\n", "arm\n")},
     ["canary.csv names column `arm` twice in its header (columns 3 and 5)", "(line 1)"]),
    ("non-utf8-text", {"canary.csv": CANARY.encode() + "c9,2026-11-03T10:00:00Z,agent,true,\xe9\n".encode("latin-1")},
     ["canary.csv is not UTF-8 text: byte 0xe9", "iconv", "(line 5)"]),
    ("parquet-that-is-not-parquet", {"canary.csv": None, "canary.parquet": CANARY},
     ["canary.parquet is not a Parquet file (it starts with 'interaction_id,ts,arm"]),
    ("ndjson-that-is-not-json", {"canary.csv": None, "canary.ndjson": '{"interaction_id": "c1"}\nnot json\n'},
     ["canary.ndjson is not JSON on this line", "(line 2)"]),
    ("table-given-twice", {"canary.ndjson": '{"interaction_id": "c1"}\n'},
     ["holds table `canary` more than once (canary.csv, canary.ndjson); keep one"]),
    ("empty-parts-folder", {"canary.csv": None, "canary": "dir"},
     ["canary/ is a table folder without any .parquet parts"]),
    # columns
    ("missing-required-column", {"canary.csv": "interaction_id,ts,arm,success\nc1,2026-11-02T10:00:00Z,agent,true\n"},
     ["canary.csv is missing required column(s) failure_mode (it has: interaction_id, ts, arm, success)"]),
    ("column-under-another-name", {"canary.csv": sub(CANARY, ",ts,", ",created_at,")},
     ["canary.csv is missing required column(s) ts", "the closest present column: `ts` ← `created_at`",
      "        columns: {ts: created_at}"]),
    ("empty-required-column",
     {"canary.csv": "interaction_id,ts,arm,success,failure_mode\nc1,2026-11-02T10:00:00Z,,true,\n"
                    "c2,2026-11-02T11:00:00Z,,false,\n"},
     ["canary.csv: column `arm` has empty values (it is required) — 2 rows (lines 2, 3)"]),
    ("blank-line", {"canary.csv": CANARY + "\n"},
     ["canary.csv: column `interaction_id` has empty values (it is required) — 1 row (line 5)",
      "also: column `ts` has empty values"]),
    # values
    ("duplicate-ids", {"canary.csv": sub(CANARY, "c3,", "c1,")},
     ["canary.csv: column `interaction_id` must be unique; duplicated values — 2 rows: 'c1' ×2 (lines 2, 4)"]),
    ("duplicate-review", {"reviews.csv": sub(REVIEWS, "s2,rev-a", "s1,rev-a")},
     ["reviews.csv: column `interaction_id, reviewer` must identify a row", "('s1', 'rev-a') ×2 (lines 2, 3)"]),
    ("unknown-arm", {"canary.csv": sub(CANARY, "c3,2026-11-03T09:30:00Z,agent", "c3,2026-11-03T09:30:00Z,agnet")},
     ["canary.csv: column `arm` has values outside {agent, human} — 1 row: 'agnet' (line 4)",
      "          arm: {agnet: agent}"]),
    ("unknown-verdict", {"reviews.csv": sub(REVIEWS, "equivalent", "same")},
     ["reviews.csv: column `verdict` has values outside {agent_better, equivalent, agent_worse, unclear} — 1 row: "
      "'same' (line 2)"]),
    ("unknown-failure-mode", {"canary.csv": sub(CANARY, "wrong_policy", "rudeness")},
     ["canary.csv: column `failure_mode` has values that are not failure modes of the charter (wrong_policy, "
      "pii_leak) — 1 row: 'rudeness' (line 3)", "add them to the charter's failure_modes"]),
    ("unknown-severity", {"incidents.csv": sub(INCIDENTS, "sev3", "critical")},
     ["incidents.csv: column `severity` has values outside {sev1, sev2, sev3, sev4} — 1 row: 'critical' (line 2)"]),
    ("unknown-incident-kind", {"incidents.csv": sub(INCIDENTS, "other", "outage")},
     ["incidents.csv: column `kind` has values outside {regression, false_positive"]),
    ("unknown-eval-category", {"evals.csv": sub(EVALS, "typical", "tricky")},
     ["evals.csv: column `category` has values outside {typical, edge, prior_failure, adversarial}"]),
    ("unknown-shadow-risk", {"shadow.csv": SHADOW.replace("human_action\n", "human_action,risk\n")
                             .replace("refund\n", "refund,extreme\n").replace("deny\n", "deny,low\n")},
     ["shadow.csv: column `risk` has values outside {low, medium, high} — 1 row: 'extreme' (line 2)"]),
    ("share-above-one", {"flags.csv": sub(FLAGS, "0.15", "15")},
     ["flags.csv: column `traffic_share` must be in [0, 1] — 1 row: '15' (line 3)",
      "is `traffic_share` a percent (5 meaning 5%)?", "        traffic_share: percent"]),
    ("share-negative", {"flags.csv": sub(FLAGS, "0.15", "-0.15")},
     ["flags.csv: column `traffic_share` must be in [0, 1] — 1 row: '-0.15' (line 3)"]),
    ("share-not-a-number", {"flags.csv": sub(FLAGS, "0.15", "NaN")},
     ["flags.csv: column `traffic_share` must be a finite number (not NaN or infinity) — 1 row: 'NaN' (line 3)"]),
    ("share-in-words", {"flags.csv": sub(FLAGS, "0.15", "fifteen percent")},
     ["flags.csv: column `traffic_share` cannot be read as a number — 1 row: 'fifteen percent' (line 3)"]),
    ("inclusion-probability-zero", {"reviews.csv": sub(sub(REVIEWS, "failure_mode\n", "failure_mode,inclusion_prob\n"),
                                                       "equivalent,\n", "equivalent,,0\n")},
     ["reviews.csv: column `inclusion_prob` must be in (0, 1] — 1 row: '0' (line 2)"]),
    ("negative-dollars", {"canary.csv": canary_with("dollars", ("-5", "3"))},
     ["canary.csv: column `dollars` must be >= 0 — 1 row: '-5' (line 2)"]),
    ("fractional-count", {"canary.csv": canary_with("actions", ("2.5", "3"))},
     ["canary.csv: column `actions` cannot be read as a whole number — 1 row: '2.5' (line 2)"]),
    ("unreadable-boolean", {"canary.csv": sub(CANARY, "agent,true", "agent,maybe")},
     ["canary.csv: column `success` cannot be read as true/false — 2 rows: 'maybe' ×2 (lines 2, 4)"]),
    ("boolean-number-other-than-0-1",
     {"canary.csv": None, "canary.parquet": pl.DataFrame({
         "interaction_id": ["c1", "c2"], "ts": ["2026-11-02T10:00:00Z"] * 2, "arm": ["agent", "human"],
         "success": [1, 2], "failure_mode": [None, None]})},
     ["canary.parquet: column `success` cannot be read as true/false — 1 row: 2 (row 2)"]),
    ("unparseable-timestamp", {"canary.csv": sub(CANARY, "2026-11-03T09:30:00Z", "11/23/2026 09:30:00")},
     ["canary.csv: column `ts` cannot be read as a timestamp (ISO 8601, e.g. 2026-11-02T14:05:00Z) — 1 row: "
      "'11/23/2026 09:30:00' (line 4)", 'they read with the format "%m/%d/%Y %H:%M:%S"']),
    ("mixed-time-zones", {"canary.csv": sub(CANARY, "2026-11-03T09:30:00Z", "2026-11-03 09:30:00")},
     ["canary.csv: column `ts` mixes timestamps with a UTC offset and timestamps without one (read as UTC); these "
      "have none — 1 row: '2026-11-03 09:30:00' (line 4)"]),
    ("epoch-timestamps", {"flags.csv": "ts,traffic_share,actor,reason\n1793610000,0.05,ana,start\n"},
     ["flags.csv: column `ts` cannot be read as a timestamp", 'they read with the format "%s"']),
    ("timestamp-in-words", {"flags.csv": FLAGS.replace("reason\n", "reason,zero_at\n").replace("start\n", "start,\n")
                            .replace("expand\n", "expand,soon\n")},
     ["flags.csv: column `zero_at` cannot be read as a timestamp", "1 row: 'soon' (line 3)"]),
    ("10000-character-value", {"canary.csv": sub(CANARY, "09:30:00Z,agent", f"09:30:00Z,{LONG}")},
     ["canary.csv: column `arm` has values outside {agent, human} — 1 row: 'xxxxxxxx", "…' (10,000 characters) "
      "(line 4)"]),
    ("local-time-that-repeats",
     {"flags.csv": "ts,traffic_share,actor,reason\n2026-10-30 09:00:00,0.05,ana,start\n"
                   "2026-11-01 01:30:00,0.15,ana,x\n",
      "sources.yaml": "flags:\n  timestamps: {timezone: America/Chicago}\n"},
     ["flags.csv: column `ts` (zone America/Chicago) holds local times that do not exist or repeat in "
      "America/Chicago (clocks changed) — 1 row: '2026-11-01 01:30:00' (line 3)"]),
    # sources.yaml
    ("sources-not-yaml", {"sources.yaml": "canary: [\n"}, ["sources.yaml: not valid YAML: line 2, column 1"]),
    ("sources-a-list", {"sources.yaml": "- canary\n"},
     ["sources.yaml: the file must map table names (shadow, reviews, canary, flags, evals, incidents)"]),
    ("sources-unknown-table", {"sources.yaml": "canaries:\n  path: canary.csv\n"},
     ["sources.yaml: `canaries` is not a known key (did you mean `canary`?"]),
    ("sources-unknown-key", {"sources.yaml": "canary:\n  colunms: {ts: created_at}\n"},
     ["sources.yaml: `canary.colunms` is not a known key (did you mean `columns`?"]),
    ("sources-path-matches-nothing", {"sources.yaml": "canary:\n  path: exports/*.csv\n"},
     ["sources.yaml: `canary.path` must match at least one file, got 'exports/*.csv'"]),
    ("sources-maps-a-missing-column", {"sources.yaml": "canary:\n  columns: {ts: created}\n"},
     ["canary.csv has no column `created`, which sources.yaml maps to `ts`", "drop `ts: created`"]),
    ("sources-bad-zone", {"sources.yaml": "canary:\n  timestamps: {timezone: Moon/Base}\n"},
     ["sources.yaml: `canary.timestamps.timezone` must be an IANA time zone"]),
    ("sources-format-without-date", {"sources.yaml": 'canary:\n  timestamps: {format: "%H:%M"}\n'},
     ["sources.yaml: `canary.timestamps.format` must read back the timestamps it writes"]),
    ("sources-value-map-to-nothing", {"sources.yaml": "canary:\n  values:\n    arm: {treatment: agnet}\n"},
     ["sources.yaml: `canary.values.arm.treatment` must be one of agent, human, got 'agnet'"]),
    ("sources-format-that-does-not-match", {"sources.yaml": 'canary:\n  timestamps: {format: "%d.%m.%Y %H:%M"}\n'},
     ["canary.csv: column `ts` (format %d.%m.%Y %H:%M) cannot be read as a timestamp in the format %d.%m.%Y %H:%M "
      "that sources.yaml gives — 3 rows", "they are ISO 8601, which is read without a format"]),
]


def write(folder: Path, files: dict) -> Path:
    folder.mkdir()
    (folder / "charter.yaml").write_text(charter_text())
    for name, text in TABLES.items():
        (folder / name).write_text(text)
    for name, content in files.items():
        path = folder / name
        if content is None:
            path.unlink()
        elif isinstance(content, str) and content == "dir":
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        elif isinstance(content, pl.DataFrame):
            content.write_parquet(path)
        else:
            path.write_text(content)
    return folder


def check(folder: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["check", str(folder)])
    return code, err.getvalue()


def test_the_base_workspace_is_valid(tmp_path):
    assert check(write(tmp_path / "ws", {})) == (0, "")


def test_at_least_forty_kinds():
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("files", "parts"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_file_column_rule_and_rows(tmp_path, files, parts):
    code, err = check(write(tmp_path / "ws", files))
    assert code == 1
    assert err.startswith("rolloutkit check: ")
    assert "Traceback" not in err
    for part in parts:
        assert part in err
    assert max(len(line) for line in err.splitlines()) < 400, "long values are cut"
