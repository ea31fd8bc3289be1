"""The import graph of edgefer (every import, function-local ones included): no cycles
between modules, and each layer imports only the layers below it, so the flow
data -> train -> export -> runtime -> detect/bench reads from the layout.

`python tests/test_layers.py` prints the graph between layers."""

from __future__ import annotations

import ast
import sys
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORE = {"errors", "atomic", "cache", "images", "latency", "preprocess", "modelmeta", "modelfile",
        "corruptions",
        "machine", "metrics", "plots"}
# what each layer may import besides the core (the core imports only the core)
ALLOWED = {
    "runtime": set(),  # the device runtime: numpy, onnxruntime, OpenCV, never torch
    "data": set(),
    "models": set(),
    "train": {"data", "models", "runtime"},
    "export": {"data", "edgefer", "models", "train", "runtime"},
    "classifiers": {"runtime", "train"},
    "evaluate": {"classifiers", "data"},
    "bench": {"classifiers", "data", "evaluate", "runtime"},
    "visualize": {"data", "export", "models", "runtime", "train"},
    "edgefer": {"runtime"},  # the package's __init__: the public API
    "cli": {"bench", "classifiers", "data", "edgefer", "evaluate", "export", "models",
            "runtime", "train", "visualize"},
    "__main__": {"cli"},
}


def module_name(path: Path) -> str:
    """edgefer.x.y for a file under edgefer/ or export/ (installed as edgefer.export)."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[0] == "export":
        parts.insert(0, "edgefer")
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def import_graph() -> dict[str, set[str]]:
    """Module -> the edgefer modules it imports (anywhere in the file)."""
    files = [*(REPO / "edgefer").rglob("*.py"), *(REPO / "export").rglob("*.py")]
    modules = {module_name(p): p for p in files}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        targets = set()
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            targets |= {n for n in names if n in modules and n != name}
        graph[name] = targets
    return graph


def layer(module: str) -> str:
    """edgefer.runtime.x -> runtime; edgefer.errors -> errors; edgefer -> edgefer."""
    return module.split(".")[1] if "." in module else module


def layer_graph(graph: dict[str, set[str]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for src, targets in graph.items():
        out[layer(src)] |= {layer(t) for t in targets if layer(t) != layer(src)}
    return out


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected groups of two or more modules (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def test_no_module_imports_itself_back():
    assert cycles(import_graph()) == []


def test_each_layer_imports_only_the_layers_below_it():
    wrong = {src: sorted(t for t in targets if t not in CORE | ALLOWED.get(src, set()))
             for src, targets in layer_graph(import_graph()).items()}
    assert {src: t for src, t in wrong.items() if t} == {}
    assert cycles({k: set(v) for k, v in ALLOWED.items()}) == []


def test_the_checker_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert layer("edgefer.runtime.backends") == "runtime" and layer("edgefer") == "edgefer"


if __name__ == "__main__":
    for src, targets in sorted(layer_graph(import_graph()).items()):
        print(f"{src:12} -> {', '.join(sorted(targets))}")
    print("module cycles:", cycles(import_graph()) or "none")
