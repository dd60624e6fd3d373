"""The database functions, DSUM ... DVARP: an aggregate of one field (column) of a
database (a range whose first row holds the field names) over the records (rows) that
meet a criteria range (field names in its first row, conditions below). Conditions in one
row must all hold; a record meeting any one row counts. A condition is written as for
SUMIF, except that text without a comparison operator matches the values that begin with
it, as Excel's Advanced Filter reads it ("Dav" finds "Davolio" and "David"; ``="=Dav"``
finds "Dav" only). Vectorized over trials: the database and the criteria may change from
trial to trial."""

from __future__ import annotations

import numpy as np

from ..values import DIV0, NUMERR, TEXT, VALUE, Value, error, from_py, merge_err, pick
from .criteria import criteria_mask
from .registry import EvalContext, params, register
from .stats import finish, mean, variance


def _headers(v: Value) -> list[str]:
    return [str(v.to_py(0, 0, c) or "").strip().lower() for c in range(v.dims[1])]


def _column(db: Value, j: int) -> Value:
    """Column ``j`` of the database's records (its first row, the names, left out)."""

    def cut(a: np.ndarray | None) -> np.ndarray | None:
        if a is None:
            return None
        b = np.broadcast_to(a, (a.shape[0], *db.dims))
        return b[:, 1:, j : j + 1]

    return Value(cut(db.num), cut(db.kind), cut(db.err), cut(db.text), True)


def _field(db: Value, field: Value | None) -> int | None:
    """The database column a field names (its name, or its 1-based number); None for an
    unknown field (#VALUE!)."""
    if field is None:
        return None
    x = field.to_py()
    names = _headers(db)
    if isinstance(x, str):
        key = x.strip().lower()
        return names.index(key) if key in names else None
    if isinstance(x, bool) or not isinstance(x, float):
        return None
    k = int(x)
    return k - 1 if 1 <= k <= len(names) else None


def _condition(c: Value) -> Value:
    """A condition cell as a SUMIF criterion: plain text matches what begins with it."""
    x = c.to_py()
    if isinstance(x, str) and x and x[0] not in "=<>":
        return from_py(x + "*")
    return c


def _records(db: Value, crit: Value) -> np.ndarray | None:
    """Which records (T, n) meet the criteria; None when a criteria name is no field."""
    names = _headers(db)
    cnames = _headers(crit)
    n = db.dims[0] - 1
    t = max(db.trials, crit.trials)
    rows: list[np.ndarray] = []
    for r in range(1, crit.dims[0]):
        ok = np.ones((t, n), bool)
        for c, cname in enumerate(cnames):
            cell = pick(crit, r, c)
            if cell.to_py() is None and cell.trials == 1:
                continue  # no condition
            if cname not in names:
                return None
            col = _column(db, names.index(cname))
            for i in range(cell.trials):
                m = criteria_mask(col, _condition(cell.take_trial(i) if cell.trials > 1 else cell))
                m = m.reshape(m.shape[0], n)
                if cell.trials > 1:
                    ok[i] &= m[min(i, m.shape[0] - 1)]
                else:
                    ok &= np.broadcast_to(m, (t, n))
        rows.append(ok)
    if not rows:
        return None
    return np.logical_or.reduce(rows)


def _dfunc(name: str, reduce, *, count_text: bool = False, min_n: int = 0, code: int = DIV0):
    def impl(ctx: EvalContext, db: Value, field: Value | None, crit: Value) -> Value:
        if db.dims[0] < 2 or crit.dims[0] < 2:
            return error(VALUE)
        j = _field(db, field) if field is not None else None
        hit = _records(db, crit)
        if hit is None or (field is not None and j is None):
            return error(VALUE)
        if j is None:  # DCOUNT/DCOUNTA without a field: the records themselves
            return finish(hit.sum(axis=1).astype(float), None, np.zeros(hit.shape[0], bool), 0)
        col = _column(db, j).full()
        t = hit.shape[0]
        shape = (max(t, col.num.shape[0]), hit.shape[1])
        kind = np.broadcast_to(col.kind.reshape(col.kind.shape[0], -1), shape)
        err = np.broadcast_to(col.err.reshape(col.err.shape[0], -1), shape)
        num = np.broadcast_to(col.num.reshape(col.num.shape[0], -1), shape)
        hit = np.broadcast_to(hit, shape)
        if count_text:  # DCOUNTA: every non-blank value
            mask = hit & ((kind != 3) | (err != 0))
            return finish(mask.sum(axis=1).astype(float), None, np.zeros(shape[0], bool), 0)
        mask = hit & (kind == 0) & (err == 0)
        bad_err = (hit & (err != 0) & (kind != TEXT)).any(axis=1)
        first_err = np.where(bad_err, err.max(axis=1), 0).astype(np.int8)
        n = mask.sum(axis=1)
        with np.errstate(all="ignore"):
            out = np.asarray(reduce(num, mask, n), float)
        return finish(out, merge_err(first_err if bad_err.any() else None), n < min_n, code)

    register(name, min_args=3, max_args=3, ranges=params(0, 2))(impl)


_dfunc("DSUM", lambda v, m, n: np.where(m, v, 0).sum(axis=1))
_dfunc("DCOUNT", lambda v, m, n: n.astype(float))
_dfunc("DCOUNTA", None, count_text=True)
_dfunc("DAVERAGE", mean, min_n=1)
_dfunc("DMAX", lambda v, m, n: np.where(n > 0, np.where(m, v, -np.inf).max(axis=1), 0.0))
_dfunc("DMIN", lambda v, m, n: np.where(n > 0, np.where(m, v, np.inf).min(axis=1), 0.0))
_dfunc("DPRODUCT", lambda v, m, n: np.where(n > 0, np.where(m, v, 1.0).prod(axis=1), 0.0))
_dfunc("DSTDEV", lambda v, m, n: np.sqrt(variance(v, m, n, 1)), min_n=2)
_dfunc("DSTDEVP", lambda v, m, n: np.sqrt(variance(v, m, n, 0)), min_n=1)
_dfunc("DVAR", lambda v, m, n: variance(v, m, n, 1), min_n=2)
_dfunc("DVARP", lambda v, m, n: variance(v, m, n, 0), min_n=1)


@register("DGET", min_args=3, max_args=3, ranges=params(0, 2))
def dget(ctx: EvalContext, db: Value, field: Value, crit: Value) -> Value:
    """The one value of the field in the one record that meets the criteria: #VALUE! if
    none does, #NUM! if several do."""
    if db.dims[0] < 2 or crit.dims[0] < 2:
        return error(VALUE)
    j = _field(db, field)
    hit = _records(db, crit)
    if hit is None or j is None:
        return error(VALUE)
    if hit.shape[0] != 1:
        return error(VALUE)  # a record chosen per trial: not one value to pick
    rows = np.flatnonzero(hit[0])
    if rows.size == 0:
        return error(VALUE)
    if rows.size > 1:
        return error(NUMERR)
    return pick(db, int(rows[0]) + 1, j).with_ref(False)
