"""The shadow gate on rolloutkit.synth's workspaces decides as their truth says."""

from __future__ import annotations

from pathlib import Path

import pytest

import rolloutkit as rk
from rolloutkit import shadow, synth


@pytest.mark.parametrize("scenario", ["healthy", "shadow_short", "shadow_bad", "supervised"])
def test_gate_decides_as_the_scenario_truth_says(tmp_path: Path, scenario: str) -> None:
    truth = synth.write_workspace(tmp_path / scenario, scenario, seed=0)
    result = shadow.gate(rk.load_workspace(tmp_path / scenario), as_of=truth.shadow_end)
    assert result.decision == truth.expected_shadow_decision, result.describe()
    worse = result.check("agent_worse_rate")
    assert worse.lower <= truth.agent_worse_rate <= worse.upper


def test_bad_agent_fails_on_its_agent_worse_rate(tmp_path: Path) -> None:
    truth = synth.write_workspace(tmp_path / "bad", "shadow_bad", seed=0)
    result = shadow.gate(rk.load_workspace(tmp_path / "bad"), as_of=truth.shadow_end)
    check = result.check("agent_worse_rate")
    assert (
        check.status == "fail"
        and check.lower > rk.load_workspace(tmp_path / "bad").charter.shadow.max_agent_worse_rate
    )
