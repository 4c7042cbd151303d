"""rolloutkit: measured, accountable decisions for taking an AI agent from demo to 100% of traffic."""

from rolloutkit import canary, charts, evalset, memo, paths, render, shadow, stats, supervision, timeline
from rolloutkit.charter import Charter, load_charter
from rolloutkit.errors import CharterError, DataError, RolloutkitError
from rolloutkit.tables import read_table
from rolloutkit.workspace import Workspace, load_workspace

__version__ = "0.1.0"
__all__ = [
    "Charter", "CharterError", "DataError", "RolloutkitError", "Workspace", "canary", "charts", "evalset",
    "load_charter", "load_workspace", "memo", "paths", "read_table", "render", "shadow", "stats", "supervision",
    "timeline",
]
