"""LaunchDarkly: audit-log entries as `GET /api/v2/auditlog/{id}` returns them, each with the flag's `currentVersion`.

The agent's share in an environment is what the flag's default rule (`fallthrough`) serves the agent variation: a
fixed variation (all or nothing) or a percentage rollout whose weights are thousandths of a percent (100000 = 100%).
A flag that is off serves its off variation: 0% to the agent. Targeting rules and individual targets single out
named contexts whose share of traffic the audit log cannot tell, so they are not counted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from rolloutkit.errors import RolloutkitError
from rolloutkit.importers._history import (
    DUPLICATES,
    OTHER_ENVIRONMENTS,
    OTHER_FLAGS,
    Entry,
    Parsed,
    choose_environment,
    deduplicate,
    epoch_ms,
    items,
    proportion,
    require_flag,
    whole,
)

#: Rollout weights are in thousandths of a percent.
WEIGHT_SCALE = 100_000


def parse(documents: Sequence[tuple[str, Any]], *, flag: str, environment: str | None,
          variation: str | None) -> Parsed:
    read = [_entry(file, position, item, flag) for file, value in documents
            for position, item in enumerate(items(file, value, wrappers=("items",), single=("_id", "date")), 1)]
    entries, duplicates = deduplicate(read)
    mine = require_flag(entries, flag)
    env = choose_environment((e.environment for e in mine if e.environment), environment, flag=flag,
                             where="the audit log")
    in_env = [e for e in mine if e.environment in (None, env)]
    shares = [(e, _share(e, env, variation)) for e in in_env]
    return Parsed(environment=env, entries=len(read), shares=shares, ignored={
        OTHER_FLAGS: len(entries) - len(mine), OTHER_ENVIRONMENTS: len(mine) - len(in_env), DUPLICATES: duplicates})


def _entry(file: str, position: int, raw: dict[str, Any], flag: str) -> Entry:
    # Resource specifiers name what an entry touched: "proj/support:env/production:flag/agent-routing".
    specs = [a.get("resource", "") for a in raw.get("accesses") or []]
    specs += (raw.get("target") or {}).get("resources") or []
    named = [_spec(s) for s in specs]
    mine = [s for s in named if s.get("flag") == flag]
    environments = {s.get("env") for s in mine} - {None, "*"}
    actions = [a.get("action") for a, s in zip(raw.get("accesses") or [], named, strict=False)
               if s.get("flag") == flag and a.get("action")]
    is_flag = raw.get("kind") == "flag" and bool(mine)
    comment = (raw.get("comment") or "").strip()
    return Entry(
        file=file, position=position, key=str(raw.get("_id", f"{file}:{position}")),
        ts=epoch_ms(raw.get("date"), file, position, "date"),
        order=whole((raw.get("currentVersion") or {}).get("_version")),
        flag=flag if is_flag else next((s["flag"] for s in named if s.get("flag", flag) != flag), None),
        environment=environments.pop() if len(environments) == 1 else None,
        actor=_actor(raw), reason=comment or ", ".join(dict.fromkeys(actions)) or raw.get("titleVerb") or "change",
        raw=raw,
    )


def _spec(spec: str) -> dict[str, str]:
    """"proj/support:env/production:flag/agent-routing" → {proj: support, env: production, flag: agent-routing};
    tags after ";" are dropped."""
    parts = (p.split(";", 1)[0] for p in spec.split(":"))
    return dict(p.split("/", 1) for p in parts if "/" in p)


def _actor(raw: dict[str, Any]) -> str | None:
    member = raw.get("member") or {}
    if member.get("email"):
        return member["email"]
    name = " ".join(n for n in (member.get("firstName"), member.get("lastName")) if n)
    for candidate in (name, (raw.get("token") or {}).get("name"), (raw.get("app") or {}).get("name"),
                      (raw.get("subject") or {}).get("name")):
        if candidate:
            return candidate
    return None


def _share(entry: Entry, env: str, variation: str | None) -> float:
    current = entry.raw.get("currentVersion")
    if not isinstance(current, dict):
        raise entry.error("has no `currentVersion` (the list endpoint leaves it out): fetch each entry with "
                          "GET /api/v2/auditlog/{id}")
    environments = current.get("environments") or {}
    if env not in environments:
        raise entry.error(f"the flag has no environment `{env}` (it has: {', '.join(environments) or 'none'})")
    config = environments[env]
    if not config.get("on"):
        return 0.0
    agent = _agent_index(entry, current, variation)
    fallthrough = config.get("fallthrough") or {}
    rollout = fallthrough.get("rollout")
    if rollout:
        weights = [(w.get("variation"), w.get("weight", 0)) for w in rollout.get("variations") or []]
        return proportion(sum(w for v, w in weights if v == agent), entry, "fallthrough.rollout weight",
                          scale=WEIGHT_SCALE)
    if "variation" in fallthrough:
        return 1.0 if fallthrough["variation"] == agent else 0.0
    raise entry.error(f"the default rule (`fallthrough`) of `{env}` has neither a variation nor a rollout")


def _agent_index(entry: Entry, flag: dict[str, Any], variation: str | None) -> int:
    variations = flag.get("variations") or []
    if variation is None:
        values = [v.get("value") for v in variations]
        if sorted(values, key=str) == [False, True]:
            return values.index(True)
        shown = ", ".join(_label(v) for v in variations)
        raise RolloutkitError(f"flag `{flag.get('key')}` is not a boolean flag; name the agent's variation with "
                              f"--variation (one of: {shown})")
    for index, v in enumerate(variations):
        if variation in (_value(v.get("value")), v.get("name"), v.get("_id")):
            return index
    raise entry.error(f"the flag has no variation `{variation}` (by value, name or _id); it has: "
                      f"{', '.join(_label(v) for v in variations)}")


def _value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _label(variation: dict[str, Any]) -> str:
    name = variation.get("name")
    return f"{_value(variation.get('value'))} ({name})" if name else _value(variation.get("value"))
