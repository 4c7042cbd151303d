"""GrowthBook: feature revisions as the REST API returns them, `GET /api/v2/feature-revisions` (rules a flat list,
each with its environments) or the older `GET /api/v1/features/{id}/revisions` (rules keyed by environment).

Only published revisions ever served traffic; drafts and discarded revisions are left out and counted. A revision
holds the feature's whole rule list, so each is read on its own. GrowthBook evaluates the rules top down and serves
the first that matches: a rollout rule serves its value to the `coverage` share (0–1) of what reaches it and lets
the rest fall through (each rule hashes with its own seed), a force rule is a rollout of coverage 1 unless it says
otherwise, and what no rule takes gets the default value. The agent's share is what reaches the agent's value
(`--variation`, default "true"). Rules with a condition, saved groups or prerequisites single out named traffic
whose share the revision cannot tell, so they are not counted, nor are experiment and safe-rollout rules. An
environment turned off (`environmentsEnabled`, present when kill-switch changes go through revisions) serves nobody.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from rolloutkit.importers._history import (
    DUPLICATES,
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

UNPUBLISHED = "unpublished revisions"
AGENT_VALUE = "true"


def parse(documents: Sequence[tuple[str, Any]], *, flag: str, environment: str | None,
          variation: str | None) -> Parsed:
    read = [_entry(file, position, item, flag) for file, value in documents
            for position, item in enumerate(items(file, value, wrappers=("revisions", "revision"),
                                                  single=("version", "rules")), 1)]
    entries, duplicates = deduplicate(read)
    mine = require_flag(entries, flag)
    published = [e for e in mine if e.raw.get("status") == "published"]
    env = choose_environment((name for e in published for name in _environments(e.raw)), environment, flag=flag,
                             where="the revisions' rules")
    agent = AGENT_VALUE if variation is None else variation
    shares = [(e, _share(e, env, agent)) for e in published]
    return Parsed(environment=env, entries=len(read), shares=shares, ignored={
        OTHER_FLAGS: len(entries) - len(mine), UNPUBLISHED: len(mine) - len(published), DUPLICATES: duplicates})


def _entry(file: str, position: int, raw: dict[str, Any], flag: str) -> Entry:
    version = raw.get("version")
    # The per-feature listing of older GrowthBook versions has no featureId: its revisions are the flag's own.
    feature = raw.get("featureId", flag)
    comment = (raw.get("comment") or "").strip()
    return Entry(file=file, position=position, key=f"{feature}@{version}",
                 ts=iso_time(raw.get("date"), file, position, "date"), order=whole(version), flag=feature,
                 environment=None, actor=_actor(raw.get("publishedBy")) or _actor(raw.get("createdBy")),
                 reason=comment or f"published revision {version}", raw=raw)


def _actor(user: Any) -> str | None:
    """v1 writes the user as text (a name, "API" or "SYSTEM"); v2 as an EventUser {type, id, name, email}."""
    if isinstance(user, dict):
        return user.get("email") or user.get("name") or user.get("id") or user.get("type")
    return str(user) if user else None


def _environments(revision: dict[str, Any]) -> set[str]:
    rules = revision.get("rules") or {}
    if isinstance(rules, dict):
        return set(rules)
    return {env for rule in rules for env in rule.get("environments") or []} | set(
        revision.get("environmentsEnabled") or {})


def _rules(revision: dict[str, Any], env: str) -> list[dict[str, Any]]:
    rules = revision.get("rules") or {}
    if isinstance(rules, dict):
        return rules.get(env) or []
    return [r for r in rules if r.get("allEnvironments") or env in (r.get("environments") or [])]


def _share(entry: Entry, env: str, agent: str) -> float:
    if not (entry.raw.get("environmentsEnabled") or {}).get(env, True):
        return 0.0
    reaching, share = 1.0, 0.0
    for rule in _rules(entry.raw, env):
        if rule.get("enabled") is False or _targeted(rule) or rule.get("type") not in ("force", "rollout"):
            continue
        coverage = proportion(rule.get("coverage", 1), entry, f"rule {rule.get('id')} coverage", scale=1)
        share += reaching * coverage * (str(rule.get("value")) == agent)
        reaching *= 1 - coverage
    share += reaching * (str(entry.raw.get("defaultValue")) == agent)
    return round(share, 12)


def _targeted(rule: dict[str, Any]) -> bool:
    condition = (rule.get("condition") or "").strip()
    return condition not in ("", "{}") or bool(rule.get("savedGroupTargeting") or rule.get("savedGroups")
                                              or rule.get("prerequisites"))
