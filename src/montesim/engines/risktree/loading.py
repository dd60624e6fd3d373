"""From what users send to a validated :class:`RiskTreeSpec`: YAML/JSON, CSV, nested trees.

Accepted shapes, all normalised to the flat form before validation:

* a spec ``{tree: ..., trials, seed, correlation, output}``;
* a bare tree, nested ``{name, children: [...]}`` or flat ``{name, portfolios, leaves}``,
  optionally with ``trials``/``seed``/``correlation``/``output`` beside it;
* a CSV risk register with columns ``name, parent, probability, low, high`` (and
  optionally ``frequency, deductible, cap, description``);
* the JSON of register, the risk-tree tool this engine replaces, in each shape it
  writes (see :mod:`.register`), converted on load; fields it may add later are noted
  as ignored (``RiskTreeSpec.notes``).

Every mistake becomes an InputError whose message and location name the node and field.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from montesim.engines.base import InputError
from montesim.engines.risktree import register
from montesim.engines.risktree.model import MAX_NODES, RiskTreeSpec
from montesim.engines.risktree.severity import FAMILIES

MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
SETTINGS = ("trials", "seed", "correlation", "output", "tolerance")
REGISTER_COLUMNS = (
    "name",
    "parent",
    "probability",
    "frequency",
    "low",
    "high",
    "deductible",
    "cap",
    "description",
)
DEFAULT_ROOT = "All risks"
M = TypeVar("M", bound=BaseModel)


def _error(message: str, location: str | None, code: str = "invalid_tree") -> InputError:
    return InputError(message, code=code, location=location)


# -- documents --------------------------------------------------------------------------


def read_document(path: Path) -> dict[str, Any]:
    """A tree or spec from a YAML, JSON or CSV file."""
    try:
        size = path.stat().st_size
        if size > MAX_DOCUMENT_BYTES:
            raise _error(
                f"{path.name} is {size:,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}",
                "file",
                "file_too_large",
            )
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise _error(f"cannot read {path.name}: {exc}", "file", "unreadable_file") from None
    return parse_document(text, filename=path.name)


def parse_document(text: str, *, filename: str = "") -> dict[str, Any]:
    """Parse YAML/JSON text, or a CSV register (by extension, or a ``name,parent`` header)."""
    first = text.lstrip().split("\n", 1)[0].strip().lower()
    if filename.lower().endswith(".csv") or (
        first.startswith("name") and "," in first and "parent" in first
    ):
        return register_from_csv(text)
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else None
        raise _error(
            f"{filename or 'document'} is not valid YAML or JSON: {exc}",
            where,
            "malformed_document",
        ) from None
    if not isinstance(doc, dict):
        raise _error(
            f"{filename or 'document'} must hold a mapping (a tree or a spec)",
            None,
            "malformed_document",
        )
    return doc


def register_from_csv(text: str) -> dict[str, Any]:
    """A flat tree from a risk register; rows without probability or frequency are portfolios.

    Parents that no row defines become portfolios under the root; the root is the one
    parent-less portfolio row, else the one undefined parent, else ``"All risks"``.
    """
    reader = csv.DictReader(io.StringIO(text))
    fields = [f.strip().lower() for f in (reader.fieldnames or [])]
    for required in ("name", "parent"):
        if required not in fields:
            raise _error(
                f"the register needs a '{required}' column (has: {', '.join(fields)})",
                "header",
                "invalid_register",
            )
    unknown = [f for f in fields if f and f not in REGISTER_COLUMNS]
    if unknown:
        raise _error(
            f"unknown register column(s) {', '.join(unknown)}; expected "
            f"{', '.join(REGISTER_COLUMNS)}",
            "header",
            "invalid_register",
        )
    reader.fieldnames = fields
    portfolios: list[dict[str, Any]] = []
    leaves: list[dict[str, Any]] = []
    for line, row in enumerate(reader, start=2):
        if len(leaves) + len(portfolios) >= MAX_NODES:
            raise _error(
                f"the register has more than {MAX_NODES} rows", f"row {line}", "invalid_register"
            )
        cells = {k: (v or "").strip() for k, v in row.items() if k}
        if not any(cells.values()):
            continue
        node: dict[str, Any] = {
            "name": cells.get("name", ""),
            "parent": cells.get("parent") or None,
        }
        if cells.get("description"):
            node["description"] = cells["description"]
        numbers = {}
        for col in ("probability", "frequency", "low", "high", "deductible", "cap"):
            if cells.get(col):
                try:
                    numbers[col] = float(cells[col].replace("_", ""))
                except ValueError:
                    raise _error(
                        f"row {line} ({node['name'] or 'unnamed'}): {col} must be a "
                        f"number (got {cells[col]!r})",
                        f"row {line}.{col}",
                        "invalid_register",
                    ) from None
        if "probability" in numbers or "frequency" in numbers or "low" in numbers:
            leaves.append({**node, **numbers})
        else:
            portfolios.append(node)
    defined = {n["name"] for n in portfolios} | {n["name"] for n in leaves}
    missing = sorted({n["parent"] for n in portfolios + leaves if n["parent"]} - defined)
    roots = [p["name"] for p in portfolios if not p["parent"]]
    if missing:
        if not roots and len(missing) == 1:
            portfolios.insert(0, {"name": missing[0], "parent": None})
        else:
            if not roots:
                roots = [DEFAULT_ROOT]
                portfolios.insert(0, {"name": DEFAULT_ROOT, "parent": None})
            portfolios.extend({"name": m, "parent": roots[0]} for m in missing)
    return {"portfolios": portfolios, "leaves": leaves}


# -- shapes -----------------------------------------------------------------------------


def as_spec(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A spec dict from a spec or from a bare tree with optional settings beside it."""
    if "tree" in doc:
        return dict(doc)
    spec = {k: doc[k] for k in SETTINGS if k in doc}
    spec["tree"] = {k: v for k, v in doc.items() if k not in SETTINGS}
    return spec


def flatten(tree: Any, notes: list[dict[str, str]] | None = None) -> dict[str, Any]:
    """The flat form of a nested tree (nodes with ``children`` are portfolios).

    register's trees are converted; what of them was ignored is appended to ``notes``.
    """
    if not isinstance(tree, dict):
        raise _error(
            "tree must be an object: nested {name, children} or flat {name, portfolios, leaves}",
            "tree",
        )
    if register.is_register(tree):
        return register.from_register(tree, notes if notes is not None else [])
    if "children" not in tree:
        return tree
    if "leaves" in tree or "portfolios" in tree:
        raise _error(
            "tree mixes the nested form (children) and the flat form (portfolios, leaves); use one",
            "tree",
        )
    portfolios: list[dict[str, Any]] = []
    leaves: list[dict[str, Any]] = []
    stack: list[tuple[Any, str | None, str]] = [(tree, None, "tree")]
    while stack:
        node, parent, path = stack.pop()
        if not isinstance(node, dict):
            raise _error(f"the node at {path} must be an object with a name", path)
        entry = {k: v for k, v in node.items() if k != "children"}
        entry["parent"] = parent
        if "children" not in node:
            leaves.append(entry)
            continue
        children = node["children"]
        if not isinstance(children, list):
            raise _error(f"children of the node at {path} must be a list", f"{path}.children")
        portfolios.append(entry)
        if len(portfolios) + len(leaves) + len(stack) > MAX_NODES:
            raise _error(f"the tree has more than {MAX_NODES} nodes", "tree")
        name = node.get("name")
        stack.extend(
            (child, name, f"{path}.children[{i}]")
            for i, child in reversed(list(enumerate(children)))
        )
    return {"portfolios": portfolios, "leaves": leaves}


def parse_spec(spec: Mapping[str, Any], files: Mapping[str, Path] | None = None) -> RiskTreeSpec:
    """Validate a job or request spec into a RiskTreeSpec; InputError naming node and field."""
    if not isinstance(spec, Mapping):
        raise _error("the spec must be an object", None, "invalid_spec")
    spec = dict(spec)
    key = "file_id" if "file_id" in spec else "file"  # file_id as for every engine
    if key in spec:
        file_id = spec.pop(key)
        try:
            path = (files or {})[file_id]
        except (KeyError, TypeError):
            raise _error(f"no uploaded file with id {file_id!r}", key, "unknown_file") from None
        doc = as_spec(read_document(Path(path)))
        spec = {**doc, **spec}  # settings in the request win over those in the file
    spec = as_spec(spec)
    tree = spec.get("tree")
    if isinstance(tree, dict) and "tolerance" in tree:  # a tree may carry its tolerance
        tree = dict(tree)
        carried = tree.pop("tolerance")
        spec = {"tolerance": carried, **spec, "tree": tree}  # one beside the tree wins
    notes: list[dict[str, str]] = []
    spec["tree"] = flatten(spec["tree"], notes)
    parsed = validate_model(RiskTreeSpec, spec)
    parsed.notes.extend(notes)
    return parsed


def validate_model(model: type[M], data: Any) -> M:
    """``model.model_validate(data)``, its errors turned into an InputError naming the node."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _from_validation(exc, data if isinstance(data, Mapping) else {}) from None


# -- errors -----------------------------------------------------------------------------


def _from_validation(exc: ValidationError, spec: Mapping[str, Any]) -> InputError:
    items = [_describe(err, spec) for err in exc.errors()]
    first = items[0]
    return InputError(
        first["message"], code="invalid_tree", location=first["location"], detail=items
    )


def _describe(err: Mapping[str, Any], spec: Mapping[str, Any]) -> dict[str, str]:
    loc = list(err.get("loc", ()))
    msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
    value = err.get("input")
    if isinstance(value, int | float | str) and err.get("type") != "missing" and value != "":
        msg += f" (got {value!r})"
    tree = spec.get("tree") if isinstance(spec.get("tree"), dict) else {}
    if (
        len(loc) >= 3
        and loc[0] == "tree"
        and loc[1] in ("leaves", "portfolios")
        and isinstance(loc[2], int)
    ):
        kind = loc[1]
        raw = tree.get(kind, [])[loc[2]] if isinstance(tree.get(kind), list) else {}
        raw = raw if isinstance(raw, dict) else {}
        name = raw.get("name") or f"#{loc[2] + 1}"
        rest = [str(p) for p in loc[3:] if not (p in FAMILIES and "severity" in loc)]
        if rest[:1] == ["severity"] and "severity" not in raw and len(rest) > 1:
            rest = rest[1:]  # the user wrote the lognormal shorthand low/high
        field = ".".join(rest)
        label = f"{'Leaf' if kind == 'leaves' else 'Portfolio'} {name!r}"
        location = f"tree.{kind}[{name!r}]" + (f".{field}" if field else "")
        message = f"{label}: {field}: {msg}" if field else f"{label}: {msg}"
        return {"message": message, "location": location}
    field = ".".join(str(p) for p in loc if not (p in FAMILIES and "severity" in loc)) or "spec"
    return {"message": f"{field}: {msg}", "location": field}
