"""The package's layout as a gate: one-way imports, rooms of a readable size, types checked.

* No import cycle inside ``simulator/``: every import counts (module level, inside functions,
  under ``TYPE_CHECKING``), so the dependency direction is one way
  (value types and schemas -> model -> experiments -> presentation -> CLI).
* The layers: the model never imports the experiments, the presentation or the CLI, and no
  plotting library; the presentation never imports the CLI.
* No module longer than ~400 lines and no class longer than ~250, unless its docstring says
  why it must be ("Longer than" in the docstring).
* ``mypy`` over ``simulator/`` passes.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PKG = ROOT / "simulator"
MAX_MODULE_LINES = 400
MAX_CLASS_LINES = 250


def _module_name(path: Path) -> str:
    rel = path.relative_to(ROOT).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def _resolve(current: str, is_pkg: bool, level: int, module: str | None) -> str:
    if level == 0:
        return module or ""
    base = current.split(".") if is_pkg else current.split(".")[:-1]
    base = base[: len(base) - (level - 1)] if level > 1 else base
    return ".".join(base + ([module] if module else []))


def import_graph() -> dict[str, set[str]]:
    """module -> the modules of ``simulator`` it imports (the most specific one named)."""
    mods = _modules()
    graph: dict[str, set[str]] = {m: set() for m in mods}
    for name, path in mods.items():
        is_pkg = path.name == "__init__.py"
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = _resolve(name, is_pkg, node.level, node.module)
                for a in node.names:
                    sub = f"{base}.{a.name}"
                    targets.append(sub if sub in mods else base)
            for t in targets:
                while t and t not in mods:
                    t = t.rsplit(".", 1)[0] if "." in t else ""
                if t and t != name and t.startswith("simulator"):
                    graph[name].add(t)
    return graph


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                return stack[stack.index(n):] + [n]
            if n not in state:
                found = visit(n)
                if found:
                    return found
        stack.pop()
        state[m] = 2
        return None

    for m in sorted(graph):
        if m not in state:
            found = visit(m)
            if found:
                return found
    return None


def test_no_import_cycles():
    cycle = find_cycle(import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle or [])


def test_cycle_finder_finds_a_planted_cycle():
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert find_cycle(graph) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


LAYERS = ["simulator.model", "simulator.experiments", "simulator.presentation", "simulator.cli"]


def test_layers_import_only_downwards():
    graph = import_graph()
    bad = []
    for src, targets in graph.items():
        for rank, layer in enumerate(LAYERS):
            if src == layer or src.startswith(layer + "."):
                above = LAYERS[rank + 1:]
                bad += [f"{src} -> {t}" for t in targets
                        if any(t == a or t.startswith(a + ".") for a in above)]
    assert not bad, "imports against the layer direction: " + ", ".join(bad)


def test_model_imports_no_plotting():
    offenders = []
    for path in (PKG / "model").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("matplotlib", "seaborn", "plotly")]
    assert not offenders


def _justified(docstring: str | None) -> bool:
    return bool(docstring) and "Longer than" in docstring


def test_modules_and_classes_stay_readable():
    too_long = []
    for name, path in _modules().items():
        text = path.read_text(encoding="utf-8")
        tree = ast.parse(text)
        n = len(text.splitlines())
        if n > MAX_MODULE_LINES and not _justified(ast.get_docstring(tree)):
            too_long.append(f"{name}: {n} lines")
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_CLASS_LINES and not _justified(ast.get_docstring(node)):
                    too_long.append(f"{name}.{node.name}: {length} lines")
    assert not too_long, "say in the docstring why these must be longer, or split them: " + ", ".join(too_long)


def test_mypy_passes():
    api = pytest.importorskip("mypy.api")
    out, err, status = api.run(["--config-file", str(ROOT / "pyproject.toml"), str(PKG)])
    assert status == 0, out + err
