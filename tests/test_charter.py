from __future__ import annotations

import pytest
import yaml

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
