"""rolloutkit: measured, accountable decisions for taking an AI agent from demo to 100% of traffic.

`import rolloutkit` loads only the core (charter, tables, workspace). The phases, the charts and the report run
are imported the first time they are used (`rk.canary.page(...)`, `rk.charts...`), so a CLI call or a warehouse
job never pays for altair, vl-convert, IPython or papermill it does not use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from rolloutkit.charter import Charter, load_charter
from rolloutkit.errors import CharterError, DataError, MissingTableError, RolloutkitError
from rolloutkit.tables import read_table
from rolloutkit.workspace import Workspace, load_workspace

if TYPE_CHECKING:  # for editors and type checkers; at run time `__getattr__` imports them on first use
    from rolloutkit import (
        audit,
        canary,
        charts,
        evalset,
        memo,
        paths,
        render,
        report,
        shadow,
        stats,
        supervision,
        synth,
        timeline,
    )

__version__ = "0.1.0"
#: Subpackages imported on first attribute access.
_LAZY = ("audit", "canary", "charts", "evalset", "memo", "paths", "render", "report", "shadow", "stats", "supervision",
         "synth", "timeline")
__all__ = [
    "Charter", "CharterError", "DataError", "MissingTableError", "RolloutkitError", "Workspace", "audit", "canary",
    "charts", "evalset", "load_charter", "load_workspace", "memo", "paths", "read_table", "render", "report",
    "shadow", "stats", "supervision", "synth", "timeline",
]

def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f"rolloutkit.{name}")
    raise AttributeError(f"module 'rolloutkit' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
