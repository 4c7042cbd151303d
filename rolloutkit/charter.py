"""The charter: the four artifacts (task, success metric, failure modes, rollback triggers) and the policies.

`load_charter` reads `charter.yaml` safely, applies the defaults, refuses unknown keys, and raises one
`CharterError` listing every problem at once, each naming the field path, what was given and what is allowed. The
keys a section allows are its dataclass's fields; a field without a default is a required key.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import zoneinfo
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

from rolloutkit.errors import CharterError, RolloutkitError, cut, short

RiskTier = Literal["low", "moderate", "high"]
RISK_TIERS = ("low", "moderate", "high")
TRIGGER_METRICS = ("success_rate", "success_gap", "failure_rate", "guardrail_breaches", "cost_per_task")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


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


@dataclass(frozen=True, kw_only=True)
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
    #: What one interaction costs when a person handles it, so agent and human cost compare in dollars.
    human_cost_per_interaction_usd: float | None = None


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
class HumanPath:
    #: Interactions a day the human-only path keeps after 100%, so people stay practised and a rollback has
    #: somewhere to go; 0 turns the check off.
    min_daily_interactions: int = 20


@dataclass(frozen=True, kw_only=True)
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
    #: People or roles allowed to change the flag; the parser defaults it to (owner,), and () means anyone.
    rollback_authority: tuple[str, ...] = ()
    human_path: HumanPath = HumanPath()

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

    def may_change_flag(self, actor: str | None) -> bool:
        """Whether `actor` is in `rollback_authority` (anyone may when it is empty)."""
        return not self.rollback_authority or actor in self.rollback_authority


def load_charter(path: str | Path) -> Charter:
    """Read and validate a `charter.yaml`; one error lists every problem with its field path."""
    path = Path(path)
    if path.is_dir():
        path = path / "charter.yaml"
    if not path.exists():
        raise CharterError(f"{path}: no charter found; every workspace needs a charter.yaml (see docs/charter.md)")
    raw = load_yaml(path, CharterError)
    return parse_charter(raw, source=str(path.name if path.name else path))


def parse_charter(raw: Any, *, source: str = "charter.yaml") -> Charter:
    """Validate an already-parsed charter mapping (what `yaml.safe_load` gives)."""
    return _Parser(source).charter(raw)


def load_yaml(path: Path, error: type[RolloutkitError]) -> Any:
    """A YAML file read safely: UTF-8, no Python tags, a key given twice refused, and YAML 1.2 scalars (only
    true/false are booleans, so `yes`, `no` and `on` stay text; `1e-3` is a number)."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = path.read_bytes()[:exc.start].count(b"\n") + 1
        raise error(f"{path.name}: line {line} is not UTF-8 text (byte 0x{path.read_bytes()[exc.start]:02x}); "
                    "save the file as UTF-8") from None
    except OSError as exc:
        raise error(f"{path.name}: cannot be read: {exc.strerror}") from None
    try:
        return yaml.load(text, Loader=_Loader)
    except _DuplicateKey as exc:
        raise error(f"{path.name}: {exc}") from None
    except yaml.YAMLError as exc:
        mark, problem = getattr(exc, "problem_mark", None), getattr(exc, "problem", None)
        detail = f"line {mark.line + 1}, column {mark.column + 1}: {problem}" if mark and problem else str(exc)
        raise error(f"{path.name}: not valid YAML: {' '.join(detail.split())[:300]}") from None


class _DuplicateKey(yaml.YAMLError):
    pass


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans and floats, refusing a key given twice in one mapping."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            line = key_node.start_mark.line + 1
            if isinstance(key, list | dict):
                continue  # unhashable keys are refused by SafeLoader itself
            if key in seen:
                raise _DuplicateKey(f"key `{short(key)}` is given twice "
                                    f"(lines {seen[key]} and {line}); keep one")
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
                              list("tTfF"))
_Loader.add_implicit_resolver("tag:yaml.org,2002:float",
                              re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
                              list("-+0123456789."))


def _keys(cls: type) -> tuple[list[str], list[str]]:
    """A section's (required, optional) keys: its dataclass fields, required when they have no default."""
    fields = dataclasses.fields(cls)
    required = [f.name for f in fields
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING]
    return required, [f.name for f in fields if f.name not in required]


class _Parser:
    """Walks the YAML tree keeping the field path, noting every problem; `charter` raises them all at once.

    A value that breaks a rule is noted and parsed as None, so the walk goes on; checks that depend on another
    field (a trigger's failure mode, max ≥ min) are skipped when that field was already at fault.
    """

    def __init__(self, source: str) -> None:
        self.source = source
        self.problems: list[str] = []

    def fail(self, field: str, given: Any, allowed: str) -> None:
        self.problems.append(f"`{field}` {allowed}, got {cut(given)}")

    def note(self, text: str) -> None:
        self.problems.append(text)

    def mapping(self, value: Any, field: str, cls: type) -> dict[str, Any] | None:
        if not isinstance(value, dict):
            if not field:
                required, _ = _keys(cls)
                self.note(f"the charter must be a mapping of keys ({', '.join(required)}, ...), "
                          f"got {type(value).__name__} {cut(value)}")
            else:
                self.fail(field, value, "must be a mapping")
            return None
        required, optional = _keys(cls)
        allowed = required + optional
        for key in value:
            if key not in allowed:
                name = f"{field}.{key}" if field else str(key)
                close = difflib.get_close_matches(str(key), allowed, n=1)
                hint = f"did you mean `{close[0]}`? " if close else ""
                self.note(f"`{short(name)}` is not a known key ({hint}allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in value:
                self.note(f"`{f'{field}.{key}' if field else key}` is required but missing")
        return value

    def text(self, value: Any, field: str, *, slug: bool = False) -> str | None:
        if not isinstance(value, str) or not value.strip():
            return self.fail(field, value, "must be a non-empty string")
        if slug and not _SLUG.match(value):
            return self.fail(field, value, "must be a slug of up to 64 lowercase letters, digits, '-' or '_'")
        return value.strip()

    def number(self, value: Any, field: str, *, low: float, high: float, low_open: bool = False,
               high_open: bool = False) -> float | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return self.fail(field, value, "must be a number")
        below = value <= low if low_open else value < low
        above = value >= high if high_open else value > high
        if below or above:
            interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            return self.fail(field, value, f"must be in {interval}")
        return float(value)

    def integer(self, value: Any, field: str, *, low: int) -> int | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return self.fail(field, value, "must be a whole number")
        if value < low:
            return self.fail(field, value, f"must be at least {low}")
        return value

    def names(self, value: Any, field: str, what: str = "action names") -> tuple[str, ...] | None:
        if not isinstance(value, list) or not value:
            return self.fail(field, value, f"must be a non-empty list of {what}")
        names = tuple(self.text(v, f"{field}[{i}]") for i, v in enumerate(value))
        return None if None in names else names  # type: ignore[return-value]

    def charter(self, raw: Any) -> Charter:
        required, _ = _keys(Charter)
        if raw is None:
            raise CharterError(f"{self.source}: the charter is empty; it needs {', '.join(sorted(required))}")
        doc = self.mapping(raw, "", Charter)
        if doc is None:
            raise CharterError(f"{self.source}: {self.problems[0]}")
        failure_modes = self.failure_modes(doc["failure_modes"]) if "failure_modes" in doc else None
        risk_tier = doc.get("risk_tier", "moderate")
        if risk_tier not in RISK_TIERS:
            self.fail("risk_tier", risk_tier, f"must be one of {', '.join(RISK_TIERS)}")
        owner = self.text(doc["owner"], "owner") if "owner" in doc else None
        charter = dict(
            agent=self.text(doc["agent"], "agent", slug=True) if "agent" in doc else None,
            task=self.text(doc["task"], "task") if "task" in doc else None,
            owner=owner,
            risk_tier=risk_tier,
            timezone=self.timezone(doc.get("timezone", "UTC")),
            success_metric=self.success_metric(doc["success_metric"]) if "success_metric" in doc else None,
            failure_modes=failure_modes,
            rollback_triggers=(self.triggers(doc["rollback_triggers"],
                                             {m.name for m in failure_modes} if failure_modes else None)
                               if "rollback_triggers" in doc else None),
            traffic=self.traffic(doc["traffic"]) if "traffic" in doc else None,
            shadow=self.shadow(doc.get("shadow", {})),
            canary=self.canary(doc.get("canary", {})),
            guardrails=self.guardrails(doc["guardrails"]) if "guardrails" in doc else None,
            supervision=self.supervision(doc.get("supervision", {})),
            rollback_authority=(self.authority(doc["rollback_authority"]) if "rollback_authority" in doc
                                else (owner,) if owner else ()),
            human_path=self.human_path(doc.get("human_path", {})),
        )
        if self.problems:
            if len(self.problems) == 1:
                raise CharterError(f"{self.source}: {self.problems[0]}")
            listed = "\n".join(f"  - {p}" for p in self.problems)
            raise CharterError(f"{self.source}: {len(self.problems)} problems:\n{listed}")
        return Charter(**charter)

    def timezone(self, value: Any) -> str | None:
        zone = self.text(value, "timezone")
        if zone is None:
            return None
        try:
            zoneinfo.ZoneInfo(zone)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            return self.fail("timezone", value, "must be an IANA time zone such as UTC or Europe/Berlin")
        return zone

    def success_metric(self, value: Any) -> SuccessMetric | None:
        doc = self.mapping(value, "success_metric", SuccessMetric)
        if doc is None:
            return None
        return SuccessMetric(
            name=self.text(doc["name"], "success_metric.name") if "name" in doc else None,
            description=self.text(doc["description"], "success_metric.description") if "description" in doc else "",
            noninferiority_margin=(self.number(doc["noninferiority_margin"], "success_metric.noninferiority_margin",
                                               low=0, high=1, high_open=True)
                                   if "noninferiority_margin" in doc else None),
        )

    def failure_modes(self, value: Any) -> tuple[FailureMode, ...] | None:
        if not isinstance(value, list) or not value:
            return self.fail("failure_modes", value, "must list at least one intolerable failure mode")
        modes = []
        for i, item in enumerate(value):
            field = f"failure_modes[{i}]"
            doc = self.mapping(item, field, FailureMode)
            if doc is None:
                return None
            modes.append(FailureMode(
                name=self.text(doc["name"], f"{field}.name", slug=True) if "name" in doc else None,
                description=self.text(doc["description"], f"{field}.description") if "description" in doc else "",
                max_rate=(self.number(doc["max_rate"], f"{field}.max_rate", low=0, high=1, high_open=True)
                          if "max_rate" in doc else None),
            ))
        names = [m.name for m in modes if m.name is not None]
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            self.fail("failure_modes", duplicated[0], "must have unique names; duplicated")
        if any(m.name is None for m in modes):
            return None
        return tuple(modes)

    def triggers(self, value: Any, mode_names: set[str] | None) -> tuple[RollbackTrigger, ...] | None:
        if not isinstance(value, list) or not value:
            return self.fail("rollback_triggers", value, "must list at least one rollback trigger")
        triggers = []
        for i, item in enumerate(value):
            field = f"rollback_triggers[{i}]"
            doc = self.mapping(item, field, RollbackTrigger)
            if doc is None:
                continue
            metric = doc.get("metric")
            if "metric" in doc and metric not in TRIGGER_METRICS:
                self.fail(f"{field}.metric", metric, f"must be one of {', '.join(TRIGGER_METRICS)}")
            mode = doc.get("failure_mode")
            if metric == "failure_rate":
                if mode_names is not None and mode not in mode_names:
                    self.fail(f"{field}.failure_mode", mode,
                              f"must name a charter failure mode ({', '.join(sorted(mode_names))})")
            elif mode is not None:
                self.fail(f"{field}.failure_mode", mode, "is only allowed when metric is failure_rate")
            bound_key = "above" if "above" in doc else "below"
            if ("above" in doc) == ("below" in doc):
                self.note(f"`{field}` needs exactly one of `above` or `below`")
                bound = None
            else:
                bound = self.number(doc[bound_key], f"{field}.{bound_key}", low=-1e12, high=1e12)
            triggers.append(RollbackTrigger(
                metric=metric, failure_mode=mode,
                above=bound if bound_key == "above" else None,
                below=bound if bound_key == "below" else None,
                window_days=self.integer(doc.get("window_days", 1), f"{field}.window_days", low=1),
            ))
        return tuple(triggers)

    def traffic(self, value: Any) -> Traffic | None:
        doc = self.mapping(value, "traffic", Traffic)
        if doc is None:
            return None
        cost = doc.get("human_cost_per_interaction_usd")
        return Traffic(
            daily_interactions=(self.integer(doc["daily_interactions"], "traffic.daily_interactions", low=1)
                                if "daily_interactions" in doc else None),
            human_cost_per_interaction_usd=(
                None if cost is None else
                self.number(cost, "traffic.human_cost_per_interaction_usd", low=0, high=1e6, low_open=True)),
        )

    def shadow(self, value: Any) -> ShadowPolicy | None:
        doc = self.mapping(value, "shadow", ShadowPolicy)
        if doc is None:
            return None
        d = ShadowPolicy()
        policy = ShadowPolicy(
            min_weeks=self.integer(doc.get("min_weeks", d.min_weeks), "shadow.min_weeks", low=0),
            max_weeks=self.integer(doc.get("max_weeks", d.max_weeks), "shadow.max_weeks", low=1),
            reviews_per_week=self.integer(doc.get("reviews_per_week", d.reviews_per_week),
                                          "shadow.reviews_per_week", low=1),
            max_agent_worse_rate=self.number(doc.get("max_agent_worse_rate", d.max_agent_worse_rate),
                                             "shadow.max_agent_worse_rate", low=0, high=1, low_open=True),
        )
        if None not in (policy.min_weeks, policy.max_weeks) and policy.max_weeks < policy.min_weeks:
            self.fail("shadow.max_weeks", policy.max_weeks, f"must be at least shadow.min_weeks ({policy.min_weeks})")
        return policy

    def canary(self, value: Any) -> CanaryPolicy | None:
        doc = self.mapping(value, "canary", CanaryPolicy)
        if doc is None:
            return None
        d = CanaryPolicy()
        policy = CanaryPolicy(
            stages=self.stages(doc.get("stages", list(d.stages))),
            min_hold_days=self.integer(doc.get("min_hold_days", d.min_hold_days), "canary.min_hold_days", low=1),
            max_hold_days=self.integer(doc.get("max_hold_days", d.max_hold_days), "canary.max_hold_days", low=1),
            confidence=self.number(doc.get("confidence", d.confidence), "canary.confidence", low=0.5, high=1,
                                   high_open=True),
        )
        if None not in (policy.min_hold_days, policy.max_hold_days) and policy.max_hold_days < policy.min_hold_days:
            self.fail("canary.max_hold_days", policy.max_hold_days,
                      f"must be at least canary.min_hold_days ({policy.min_hold_days})")
        return policy

    def stages(self, stages: Any) -> tuple[float, ...] | None:
        if not isinstance(stages, list) or not stages:
            return self.fail("canary.stages", stages, "must be a non-empty list of traffic shares")
        shares = [self.number(s, f"canary.stages[{i}]", low=0, high=1, low_open=True) for i, s in enumerate(stages)]
        if None in shares:
            return None
        if any(b <= a for a, b in zip(shares, shares[1:], strict=False)):
            return self.fail("canary.stages", stages, "must increase strictly")
        if shares[-1] != 1.0:
            return self.fail("canary.stages", stages, "must end at 1.0 (100% of traffic)")
        return tuple(shares)

    def guardrails(self, value: Any) -> Guardrails | None:
        doc = self.mapping(value, "guardrails", Guardrails)
        if doc is None:
            return None
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

    def supervision(self, value: Any) -> SupervisionPolicy | None:
        doc = self.mapping(value, "supervision", SupervisionPolicy)
        if doc is None:
            return None
        rate = doc.get("sample_rate", SupervisionPolicy().sample_rate)
        return SupervisionPolicy(sample_rate=self.number(rate, "supervision.sample_rate", low=0, high=1,
                                                         low_open=True))

    def authority(self, value: Any) -> tuple[str, ...] | None:
        names = self.names(value, "rollback_authority", "people or roles (leave it out to mean the owner)")
        if names and len(set(names)) < len(names):
            return self.fail("rollback_authority", value, "must name each person or role once")
        return names

    def human_path(self, value: Any) -> HumanPath | None:
        doc = self.mapping(value, "human_path", HumanPath)
        if doc is None:
            return None
        least = doc.get("min_daily_interactions", HumanPath().min_daily_interactions)
        return HumanPath(min_daily_interactions=self.integer(least, "human_path.min_daily_interactions", low=0))
