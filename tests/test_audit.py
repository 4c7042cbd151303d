"""The audit: each flag change against the kit's advice of the day before, overrides said plainly, who may change
the flag, and the days from the first rollback decision to the flag at 0.

Workspaces are the synthetic scenarios, whose daily decisions are known (`canary.decision_history`), with their
flag history edited: the healthy rollout's 40% expansion moved to a day the kit said hold, and the regressing
rollout rolled back 3 days after the kit first said so (as the scenario writes it) or the morning after.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import polars as pl
import pytest
import yaml

from rolloutkit import audit, canary, synth
from rolloutkit.cli import main
from rolloutkit.errors import MissingTableError
from rolloutkit.workspace import load_workspace

AUTHORITY = ("maria.lopez", "sre-oncall")


def write(folder: Path, scenario: str, *, authority: tuple[str, ...] | None = AUTHORITY,
          moves: dict | None = None) -> Path:
    """A synthetic workspace whose flag changes at `moves` ({old ts: new ts}) are moved, zero_at with them.

    Its incident log and eval set are left out, so the daily decisions rest on the canary's counts alone.
    """
    synth.write_workspace(folder, scenario, seed=0)
    for table in ("incidents", "evals"):
        (folder / f"{table}.parquet").unlink(missing_ok=True)
    charter = yaml.safe_load((folder / "charter.yaml").read_text())
    charter.pop("rollback_authority", None)
    if authority is not None:
        charter["rollback_authority"] = list(authority)
    (folder / "charter.yaml").write_text(yaml.safe_dump(charter, sort_keys=False))
    flags = pl.read_parquet(folder / "flags.parquet")
    for old, new in (moves or {}).items():
        shift = new - old
        moved = pl.col("ts") == old
        flags = flags.with_columns(zero_at=pl.when(moved).then(pl.col("zero_at") + shift).otherwise("zero_at"),
                                   ts=pl.when(moved).then(pl.lit(new)).otherwise("ts"))
    flags.write_parquet(folder / "flags.parquet")
    return folder


def utc(*parts: int) -> dt.datetime:
    return dt.datetime(*parts, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def expanded_on_hold(tmp_path_factory) -> Path:
    """The healthy rollout with its 15% → 40% expansion moved from 2026-11-13 to 2026-11-07 (the kit said hold)."""
    return write(tmp_path_factory.mktemp("audit") / "expanded", "healthy",
                 moves={utc(2026, 11, 13, 9, 12): utc(2026, 11, 7, 9, 12)})


@pytest.fixture(scope="module")
def late(tmp_path_factory) -> Path:
    """The regressing rollout as written: rollback decisions from 2026-11-19, the flag at 0 on 2026-11-22."""
    return write(tmp_path_factory.mktemp("audit") / "late", "regressing")


@pytest.fixture(scope="module")
def prompt(tmp_path_factory) -> Path:
    """The regressing rollout rolled back the morning after the first rollback decision (2026-11-20)."""
    return write(tmp_path_factory.mktemp("audit") / "prompt", "regressing",
                 moves={utc(2026, 11, 22, 9, 30): utc(2026, 11, 20, 9, 30)})


def test_an_expansion_on_a_day_the_kit_said_hold_is_an_override(expanded_on_hold):
    ws = load_workspace(expanded_on_hold)
    history = canary.decision_history(ws).filter(pl.col("day") == dt.date(2026, 11, 6))
    assert history.select("stage", "decision", "reason").row(0) == (
        0.15, "hold", "4 of at least 7 days at this stage.")

    result = audit.audit(ws)
    change = next(c for c in result.changes if c.day == dt.date(2026, 11, 7))
    assert (change.from_share, change.to_share, change.kind) == (0.15, 0.4, "ramp")
    assert (change.recommendation, change.recommended_as_of, change.followed) == ("hold", dt.date(2026, 11, 6), False)
    assert [o.to_dict() for o in result.overrides] == [{
        "kind": "expansion", "day": "2026-11-07", "last_day": "2026-11-07", "days": 1, "share": 0.4,
        "ts": "2026-11-07T09:12:00+00:00", "actor": "maria.lopez",
        "reason": "expand to 40% after 10 days; all readiness checks passed", "recommendation": "hold",
        "ongoing": False, "ended_by": None,
        "sentence": "Override: maria.lopez expanded 15% → 40% on 2026-11-07 while the kit said hold (as of "
                    "2026-11-06: 4 of at least 7 days at this stage). Reason given: “expand to 40% after 10 days; "
                    "all readiness checks passed”.",
    }]
    assert result.time_to_rollback_days == []


def test_every_change_beside_the_advice_of_the_day_before(expanded_on_hold):
    result = audit.audit(load_workspace(expanded_on_hold))
    rows = [(c.day.isoformat(), c.from_share, c.to_share, c.kind, c.recommendation, c.followed, c.authorized)
            for c in result.changes]
    assert rows == [
        ("2026-10-05", 0.0, 0.0, "same", None, True, False),  # release-bot: not in the authority; no row before it
        ("2026-10-26", 0.0, 0.05, "ramp", "ready_for_canary", True, True),  # the shadow gate let it start
        ("2026-11-03", 0.05, 0.15, "ramp", "expand", True, False),  # dev.patel: followed, not authorized
        ("2026-11-04", 0.15, 0.0, "drill", "hold", True, True),  # a drill is not a rollback
        ("2026-11-04", 0.0, 0.15, "drill_restore", "hold", True, True),  # nor its restore an expansion
        ("2026-11-07", 0.15, 0.4, "ramp", "hold", False, True),
    ]
    assert [c.actor for c in result.unauthorized] == ["release-bot", "dev.patel"]


def test_a_late_rollback_holds_through_rollback_days_and_says_how_long_it_took(late):
    ws = load_workspace(late)
    decisions = canary.decision_history(ws).filter(pl.col("day") >= dt.date(2026, 11, 18))
    assert decisions["decision"].to_list() == ["hold", "rollback", "rollback", "rollback", "hold"]

    result = audit.audit(ws)
    assert result.time_to_rollback_days == [3]
    rollback = result.rollbacks[0]
    assert (rollback.condition_since, rollback.zero_at, rollback.recommendation, rollback.followed) == (
        dt.date(2026, 11, 19), utc(2026, 11, 22, 9, 30, 35), "rollback", True)
    held = [o.to_dict() for o in result.overrides if o.kind == "held_through_rollback"]
    assert held == [{
        "kind": "held_through_rollback", "day": "2026-11-20", "last_day": "2026-11-21", "days": 2, "share": 0.4,
        "ts": "2026-11-17T09:12:00+00:00", "actor": "maria.lopez",
        "reason": "expand to 40% after 8 days; all readiness checks passed", "recommendation": "rollback",
        "ongoing": False,
        "ended_by": {"ts": "2026-11-22T09:30:00+00:00", "actor": "sre-oncall",
                     "reason": "rollback: wrong_coverage rate above its trigger since 2026-11-19", "to_share": 0.0},
        "sentence": "Override: the flag stayed at 40% for 2 days (2026-11-20 to 2026-11-21) after the kit said roll "
                    "back on 2026-11-19 (wrong_coverage is at least 1.3% (93 in 5,067), above its 1% limit); "
                    "sre-oncall rolled back on 2026-11-22 (“rollback: wrong_coverage rate above its trigger since "
                    "2026-11-19”), 3 days after the condition first held. The 40% share was set by maria.lopez on "
                    "2026-11-17 (“expand to 40% after 8 days; all readiness checks passed”).",
    }]


def test_the_scenario_also_expanded_while_the_kit_said_hold(late):
    # the regressing scenario ramps to 15% on day 8 although non-inferiority was not yet shown on day 7
    expansions = [o for o in audit.audit(load_workspace(late)).overrides if o.kind == "expansion"]
    assert [(o.day, o.actor, o.recommendation, o.share) for o in expansions] == [
        (dt.date(2026, 11, 9), "dev.patel", "hold", 0.15)]


def test_a_rollback_the_morning_after_is_no_override(prompt):
    result = audit.audit(load_workspace(prompt))
    assert result.time_to_rollback_days == [1]
    assert [o.kind for o in result.overrides] == ["expansion"]


def test_a_hold_through_rollback_days_still_going_is_an_override_now(late):
    result = audit.audit(load_workspace(late), as_of="2026-11-21")
    assert result.time_to_rollback_days == []
    held = next(o for o in result.overrides if o.kind == "held_through_rollback")
    assert (held.day, held.last_day, held.days, held.ongoing, held.ended_by) == (
        dt.date(2026, 11, 20), dt.date(2026, 11, 21), 2, True, None)
    assert "as of 2026-11-21 the flag is still at 40%" in held.sentence


def test_entering_the_canary_before_the_shadow_gate_said_ready_is_an_override(tmp_path):
    # low_traffic: shadow from 2026-10-19, canary on 2026-11-09; a start on 2026-10-27 is after one shadow week
    folder = write(tmp_path / "early", "low_traffic", moves={utc(2026, 11, 9, 9, 33): utc(2026, 10, 27, 9, 33)})
    change = audit.audit(load_workspace(folder)).changes[1]
    assert (change.recommendation, change.recommended_as_of, change.followed) == (
        "continue_shadow", dt.date(2026, 10, 26), False)
    assert change.override.startswith(
        "Override: maria.lopez expanded 0% → 5% on 2026-10-27 while the shadow gate said continue shadow (as of "
        "2026-10-26: 1 week of shadow data, fewer than the charter's minimum of 2 weeks)")


def test_the_authority_is_the_owner_when_the_charter_names_nobody(tmp_path):
    result = audit.audit(load_workspace(write(tmp_path / "owner", "low_traffic", authority=None)))
    assert result.rollback_authority == ("people-ops",)
    assert [c.authorized for c in result.changes] == [False, False]


def test_cli_json_has_the_contract_keys(late, capsys):
    assert main(["audit", str(late), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {"agent", "as_of", "changes", "overrides", "time_to_rollback_days"} <= set(out)
    assert (out["agent"], out["as_of"], out["time_to_rollback_days"]) == ("claims-intake", "2026-11-22", [3])
    assert {"ts", "actor", "reason", "from_share", "to_share", "recommendation", "followed", "authorized"} <= set(
        out["changes"][0])
    assert [o["kind"] for o in out["overrides"]] == ["expansion", "held_through_rollback"]


def test_cli_text_says_overrides_plainly(late, capsys):
    assert main(["audit", str(late), "--as-of", "2026-11-22"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("claims-intake as of 2026-11-22: 5 flag changes, 2 overrides, 2 by someone outside the "
                          "rollback authority\nrollback authority: maria.lopez, sre-oncall\n")
    assert ("rollback on 2026-11-22 by sre-oncall: 3 days after the kit first said roll back (2026-11-19); flag at "
            "0% at 2026-11-22 09:30") in out


def test_no_flags_table(make_workspace, capsys):
    ws = load_workspace(make_workspace())
    with pytest.raises(MissingTableError):
        audit.audit(ws)
    assert main(["audit", str(ws.path)]) == 1
    assert "no `flags` table" in capsys.readouterr().err
