"""Seeded synthetic workspaces with known true rates, for the demo data and for tests that check decisions."""

from rolloutkit.synth.canary import canary_frame, canary_frame_flags
from rolloutkit.synth.scenarios import SCENARIOS, Drill, FailureMode, Regression, Scenario, Segment
from rolloutkit.synth.truth import Truth
from rolloutkit.synth.writer import charter, write_demo, write_workspace

__all__ = ["SCENARIOS", "Drill", "FailureMode", "Regression", "Scenario", "Segment", "Truth", "canary_frame",
           "canary_frame_flags", "charter", "write_demo", "write_workspace"]
