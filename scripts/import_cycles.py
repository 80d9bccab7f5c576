"""Print the import cycles between Townsquare's packages, read from the AST.

Why: the layering of the code is a rule (see tests/test_layers.py); this script
shows how far the tree is from it: each strongly connected group of top-level
packages and modules that import one another, biggest first.

    python scripts/import_cycles.py            # cycles between packages
    python scripts/import_cycles.py --modules  # cycles between modules
"""

from __future__ import annotations

import argparse
import ast
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parent.parent / "src"
ROOT = "townsquare"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported(path: Path, name: str) -> Iterator[str]:
    """Every townsquare module that `path` imports, at any depth of its body."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (a.name for a in node.names if a.name.startswith(ROOT))
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            if base.startswith(ROOT):
                yield base
                yield from (f"{base}.{a.name}" for a in node.names)


def graph(by_package: bool) -> dict[str, set[str]]:
    files = {
        module_name(p): p
        for p in (SRC / ROOT).rglob("*.py")
        if "versions" not in p.parts and p.name != "env.py"
    }
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        node = unit(name, by_package)
        for target in imported(path, name):
            if target in files and unit(target, by_package) != node:
                edges.setdefault(node, set()).add(unit(target, by_package))
        edges.setdefault(node, set())
    return edges


def unit(name: str, by_package: bool) -> str:
    parts = name.split(".")
    return ".".join(parts[:2]) if by_package else name


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Tarjan's strongly connected components with more than one member."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for target in sorted(edges.get(node, ())):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return sorted(found, key=len, reverse=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--modules", action="store_true", help="modules, not packages")
    args = parser.parse_args()
    groups = cycles(graph(by_package=not args.modules))
    kind = "modules" if args.modules else "packages"
    print(f"{len(groups)} import cycle(s) between {kind}")
    for group in groups:
        print(f"- {len(group)}: " + ", ".join(g.removeprefix(ROOT + ".") for g in group))


if __name__ == "__main__":
    main()
