"""The charter: the four artifacts (task, success metric, failure modes, rollback triggers) and the policies.

`load_charter` reads `charter.yaml` safely, applies DESIGN.md's defaults, refuses unknown keys, and raises a
`CharterError` that names the field path, what was given and what is allowed.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from rolloutkit.errors import CharterError

RiskTier = Literal["low", "moderate", "high"]
RISK_TIERS = ("low", "moderate", "high")
TRIGGER_METRICS = ("success_rate", "success_gap", "failure_rate", "guardrail_breaches", "cost_per_task")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class SuccessMetric:
    name: str
    noninferiority_margin: float
    description: str = ""


@dataclass(frozen=True)
class FailureMode:
    name: str
    max_rate: float
    description: str = ""

    @property
    def zero_tolerance(self) -> bool:
        return self.max_rate == 0


@dataclass(frozen=True)
class RollbackTrigger:
    metric: str
    above: float | None = None
    below: float | None = None
    failure_mode: str | None = None
    window_days: int = 1

    @property
    def label(self) -> str:
        """Plain words, e.g. "failure_rate of wrong_policy above 0.02 over 1 day"."""
        what = f"{self.metric} of {self.failure_mode}" if self.failure_mode else self.metric
        bound = f"above {self.above:g}" if self.above is not None else f"below {self.below:g}"
        days = "1 day" if self.window_days == 1 else f"{self.window_days} days"
        return f"{what} {bound} over {days}"


@dataclass(frozen=True)
class Traffic:
    daily_interactions: int


@dataclass(frozen=True)
class ShadowPolicy:
    min_weeks: int = 2
    max_weeks: int = 4
    reviews_per_week: int = 75
    max_agent_worse_rate: float = 0.05


@dataclass(frozen=True)
class CanaryPolicy:
    stages: tuple[float, ...] = (0.05, 0.15, 0.40, 0.80, 1.0)
    min_hold_days: int = 7
    max_hold_days: int = 14
    confidence: float = 0.95

    @property
    def alpha(self) -> float:
        return 1 - self.confidence


@dataclass(frozen=True)
class Guardrails:
    max_actions_per_session: int | None = None
    max_dollars_per_session: float | None = None
    action_allowlist: tuple[str, ...] | None = None
    review_required: tuple[str, ...] | None = None


@dataclass(frozen=True)
class SupervisionPolicy:
    sample_rate: float = 0.05


@dataclass(frozen=True)
class Charter:
    agent: str
    task: str
    success_metric: SuccessMetric
    failure_modes: tuple[FailureMode, ...]
    rollback_triggers: tuple[RollbackTrigger, ...]
    traffic: Traffic
    owner: str | None = None
    risk_tier: RiskTier = "moderate"
    timezone: str = "UTC"
    shadow: ShadowPolicy = ShadowPolicy()
    canary: CanaryPolicy = CanaryPolicy()
    guardrails: Guardrails | None = None
    supervision: SupervisionPolicy = SupervisionPolicy()

    @property
    def failure_mode_names(self) -> tuple[str, ...]:
        return tuple(m.name for m in self.failure_modes)

    @property
    def zero_tolerance_modes(self) -> tuple[FailureMode, ...]:
        return tuple(m for m in self.failure_modes if m.zero_tolerance)

    def failure_mode(self, name: str) -> FailureMode:
        for mode in self.failure_modes:
            if mode.name == name:
                return mode
        raise KeyError(f"no failure mode {name!r} in the charter of {self.agent}; known: {self.failure_mode_names}")


def load_charter(path: str | Path) -> Charter:
    """Read and validate a `charter.yaml`; errors name the field path, the value given and what is allowed."""
    path = Path(path)
    if path.is_dir():
        path = path / "charter.yaml"
    if not path.exists():
        raise CharterError(f"{path}: no charter found; every workspace needs a charter.yaml (see DESIGN.md)")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise CharterError(f"{path}: not valid YAML: {exc}") from None
    return parse_charter(raw, source=str(path.name if path.name else path))


def parse_charter(raw: Any, *, source: str = "charter.yaml") -> Charter:
    """Validate an already-parsed charter mapping (what `yaml.safe_load` gives)."""
    return _Parser(source).charter(raw)


class _Parser:
    """Walks the YAML tree keeping the field path, so every error says where it is."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, field: str, given: Any, allowed: str) -> CharterError:
        return CharterError(f"{self.source}: `{field}` {allowed}, got {given!r}")

    def mapping(self, value: Any, field: str, *, required: set[str], optional: set[str]) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(field, value, "must be a mapping")
        unknown = sorted(set(value) - required - optional)
        if unknown:
            allowed = ", ".join(sorted(required | optional))
            raise self.fail(f"{field}.{unknown[0]}" if field else unknown[0], unknown[0],
                            f"is not a known key (allowed: {allowed})")
        missing = sorted(required - set(value))
        if missing:
            name = f"{field}.{missing[0]}" if field else missing[0]
            raise CharterError(f"{self.source}: `{name}` is required but missing")
        return value

    def text(self, value: Any, field: str, *, slug: bool = False) -> str:
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, value, "must be a non-empty string")
        if slug and not _SLUG.match(value):
            raise self.fail(field, value, "must be a slug of lowercase letters, digits, '-' or '_'")
        return value.strip()

    def number(self, value: Any, field: str, *, low: float, high: float, low_open: bool = False,
               high_open: bool = False) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(field, value, "must be a number")
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if below or above:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise self.fail(field, value, f"must be in {interval}")
        return float(value)

    def integer(self, value: Any, field: str, *, low: int) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise self.fail(field, value, "must be a whole number")
        if value < low:
            raise self.fail(field, value, f"must be at least {low}")
        return value

    def names(self, value: Any, field: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(field, value, "must be a non-empty list of action names")
        return tuple(self.text(v, f"{field}[{i}]") for i, v in enumerate(value))

    def charter(self, raw: Any) -> Charter:
        required = {"agent", "task", "success_metric", "failure_modes", "rollback_triggers", "traffic"}
        optional = {"owner", "risk_tier", "timezone", "shadow", "canary", "guardrails", "supervision"}
        if raw is None:
            raise CharterError(f"{self.source}: the charter is empty; it needs {', '.join(sorted(required))}")
        doc = self.mapping(raw, "", required=required, optional=optional)
        failure_modes = self.failure_modes(doc["failure_modes"])
        risk_tier = doc.get("risk_tier", "moderate")
        if risk_tier not in RISK_TIERS:
            raise self.fail("risk_tier", risk_tier, f"must be one of {', '.join(RISK_TIERS)}")
        return Charter(
            agent=self.text(doc["agent"], "agent", slug=True),
            task=self.text(doc["task"], "task"),
            owner=self.text(doc["owner"], "owner") if "owner" in doc else None,
            risk_tier=risk_tier,
            timezone=self.timezone(doc.get("timezone", "UTC")),
            success_metric=self.success_metric(doc["success_metric"]),
            failure_modes=failure_modes,
            rollback_triggers=self.triggers(doc["rollback_triggers"], {m.name for m in failure_modes}),
            traffic=self.traffic(doc["traffic"]),
            shadow=self.shadow(doc.get("shadow", {})),
            canary=self.canary(doc.get("canary", {})),
            guardrails=self.guardrails(doc["guardrails"]) if "guardrails" in doc else None,
            supervision=self.supervision(doc.get("supervision", {})),
        )

    def timezone(self, value: Any) -> str:
        zone = self.text(value, "timezone")
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            raise self.fail("timezone", value, "must be an IANA time zone such as UTC or Europe/Berlin") from None
        return zone

    def success_metric(self, value: Any) -> SuccessMetric:
        doc = self.mapping(value, "success_metric", required={"name", "noninferiority_margin"},
                           optional={"description"})
        return SuccessMetric(
            name=self.text(doc["name"], "success_metric.name"),
            description=self.text(doc["description"], "success_metric.description") if "description" in doc else "",
            noninferiority_margin=self.number(doc["noninferiority_margin"], "success_metric.noninferiority_margin",
                                              low=0, high=1, high_open=True),
        )

    def failure_modes(self, value: Any) -> tuple[FailureMode, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("failure_modes", value, "must list at least one intolerable failure mode")
        modes = []
        for i, item in enumerate(value):
            field = f"failure_modes[{i}]"
            doc = self.mapping(item, field, required={"name", "max_rate"}, optional={"description"})
            modes.append(FailureMode(
                name=self.text(doc["name"], f"{field}.name", slug=True),
                description=self.text(doc["description"], f"{field}.description") if "description" in doc else "",
                max_rate=self.number(doc["max_rate"], f"{field}.max_rate", low=0, high=1, high_open=True),
            ))
        names = [m.name for m in modes]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise self.fail("failure_modes", duplicated[0], "must have unique names; duplicated")
        return tuple(modes)

    def triggers(self, value: Any, mode_names: set[str]) -> tuple[RollbackTrigger, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail("rollback_triggers", value, "must list at least one rollback trigger")
        triggers = []
        for i, item in enumerate(value):
            field = f"rollback_triggers[{i}]"
            doc = self.mapping(item, field, required={"metric"},
                               optional={"failure_mode", "above", "below", "window_days"})
            metric = doc["metric"]
            if metric not in TRIGGER_METRICS:
                raise self.fail(f"{field}.metric", metric, f"must be one of {', '.join(TRIGGER_METRICS)}")
            mode = doc.get("failure_mode")
            if metric == "failure_rate":
                if mode not in mode_names:
                    raise self.fail(f"{field}.failure_mode", mode,
                                    f"must name a charter failure mode ({', '.join(sorted(mode_names))})")
            elif mode is not None:
                raise self.fail(f"{field}.failure_mode", mode, "is only allowed when metric is failure_rate")
            if ("above" in doc) == ("below" in doc):
                raise CharterError(f"{self.source}: `{field}` needs exactly one of `above` or `below`")
            bound_key = "above" if "above" in doc else "below"
            bound = self.number(doc[bound_key], f"{field}.{bound_key}", low=-1e12, high=1e12)
            triggers.append(RollbackTrigger(
                metric=metric, failure_mode=mode,
                above=bound if bound_key == "above" else None,
                below=bound if bound_key == "below" else None,
                window_days=self.integer(doc.get("window_days", 1), f"{field}.window_days", low=1),
            ))
        return tuple(triggers)

    def traffic(self, value: Any) -> Traffic:
        doc = self.mapping(value, "traffic", required={"daily_interactions"}, optional=set())
        return Traffic(daily_interactions=self.integer(doc["daily_interactions"], "traffic.daily_interactions",
                                                       low=1))

    def shadow(self, value: Any) -> ShadowPolicy:
        doc = self.mapping(value, "shadow", required=set(),
                           optional={"min_weeks", "max_weeks", "reviews_per_week", "max_agent_worse_rate"})
        d = ShadowPolicy()
        policy = ShadowPolicy(
            min_weeks=self.integer(doc.get("min_weeks", d.min_weeks), "shadow.min_weeks", low=0),
            max_weeks=self.integer(doc.get("max_weeks", d.max_weeks), "shadow.max_weeks", low=1),
            reviews_per_week=self.integer(doc.get("reviews_per_week", d.reviews_per_week),
                                          "shadow.reviews_per_week", low=1),
            max_agent_worse_rate=self.number(doc.get("max_agent_worse_rate", d.max_agent_worse_rate),
                                             "shadow.max_agent_worse_rate", low=0, high=1, low_open=True),
        )
        if policy.max_weeks < policy.min_weeks:
            raise self.fail("shadow.max_weeks", policy.max_weeks,
                            f"must be at least shadow.min_weeks ({policy.min_weeks})")
        return policy

    def canary(self, value: Any) -> CanaryPolicy:
        doc = self.mapping(value, "canary", required=set(),
                           optional={"stages", "min_hold_days", "max_hold_days", "confidence"})
        d = CanaryPolicy()
        stages = doc.get("stages", list(d.stages))
        if not isinstance(stages, list) or not stages:
            raise self.fail("canary.stages", stages, "must be a non-empty list of traffic shares")
        shares = tuple(self.number(s, f"canary.stages[{i}]", low=0, high=1, low_open=True)
                       for i, s in enumerate(stages))
        if any(b <= a for a, b in zip(shares, shares[1:], strict=False)):
            raise self.fail("canary.stages", stages, "must increase strictly")
        if shares[-1] != 1.0:
            raise self.fail("canary.stages", stages, "must end at 1.0 (100% of traffic)")
        policy = CanaryPolicy(
            stages=shares,
            min_hold_days=self.integer(doc.get("min_hold_days", d.min_hold_days), "canary.min_hold_days", low=1),
            max_hold_days=self.integer(doc.get("max_hold_days", d.max_hold_days), "canary.max_hold_days", low=1),
            confidence=self.number(doc.get("confidence", d.confidence), "canary.confidence", low=0.5, high=1,
                                   high_open=True),
        )
        if policy.max_hold_days < policy.min_hold_days:
            raise self.fail("canary.max_hold_days", policy.max_hold_days,
                            f"must be at least canary.min_hold_days ({policy.min_hold_days})")
        return policy

    def guardrails(self, value: Any) -> Guardrails:
        doc = self.mapping(value, "guardrails", required=set(), optional={
            "max_actions_per_session", "max_dollars_per_session", "action_allowlist", "review_required"})
        return Guardrails(
            max_actions_per_session=(self.integer(doc["max_actions_per_session"],
                                                  "guardrails.max_actions_per_session", low=1)
                                     if "max_actions_per_session" in doc else None),
            max_dollars_per_session=(self.number(doc["max_dollars_per_session"],
                                                 "guardrails.max_dollars_per_session", low=0, high=1e12)
                                     if "max_dollars_per_session" in doc else None),
            action_allowlist=(self.names(doc["action_allowlist"], "guardrails.action_allowlist")
                              if "action_allowlist" in doc else None),
            review_required=(self.names(doc["review_required"], "guardrails.review_required")
                             if "review_required" in doc else None),
        )

    def supervision(self, value: Any) -> SupervisionPolicy:
        doc = self.mapping(value, "supervision", required=set(), optional={"sample_rate"})
        rate = doc.get("sample_rate", SupervisionPolicy().sample_rate)
        return SupervisionPolicy(sample_rate=self.number(rate, "supervision.sample_rate", low=0, high=1,
                                                         low_open=True))
