"""The portfolio index: a phase that is over reads as history on the agent's row, beside "Now"."""

from __future__ import annotations

import json
import re

import pytest

from rolloutkit import memo, portfolio, synth
from rolloutkit.text import iso_week
from rolloutkit.workspace import load_workspace


def _write_summary(out, folder, truth) -> dict:
    """The summary.json the weekly run writes (its headlines as of the truth's last day) for one workspace."""
    ws = load_workspace(folder)
    summary = {"agent": ws.agent, "week": iso_week(truth.as_of), "as_of": truth.as_of.isoformat(), "changes": [],
               "decisions": {h.page: h.to_dict() for h in memo.headlines(ws, as_of=truth.as_of)}, "notebooks": {}}
    week = out / ws.agent / summary["week"]
    week.mkdir(parents=True)
    (week / "summary.json").write_text(json.dumps(summary, default=str))
    return summary


def _cells(page: str, agent: str) -> list[str]:
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page) if f">{agent}</a>" in r)
    return re.findall(r"<td>(.*?)</td>", row)


@pytest.fixture(scope="module")
def portfolio_page(tmp_path_factory):
    root = tmp_path_factory.mktemp("portfolio")
    out = root / "reports"
    truths, summaries = {}, {}
    for name in ("supervised", "healthy", "shadow_short"):
        truths[name] = synth.write_workspace(root / name, name, seed=3)
        summaries[name] = _write_summary(out, root / name, truths[name])
    page = portfolio.write_portfolio(out, []).read_text()
    return page, truths, summaries


def test_at_100_percent_shadow_and_canary_read_as_done_with_their_days(portfolio_page):
    page, truths, summaries = portfolio_page
    truth, summary = truths["supervised"], summaries["supervised"]
    assert memo.current_phase(summary) == "supervision at 100%"
    # the JSON keeps the codes: the shadow gate's decision is still ready_for_canary
    assert summary["decisions"]["shadow_comparison"]["decision"] == "ready_for_canary"
    _agent, now, _week, shadow, canary, _timeline, supervision, _pages = _cells(page, truth.agent)
    assert "supervision at 100%" in now
    assert ">done: ready for canary</span>" in shadow
    assert f"the canary began on {truth.canary_start.isoformat()}" in shadow
    assert ">ready for canary</span>" not in shadow  # not as a current state
    assert ">done: reached 100%</span>" in canary and f"since {truth.stage_started.isoformat()};" in canary
    assert ">hold</span>" not in canary and "done" not in supervision  # supervision is the phase in force


def test_mid_canary_only_the_shadow_is_done_and_in_shadow_nothing_is(portfolio_page):
    page, truths, summaries = portfolio_page
    canary_cells = _cells(page, truths["healthy"].agent)
    assert "done: " in canary_cells[3] and truths["healthy"].canary_start.isoformat() in canary_cells[3]
    decision = summaries["healthy"]["decisions"]["canary_readiness"]["decision"].replace("_", " ")
    assert f">{decision}</span>" in canary_cells[4] and "done" not in canary_cells[4]
    shadow_cells = _cells(page, truths["shadow_short"].agent)
    assert ">continue shadow</span>" in shadow_cells[3] and "done" not in "".join(shadow_cells)


def test_a_rollback_at_100_percent_keeps_the_canary_current():
    summary = {"agent": "a", "decisions": {
        "shadow_comparison": {"status": "good", "decision": "ready_for_canary", "sentence": "", "details": {}},
        "canary_readiness": {"status": "bad", "decision": "rollback", "sentence": "",
                             "details": {"stage": 1.0, "stage_started": "2026-10-12T09:30:00+00:00"}}}}
    assert memo.current_phase(summary) == "supervision at 100%"
    assert portfolio.finished_phases(summary) == {"shadow_comparison": None}
