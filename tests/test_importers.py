"""Importers: flag-platform change histories and Langfuse annotation scores → the `flags` and `reviews` tables.

The fixtures under tests/fixtures/importers/ are written from each platform's published format (docs/importers.md
cites the source of every field): LaunchDarkly `GET /api/v2/auditlog/{id}` entries, an Unleash
`GET /api/admin/events` response, GrowthBook `GET /api/v2/feature-revisions` and `/api/v1/features/{id}/revisions`
responses, and a Langfuse blob-storage export of scores (JSONL and Parquet). Each flag fixture tells the same
rollout: 5%, 15%, a targeting rule for internal testers (not a share change), 40%, a rollback drill to 0% and back,
80%, with entries for another flag and another environment mixed in.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from rolloutkit import importers, load_workspace
from rolloutkit.cli import main
from rolloutkit.errors import DataError, RolloutkitError

FIXTURES = Path(__file__).parent / "fixtures" / "importers"
LAUNCHDARKLY = sorted((FIXTURES / "launchdarkly").glob("auditlog_*.json"))
UNLEASH = [FIXTURES / "unleash" / "events.json"]
GROWTHBOOK = [FIXTURES / "growthbook" / "feature_revisions_v2.json"]
GROWTHBOOK_V1 = [FIXTURES / "growthbook" / "agent-routing_revisions_v1.json"]
LANGFUSE_JSONL = FIXTURES / "langfuse" / "export_jsonl"
LANGFUSE_PARQUET = FIXTURES / "langfuse" / "export_parquet"
BAD_VERDICTS = FIXTURES / "langfuse" / "bad_verdicts"
MODES = ("wrong_policy", "pii_leak")  # the failure modes of tests/conftest.py's charter
FLAG = "agent-routing"
MARIA, DEV, SRE = "maria.lopez@acme.com", "dev.patel@acme.com", "sre-oncall@acme.com"
STAGE_1 = "canary stage 1: 5% of traffic to the agent"
EXPAND_15 = "expand to 15% after 7 days; all readiness checks passed"
EXPAND_80 = "expand to 80% after 9 days; all readiness checks passed"


def utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


DRILL, RESTORE, EXPAND = utc("2026-09-29 14:16:27"), utc("2026-09-29 14:24:27"), utc("2026-10-02 09:22:00")
LAUNCHDARKLY_SEQUENCE = [
    (utc("2026-09-07 09:24:00"), 0.05, MARIA, STAGE_1, None),
    (utc("2026-09-14 09:19:00"), 0.15, DEV, EXPAND_15, None),
    (utc("2026-09-23 09:02:00"), 0.40, MARIA, "updateFallthrough", None),  # no comment: the action
    (DRILL, 0.0, SRE, "rollback drill", DRILL),
    (RESTORE, 0.40, SRE, "rollback drill: restore", None),
    (EXPAND, 0.80, "release-pipeline", EXPAND_80, None),  # an API access token, not a member
]
UNLEASH_SEQUENCE = [  # Unleash events carry no comment: the reason is the event type
    (utc("2026-08-31 10:00:00"), 0.0, MARIA, "feature-created", None),
    (utc("2026-09-07 09:24:00"), 0.05, MARIA, "feature-environment-enabled", None),
    (utc("2026-09-14 09:19:00"), 0.15, DEV, "feature-strategy-update", None),
    (utc("2026-09-23 09:02:00"), 0.40, MARIA, "feature-strategy-update", None),
    (DRILL, 0.0, SRE, "feature-environment-disabled", DRILL),
    (RESTORE, 0.40, SRE, "feature-environment-enabled", None),
    (EXPAND, 0.80, "release-pipeline", "feature-strategy-update", None),
]
GROWTHBOOK_SEQUENCE = [
    (utc("2026-08-31 10:00:00"), 0.0, MARIA, "published revision 1", None),
    (utc("2026-09-07 09:24:00"), 0.05, MARIA, STAGE_1, None),
    (utc("2026-09-14 09:19:00"), 0.15, DEV, EXPAND_15, None),
    (utc("2026-09-23 09:02:00"), 0.40, MARIA, "published revision 6", None),  # no comment
    (DRILL, 0.0, SRE, "rollback drill", DRILL),  # production switched off (environmentsEnabled)
    (RESTORE, 0.40, SRE, "rollback drill: restore", None),
    (EXPAND, 0.80, "release-pipeline", EXPAND_80, None),
]
#: v1 writes users as text: the name, or "API" for an API key.
V1_ACTORS = {MARIA: "Maria Lopez", DEV: "Dev Patel", SRE: "SRE On-call", "release-pipeline": "API"}


def sequence(history: importers.FlagHistory) -> list[tuple]:
    return history.table.select("ts", "traffic_share", "actor", "reason", "zero_at").rows()


@pytest.mark.parametrize(("platform", "files", "expected", "ignored", "unchanged"), [
    ("launchdarkly", LAUNCHDARKLY, LAUNCHDARKLY_SEQUENCE,
     {"for other flags": 1, "for other environments": 1, "duplicates": 0}, 1),
    ("unleash", UNLEASH, UNLEASH_SEQUENCE, {"for other flags": 1, "for other environments": 1, "duplicates": 0}, 3),
    ("growthbook", GROWTHBOOK, GROWTHBOOK_SEQUENCE,
     {"for other flags": 1, "unpublished revisions": 2, "duplicates": 0}, 1),
], ids=["launchdarkly", "unleash", "growthbook"])
def test_each_platform_gives_the_rollout_sequence(platform, files, expected, ignored, unchanged):
    history = importers.read_flags(files, platform=platform, flag=FLAG, environment="production")
    assert sequence(history) == expected
    assert history.ignored == ignored
    assert history.unchanged == unchanged  # the internal-testers rule; Unleash also a strategy added while off, a tag
    assert history.entries == len(expected) + sum(ignored.values()) + unchanged


def test_growthbook_v1_revisions_read_like_v2():
    history = importers.read_flags(GROWTHBOOK_V1, platform="growthbook", flag=FLAG, environment="production")
    assert sequence(history) == [(ts, share, V1_ACTORS[actor], reason, zero) for ts, share, actor, reason, zero
                                 in GROWTHBOOK_SEQUENCE]
    assert history.ignored == {"for other flags": 0, "unpublished revisions": 2, "duplicates": 0}


def test_an_entry_in_two_files_counts_once():
    history = importers.read_flags([*LAUNCHDARKLY, *LAUNCHDARKLY[:2]], platform="launchdarkly", flag=FLAG,
                                   environment="production")
    assert sequence(history) == LAUNCHDARKLY_SEQUENCE
    assert history.ignored["duplicates"] == 2 and history.entries == 11


@pytest.mark.parametrize(("platform", "files", "named"), [
    ("launchdarkly", LAUNCHDARKLY, "production, staging"),
    ("unleash", UNLEASH, "development, production"),
    ("growthbook", GROWTHBOOK, "production, staging"),
], ids=["launchdarkly", "unleash", "growthbook"])
def test_several_environments_need_the_environment_named(platform, files, named):
    with pytest.raises(RolloutkitError, match=rf"cover 2 environments \({named}\).*choose one with --environment"):
        importers.read_flags(files, platform=platform, flag=FLAG)


def test_the_only_environment_is_taken_when_none_is_named():
    only_production = [f for f in LAUNCHDARKLY if ":env/staging:" not in f.read_text()]
    history = importers.read_flags(only_production, platform="launchdarkly", flag=FLAG)
    assert history.environment == "production" and sequence(history) == LAUNCHDARKLY_SEQUENCE


def test_an_unknown_flag_names_the_flags_the_files_hold():
    with pytest.raises(RolloutkitError, match=r"no entry in these files concerns flag `agent-routnig` \(they name "
                                              r"`agent-routing`, `kb-search-v2`\); check --flag"):
        importers.read_flags(UNLEASH, platform="unleash", flag="agent-routnig", environment="production")


def test_launchdarkly_list_entries_without_current_version_are_refused(tmp_path):
    listed = json.loads(LAUNCHDARKLY[0].read_text())
    del listed["currentVersion"], listed["previousVersion"]
    path = tmp_path / "auditlog.json"
    path.write_text(json.dumps({"items": [listed], "_links": {}}))
    with pytest.raises(DataError, match=r"auditlog.json entry 1: has no `currentVersion`.*GET /api/v2/auditlog/\{id\}"):
        importers.read_flags([path], platform="launchdarkly", flag=FLAG, environment="production")


def _ld_entry(tmp_path: Path, variations: list[dict], fallthrough: dict) -> Path:
    entry = json.loads(LAUNCHDARKLY[0].read_text())
    entry["currentVersion"]["variations"] = variations
    entry["currentVersion"]["environments"]["production"]["fallthrough"] = fallthrough
    path = tmp_path / "entry.json"
    path.write_text(json.dumps(entry))
    return path


def test_launchdarkly_multivariate_flag_needs_the_agent_variation(tmp_path):
    variations = [{"_id": "a", "value": "human", "name": "control"}, {"_id": "b", "value": "agent-v1"},
                  {"_id": "c", "value": "agent-v2", "name": "candidate"}]
    path = _ld_entry(tmp_path, variations, {"rollout": {"variations": [
        {"variation": 0, "weight": 90000}, {"variation": 1, "weight": 7500}, {"variation": 2, "weight": 2500}]}})
    with pytest.raises(RolloutkitError, match=r"not a boolean flag.*--variation \(one of: human \(control\), "
                                              r"agent-v1, agent-v2 \(candidate\)\)"):
        importers.read_flags([path], platform="launchdarkly", flag=FLAG, environment="production")
    for variation, share in (("agent-v1", 0.075), ("candidate", 0.025), ("c", 0.025)):  # value, name, _id
        history = importers.read_flags([path], platform="launchdarkly", flag=FLAG, environment="production",
                                       variation=variation)
        assert history.table["traffic_share"].to_list() == [pytest.approx(share)]
    with pytest.raises(DataError, match="entry.json entry 1: the flag has no variation `agent-v3`"):
        importers.read_flags([path], platform="launchdarkly", flag=FLAG, environment="production",
                             variation="agent-v3")


def _write(tmp_path: Path, name: str, document: object) -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document))
    return path


def _revision(rules: list[dict], default: str = "false") -> dict:
    return {"featureId": FLAG, "version": 2, "baseVersion": 1, "comment": "", "date": "2026-09-07T09:24:00Z",
            "status": "published", "publishedBy": "API", "defaultValue": default, "rules": {"production": rules}}


def _rule(kind: str, value: str, coverage: float | None = None, condition: str = "") -> dict:
    rule = {"id": f"fr_{kind}_{value}", "type": kind, "value": value, "enabled": True, "condition": condition,
            "description": ""}
    return rule if coverage is None else {**rule, "coverage": coverage, "hashAttribute": "id"}


@pytest.mark.parametrize(("rules", "default", "share"), [
    ([_rule("rollout", "true", 0.5), _rule("force", "false")], "true", 0.5),
    ([_rule("rollout", "false", 0.5), _rule("rollout", "true", 1.0)], "false", 0.5),
    ([_rule("rollout", "false", 0.2)], "true", 0.8),
    ([_rule("rollout", "true", 0.3), _rule("rollout", "true", 0.5)], "false", 0.65),
    ([_rule("force", "true", 0.25), _rule("force", "false")], "true", 0.25),
    ([_rule("force", "true", condition='{"country": "NL"}'), _rule("rollout", "true", 0.1)], "false", 0.1),
], ids=["rollout-then-force", "fall-through", "default-takes-the-rest", "two-rollouts", "force-with-coverage",
        "targeted-rule-skipped"])
def test_growthbook_rules_fall_through_top_down(tmp_path, rules, default, share):
    path = _write(tmp_path, "revision.json", {"revision": _revision(rules, default)})
    history = importers.read_flags([path], platform="growthbook", flag=FLAG, environment="production")
    assert history.table["traffic_share"].to_list() == [pytest.approx(share)]


def _event(i: int, kind: str, data: dict | None = None, pre: dict | None = None) -> dict:
    return {"id": i, "createdAt": f"2026-09-0{i}T09:00:00Z", "type": kind, "createdBy": "maria.lopez@acme.com",
            "environment": "production", "project": "support", "featureName": FLAG, "data": data, "preData": pre}


def _strategy(rollout: int, variants: list[dict] | None = None) -> dict:
    return {"id": "s1", "name": "flexibleRollout", "constraints": [], "segments": [], "disabled": False,
            "parameters": {"rollout": str(rollout), "stickiness": "default", "groupId": FLAG},
            "variants": variants or []}


def test_unleash_strategy_variants_and_removal(tmp_path):
    variants = [{"name": "agent", "weight": 250, "weightType": "variable", "stickiness": "default"},
                {"name": "human", "weight": 750, "weightType": "variable", "stickiness": "default"}]
    path = _write(tmp_path, "events.json", {"version": 1, "events": [
        _event(3, "feature-strategy-remove", pre=_strategy(40, variants)),
        _event(2, "feature-environment-enabled"),
        _event(1, "feature-strategy-add", _strategy(40, variants)),
    ]})
    on = importers.read_flags([path], platform="unleash", flag=FLAG, environment="production")
    assert on.table["traffic_share"].to_list() == [0.0, 0.4, 0.0]
    agent = importers.read_flags([path], platform="unleash", flag=FLAG, environment="production", variation="agent")
    assert agent.table["traffic_share"].to_list() == [0.0, pytest.approx(0.1), 0.0]
    assert agent.table["zero_at"].to_list() == [None, None, utc("2026-09-03 09:00:00")]
    with pytest.raises(DataError, match=r"events.json entry 2: strategy `s1` has no variant `agnet` "
                                        r"\(it has: agent, human\)"):
        importers.read_flags([path], platform="unleash", flag=FLAG, environment="production", variation="agnet")


def test_import_flags_writes_a_table_the_workspace_accepts(make_workspace, capsys):
    ws = make_workspace()
    result = importers.import_flags(ws, LAUNCHDARKLY, platform="launchdarkly", flag=FLAG, environment="production")
    assert result.path == ws / "flags.parquet" and result.replaced == ()
    flags = load_workspace(ws).table("flags").collect()
    assert flags.select("ts", "traffic_share", "actor", "reason", "zero_at").rows() == LAUNCHDARKLY_SEQUENCE
    assert main(["check", str(ws)]) == 0
    assert "flags               6 rows  2026-09-07 .. 2026-10-02  (flags.parquet)" in capsys.readouterr().out


def test_an_existing_flags_table_is_replaced_only_when_asked(make_workspace):
    ws = make_workspace({"flags.csv": "ts,traffic_share,actor,reason\n2026-09-01T00:00:00Z,0.1,jane,by hand\n"})
    with pytest.raises(RolloutkitError, match=r"already has a `flags` table \(flags.csv\); pass --replace"):
        importers.import_flags(ws, UNLEASH, platform="unleash", flag=FLAG, environment="production")
    assert (ws / "flags.csv").exists() and not (ws / "flags.parquet").exists()
    result = importers.import_flags(ws, UNLEASH, platform="unleash", flag=FLAG, environment="production",
                                    replace=True)
    assert result.replaced == (ws / "flags.csv",) and not (ws / "flags.csv").exists()
    assert load_workspace(ws).table("flags").select(pl.len()).collect().item() == len(UNLEASH_SEQUENCE)


def test_cli_import_flags_end_to_end(make_workspace, capsys):
    ws = make_workspace()
    command = ["import", "flags", str(ws), "--from", "growthbook", *map(str, GROWTHBOOK), "--flag", FLAG,
               "--environment", "production"]
    assert main(command) == 0
    out = capsys.readouterr().out
    assert "growthbook: 11 entries in 1 file; flag `agent-routing` in `production`: 7 share changes" in out
    assert "ignored: 1 for other flags, 2 unpublished revisions" in out
    assert "2026-09-29 14:16:27 UTC     0%  sre-oncall@acme.com: rollback drill  (0% at 14:16:27)" in out
    assert f"wrote {ws / 'flags.parquet'}" in out
    assert main(command) == 1
    assert "rolloutkit import: " in (err := capsys.readouterr().err) and "pass --replace to overwrite it" in err
    assert main([*command, "--replace"]) == 0
    assert main(["check", str(ws)]) == 0


@pytest.mark.parametrize("argv", [
    ["import", "flags", "WS", "FILE", "--flag", FLAG],  # no --from
    ["import", "flags", "WS", "FILE", "--from", "flagsmith", "--flag", FLAG],
    ["import", "flags", "WS", "--from", "unleash", "--flag", FLAG],  # no FILE
    ["import", "langfuse", "WS"],
    ["import"],
], ids=["no-platform", "unknown-platform", "no-file", "no-export", "no-kind"])
def test_cli_import_usage_errors_exit_2(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2


def test_cli_import_flags_bad_input_exits_1(make_workspace, capsys):
    ws = make_workspace()
    assert main(["import", "flags", str(ws), "--from", "unleash", *map(str, UNLEASH), "--flag", FLAG]) == 1
    assert "choose one with --environment" in capsys.readouterr().err
    assert main(["import", "flags", str(ws), "--from", "launchdarkly", *map(str, UNLEASH), "--flag", FLAG]) == 1
    assert "does not look like this platform's change history" in capsys.readouterr().err
    assert not (ws / "flags.parquet").exists()


EXPECTED_REVIEWS = pl.DataFrame({
    "interaction_id": ["sr-sh-0001", "sr-sh-0001", "sr-sh-0002", "sr-sh-0003", "sr-sh-0004"],
    "reviewer": ["cm2usr0amara00000001", "cm2usr0chen000000002", "cm2usr0amara00000001", "cm2usr0chen000000002",
                 "cm2usr0bo00000000003"],
    "reviewed_at": [utc("2026-11-03 09:12:00"), utc("2026-11-03 09:30:00"), utc("2026-11-03 10:05:00"),
                    utc("2026-11-03 11:00:00"), utc("2026-11-04 08:45:00")],
    # sc-0002 was edited to agent_better and exported again the next day; "none" means no failure mode
    "verdict": ["equivalent", "agent_better", "agent_worse", "unclear", "agent_better"],
    "failure_mode": [None, None, "wrong_policy", None, None],
}, schema={"interaction_id": pl.String, "reviewer": pl.String, "reviewed_at": pl.Datetime("us", "UTC"),
           "verdict": pl.String, "failure_mode": pl.String})
LEFT_OUT = {"API": 1, "EVAL": 3, "other annotation scores": 1, "not on a trace": 1,
            "failure modes without a verdict": 1}


@pytest.mark.parametrize("export", [LANGFUSE_JSONL, LANGFUSE_PARQUET], ids=["jsonl", "parquet"])
def test_langfuse_human_annotations_become_reviews(export):
    result = importers.read_langfuse(export, failure_modes=MODES)
    assert_frame_equal(result.table, EXPECTED_REVIEWS)
    assert result.left_out == LEFT_OUT  # the LLM judge (EVAL) and the SDK (API) are left out and counted
    assert result.scores == 15 and result.duplicates == 1
    assert [f.parent.name for f in result.files] == ["scores"] * len(result.files)  # not traces/ nor manifests/


def test_langfuse_bad_verdicts_are_refused_with_their_rows():
    with pytest.raises(DataError) as info:
        importers.read_langfuse(BAD_VERDICTS, failure_modes=MODES)
    error = info.value
    assert (error.file, error.column, error.rows) == ("2026-11-03T000000Z.jsonl", "string_value", [2, 4])
    assert error.examples == ["agent_beter", "Agent better"]  # row 3, the judge's "worse", is not a human review
    assert "of the `verdict` scores has values outside {agent_better, equivalent, agent_worse, unclear}" in str(error)


def _scores(tmp_path: Path, rows: list[dict], name: str = "scores.jsonl") -> Path:
    path = tmp_path / name
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def _score(name: str, value: str, *, trace: str = "t1", author: str = "u1", **extra) -> dict:
    return {"id": f"{name}-{trace}-{author}", "timestamp": "2026-11-03 09:00:00.000000", "trace_id": trace,
            "name": name, "source": "ANNOTATION", "data_type": "CATEGORICAL", "string_value": value,
            "author_user_id": author, **extra}


def test_langfuse_failure_modes_outside_the_charter_are_refused(tmp_path):
    path = _scores(tmp_path, [_score("verdict", "agent_worse"), _score("failure_mode", "rude_tone")])
    with pytest.raises(DataError, match=r"scores.jsonl: column `string_value` of the `failure_mode` scores has values "
                                        r"that are not failure modes of the charter \(wrong_policy, pii_leak\) nor "
                                        r"'none' — 1 row: 'rude_tone' \(row 2\)"):
        importers.read_langfuse(path, failure_modes=MODES)


def test_langfuse_two_verdicts_by_one_reviewer_on_one_trace_are_refused(tmp_path):
    rows = [_score("verdict", "agent_worse"), {**_score("verdict", "equivalent"), "id": "v2", "observation_id": "o1"}]
    with pytest.raises(DataError, match=r"must hold one `verdict` score per \(trace, reviewer\).*rows 1, 2"):
        importers.read_langfuse(_scores(tmp_path, rows), failure_modes=MODES)


def test_langfuse_export_without_the_provenance_fields_says_how_to_get_them(tmp_path):
    row = _score("verdict", "equivalent")
    del row["author_user_id"]
    with pytest.raises(DataError, match="no `author_user_id` column.*enable the `score_provenance` field group"):
        importers.read_langfuse(_scores(tmp_path, [row]), failure_modes=MODES)


def test_langfuse_public_api_names_are_read_too(tmp_path):
    camel = {"id": "s1", "timestamp": "2026-11-03T09:00:00.000Z", "traceId": "t1", "name": "verdict",
             "source": "ANNOTATION", "dataType": "CATEGORICAL", "stringValue": "agent_better", "authorUserId": "u1"}
    result = importers.read_langfuse(_scores(tmp_path, [camel]), failure_modes=MODES)
    assert result.table.rows() == [("t1", "u1", utc("2026-11-03 09:00:00"), "agent_better", None)]


def test_cli_import_langfuse_end_to_end(make_workspace, capsys):
    ws = make_workspace()
    assert main(["import", "langfuse", str(ws), str(LANGFUSE_JSONL)]) == 0
    out = capsys.readouterr().out
    assert "langfuse: 15 scores in 2 files; 5 reviews by 3 reviewers" in out
    assert ("left out: API 1, EVAL 3, other annotation scores 1, not on a trace 1, failure modes without a verdict 1"
            in out)
    assert_frame_equal(load_workspace(ws).table("reviews").drop("day").collect(), EXPECTED_REVIEWS)
    assert main(["check", str(ws)]) == 0
    capsys.readouterr()
    assert main(["import", "langfuse", str(ws), str(LANGFUSE_JSONL)]) == 1
    assert "already has a `reviews` table (reviews.parquet); pass --replace" in capsys.readouterr().err
    assert main(["import", "langfuse", str(ws), str(BAD_VERDICTS), "--replace"]) == 1
    assert "(rows 2, 4)" in capsys.readouterr().err
    assert_frame_equal(load_workspace(ws).table("reviews").drop("day").collect(), EXPECTED_REVIEWS)  # untouched


def test_cli_import_langfuse_named_scores(make_workspace, tmp_path, capsys):
    ws = make_workspace()
    path = _scores(tmp_path, [_score("human_verdict", "agent_better"), _score("mode", "pii_leak"),
                              _score("verdict", "not-a-verdict")])
    assert main(["import", "langfuse", str(ws), str(path), "--verdict-score", "human_verdict",
                 "--failure-mode-score", "mode"]) == 0
    assert "other annotation scores 1" in capsys.readouterr().out
    assert load_workspace(ws).table("reviews").select("verdict", "failure_mode").collect().rows() == [
        ("agent_better", "pii_leak")]
