"""DESIGN.md invariant 8: imports point down only, and no two modules import each other.

The test walks every ``import`` in ``src/montesim`` (type-checking-only imports aside) and
fails on an import that points the wrong way or closes a circle between modules.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2] / "src"
PACKAGE = "montesim"

# (importer prefix, forbidden prefixes): who may never import whom
FORBIDDEN = [
    ("montesim.errors", ["montesim."]),
    ("montesim.engines", ["montesim.jobs", "montesim.api", "montesim.cli", "montesim.simulation"]),
    ("montesim.sampling", ["montesim.engines", "montesim.jobs", "montesim.api", "montesim.cli"]),
    ("montesim.stats", ["montesim.engines", "montesim.jobs", "montesim.api", "montesim.cli"]),
    ("montesim.jobs", ["montesim.api", "montesim.cli", "montesim.simulation"]),
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in (ROOT / PACKAGE).rglob("*.py")}


def _type_checking_lines(tree: ast.Module) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                skip.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return skip


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_lines(tree)
    is_package = path.name == "__init__.py"
    out: set[str] = set()
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = name.split(".") if is_package else name.split(".")[:-1]
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [
                f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names
            ]
        else:
            continue
        out.update(t for t in targets if t == PACKAGE or t.startswith(PACKAGE + "."))
    out.discard(name)
    return {t for t in out if t in known}


def graph() -> dict[str, set[str]]:
    mods = modules()
    known = set(mods)
    return {name: imports_of(name, path, known) for name, path in mods.items()}


def test_imports_point_down() -> None:
    wrong = []
    for name, targets in graph().items():
        for importer, forbidden in FORBIDDEN:
            if name == importer or name.startswith(importer + "."):
                wrong += [
                    f"{name} -> {t}" for t in targets if any(t.startswith(f) for f in forbidden)
                ]
    assert not wrong, "imports pointing the wrong way:\n" + "\n".join(sorted(wrong))


def cycles(g: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in g.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(g):
        if v not in index:
            visit(v)
    return found


def test_no_import_cycles() -> None:
    found = cycles(graph())
    assert not found, "modules importing each other:\n" + "\n".join(" <-> ".join(c) for c in found)


def test_the_checker_sees_a_wrong_import_and_a_cycle() -> None:
    g = {"montesim.a": {"montesim.b"}, "montesim.b": {"montesim.a"}, "montesim.c": set()}
    assert cycles(g) == [["montesim.a", "montesim.b"]]
    assert imports_of("montesim.jobs.runner", ROOT / "montesim/jobs/runner.py", set(modules()))
