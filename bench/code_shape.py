"""The code's shape, in figures (issue 17's before/after): lines per platform adapter, the
places that implement the sync lock, import cycles between app modules, modules over 400
lines.

    .venv/bin/python bench/code_shape.py

Definitions (so the before and after figures compare like with like):
- adapter lines: every line of the .py files under app/platforms/<name>/ (queries too).
- a sync-lock implementation: a function that queries the outbox (OutboxEvent) for
  unfinished fulfillment pushes and whose docstring names the sync lock.
- an import cycle: a strongly connected group of app modules through module-level imports
  (imports inside functions are deferred and do not count).
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
APP = ROOT / "app"


def _modules() -> dict[str, Path]:
    found = {}
    for path in APP.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        found[name] = path
    return found


def _module_level_imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    targets: set[str] = set()

    def add(candidate: str) -> None:
        while candidate and candidate not in modules:
            candidate = candidate.rpartition(".")[0]
        if candidate and candidate != name:
            targets.add(candidate)

    def visit(nodes):
        for node in nodes:
            if isinstance(node, ast.Import):
                for alias in node.names:
                    add(alias.name)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")
                    anchor = anchor[:len(anchor) - node.level + 1]
                    base = ".".join(anchor + ([base] if base else []))
                for alias in node.names:
                    full = f"{base}.{alias.name}"
                    add(full if full in modules else base)
            elif isinstance(node, (ast.If, ast.Try)):
                if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                    continue
                visit(node.body)
                visit(getattr(node, "orelse", []))
                for handler in getattr(node, "handlers", []):
                    visit(handler.body)
    visit(tree.body)
    return targets


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []
    counter = [0]
    sys.setrecursionlimit(10_000)

    def strong(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                strong(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            strong(v)
    return groups


def _sync_lock_sites(modules: dict[str, Path]) -> list[str]:
    sites = []
    for name, path in sorted(modules.items()):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                doc = (ast.get_docstring(node) or "").lower()
                if "sync lock" in doc and "OutboxEvent" in ast.unparse(node):
                    sites.append(f"{name}.{node.name}")
    return sites


def main() -> None:
    modules = _modules()
    print("lines per adapter (app/platforms/<name>/**/*.py):")
    for adapter in sorted(p for p in (APP / "platforms").iterdir() if p.is_dir()):
        files = [f for f in adapter.rglob("*.py")]
        lines = sum(len(f.read_text().splitlines()) for f in files)
        print(f"  {adapter.name:<14} {lines:>6} lines in {len(files)} modules")
    sites = _sync_lock_sites(modules)
    print(f"sync-lock implementations: {len(sites)}")
    for site in sites:
        print(f"  {site}")
    graph = {name: _module_level_imports(name, path, modules) for name, path in modules.items()}
    cycles = _cycles(graph)
    print(f"import cycles (module-level imports): {len(cycles)}")
    for group in cycles:
        print(f"  {len(group)} modules: {', '.join(group)}")
    big = sorted(((len(p.read_text().splitlines()), n) for n, p in modules.items()),
                 reverse=True)
    big = [(lines, n) for lines, n in big if lines > 400]
    print(f"modules over 400 lines: {len(big)}")
    for lines, name in big:
        print(f"  {lines:>5}  {name}")


if __name__ == "__main__":
    main()
