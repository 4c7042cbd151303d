"""Unleash: events as `GET /api/admin/events` (or `/api/admin/events/{featureName}`) returns them.

An event carries a change, not the flag's whole state, so the state is replayed in time order: whether the
environment is enabled (`feature-environment-enabled` / `-disabled`; a flag starts disabled) and its activation
strategies (`feature-strategy-add` / `-update` / `-remove`, each strategy by its `id`). The agent's share is 0 while
the environment is disabled; otherwise the largest share any strategy serves: `flexibleRollout` its `rollout`
(0–100), `default` everyone, the legacy gradual rollouts their `percentage`. Strategies with constraints or
segments single out named traffic whose share the events cannot tell, so they are not counted; a flexible rollout
buckets by stickiness and group id (the flag name by default), so a larger rollout holds a smaller one and the
largest is the union. With `--variation`, the share is the strategy's share times the weight of that strategy
variant (weights are out of 1000).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rolloutkit.importers._history import (
    DUPLICATES,
    OTHER_ENVIRONMENTS,
    OTHER_FLAGS,
    Entry,
    Parsed,
    choose_environment,
    deduplicate,
    iso_time,
    items,
    proportion,
    require_flag,
    whole,
)

VARIANT_WEIGHT_SCALE = 1000
_PERCENT = {"flexibleRollout": "rollout", "gradualRolloutRandom": "percentage",
            "gradualRolloutUserId": "percentage", "gradualRolloutSessionId": "percentage"}


def parse(documents: Sequence[tuple[str, Any]], *, flag: str, environment: str | None,
          variation: str | None) -> Parsed:
    read = [_entry(file, position, item) for file, value in documents
            for position, item in enumerate(items(file, value, wrappers=("events",), single=("type", "createdAt")), 1)]
    entries, duplicates = deduplicate(read)
    mine = require_flag(entries, flag)
    env = choose_environment((e.environment for e in mine if e.environment), environment, flag=flag,
                             where="the events")
    in_env = [e for e in mine if e.environment in (None, env)]
    enabled, strategies = False, {}
    shares = []
    for entry in in_env:
        enabled = _replay(entry, enabled, strategies)
        shares.append((entry, max((_strategy_share(entry, s, variation) for s in strategies.values()), default=0.0)
                       if enabled else 0.0))
    return Parsed(environment=env, entries=len(read), shares=shares, ignored={
        OTHER_FLAGS: len(entries) - len(mine), OTHER_ENVIRONMENTS: len(mine) - len(in_env), DUPLICATES: duplicates})


def _entry(file: str, position: int, raw: dict[str, Any]) -> Entry:
    return Entry(file=file, position=position, key=str(raw.get("id", f"{file}:{position}")),
                 ts=iso_time(raw.get("createdAt"), file, position, "createdAt"), order=whole(raw.get("id")),
                 flag=raw.get("featureName"), environment=raw.get("environment"),
                 actor=raw.get("createdBy") or None, reason=str(raw.get("type") or "event"), raw=raw)


def _replay(entry: Entry, enabled: bool, strategies: dict[str, dict[str, Any]]) -> bool:
    """Apply one event to the environment's state (`strategies` in place); returns whether it is enabled."""
    kind, data, before = entry.raw.get("type"), entry.raw.get("data") or {}, entry.raw.get("preData") or {}
    if kind == "feature-environment-enabled":
        return True
    if kind == "feature-environment-disabled":
        return False
    if kind in ("feature-strategy-add", "feature-strategy-update"):
        if "id" not in data:
            raise entry.error(f"a `{kind}` event must carry the strategy (with its `id`) in `data`")
        strategies[data["id"]] = data
    elif kind == "feature-strategy-remove":
        strategies.pop((data or before).get("id"), None)
    return enabled


def _strategy_share(entry: Entry, strategy: dict[str, Any], variation: str | None) -> float:
    if strategy.get("disabled") or strategy.get("constraints") or strategy.get("segments"):
        return 0.0
    name = strategy.get("name")
    if name == "default":
        share = 1.0
    elif name in _PERCENT:
        key = _PERCENT[name]
        share = proportion((strategy.get("parameters") or {}).get(key), entry, f"{name} {key}", scale=100)
    else:
        return 0.0  # userWithId, remoteAddress, applicationHostname...: named traffic, not a share
    if variation is None:
        return share
    variants = strategy.get("variants") or []
    if not variants:
        raise entry.error(f"strategy `{strategy.get('id')}` has no variants, so --variation {variation!r} "
                          "cannot be found in it")
    names = [v.get("name") for v in variants]
    if variation not in names:
        raise entry.error(f"strategy `{strategy.get('id')}` has no variant `{variation}` (it has: "
                          f"{', '.join(map(str, names))})")
    weight = sum(v.get("weight", 0) for v in variants if v.get("name") == variation)
    return share * proportion(weight, entry, "variant weight", scale=VARIANT_WEIGHT_SCALE)
