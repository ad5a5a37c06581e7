"""The conformance package's layout: a stream half, a container half, shared modules beside
them, and no import cycle among its modules (issue 9)."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "conformance"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imported(name: str, path: Path, known: set[str]) -> set[str]:
    """Conformance modules that ``name`` imports anywhere in its body (lazy imports included)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [base] + [f"{base}.{a.name}" for a in node.names]
        out |= {t for t in targets if t in known and t != name}
    return out


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle of ``graph`` as a list of nodes, or None (iterative depth-first search)."""
    state: dict[str, int] = {}
    for start in sorted(graph):
        if state.get(start):
            continue
        stack = [(start, iter(sorted(graph[start])))]
        path = [start]
        state[start] = 1
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                state[node] = 2
                stack.pop()
                path.pop()
            elif state.get(child) == 1:
                return path[path.index(child):] + [child]
            elif not state.get(child):
                state[child] = 1
                path.append(child)
                stack.append((child, iter(sorted(graph[child]))))
    return None


def import_graph() -> dict[str, set[str]]:
    """Edges between conformance modules; importing a package's submodule does not count the package's own
    ``__init__`` (it only holds a docstring), which the layout test checks."""
    mods = modules()
    known = set(mods)
    graph = {n: imported(n, p, known) for n, p in mods.items()}
    return {n: {m for m in deps if m not in ("conformance", "conformance.stream", "conformance.container")} for n, deps in graph.items()}


def test_find_cycle_sees_a_cycle_and_its_absence():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_no_import_cycle_among_conformance_modules():
    cycle = find_cycle(import_graph())
    assert cycle is None, " -> ".join(cycle)


def test_the_two_halves_and_the_shared_modules():
    mods = modules()
    stream = {m for m in mods if m.startswith("conformance.stream.")}
    container = {m for m in mods if m.startswith("conformance.container.")}
    assert "conformance.stream.bits" in stream and "conformance.stream.range_coder_model" in stream
    assert "conformance.container.writer" in container and "conformance.container.definitions" in container
    for shared in ("runner", "cards", "coverage", "generate", "adapters", "paths"):
        assert f"conformance.{shared}" in mods
    # the package inits only document their half: importing one never runs vector code
    for init in (PACKAGE / "stream" / "__init__.py", PACKAGE / "container" / "__init__.py"):
        body = ast.parse(init.read_text()).body
        assert len(body) == 1 and isinstance(body[0], ast.Expr)
    # no module of one half imports the other half
    graph = import_graph()
    for name in stream:
        assert not {m for m in graph[name] if m.startswith("conformance.container.")}, name
    for name in container:
        assert not {m for m in graph[name] if m.startswith("conformance.stream.")}, name


def test_every_module_imports_on_its_own():
    """Each module imported first in a fresh interpreter: a cycle hidden by import order would fail here."""
    names = sorted(n for n in modules() if not n.endswith("__main__"))
    code = (
        "import importlib, sys\n"
        "for n in sys.argv[1:]:\n"
        "    for k in [k for k in sys.modules if k.startswith('conformance')]:\n"
        "        del sys.modules[k]\n"
        "    importlib.import_module(n)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, *names], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
