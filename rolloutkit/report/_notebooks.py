"""A team's own notebooks (`--notebooks DIR`): found, and checked up front for papermill's `parameters` contract.

The contract is the built-in notebooks' own: the first code cell is tagged `parameters` and assigns `workspace` and
`as_of`; the run injects both. Every problem of every notebook is reported in one message, before anything runs.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from rolloutkit.errors import RolloutkitError
from rolloutkit.report._results import OwnNotebook

#: The parameters every notebook of the run receives.
PARAMETERS = ("workspace", "as_of")
#: Page names a notebook may not take: `index` is the week's memo page.
RESERVED = ("index",)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


def own_notebooks(folder: str | Path, *, taken: tuple[str, ...] = ()) -> list[OwnNotebook]:
    """The `*.ipynb` in `folder`, sorted, each checked; `taken` are the built-in page names they may not reuse."""
    folder = Path(folder)
    if not folder.is_dir():
        raise RolloutkitError(f"--notebooks {folder}: not a folder")
    found = sorted(folder.glob("*.ipynb"))
    if not found:
        raise RolloutkitError(f"--notebooks {folder}: no notebooks (*.ipynb) in this folder")
    problems, checked = [], []
    for path in found:
        try:
            checked.append(check_notebook(path, taken=taken))
        except RolloutkitError as exc:
            problems.append(str(exc))
    if problems:
        raise RolloutkitError("your notebooks do not fit the report run:\n  " + "\n  ".join(problems))
    return checked


def check_notebook(path: Path, *, taken: tuple[str, ...] = ()) -> OwnNotebook:
    """One notebook checked: a usable page name, readable JSON, and the `parameters` cell with both names."""
    name = path.stem
    if not _NAME.match(name):
        raise RolloutkitError(f"{path}: the file name becomes the page's address; use letters, digits, - and _")
    if name in RESERVED or name in taken:
        raise RolloutkitError(f"{path}: a built-in page is called {name!r}; rename your notebook")
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = nb["cells"]
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise RolloutkitError(f"{path}: not a readable notebook ({type(exc).__name__}: {exc})") from None
    code = [c for c in cells if isinstance(c, dict) and c.get("cell_type") == "code"]
    fix = ("make the first code cell `workspace: str = \"\"` and `as_of: str | None = None`, tagged `parameters` "
           "(see docs/notebooks.md)")
    if not code:
        raise RolloutkitError(f"{path}: has no code cell; {fix}")
    first = code[0]
    if "parameters" not in (first.get("metadata", {}).get("tags") or []):
        raise RolloutkitError(f"{path}: the first code cell is not tagged `parameters`; {fix}")
    source = first.get("source", "")
    source = "".join(source) if isinstance(source, list) else str(source)
    try:
        defined = _assigned(ast.parse(source))
    except SyntaxError as exc:
        raise RolloutkitError(f"{path}: the `parameters` cell is not valid Python (line {exc.lineno}: {exc.msg})"
                              ) from None
    missing = [p for p in PARAMETERS if p not in defined]
    if missing:
        raise RolloutkitError(f"{path}: the `parameters` cell does not define {' and '.join(f'`{m}`' for m in missing)}"
                              f"; {fix}")
    return OwnNotebook(name=name, path=path.resolve(), title=_title(cells, name))


def _assigned(tree: ast.Module) -> set[str]:
    names = set()
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
            node, ast.AnnAssign) else []
        names |= {t.id for t in targets if isinstance(t, ast.Name)}
    return names


def _title(cells: list, name: str) -> str:
    """The notebook's first markdown heading, else its file name in words."""
    for cell in cells:
        if isinstance(cell, dict) and cell.get("cell_type") == "markdown":
            source = cell.get("source", "")
            text = "".join(source) if isinstance(source, list) else str(source)
            heading = re.search(r"^#{1,3}\s+(.+?)\s*#*\s*$", text, re.M)
            if heading:
                return heading.group(1)
    return name.replace("_", " ").replace("-", " ").capitalize()
