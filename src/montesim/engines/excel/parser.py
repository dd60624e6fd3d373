"""Excel formula text -> AST, on top of ``openpyxl.formula.tokenizer``.

Operator precedence follows Excel (tightest first): range ``:``, intersection `` ``,
union ``,`` (inside parentheses), unary minus/plus (so ``-2^2`` is 4), ``%``, ``^``
(left-associative), ``* /``, ``+ -``, ``&``, comparisons.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .refs import MAX_COL, MAX_ROW, column_index_from_string
from .values import ERROR_CODE


class ParseError(ValueError):
    """The formula text is not valid Excel syntax."""


# Formula trees are never changed once made. Their nodes are plain dataclasses hashed by
# value (``unsafe_hash``) rather than frozen ones: a frozen dataclass's constructor sets
# each field through ``object.__setattr__``, three times slower, and a workbook makes tens
# of thousands of nodes (copies of a formula share those without references: ``_fill``).
@dataclass(unsafe_hash=True)
class Node:
    pass


@dataclass(unsafe_hash=True)
class Num(Node):
    value: float


@dataclass(unsafe_hash=True)
class Str(Node):
    value: str


@dataclass(unsafe_hash=True)
class Bool(Node):
    value: bool


@dataclass(unsafe_hash=True)
class Err(Node):
    code: int


@dataclass(unsafe_hash=True)
class Missing(Node):
    """An omitted function argument: ``f(a,,b)``."""


@dataclass(unsafe_hash=True)
class ArrayLit(Node):
    rows: tuple[tuple[Node, ...], ...]


@dataclass(unsafe_hash=True)
class RefText(Node):
    """A reference token as written (``A1``, ``Sheet1!$A:$A``); resolved by the compiler."""

    text: str


@dataclass(unsafe_hash=True)
class Name(Node):
    """A defined name (optionally sheet-qualified)."""

    name: str
    sheet: str | None = None


@dataclass(unsafe_hash=True)
class Unary(Node):
    op: str
    operand: Node


@dataclass(unsafe_hash=True)
class Postfix(Node):
    op: str
    operand: Node


@dataclass(unsafe_hash=True)
class Binary(Node):
    op: str
    left: Node
    right: Node


@dataclass(unsafe_hash=True)
class Call(Node):
    name: str
    args: tuple[Node, ...]


_INFIX_BP = {
    ":": (20, 21),
    " ": (18, 19),
    ",": (16, 17),
    "^": (10, 11),
    "*": (8, 9),
    "/": (8, 9),
    "+": (6, 7),
    "-": (6, 7),
    "&": (4, 5),
    "=": (2, 3),
    "<>": (2, 3),
    "<": (2, 3),
    ">": (2, 3),
    "<=": (2, 3),
    ">=": (2, 3),
}
_PREFIX_BP = 14
_POSTFIX_BP = 12

_FUNC_PREFIXES = ("_XLFN._XLWS.", "_XLFN.", "_XLWS.", "_XLL.", "_XLUDF.")


def canonical_function(name: str) -> str:
    up = name.upper()
    for p in _FUNC_PREFIXES:
        if up.startswith(p):
            up = up[len(p) :]
    return up


# simple token: (kind, value) with kind in OPERAND-kinds, "func", "(", ")", "{", "}",
# "argsep", "rowsep", "op", "prefix", "postfix", "close"
_Tok = tuple[str, str]


def _lex(formula: str) -> list[_Tok]:
    # imported here: a run whose plan comes from the cache never loads openpyxl
    from openpyxl.formula.tokenizer import Token, Tokenizer, TokenizerError

    try:
        items = Tokenizer(formula).items
    except TokenizerError as exc:
        raise ParseError(str(exc)) from exc
    except Exception as exc:  # the tokenizer raises bare errors on some garbage
        raise ParseError(f"cannot tokenize: {exc}") from exc
    out: list[_Tok] = []
    for i, t in enumerate(items):
        if t.type == Token.WSPACE:
            prev = out[-1] if out else None
            nxt = items[i + 1] if i + 1 < len(items) else None
            ends = prev is not None and prev[0] in ("RANGE", "close", ")")
            starts = nxt is not None and (
                (nxt.type == Token.OPERAND and nxt.subtype == Token.RANGE)
                or nxt.type == Token.FUNC
                and nxt.subtype == Token.OPEN
                or nxt.type == Token.PAREN
                and nxt.subtype == Token.OPEN
            )
            if ends and starts:
                out.append(("op", " "))
            continue
        if t.type == Token.OPERAND:
            ends = bool(out) and out[-1][0] in ("close", ")")
            if t.subtype == Token.RANGE and t.value.startswith(":") and len(t.value) > 1 and ends:
                out.append(("op", ":"))  # "INDEX(..):B3" -> INDEX(..) : B3
                out.append((t.subtype, t.value[1:]))
                continue
            out.append((t.subtype, t.value))
        elif t.type == Token.FUNC:
            if t.subtype == Token.OPEN:
                name = t.value[:-1]
                if ":" in name:  # "A2:INDEX(" -> A2 : INDEX(
                    ref, _, name = name.rpartition(":")
                    if ref:
                        out.append(("RANGE", ref))
                    out.append(("op", ":"))
                out.append(("func", name))
            else:
                out.append(("close", ")"))
        elif t.type == Token.PAREN:
            out.append(("(" if t.subtype == Token.OPEN else ")", t.value))
        elif t.type == Token.ARRAY:
            out.append(("{" if t.subtype == Token.OPEN else "}", t.value))
        elif t.type == Token.SEP:
            out.append(("argsep" if t.subtype == Token.ARG else "rowsep", t.value))
        elif t.type == Token.OP_PRE:
            out.append(("prefix", t.value))
        elif t.type == Token.OP_IN:
            out.append(("op", t.value))
        elif t.type == Token.OP_POST:
            out.append(("postfix", t.value))
        else:
            raise ParseError(f"unexpected token {t.value!r}")
    return out


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks = toks
        self.i = 0

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def next(self) -> _Tok:
        tok = self.peek()
        if tok is None:
            raise ParseError("unexpected end of formula")
        self.i += 1
        return tok

    def expect(self, kind: str) -> None:
        tok = self.next()
        if tok[0] != kind:
            raise ParseError(f"expected {kind!r}, found {tok[1]!r}")

    def expr(self, min_bp: int = 0) -> Node:
        left = self.atom()
        while True:
            tok = self.peek()
            if tok is None:
                break
            if tok[0] == "postfix":
                if min_bp > _POSTFIX_BP:
                    break
                self.i += 1
                left = Postfix(tok[1], left)
                continue
            if tok[0] != "op":
                break
            lbp, rbp = _INFIX_BP.get(tok[1], (None, None))
            if lbp is None:
                raise ParseError(f"unknown operator {tok[1]!r}")
            if lbp < min_bp:
                break
            self.i += 1
            right = self.expr(rbp)
            left = Binary(tok[1], left, right)
        return left

    def atom(self) -> Node:
        kind, value = self.next()
        if kind == "prefix":
            return Unary(value, self.expr(_PREFIX_BP))
        if kind == "NUMBER":
            try:
                return Num(float(value))
            except ValueError as exc:
                raise ParseError(f"bad number {value!r}") from exc
        if kind == "TEXT":
            return Str(value[1:-1].replace('""', '"'))
        if kind == "LOGICAL":
            return Bool(value.upper() == "TRUE")
        if kind == "ERROR":
            code = ERROR_CODE.get(value.upper())
            if code is None:
                raise ParseError(f"unknown error value {value!r}")
            return Err(code)
        if kind == "RANGE":
            return _reference(value)
        if kind == "(":
            inner = self.expr(0)
            self.expect(")")
            return inner
        if kind == "{":
            return self.array()
        if kind == "func":
            return self.call(value)
        raise ParseError(f"unexpected {value!r}")

    def call(self, name: str) -> Node:
        args: list[Node] = []
        if self.peek() is not None and self.peek()[0] == "close":  # type: ignore[index]
            self.i += 1
            return Call(canonical_function(name), ())
        while True:
            tok = self.peek()
            if tok is not None and tok[0] in ("argsep", "close"):
                args.append(Missing())
            else:
                args.append(self.expr(0))
            tok = self.next()
            if tok[0] == "close":
                break
            if tok[0] != "argsep":
                raise ParseError(f"expected ',' or ')' in {name}(), found {tok[1]!r}")
        return Call(canonical_function(name), tuple(args))

    def array(self) -> Node:
        rows: list[tuple[Node, ...]] = []
        row: list[Node] = []
        while True:
            row.append(self.expr(_INFIX_BP[","][0] + 1))
            tok = self.next()
            if tok[0] == "argsep":
                continue
            rows.append(tuple(row))
            row = []
            if tok[0] == "rowsep":
                continue
            if tok[0] == "}":
                break
            raise ParseError(f"unexpected {tok[1]!r} in array constant")
        if len({len(r) for r in rows}) != 1:
            raise ParseError("array constant rows have different lengths")
        return ArrayLit(tuple(rows))


def _reference(text: str) -> Node:
    from .refs import is_reference_text, split_sheet

    if is_reference_text(text) or text.upper().startswith("#REF!") or "#REF!" in text.upper():
        return RefText(text)
    sheet, rest = split_sheet(text)
    if sheet == "[0]":  # this workbook, written as link 0: ``[0]!Name``
        return Name(rest, None) if not is_reference_text(rest) else RefText(rest)
    if sheet is not None and sheet.startswith("["):
        return RefText(text)  # external workbook reference: #REF! at compile time
    return Name(rest, sheet)


def parse_text(formula: str) -> Node:
    """The AST of ``formula``, tokenized and parsed (no cache, no template)."""
    text = formula if formula.startswith("=") else "=" + formula
    try:
        toks = _lex(text)
        if not toks:
            raise ParseError("empty formula")
        p = _Parser(toks)
        node = p.expr(0)
        if p.peek() is not None:
            raise ParseError(f"unexpected {p.peek()[1]!r}")  # type: ignore[index]
    except ParseError:
        raise
    except RecursionError:
        raise ParseError("the formula is nested too deeply") from None
    except Exception as exc:  # noqa: BLE001 - whatever the text, a parse error, not a crash
        raise ParseError(f"cannot parse: {type(exc).__name__}: {exc}") from exc
    return node


# -- formulas that differ only in their cell references ------------------------------------
#
# A workbook's formulas are mostly copies of a few (=B5*(1+C$2) down a column). Each
# formula is cut into a skeleton (its text with every A1 cell reference outside strings
# and quoted sheet names replaced by a marker) and its references. The first formula of a
# skeleton is tokenized and parsed; the others reuse its tree with their own references
# put in. That is exact: formulas with one skeleton differ only inside reference tokens,
# and a valid reference is tokenized and parsed as a reference whatever its letters and
# digits. A skeleton is reused only after checking, on its first formula, that its
# references are exactly the ones inside the tree's RefText nodes, in order.

_A1_REF = r"(?<![A-Za-z0-9_.\\$\[])\$?([A-Za-z]{1,3})\$?([0-9]+)(?![A-Za-z0-9_.(!\[\]])"
_SKELETON_RE = re.compile(r'"(?:[^"]|"")*"|\'(?:[^\']|\'\')*\'|' + _A1_REF)
_MARK = "\x00"


def _references(text: str) -> tuple[str, list[str]] | None:
    """(skeleton, references) of a formula; None when a reference-like token is out of
    Excel's grid (then it is not a reference, and the formula is parsed on its own)."""
    refs: list[str] = []
    ok = True

    def cut(m: re.Match[str]) -> str:
        nonlocal ok
        col, row = m.group(1, 2)
        if col is None:  # a string or a quoted sheet name
            return m.group(0)
        # only three letters can pass column XFD, and only a leading 0 or seven digits
        # leave rows 1..MAX_ROW: the usual reference needs no arithmetic
        if (len(col) == 3 and column_index_from_string(col) > MAX_COL) or (
            (row[0] == "0" or len(row) > 6) and not 1 <= int(row) <= MAX_ROW
        ):
            ok = False
        refs.append(m.group(0))
        return _MARK

    skeleton = _SKELETON_RE.sub(cut, text)
    return (skeleton, refs) if ok else None


def _ref_leaves(node: Node, out: list[RefText]) -> None:
    """The RefText nodes of a tree in the order their text appears in the formula."""
    if isinstance(node, RefText):
        out.append(node)
    elif isinstance(node, Unary | Postfix):
        _ref_leaves(node.operand, out)
    elif isinstance(node, Binary):
        _ref_leaves(node.left, out)
        _ref_leaves(node.right, out)
    elif isinstance(node, Call):
        for a in node.args:
            _ref_leaves(a, out)


@dataclass(frozen=True)
class _Template:
    tree: Node
    # per RefText node, in order: its text cut at its references
    pieces: dict[RefText, list[str]]
    # ids of the tree's nodes with a reference inside: the others are shared as they are
    holders: frozenset[int]


def _template(tree: Node, refs: list[str]) -> _Template | None:
    leaves: list[RefText] = []
    _ref_leaves(tree, leaves)
    pieces: dict[RefText, list[str]] = {}
    found: list[str] = []
    for leaf in leaves:
        cut = _references(leaf.text)
        if cut is None:
            return None
        skeleton, inside = cut
        if skeleton.count(_MARK) != len(inside):
            return None
        pieces[leaf] = skeleton.split(_MARK)
        found.extend(inside)
    if found != refs:
        return None
    holders: set[int] = set()
    _holders(tree, holders)
    return _Template(tree, pieces, frozenset(holders))


def _holders(node: Node, out: set[int]) -> bool:
    """Add to ``out`` the ids of the nodes of ``node`` with a RefText inside (or that are
    one); True when ``node`` is such a node."""
    if isinstance(node, RefText):
        held = True
    elif isinstance(node, Unary | Postfix):
        held = _holders(node.operand, out)
    elif isinstance(node, Binary):
        held = _holders(node.left, out) | _holders(node.right, out)
    elif isinstance(node, Call):
        held = False
        for a in node.args:
            held |= _holders(a, out)
    else:
        held = False
    if held:
        out.add(id(node))
    return held


def _fill(node: Node, t: _Template, refs: list[str], at: list[int]) -> Node:
    """``node`` of the template with the next references of ``refs`` put in."""
    if id(node) not in t.holders:
        return node
    if isinstance(node, RefText):
        parts = t.pieces[node]
        out = [parts[0]]
        for piece in parts[1:]:
            out.append(refs[at[0]])
            at[0] += 1
            out.append(piece)
        return RefText("".join(out))
    if isinstance(node, Unary):
        return Unary(node.op, _fill(node.operand, t, refs, at))
    if isinstance(node, Postfix):
        return Postfix(node.op, _fill(node.operand, t, refs, at))
    if isinstance(node, Binary):
        left = _fill(node.left, t, refs, at)
        return Binary(node.op, left, _fill(node.right, t, refs, at))
    if isinstance(node, Call):
        return Call(node.name, tuple(_fill(a, t, refs, at) for a in node.args))
    return node


_templates: dict[str, _Template | None] = {}  # skeleton -> template (None: not reusable)
_MAX_TEMPLATES = 65536


@lru_cache(maxsize=65536)
def parse(formula: str) -> Node:
    """The AST of ``formula`` (with or without the leading ``=``); ParseError if invalid."""
    cut = _references(formula) if len(formula) < 8192 else None
    if cut is None or not cut[1]:
        return parse_text(formula)
    skeleton, refs = cut
    template = _templates.get(skeleton)
    if template is not None:
        return _fill(template.tree, template, refs, [0])
    tree = parse_text(formula)
    if skeleton not in _templates:
        if len(_templates) >= _MAX_TEMPLATES:
            _templates.clear()
        _templates[skeleton] = _template(tree, refs)
    return tree


def walk(node: Node):
    """Every node of a tree, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        if isinstance(n, Unary | Postfix):
            stack.append(n.operand)
        elif isinstance(n, Binary):
            stack.extend((n.right, n.left))
        elif isinstance(n, Call):
            stack.extend(reversed(n.args))
        elif isinstance(n, ArrayLit):
            for row in n.rows:
                stack.extend(row)


def functions_used(node: Node) -> set[str]:
    return {n.name for n in walk(node) if isinstance(n, Call)}
