"""Where things live. Pure path arithmetic: no I/O at import.

Notebooks import these instead of relative strings because papermill and nbval run them from different folders.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent
DATA_DIR = PROJECT_DIR / "data"
DEMO_DIR = DATA_DIR / "demo"
NOTEBOOKS_DIR = PROJECT_DIR / "notebooks"
REPORTS_DIR = PROJECT_DIR / "reports"
TEMPLATES_DIR = PACKAGE_DIR / "templates"

#: The demo workspace the notebooks open when no parameter is given (nbval, JupyterLab).
DEFAULT_WORKSPACE = DEMO_DIR / "invoice-triage"


def default_workspace() -> Path:
    """The workspace a notebook opens by default; `ROLLOUTKIT_WORKSPACE` overrides it."""
    return Path(os.environ.get("ROLLOUTKIT_WORKSPACE", DEFAULT_WORKSPACE))
