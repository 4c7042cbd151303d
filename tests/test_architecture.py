"""The package's shape, as a reviewer would check it: imports run one way, no cycles, no reaching into a phase's
private modules, and `import rolloutkit` stays light.

The import graph is read from the source with `ast` (every `import`, at module level or inside a function), so a
lazy import inside a function is an edge like any other.
"""

from __future__ import annotations

import ast
import functools
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from rolloutkit import paths

#: Layers, lowest first: a module may import from its own layer or a lower one, never a higher one.
LAYERS = (
    ("paths", "errors", "text", "page", "checks", "stats", "contracts"),
    ("charter",),
    ("tables", "sources"),
    ("workspace", "cache"),
    ("counts", "synth", "importers"),
    ("shadow", "canary", "evalset"),
    ("timeline", "supervision"),
    ("audit",),
    ("memo",),
    ("charts", "render"),
    ("portfolio",),
    ("report",),
    ("cli",),
)
LAYER = {name: level for level, names in enumerate(LAYERS) for name in names}
#: Phase packages: their `_private` modules are theirs alone.
PHASES = ("shadow", "canary", "timeline", "supervision", "evalset", "counts", "importers")
HEAVY = ("altair", "vl_convert", "IPython", "nbconvert", "papermill", "duckdb", "pyspark", "scipy.stats")


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports(path: Path, root: Path) -> set[str]:
    """Every rolloutkit module `path` imports (resolving relative imports and `from pkg import module`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    here = module_name(path, root)
    package = here if path.name == "__init__.py" else here.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names}
    return {name for name in found if name in project_modules(root) and name != here}


@functools.cache
def project_modules(root: Path) -> frozenset[str]:
    """The importable names of the package and the tests (not the virtualenv beside them)."""
    return frozenset(module_name(p, root) for folder in ("rolloutkit", "tests") for p in (root / folder).rglob("*.py"))


def graph(root: Path) -> dict[str, set[str]]:
    return {module_name(p, root): imports(p, root) for p in sorted((root / "rolloutkit").rglob("*.py"))}


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Import cycles between modules. A package's `__init__` importing its own submodules is the package's face,
    not a cycle, so edges from a package to its own children are left out."""
    def own_child(a: str, b: str) -> bool:
        return b.startswith(a + ".")

    found, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if own_child(node, nxt):
                continue
            if state.get(nxt) == "open":
                found.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = "done"

    for node in sorted(edges):
        if node not in state:
            visit(node)
    return found


def layer_violations(edges: dict[str, set[str]]) -> list[str]:
    bad = []
    for source, targets in edges.items():
        top = source.split(".")[1] if source.count(".") else None
        if top is None:  # rolloutkit/__init__.py: the facade may name anything
            continue
        for target in targets:
            other = target.split(".")[1] if target.count(".") else None
            if other is None or other == top:
                continue
            if LAYER.get(other, -1) > LAYER.get(top, -1):
                bad.append(f"{source} imports {target}: {top} may not depend on {other}")
    return bad


def private_reaches(edges: dict[str, set[str]]) -> list[str]:
    bad = []
    for source, targets in edges.items():
        for target in targets:
            parts = target.split(".")
            private = next((i for i, p in enumerate(parts) if p.startswith("_")), None)
            if private is None:
                continue
            owner = ".".join(parts[:private])
            if not (source == owner or source.startswith(owner + ".")):
                bad.append(f"{source} imports the private {target}")
    return bad


def test_every_top_level_module_has_a_layer():
    tops = {p.stem if p.suffix else p.name for p in (paths.PACKAGE_DIR).iterdir()
            if (p.suffix == ".py" and p.stem != "__init__") or (p / "__init__.py").exists()}
    assert tops - set(LAYER) == set(), "add new modules to LAYERS"


def test_imports_run_one_way_and_have_no_cycles():
    edges = graph(paths.PROJECT_DIR)
    assert cycles(edges) == []
    assert layer_violations(edges) == []


def test_nothing_reaches_into_a_phase_private_module():
    edges = graph(paths.PROJECT_DIR)
    tests = {f"tests.{p.stem}": imports(p, paths.PROJECT_DIR) for p in (paths.PROJECT_DIR / "tests").glob("*.py")}
    assert private_reaches(edges | tests) == []


def test_no_module_imports_another_by_name_string():
    offenders = [str(p.relative_to(paths.PROJECT_DIR)) for p in paths.PACKAGE_DIR.rglob("*.py")
                 if "import_module(" in p.read_text() and p != paths.PACKAGE_DIR / "__init__.py"]
    assert offenders == []


def test_a_planted_cycle_and_a_reach_upwards_are_caught(tmp_path):
    shutil.copytree(paths.PACKAGE_DIR, tmp_path / "rolloutkit", ignore=shutil.ignore_patterns("__pycache__"))
    errors = tmp_path / "rolloutkit" / "errors.py"
    errors.write_text(errors.read_text() + "\nfrom rolloutkit import workspace  # planted\n")
    edges = graph(tmp_path)
    assert ["rolloutkit.errors", "rolloutkit.workspace", "rolloutkit.errors"] in cycles(edges)
    assert "rolloutkit.errors imports rolloutkit.workspace: errors may not depend on workspace" in \
        layer_violations(edges)


def test_a_planted_private_reach_is_caught(tmp_path):
    shutil.copytree(paths.PACKAGE_DIR, tmp_path / "rolloutkit", ignore=shutil.ignore_patterns("__pycache__"))
    memo = tmp_path / "rolloutkit" / "memo.py"
    memo.write_text(memo.read_text() + "\nfrom rolloutkit.canary import _checks  # planted\n")
    assert "rolloutkit.memo imports the private rolloutkit.canary._checks" in private_reaches(graph(tmp_path))


@pytest.mark.parametrize("statement", [
    "import rolloutkit",
    "import rolloutkit.stats",
    "import rolloutkit.cli",
    "import rolloutkit as rk; rk.load_workspace(rk.paths.DEMO_DIR / 'invoice-triage')",
    "import rolloutkit as rk; rk.canary.page(rk.load_workspace(rk.paths.DEMO_DIR / 'invoice-triage'))",
    "import rolloutkit as rk; from rolloutkit import audit; audit.audit(rk.load_workspace(rk.paths.DEMO_DIR / "
    "'invoice-triage'))",
    # every phase's statistics: scipy.special, never scipy.stats (0.8 s of CPU to import)
    "import rolloutkit as rk; from rolloutkit import memo; ws = rk.load_workspace(rk.paths.DEMO_DIR / "
    "'support-refunds'); [phase.page(ws).headline for phase in memo.PHASES]",
])
def test_heavy_libraries_wait_until_a_chart_or_page_needs_them(statement):
    probe = f"{statement}; import sys; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == ""


def test_charts_export_every_builder():
    import rolloutkit.charts as charts

    public = {name for module in (charts.canary, charts.evalset, charts.shadow, charts.summary, charts.supervision,
                                  charts.timeline)
              for name, value in vars(module).items()
              if callable(value) and not name.startswith("_") and getattr(value, "__module__", "") == module.__name__}
    assert public <= set(charts.__all__)
