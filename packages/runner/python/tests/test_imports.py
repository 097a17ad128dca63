"""The runner's Python modules import cleanly, one at a time, and never import
each other in a circle (counting imports inside functions too: a lazy import
only hides a cycle until the function runs)."""
from __future__ import annotations

import ast
import importlib
from pathlib import Path

PKG_ROOT = Path(__file__).resolve().parents[1] / "mamba2_runner"


def _modules() -> dict:
    """dotted name -> (path, is_package) for every .py under mamba2_runner."""
    out = {}
    for path in sorted(PKG_ROOT.rglob("*.py")):
        rel = path.relative_to(PKG_ROOT.parent).with_suffix("")
        parts = list(rel.parts)
        is_pkg = parts[-1] == "__init__"
        if is_pkg:
            parts = parts[:-1]
        out[".".join(parts)] = (path, is_pkg)
    return out


MODULES = _modules()

# Cycles that exist today and are being removed, each with who removes it. The
# test fails on a new cycle AND on an entry here that no longer is one.
KNOWN_CYCLES: list = []


def _edges(name: str) -> set:
    """The runner modules `name` imports (absolute or relative, at any depth in the file)."""
    path, is_pkg = MODULES[name]
    package = name if is_pkg else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            targets = [mod] + [f"{mod}.{a.name}" for a in node.names]
        for t in targets:
            while t and t not in MODULES:
                t = t.rpartition(".")[0]
            if t and t != name and t in MODULES and not name.startswith(t + "."):
                found.add(t)
    return found


def test_every_runner_module_imports():
    for name in MODULES:
        if name.endswith("__main__"):
            continue  # runs the CLI when imported
        importlib.import_module(name)


def test_the_runner_modules_do_not_import_each_other_in_a_circle():
    graph = {m: _edges(m) for m in MODULES}
    assert graph["mamba2_runner.bench.rows"] >= {"mamba2_runner.bench.checks", "mamba2_runner.checks"}
    state: dict = {}
    cycles = []

    def visit(m, stack):
        state[m] = "open"
        for n in sorted(graph[m]):
            if state.get(n) == "open":
                cycles.append(stack[stack.index(n):] + [n])
            elif n not in state:
                visit(n, stack + [n])
        state[m] = "done"

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    new = [c for c in cycles if set(c) not in KNOWN_CYCLES]
    assert not new, "import cycles (break one edge of each): " + "; ".join(" -> ".join(c) for c in new)
    stale = [k for k in KNOWN_CYCLES if k not in [set(c) for c in cycles]]
    assert not stale, f"KNOWN_CYCLES lists {stale}, which are no longer cycles: delete them"

