"""Structure checks run in CI beside the import contracts: no import cycle between the
package's modules (imports inside functions included), and no module over 500 lines.

    .venv/bin/python tools/check_structure.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import grimp

LONGEST = 500
ROOT = Path(__file__).resolve().parents[1] / "src" / "backflush"


def cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Every strongly connected set of two modules or more (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(node: str) -> None:
        work = [(node, iter(sorted(graph.find_modules_directly_imported_by(node))))]
        index[node] = low[node] = counter[0]
        counter[0] += 1
        stack.append(node)
        on_stack.add(node)
        while work:
            current, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(
                        graph.find_modules_directly_imported_by(child)))))
                    break
                if child in on_stack:
                    low[current] = min(low[current], index[child])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[current])
                if low[current] == index[current]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == current:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))

    for module in sorted(graph.modules):
        if module not in index:
            visit(module)
    return found


def main() -> int:
    graph = grimp.build_graph("backflush", include_external_packages=False)
    # A package's __init__ importing its own modules is not a cycle with them: only module
    # to module imports count (a package is its __init__, which may re-export).
    failures = []
    for group in cycles(graph):
        failures.append("import cycle: " + " <-> ".join(group))
    for path in sorted(ROOT.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > LONGEST:
            failures.append(f"{path.relative_to(ROOT.parent)}: {lines} lines (at most "
                            f"{LONGEST})")
    for failure in failures:
        print(failure)
    if not failures:
        print(f"no import cycle among {len(graph.modules)} modules; every module has at most "
              f"{LONGEST} lines")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
