from __future__ import annotations

import dataclasses

import pytest
import yaml

from rolloutkit import charter
from rolloutkit.charter import CanaryPolicy, ShadowPolicy, load_charter, parse_charter
from rolloutkit.errors import CharterError


def test_defaults_applied(charter_dict):
    charter = parse_charter(charter_dict)
    assert charter.risk_tier == "moderate"
    assert charter.timezone == "UTC"
    assert charter.shadow == ShadowPolicy(min_weeks=2, max_weeks=4, reviews_per_week=75, max_agent_worse_rate=0.05)
    assert charter.canary == CanaryPolicy(stages=(0.05, 0.15, 0.40, 0.80, 1.0), min_hold_days=7, max_hold_days=14,
                                          confidence=0.95)
    assert charter.supervision.sample_rate == 0.05
    assert charter.guardrails is None
    assert [m.name for m in charter.zero_tolerance_modes] == ["pii_leak"]
    assert charter.rollback_triggers[0].label == "failure_rate of wrong_policy above 0.02 over 1 day"


def test_full_charter_round_trip(tmp_path, charter_dict):
    charter_dict |= {
        "risk_tier": "high", "timezone": "Europe/Berlin",
        "shadow": {"min_weeks": 3, "max_weeks": 6, "reviews_per_week": 100, "max_agent_worse_rate": 0.03},
        "canary": {"stages": [0.02, 0.15, 0.4, 0.8, 1.0], "min_hold_days": 10, "max_hold_days": 14,
                   "confidence": 0.9},
        "guardrails": {"max_actions_per_session": 20, "max_dollars_per_session": 200,
                       "action_allowlist": ["lookup_order", "issue_refund"], "review_required": ["issue_refund"]},
        "supervision": {"sample_rate": 0.1},
    }
    (tmp_path / "charter.yaml").write_text(yaml.safe_dump(charter_dict))
    charter = load_charter(tmp_path)
    assert charter.canary.stages[0] == 0.02
    assert charter.canary.alpha == pytest.approx(0.1)
    assert charter.guardrails.review_required == ("issue_refund",)
    assert charter.shadow.max_weeks == 6


def _with(charter_dict, path, value):
    """Set (or with value=KeyError, delete) a dotted path like 'failure_modes.0.max_rate'."""
    keys = path.split(".")
    node = charter_dict
    for key in keys[:-1]:
        node = node[int(key)] if isinstance(node, list) else node.setdefault(key, {})
    last = int(keys[-1]) if isinstance(node, list) else keys[-1]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return charter_dict


BAD = [
    ("unknown-top-key", "colour", "blue", "`colour` is not a known key"),
    ("missing-task", "task", KeyError, "`task` is required but missing"),
    ("missing-failure-modes", "failure_modes", KeyError, "`failure_modes` is required"),
    ("empty-failure-modes", "failure_modes", [], "`failure_modes` must list at least one"),
    ("missing-triggers", "rollback_triggers", KeyError, "`rollback_triggers` is required"),
    ("bad-slug", "agent", "Support Refunds!", "`agent` must be a slug"),
    ("bad-risk-tier", "risk_tier", "extreme", "`risk_tier` must be one of low, moderate, high, got 'extreme'"),
    ("bad-timezone", "timezone", "Mars/Olympus", "`timezone` must be an IANA time zone"),
    ("margin-out-of-range", "success_metric.noninferiority_margin", 1.5,
     "`success_metric.noninferiority_margin` must be in [0, 1), got 1.5"),
    ("max-rate-text", "failure_modes.0.max_rate", "one percent", "`failure_modes[0].max_rate` must be a number"),
    ("max-rate-negative", "failure_modes.0.max_rate", -0.1, "`failure_modes[0].max_rate` must be in [0, 1)"),
    ("unknown-mode-key", "failure_modes.0.severity", "high", "`failure_modes[0].severity` is not a known key"),
    ("trigger-metric", "rollback_triggers.0.metric", "vibes", "`rollback_triggers[0].metric` must be one of"),
    ("trigger-unknown-mode", "rollback_triggers.0.failure_mode", "rudeness",
     "`rollback_triggers[0].failure_mode` must name a charter failure mode"),
    ("trigger-both-bounds", "rollback_triggers.0.below", 0.5, "needs exactly one of `above` or `below`"),
    ("traffic-zero", "traffic.daily_interactions", 0, "`traffic.daily_interactions` must be at least 1, got 0"),
    ("traffic-float", "traffic.daily_interactions", 12.5, "`traffic.daily_interactions` must be a whole number"),
    ("stages-not-increasing", "canary.stages", [0.05, 0.4, 0.15, 1.0], "`canary.stages` must increase strictly"),
    ("stages-not-ending-at-1", "canary.stages", [0.05, 0.15, 0.4], "`canary.stages` must end at 1.0"),
    ("hold-days-inverted", "canary.max_hold_days", 3, "`canary.max_hold_days` must be at least canary.min_hold_days"),
    ("sample-rate-zero", "supervision.sample_rate", 0, "`supervision.sample_rate` must be in (0, 1]"),
    ("shadow-weeks-inverted", "shadow.max_weeks", 1, "`shadow.max_weeks` must be at least shadow.min_weeks"),
    ("guardrail-unknown-key", "guardrails.max_tokens", 5, "`guardrails.max_tokens` is not a known key"),
    ("allowlist-empty", "guardrails.action_allowlist", [], "`guardrails.action_allowlist` must be a non-empty list"),
]


@pytest.mark.parametrize(("path", "value", "message"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_charter_is_refused_with_field_path(charter_dict, path, value, message):
    with pytest.raises(CharterError) as info:
        parse_charter(_with(charter_dict, path, value))
    assert message in str(info.value)
    assert str(info.value).startswith("charter.yaml: ")


def test_duplicate_failure_mode_names(charter_dict):
    charter_dict["failure_modes"].append({"name": "wrong_policy", "max_rate": 0.02})
    with pytest.raises(CharterError, match="`failure_modes` must have unique names; duplicated, got 'wrong_policy'"):
        parse_charter(charter_dict)


def test_yaml_is_read_safely(tmp_path):
    (tmp_path / "charter.yaml").write_text("agent: !!python/object/apply:os.system ['echo pwned']\n")
    with pytest.raises(CharterError, match="not valid YAML"):
        load_charter(tmp_path / "charter.yaml")


@pytest.mark.parametrize(("text", "message"), [
    ("", "the charter is empty"),
    ("- just\n- a list\n", "must be a mapping"),
    ("agent: [unclosed\n", "not valid YAML"),
], ids=["empty", "list", "broken-yaml"])
def test_unreadable_charters(tmp_path, text, message):
    (tmp_path / "charter.yaml").write_text(text)
    with pytest.raises(CharterError, match=message):
        load_charter(tmp_path)


def test_missing_charter_file(tmp_path):
    with pytest.raises(CharterError, match="no charter found"):
        load_charter(tmp_path)


def test_every_problem_comes_in_one_message(charter_dict):
    for key in ("task", "traffic", "failure_modes"):
        del charter_dict[key]
    charter_dict |= {"colour": "blue", "risk_tier": "extreme", "timezone": "Mars/Olympus"}
    charter_dict["success_metric"]["noninferiority_margin"] = 1.5
    with pytest.raises(CharterError) as info:
        parse_charter(charter_dict)
    message = str(info.value)
    assert message.startswith("charter.yaml: 7 problems:\n")
    for part in ("`task` is required but missing", "`traffic` is required but missing",
                 "`failure_modes` is required but missing", "`colour` is not a known key",
                 "`risk_tier` must be one of low, moderate, high, got 'extreme'",
                 "`timezone` must be an IANA time zone", "`success_metric.noninferiority_margin` must be in [0, 1)"):
        assert f"  - {part}" in message
    assert "rollback_triggers[0].failure_mode" not in message, "no cascade from the missing failure modes"


def test_an_empty_mapping_lists_every_required_key():
    with pytest.raises(CharterError) as info:
        parse_charter({})
    assert [line for line in str(info.value).splitlines()[1:]] == [
        f"  - `{key}` is required but missing"
        for key in ("agent", "task", "success_metric", "failure_modes", "rollback_triggers", "traffic")]


def test_unknown_key_suggests_the_closest(charter_dict):
    charter_dict["canary"] = {"min_hold_day": 7}
    with pytest.raises(CharterError, match=r"`canary.min_hold_day` is not a known key \(did you mean "
                                           r"`min_hold_days`\? allowed: confidence, max_hold_days, min_hold_days, "
                                           r"stages\)"):
        parse_charter(charter_dict)


SECTIONS = [("success_metric", charter.SuccessMetric), ("failure_modes.0", charter.FailureMode),
            ("rollback_triggers.0", charter.RollbackTrigger), ("traffic", charter.Traffic),
            ("shadow", charter.ShadowPolicy), ("canary", charter.CanaryPolicy), ("guardrails", charter.Guardrails),
            ("supervision", charter.SupervisionPolicy), ("human_path", charter.HumanPath), ("", charter.Charter)]


@pytest.mark.parametrize(("path", "cls"), SECTIONS, ids=[s[1].__name__ for s in SECTIONS])
def test_a_sections_keys_are_its_dataclass_fields(charter_dict, path, cls):
    with pytest.raises(CharterError) as info:
        parse_charter(_with(charter_dict, f"{path}.not_a_key" if path else "not_a_key", 1))
    allowed = str(info.value).split("allowed: ")[1].rstrip(")")
    assert allowed.split(", ") == sorted(f.name for f in dataclasses.fields(cls))


def test_frozen_results_with_more_than_four_fields_are_keyword_only():
    wide = [cls for _, cls in SECTIONS if len(dataclasses.fields(cls)) > 4]
    assert {c.__name__ for c in wide} == {"RollbackTrigger", "Charter"}
    assert all(f.kw_only for cls in wide for f in dataclasses.fields(cls))


def test_rollback_authority_defaults_to_the_owner(charter_dict):
    assert parse_charter(charter_dict).rollback_authority == ("support-ai",)
    del charter_dict["owner"]
    anyone = parse_charter(charter_dict)
    assert anyone.rollback_authority == () and anyone.may_change_flag("whoever")
    charter_dict["rollback_authority"] = ["support-ai-oncall", "jane.doe"]
    named = parse_charter(charter_dict)
    assert named.rollback_authority == ("support-ai-oncall", "jane.doe")
    assert named.may_change_flag("jane.doe") and not named.may_change_flag("mallory")


def test_human_path_and_human_cost_defaults_and_values(charter_dict):
    default = parse_charter(charter_dict)
    assert default.human_path.min_daily_interactions == 20
    assert default.traffic.human_cost_per_interaction_usd is None
    charter_dict["human_path"] = {"min_daily_interactions": 50}
    charter_dict["traffic"]["human_cost_per_interaction_usd"] = 4.25
    given = parse_charter(charter_dict)
    assert given.human_path.min_daily_interactions == 50
    assert given.traffic.human_cost_per_interaction_usd == 4.25


NEW_BAD = [
    ("authority-not-a-list", "rollback_authority", "jane", "`rollback_authority` must be a non-empty list of people"),
    ("authority-empty", "rollback_authority", [], "`rollback_authority` must be a non-empty list"),
    ("authority-twice", "rollback_authority", ["jane", "jane"], "`rollback_authority` must name each person"),
    ("authority-blank-name", "rollback_authority", ["jane", " "], "`rollback_authority[1]` must be a non-empty"),
    ("human-path-negative", "human_path.min_daily_interactions", -1,
     "`human_path.min_daily_interactions` must be at least 0, got -1"),
    ("human-path-text", "human_path.min_daily_interactions", "twenty",
     "`human_path.min_daily_interactions` must be a whole number"),
    ("human-path-unknown-key", "human_path.warm", True, "`human_path.warm` is not a known key"),
    ("human-cost-zero", "traffic.human_cost_per_interaction_usd", 0,
     "`traffic.human_cost_per_interaction_usd` must be in (0, 1e+06], got 0"),
    ("human-cost-text", "traffic.human_cost_per_interaction_usd", "$4",
     "`traffic.human_cost_per_interaction_usd` must be a number, got '$4'"),
    ("long-agent", "agent", "a" * 10_000, "`agent` must be a slug of up to 64 lowercase letters"),
]


@pytest.mark.parametrize(("path", "value", "message"), [b[1:] for b in NEW_BAD], ids=[b[0] for b in NEW_BAD])
def test_new_keys_are_validated(charter_dict, path, value, message):
    with pytest.raises(CharterError) as info:
        parse_charter(_with(charter_dict, path, value))
    assert message in str(info.value)


def test_long_values_are_cut(charter_dict):
    charter_dict["risk_tier"] = "x" * 10_000
    with pytest.raises(CharterError) as info:
        parse_charter(charter_dict)
    assert len(str(info.value)) < 200
    assert "…' (10,000 characters)" in str(info.value)


@pytest.mark.parametrize(("text", "message"), [
    ("agent: a\nagent: b\n", "key `agent` is given twice (lines 1 and 2); keep one"),
    ("agent: a\ntask: [1\n", "not valid YAML: line 3, column 1"),
], ids=["duplicate-key", "broken-yaml-names-the-line"])
def test_yaml_mistakes_name_the_line(tmp_path, text, message):
    (tmp_path / "charter.yaml").write_text(text)
    with pytest.raises(CharterError) as info:
        load_charter(tmp_path)
    assert message in str(info.value)


def test_non_utf8_charter(tmp_path):
    (tmp_path / "charter.yaml").write_bytes("agent: support\ntask: Caf\xe9 refunds\n".encode("latin-1"))
    with pytest.raises(CharterError, match=r"charter.yaml: line 2 is not UTF-8 text \(byte 0xe9\)"):
        load_charter(tmp_path)


def test_yaml_12_scalars(tmp_path, charter_dict):
    """`no` is text (a person or team may be called that), `1e-3` a number."""
    charter_dict["owner"] = "PLACEHOLDER"
    charter_dict["failure_modes"][0]["max_rate"] = "RATE"
    text = yaml.safe_dump(charter_dict).replace("PLACEHOLDER", "no").replace("RATE", "1e-3")
    (tmp_path / "charter.yaml").write_text(text)
    loaded = load_charter(tmp_path)
    assert loaded.owner == "no"
    assert loaded.failure_modes[0].max_rate == 0.001
