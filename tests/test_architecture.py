"""The floors of the house (docs/architecture.md) hold: the import contract of pyproject.toml
(import-linter's layers and forbidden contracts: nothing imports upward, the EM loop imports no
model, nothing imports the package's public face), no cycle between any two modules, and
``import ethogram`` leaves the heavy optional libraries unimported."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "src"


def _env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_the_import_contract_is_kept():
    code = (
        "from importlinter.cli import lint_imports; raise SystemExit(lint_imports("
        f"config_filename={str(ROOT / 'pyproject.toml')!r}, no_cache=True, no_logo=True))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout, run.stdout


# ------------------------------------------------------------------ cycles between modules
def _modules(package: Path) -> dict:
    """``{dotted name: (path, is_package)}`` of every module under ``package``."""
    out = {}
    for path in package.rglob("*.py"):
        parts = list(path.relative_to(package.parent).with_suffix("").parts)
        is_package = parts[-1] == "__init__"
        out[".".join(parts[:-1] if is_package else parts)] = (path, is_package)
    return out


def _imported(name: str, modules: dict, node) -> list:
    """The modules of ours one import statement in module ``name`` names (the deepest that exists:
    ``from a.b import c`` is ``a.b.c`` when that is a module, else ``a.b``)."""
    path, is_package = modules[name]
    if isinstance(node, ast.Import):
        targets = [a.name for a in node.names]
    else:
        base = node.module or ""
        if node.level:
            here = name.split(".") if is_package else name.split(".")[:-1]
            here = here[: len(here) - node.level + 1]
            base = ".".join(here + ([node.module] if node.module else []))
        targets = [
            f"{base}.{a.name}" if f"{base}.{a.name}" in modules else base for a in node.names
        ]
    out = []
    for target in targets:
        while target and target not in modules:
            target = target.rpartition(".")[0]
        if target and target != name:
            out.append(target)
    return out


def import_graph(package: Path) -> dict:
    """``{module: {module it imports: line}}``, every import statement (also inside functions)."""
    modules = _modules(package)
    graph = {}
    for name, (path, _) in modules.items():
        edges = graph.setdefault(name, {})
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(name, modules, node):
                    edges.setdefault(target, node.lineno)
    return graph


def strongly_connected(graph: dict) -> list:
    """The strongly connected components of more than one module (networkx)."""
    import networkx as nx

    g = nx.DiGraph()
    g.add_nodes_from(graph)
    g.add_edges_from((a, b) for a, targets in graph.items() for b in targets)
    return [set(c) for c in nx.strongly_connected_components(g) if len(c) > 1]


def _described(component: set, graph: dict) -> str:
    lines = [
        f"{a} -> {b} (line {graph[a][b]})"
        for a in sorted(component)
        for b in sorted(graph[a])
        if b in component
    ]
    return "cycle between " + ", ".join(sorted(component)) + ":\n  " + "\n  ".join(lines)


def test_no_module_imports_itself_through_others():
    graph = import_graph(SRC / "ethogram")
    cycles = strongly_connected(graph)
    assert not cycles, "\n".join(_described(c, graph) for c in cycles)


def test_the_cycle_finder_finds_a_cycle():
    graph = {"a": {"b": 1}, "b": {"c": 2}, "c": {"a": 3, "d": 4}, "d": {}}
    assert strongly_connected(graph) == [{"a", "b", "c"}]
    assert "c -> a (line 3)" in _described({"a", "b", "c"}, graph)


def test_imports_are_resolved_as_python_resolves_them(tmp_path):
    pkg = tmp_path / "p"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("from .sub import core\n")
    (pkg / "sub" / "__init__.py").write_text("")
    (pkg / "sub" / "core.py").write_text("def f():\n    from .. import helper\n")
    (pkg / "helper.py").write_text("import p.sub\nfrom p import sub\n")
    graph = import_graph(pkg)
    assert graph == {
        "p": {"p.sub.core": 1},
        "p.sub": {},
        "p.sub.core": {"p.helper": 2},
        "p.helper": {"p.sub": 1},
    }


# ------------------------------------------------------------------ what `import ethogram` costs
HEAVY = (
    "matplotlib",
    "cv2",
    "dask",
    "distributed",
    "pandas",
    "h5py",
    "sklearn",
    "imageio",
    "jinja2",
    "networkx",
    "movement",
    "pynwb",
    "xarray",
)


def test_import_ethogram_leaves_the_heavy_libraries_unimported():
    code = "import sys, ethogram; print(' '.join(sorted({m.split('.')[0] for m in sys.modules})))"
    run = subprocess.run(
        [sys.executable, "-c", code], env=_env(), capture_output=True, text=True, timeout=300
    )
    assert run.returncode == 0, run.stderr
    loaded = set(run.stdout.split())
    assert not loaded & set(HEAVY), sorted(loaded & set(HEAVY))
