"""register's JSON, read and written: the risk-tree tool this engine replaces.

register writes three shapes, all read here:

* a tree definition (its files and its create request):
  ``{name, portfolios: [{name, parentName}], leaves: [{name, parentName, probability,
  distributionShape: {distributionType, percentiles, quantiles, terms, minLoss, maxLoss},
  seedVarId}]}``, every field present and ``null`` where unused;
* an update request: the same with ``id`` on every node, plus ``newPortfolios`` and
  ``newLeaves`` in the definition's form;
* a stored tree: ``{id, name, rootId, seedVarHighWater, nodes: [{"RiskLeaf": {id, name,
  parentId, distributionType, probability, percentiles, quantiles, minLoss, maxLoss,
  terms, seedVarId}} | {"RiskPortfolio": {id, name, parentId, childIds}}]}``.

Its two distribution types: ``lognormal`` (``minLoss``/``maxLoss`` the 5th and 95th
percentiles) and ``expert`` (a metalog through ``percentiles``/``quantiles`` with
``terms`` terms, ``min(n, 4)`` unless given, bounded below at 0; here ``minLoss`` and
``maxLoss``, when given, bound it). Fields a later register may add are listed as ignored
notes, never refused. :func:`to_register` writes our tree back as a definition.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from montesim.engines.base import InputError
from montesim.engines.risktree.model import FlatTree, Leaf, RiskTreeSpec

SHAPE_FIELDS = ("distributionType", "percentiles", "quantiles", "terms", "minLoss", "maxLoss")
NODE_FIELDS = {"id", "name", "parentName", "description"}
LEAF_FIELDS = NODE_FIELDS | {"probability", "distributionShape", "seedVarId"}
TREE_FIELDS = {"id", "name", "description", "portfolios", "leaves", "newPortfolios", "newLeaves"}
STORED_TREE_FIELDS = {"id", "name", "nodes", "rootId", "seedVarHighWater"}
STORED_LEAF_FIELDS = {"id", "name", "parentId", "probability", "seedVarId", *SHAPE_FIELDS}
STORED_PORTFOLIO_FIELDS = {"id", "name", "parentId", "childIds"}
DEFAULT_TERMS = 4  # register fits min(n, 4) metalog terms unless a leaf says otherwise
SETTINGS = ("trials", "seed", "correlation", "output", "tolerance", "chunk_size")

Note = dict[str, str]


def _error(message: str, location: str, code: str = "invalid_tree") -> InputError:
    return InputError(message, code=code, location=location)


def is_register(tree: Mapping[str, Any]) -> bool:
    """Whether a tree is in one of register's shapes."""
    if isinstance(tree.get("nodes"), list) and "rootId" in tree:
        return True
    lists = [tree.get(k) for k in ("portfolios", "leaves", "newPortfolios", "newLeaves")]
    nodes = [n for items in lists if isinstance(items, list) for n in items if isinstance(n, dict)]
    return any("parentName" in n or "distributionShape" in n for n in nodes)


def from_register(tree: Mapping[str, Any], notes: list[Note]) -> dict[str, Any]:
    """register's tree in our flat form; fields we do not know are noted, not refused."""
    if isinstance(tree.get("nodes"), list) and "rootId" in tree:
        return _from_stored(tree, notes)
    _ignore(tree, TREE_FIELDS | set(SETTINGS), "tree", notes)
    portfolios = []
    for key in ("portfolios", "newPortfolios"):
        for i, node in enumerate(_objects(tree, key)):
            name = _name(node, f"tree.{key}[{i}]")
            where = f"tree.{key}[{name!r}]"
            _ignore(node, NODE_FIELDS, where, notes)
            entry: dict[str, Any] = {"name": name, "parent": node.get("parentName") or None}
            if node.get("description"):
                entry["description"] = node["description"]
            portfolios.append(entry)
    leaves = []
    seeded = 0
    for key in ("leaves", "newLeaves"):
        for i, node in enumerate(_objects(tree, key)):
            name = _name(node, f"tree.{key}[{i}]")
            where = f"tree.{key}[{name!r}]"
            _ignore(node, LEAF_FIELDS, where, notes)
            shape = node.get("distributionShape")
            if not isinstance(shape, dict):
                raise _error(
                    f"Leaf {name!r}: distributionShape must be an object with distributionType",
                    f"{where}.distributionShape",
                )
            _ignore(shape, set(SHAPE_FIELDS), f"{where}.distributionShape", notes)
            entry = {
                "name": name,
                "parent": node.get("parentName") or None,
                "probability": node.get("probability"),
                "severity": _severity(name, shape, f"{where}.distributionShape"),
            }
            if node.get("description"):
                entry["description"] = node["description"]
            seeded += node.get("seedVarId") is not None
            leaves.append(entry)
    _note_seeds(seeded, notes)
    out: dict[str, Any] = {"portfolios": portfolios, "leaves": leaves}
    # register names the tree itself; it is our root only when no portfolio is one already
    if tree.get("name") and all(p["parent"] for p in portfolios):
        out["name"] = tree["name"]
    return out


def _from_stored(tree: Mapping[str, Any], notes: list[Note]) -> dict[str, Any]:
    """A stored tree: nodes wrapped as ``{"RiskLeaf": {...}}`` and linked by id."""
    _ignore(tree, STORED_TREE_FIELDS | set(SETTINGS), "tree", notes)
    raw: list[tuple[str, dict[str, Any], str]] = []
    for i, wrapped in enumerate(tree["nodes"]):
        where = f"tree.nodes[{i}]"
        if not (isinstance(wrapped, dict) and len(wrapped) == 1):
            raise _error(
                f"{where} must be an object with one key, RiskLeaf or RiskPortfolio", where
            )
        ((kind, node),) = wrapped.items()
        if kind not in ("RiskLeaf", "RiskPortfolio") or not isinstance(node, dict):
            raise _error(
                f"{where}: {kind!r} is not a register node (RiskLeaf or RiskPortfolio)",
                f"{where}.{kind}",
            )
        raw.append((kind, node, where))
    names = {}
    for kind, node, where in raw:
        name = _name(node, where)
        if node.get("id") is None:
            raise _error(f"{kind} {name!r} needs its id", f"{where}.id")
        names[node["id"]] = name
    portfolios: list[dict[str, Any]] = []
    leaves: list[dict[str, Any]] = []
    seeded = 0
    for kind, node, _where in raw:
        name = names[node["id"]]
        parent_id = node.get("parentId")
        if parent_id is not None and parent_id not in names:
            raise _error(
                f"{kind} {name!r}: parentId {parent_id!r} is not the id of a node of the tree",
                f"tree.nodes[{name!r}].parentId",
            )
        parent = names[parent_id] if parent_id is not None else None
        where = f"tree.nodes[{name!r}]"
        if kind == "RiskPortfolio":
            _ignore(node, STORED_PORTFOLIO_FIELDS, where, notes)
            portfolios.append({"name": name, "parent": parent})
            continue
        _ignore(node, STORED_LEAF_FIELDS, where, notes)
        seeded += node.get("seedVarId") is not None
        leaves.append(
            {
                "name": name,
                "parent": parent,
                "probability": node.get("probability"),
                "severity": _severity(name, node, where),
            }
        )
    _note_seeds(seeded, notes)
    return {"portfolios": portfolios, "leaves": leaves}


def _objects(tree: Mapping[str, Any], key: str) -> list[dict[str, Any]]:
    items = tree.get(key) or []
    if not isinstance(items, list) or not all(isinstance(n, dict) for n in items):
        raise _error(f"tree.{key} must be a list of objects", f"tree.{key}")
    return items


def _name(node: Mapping[str, Any], where: str) -> str:
    name = node.get("name")
    if not isinstance(name, str) or not name:
        raise _error(f"{where} needs a name", f"{where}.name")
    return name


def _ignore(node: Mapping[str, Any], known: set[str], where: str, notes: list[Note]) -> None:
    """Fields a later register may write: listed, so the user knows they had no effect."""
    for field in sorted(set(node) - known):
        notes.append(
            {
                "code": "ignored_field",
                "location": f"{where}.{field}",
                "message": f"{where}.{field} is not a field of register's format as known "
                "here; it was ignored",
            }
        )


def _note_seeds(seeded: int, notes: list[Note]) -> None:
    if seeded:
        notes.append(
            {
                "code": "ignored_field",
                "location": "tree.leaves.seedVarId",
                "message": f"seedVarId of {seeded} lea{'f' if seeded == 1 else 'ves'} ignored: "
                "register's random streams are its own; here each leaf's stream comes from "
                "its name and the run's seed",
            }
        )


def _severity(name: str, shape: Mapping[str, Any], where: str) -> dict[str, Any]:
    kind = shape.get("distributionType")
    if kind == "lognormal":
        return {"family": "lognormal", "low": shape.get("minLoss"), "high": shape.get("maxLoss")}
    if kind == "expert":
        ps, xs = shape.get("percentiles"), shape.get("quantiles")
        if not isinstance(ps, list) or not isinstance(xs, list) or len(ps) != len(xs):
            raise _error(
                f"Leaf {name!r}: an expert distribution needs percentiles and quantiles "
                "lists of the same length",
                f"{where}.quantiles",
            )
        out: dict[str, Any] = {
            "family": "metalog",
            "quantiles": [[p, x] for p, x in zip(ps, xs, strict=True)],
            "terms": shape.get("terms") or min(len(ps), DEFAULT_TERMS),
        }
        if shape.get("minLoss") is not None:
            out["lower"] = shape["minLoss"]
        if shape.get("maxLoss") is not None:
            out["upper"] = shape["maxLoss"]
        return out
    raise _error(
        f"Leaf {name!r}: distributionType {kind!r} is not one of lognormal, expert",
        f"{where}.distributionType",
    )


# -- writing ----------------------------------------------------------------------------


def to_register(spec: RiskTreeSpec) -> tuple[dict[str, Any], list[Note]]:
    """The tree as a register definition, and notes on the run settings left behind.

    What register cannot express in a leaf (a frequency, another severity family, a
    deductible, a cap, controls) or across leaves (a copula) is refused, naming the
    node: a file that silently simulated something else would be worse than none.
    """
    tree: FlatTree = spec.tree
    if spec.correlation is not None:
        raise _error(
            "register has no correlation between leaves; remove correlation to export",
            "correlation",
            "not_expressible_in_register",
        )
    portfolios = [{"name": p.name, "parentName": p.parent} for p in tree.portfolios]
    if tree.name is not None and tree.name not in {p.name for p in tree.portfolios}:
        portfolios.insert(0, {"name": tree.name, "parentName": None})
    roots = [p["name"] for p in portfolios if p["parentName"] is None]
    leaves = [_leaf_out(leaf) for leaf in tree.leaves]
    notes: list[Note] = []
    dropped = [k for k in ("tolerance",) if getattr(spec, k, None)]
    if dropped:
        notes.append(
            {
                "code": "not_exported",
                "location": dropped[0],
                "message": f"register has no place for {', '.join(dropped)}; "
                "the exported file leaves it out",
            }
        )
    return {"name": tree.name or roots[0], "portfolios": portfolios, "leaves": leaves}, notes


def _leaf_out(leaf: Leaf) -> dict[str, Any]:
    where = f"tree.leaves[{leaf.name!r}]"

    def refuse(field: str, why: str) -> InputError:
        return _error(
            f"Leaf {leaf.name!r}: {why}; register cannot express it",
            f"{where}.{field}",
            "not_expressible_in_register",
        )

    if leaf.probability is None:
        raise refuse("frequency", "a frequency (events per period)")
    if leaf.deductible:
        raise refuse("deductible", "a deductible")
    if leaf.cap is not None:
        raise refuse("cap", "a cap")
    if leaf.controls:
        raise refuse("controls", "controls")
    sev = leaf.severity
    shape: dict[str, Any] = dict.fromkeys(SHAPE_FIELDS)
    if sev.family == "lognormal":
        shape.update(
            distributionType="lognormal", minLoss=_whole(sev.low), maxLoss=_whole(sev.high)
        )
        if shape["minLoss"] is None or shape["maxLoss"] is None:
            raise refuse("severity", "a lognormal interval in fractions of a unit")
    elif sev.family == "metalog":
        n = len(sev.quantiles)
        terms = sev.terms if sev.terms is not None else n
        upper = _whole(sev.upper) if sev.upper is not None else None
        lower = _whole(sev.lower)
        if lower is None or (sev.upper is not None and upper is None):
            raise refuse("severity", "a metalog bound in fractions of a unit")
        shape.update(
            distributionType="expert",
            percentiles=[p for p, _ in sev.quantiles],
            quantiles=[x for _, x in sev.quantiles],
            terms=None if terms == min(n, DEFAULT_TERMS) else terms,
            minLoss=lower or None,
            maxLoss=upper,
        )
    else:
        raise refuse("severity", f"a {sev.family} severity (register has lognormal and expert)")
    return {
        "name": leaf.name,
        "parentName": leaf.parent,
        "probability": leaf.probability,
        "distributionShape": shape,
    }


def _whole(value: float) -> int | None:
    """register keeps losses as whole numbers; None where that would change the value."""
    return int(value) if float(value).is_integer() else None
