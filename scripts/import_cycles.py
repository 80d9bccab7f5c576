"""Print the import cycles between Townsquare's packages, read from the AST.

Why: the layering of the code is a rule (see tests/test_layers.py); this script
shows how far the tree is from it: each strongly connected group of top-level
packages and modules that import one another, biggest first.

    python scripts/import_cycles.py            # cycles between packages
    python scripts/import_cycles.py --faces    # a package's tables, views and cli apart
    python scripts/import_cycles.py --modules  # cycles between modules

With --faces a domain's `models`, `views` and `cli` count as units of their own, as the
layering test counts them (they sit in other layers than the rest of their package).
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


FACES = ("models", "views", "rights_views", "cli")


def graph(by_package: bool, faces: bool = False) -> dict[str, set[str]]:
    files = {
        module_name(p): p
        for p in (SRC / ROOT).rglob("*.py")
        if "versions" not in p.parts and p.name != "env.py"
    }
    edges: dict[str, set[str]] = {}
    for name, path in files.items():
        node = unit(name, by_package, faces)
        for target in imported(path, name):
            if target in files and unit(target, by_package, faces) != node:
                edges.setdefault(node, set()).add(unit(target, by_package, faces))
        edges.setdefault(node, set())
    return edges


def unit(name: str, by_package: bool, faces: bool = False) -> str:
    parts = name.split(".")
    if not by_package:
        return name
    face = parts[2] if faces and len(parts) == 3 and parts[2] in FACES else ""
    return ".".join(parts[:2]) + (f":{face}" if face else "")


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
    parser.add_argument("--faces", action="store_true", help="tables, views and cli apart")
    args = parser.parse_args()
    groups = cycles(graph(by_package=not args.modules, faces=args.faces))
    kind = "modules" if args.modules else "packages" + (" (faces apart)" if args.faces else "")
    print(f"{len(groups)} import cycle(s) between {kind}")
    for group in groups:
        print(f"- {len(group)}: " + ", ".join(g.removeprefix(ROOT + ".") for g in group))


if __name__ == "__main__":
    main()
