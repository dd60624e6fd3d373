"""Structure of a risk tree: checks that need the whole tree, and the compiled form.

The compiled :class:`RiskTree` lists nodes root first (depth-first, input order among
siblings), and gives every leaf its stable stream id and the nodes its losses add to.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from montesim.engines.base import InputError
from montesim.engines.risktree.model import Correlation, FlatTree, Leaf, RiskTreeSpec
from montesim.sampling.seeding import stable_id


@dataclass(frozen=True)
class Node:
    name: str
    kind: str  # "portfolio" | "leaf"
    parent: int | None  # index into RiskTree.nodes
    depth: int


@dataclass(frozen=True)
class LeafPlan:
    node: int  # index of the leaf's node
    ancestors: tuple[int, ...]  # node indices of the portfolios above it, nearest first
    stream: int  # stable_id(name): the leaf's own random stream
    leaf: Leaf


@dataclass(frozen=True)
class RiskTree:
    nodes: tuple[Node, ...]
    leaves: tuple[LeafPlan, ...]
    portfolios: tuple[int, ...]  # node indices of portfolios
    copula: tuple[tuple[int, ...], np.ndarray] | None  # (leaf positions, Cholesky factor)

    def index(self, name: str) -> int:
        for i, node in enumerate(self.nodes):
            if node.name == name:
                return i
        raise KeyError(name)

    @property
    def root(self) -> str:
        return self.nodes[0].name


def _error(message: str, location: str, code: str = "invalid_tree") -> InputError:
    return InputError(message, code=code, location=location)


def _where(kind: str, name: str, field: str = "") -> str:
    return f"tree.{kind}[{name!r}]" + (f".{field}" if field else "")


def build(spec: RiskTreeSpec) -> RiskTree:
    """Check the tree's structure and compile it; InputError naming the node on failure."""
    tree = spec.tree
    parents, kinds = _check_names(tree)
    root = _check_root(tree, parents, kinds)
    children: dict[str, list[str]] = {name: [] for name in parents}
    for name, parent in parents.items():
        if parent is not None:
            children[parent].append(name)
    # Cycles first: a cycle leaves the root empty, and "empty" would hide the real fault.
    order = _depth_first(root, children)
    if len(order) < len(parents):
        reached = {name for name, _ in order}
        stray = next(n for n in parents if n not in reached)
        raise _error(
            _cycle_message(stray, parents, root),
            _where("portfolios" if kinds[stray] == "portfolio" else "leaves", stray, "parent"),
        )
    for name, kind in kinds.items():
        if kind == "portfolio" and not children[name]:
            raise _error(
                f"Portfolio {name!r} is empty: give it a leaf or a portfolio, or remove it",
                _where("portfolios", name),
            )
    index = {name: i for i, (name, _) in enumerate(order)}
    nodes = tuple(
        Node(name, kinds[name], index[parents[name]] if parents[name] else None, depth)
        for name, depth in order
    )
    by_name = {leaf.name: leaf for leaf in tree.leaves}
    leaves = []
    streams: dict[int, str] = {}
    for i, node in enumerate(nodes):
        if node.kind != "leaf":
            continue
        stream = stable_id(node.name)
        if stream in streams:
            raise _error(
                f"Leaves {streams[stream]!r} and {node.name!r} share a random stream "
                "(a hash collision); rename one of them",
                _where("leaves", node.name),
            )
        streams[stream] = node.name
        ancestors = []
        up = node.parent
        while up is not None:
            ancestors.append(up)
            up = nodes[up].parent
        leaves.append(LeafPlan(i, tuple(ancestors), stream, by_name[node.name]))
    portfolios = tuple(i for i, n in enumerate(nodes) if n.kind == "portfolio")
    leaf_pos = {nodes[lp.node].name: k for k, lp in enumerate(leaves)}
    copula = _copula(spec.correlation, leaf_pos) if spec.correlation else None
    for name in spec.output.chart_nodes or ():
        if name not in index:
            raise _error(
                f"output.chart_nodes names {name!r}, which is not a node of the tree",
                "output.chart_nodes",
            )
    _check_tolerance(spec.tolerance or [])
    seen: dict[str, str] = {}
    for leaf in tree.leaves:
        for i, control in enumerate(leaf.controls):
            if control.name in seen:
                raise _error(
                    f"Leaf {leaf.name!r}: control {control.name!r} is also a control of "
                    f"{seen[control.name]!r}; control names must be unique",
                    _where("leaves", leaf.name, f"controls[{i}].name"),
                )
            seen[control.name] = leaf.name
    return RiskTree(nodes, tuple(leaves), portfolios, copula)


def _check_tolerance(points: list[tuple[float, float]]) -> None:
    """A tolerance curve: positive losses rising, probabilities in (0, 1] not rising."""
    for i, (loss, p) in enumerate(points):
        where = f"tolerance[{i}]"
        if not (math.isfinite(loss) and loss > 0):
            raise _error(f"{where}: the loss must be positive (got {loss})", where)
        if not 0 < p <= 1:
            raise _error(f"{where}: the probability must be in (0, 1] (got {p})", where)
        if i and not (loss > points[i - 1][0] and p <= points[i - 1][1]):
            raise _error(
                f"{where}: along a tolerance curve losses must increase and probabilities "
                f"must not (got {list(points[i - 1])} then {[loss, p]})",
                where,
            )


def _check_names(tree: FlatTree) -> tuple[dict[str, str | None], dict[str, str]]:
    parents: dict[str, str | None] = {}
    kinds: dict[str, str] = {}
    if tree.name is not None and tree.name not in {p.name for p in tree.portfolios}:
        parents[tree.name], kinds[tree.name] = None, "portfolio"
    for kind, group in (("portfolio", tree.portfolios), ("leaf", tree.leaves)):
        plural = "portfolios" if kind == "portfolio" else "leaves"
        for node in group:
            if node.name in kinds:
                raise _error(
                    f"Name {node.name!r} is used by more than one node; names must be unique",
                    _where(plural, node.name, "name"),
                )
            parents[node.name], kinds[node.name] = node.parent, kind
    for name, parent in parents.items():
        plural = "portfolios" if kinds[name] == "portfolio" else "leaves"
        label = "Portfolio" if kinds[name] == "portfolio" else "Leaf"
        if parent is None:
            if kinds[name] == "leaf":
                raise _error(
                    f"Leaf {name!r} has no parent: every leaf belongs to a portfolio",
                    _where(plural, name, "parent"),
                )
            continue
        if parent not in kinds:
            raise _error(
                f"{label} {name!r}: parent {parent!r} is not a portfolio of the tree",
                _where(plural, name, "parent"),
            )
        if kinds[parent] != "portfolio":
            raise _error(
                f"{label} {name!r}: parent {parent!r} is a leaf; a parent must be a portfolio",
                _where(plural, name, "parent"),
            )
        if parent == name:
            raise _error(
                f"{label} {name!r} is its own parent (a cycle)", _where(plural, name, "parent")
            )
    return parents, kinds


def _check_root(tree: FlatTree, parents: dict[str, str | None], kinds: dict[str, str]) -> str:
    roots = [n for n, p in parents.items() if p is None]
    if len(roots) != 1:
        if not roots:
            # Every portfolio has a parent: they must form a cycle somewhere.
            name = next(n for n, k in kinds.items() if k == "portfolio")
            raise _error(_cycle_message(name, parents, None), _where("portfolios", name, "parent"))
        listed = ", ".join(repr(r) for r in roots)
        raise _error(
            f"The tree must have exactly one root portfolio (one without a parent); "
            f"found {len(roots)}: {listed}",
            _where("portfolios", roots[1], "parent"),
        )
    return roots[0]


def _cycle_message(start: str, parents: dict[str, str | None], root: str | None) -> str:
    path, seen = [start], {start}
    node = parents[start]
    while node is not None and node not in seen:
        path.append(node)
        seen.add(node)
        node = parents[node]
    if node is None:
        return f"Node {start!r} does not reach the root {root!r}"
    loop = path[path.index(node) :] + [node]
    return f"Portfolio {node!r} is part of a cycle: {' → '.join(loop)}; the tree needs one root"


def _depth_first(root: str, children: dict[str, list[str]]) -> list[tuple[str, int]]:
    order: list[tuple[str, int]] = []
    seen: set[str] = set()
    stack = [(root, 0)]
    while stack:
        name, depth = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        order.append((name, depth))
        stack.extend((c, depth + 1) for c in reversed(children[name]))
    return order


def _copula(corr: Correlation, leaf_pos: dict[str, int]) -> tuple[tuple[int, ...], np.ndarray]:
    names = corr.leaves
    for i, name in enumerate(names):
        if name not in leaf_pos:
            raise _error(
                f"correlation.leaves[{i}] names {name!r}, which is not a leaf of the tree",
                f"correlation.leaves[{i}]",
                "invalid_correlation",
            )
    if len(set(names)) != len(names):
        raise _error(
            "correlation.leaves lists a leaf twice", "correlation.leaves", "invalid_correlation"
        )
    m = np.asarray(corr.matrix, dtype=np.float64) if corr.matrix else np.zeros((0, 0))
    k = len(names)
    if m.shape != (k, k):
        raise _error(
            f"correlation.matrix must be {k}×{k} to match correlation.leaves (got "
            f"{'×'.join(map(str, m.shape))})",
            "correlation.matrix",
            "invalid_correlation",
        )
    bad = np.argwhere(~np.isfinite(m) | (np.abs(m) > 1) | (np.abs(m - m.T) > 1e-9))
    if bad.size:
        i, j = bad[0]
        raise _error(
            f"correlation.matrix[{i}][{j}] ({names[i]!r} with {names[j]!r}) must be "
            "a finite correlation in [-1, 1], equal to its mirror entry",
            f"correlation.matrix[{i}][{j}]",
            "invalid_correlation",
        )
    off = np.flatnonzero(np.abs(np.diag(m) - 1) > 1e-12)
    if off.size:
        i = int(off[0])
        raise _error(
            f"correlation.matrix[{i}][{i}] ({names[i]!r} with itself) must be 1",
            f"correlation.matrix[{i}][{i}]",
            "invalid_correlation",
        )
    eig = np.linalg.eigvalsh(m)
    if eig[0] < -1e-10:
        raise _error(
            "correlation.matrix is not a valid correlation matrix (not positive "
            f"semi-definite; smallest eigenvalue {eig[0]:.3g})",
            "correlation.matrix",
            "invalid_correlation",
        )
    # A tiny ridge lets Cholesky factor semi-definite matrices (e.g. perfect correlation).
    chol = np.linalg.cholesky(m + np.eye(k) * 1e-12) if eig[0] < 1e-12 else np.linalg.cholesky(m)
    return tuple(leaf_pos[n] for n in names), chol
