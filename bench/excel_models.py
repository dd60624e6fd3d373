"""Workbooks for bench_excel.py, written with openpyxl, and a hand-written NumPy model.

- ``write_dcf``: a monthly DCF (products x months) with 22 @RISK inputs, lookups
  (INDEX/MATCH, VLOOKUP, approximate MATCH on a per-trial value), SUM/SUMIF over
  ranges, NPV and IRR. 120 months x 3 products is ~5,400 formulas; 24 months x 2 products
  is ~1,000.
- ``write_small``: a 5-year DCF of ~50 formulas; ``small_numpy`` computes the same
  outputs with NumPy.

``risk=False`` writes the same workbook with plain constants (the distribution means)
in the input cells and without RiskOutput(), for pycel. ``pycel_irr`` is an IRR that
pycel lacks, loaded with ``ExcelCompiler(..., plugins=[__name__])``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from openpyxl import Workbook
from openpyxl.utils import get_column_letter as col

# -- random inputs --------------------------------------------------------------------


@dataclass(frozen=True)
class Dist:
    family: str  # Normal, Triang, Pert, Uniform, Lognorm (the @RISK names without "Risk")
    args: tuple[float, ...]

    def formula(self) -> str:
        return f"=Risk{self.family}({','.join(repr(a) for a in self.args)})"

    def mean(self) -> float:
        a = self.args
        return {
            "Normal": lambda: a[0],
            "Triang": lambda: (a[0] + a[1] + a[2]) / 3,
            "Pert": lambda: (a[0] + 4 * a[1] + a[2]) / 6,
            "Uniform": lambda: (a[0] + a[1]) / 2,
            "Lognorm": lambda: a[0],
        }[self.family]()

    def sample(self, rng: np.random.Generator, n: int) -> np.ndarray:
        a = self.args
        if self.family == "Normal":
            return rng.normal(a[0], a[1], n)
        if self.family == "Triang":
            return rng.triangular(a[0], a[1], a[2], n)
        if self.family == "Pert":
            lo, mode, hi = a
            alpha = 1 + 4 * (mode - lo) / (hi - lo)
            beta = 1 + 4 * (hi - mode) / (hi - lo)
            return lo + (hi - lo) * rng.beta(alpha, beta, n)
        if self.family == "Uniform":
            return rng.uniform(a[0], a[1], n)
        if self.family == "Lognorm":
            mean, sd = a
            s2 = math.log(1 + (sd / mean) ** 2)
            return rng.lognormal(math.log(mean) - s2 / 2, math.sqrt(s2), n)
        raise ValueError(self.family)


@dataclass
class Model:
    """What a generator wrote: where the inputs and outputs are, and how many formulas."""

    path: Path
    inputs: dict[str, Dist]  # "Assumptions!B2" -> distribution
    outputs: dict[str, str]  # name -> "Summary!B2"
    formulas: int = 0
    extra: dict = field(default_factory=dict)

    def fixed_values(self) -> dict[str, float]:
        return {cell: d.mean() for cell, d in self.inputs.items()}


def count_formulas(path: Path) -> int:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    return sum(
        1
        for ws in wb.worksheets
        for row in ws.iter_rows()
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=")
    )


def _input_cell(ws, row: int, label: str, dist: Dist, risk: bool, sheet: str, inputs: dict) -> str:
    ws.cell(row, 1, label)
    ws.cell(row, 2, dist.formula() if risk else dist.mean())
    inputs[f"{sheet}!B{row}"] = dist
    return f"{sheet}!$B${row}"


def _output(text: str, name: str, risk: bool) -> str:
    return f'=RiskOutput("{name}")+{text}' if risk else f"={text}"


# -- the DCF ----------------------------------------------------------------------------

GLOBAL_INPUTS = [
    ("inflation", Dist("Normal", (0.025, 0.008))),
    ("wacc", Dist("Uniform", (0.08, 0.11))),
    ("tax rate", Dist("Triang", (0.19, 0.25, 0.30))),
    ("fixed costs / year", Dist("Lognorm", (5_500_000.0, 600_000.0))),
    ("capex / year", Dist("Pert", (800_000.0, 1_200_000.0, 2_000_000.0))),
    ("working capital % revenue", Dist("Uniform", (0.08, 0.14))),
    ("marketing % revenue", Dist("Triang", (0.03, 0.05, 0.08))),
    ("terminal growth", Dist("Normal", (0.02, 0.005))),
    ("initial investment", Dist("Lognorm", (9_000_000.0, 1_000_000.0))),
    ("interest rate", Dist("Normal", (0.06, 0.01))),
]


def _product_inputs(p: int) -> list[tuple[str, Dist]]:
    vol = 60_000.0 * (1 + 0.5 * p)
    price = 40.0 + 15 * p
    return [
        (f"product {p + 1} volume / year", Dist("Normal", (vol, 0.15 * vol))),
        (f"product {p + 1} price", Dist("Triang", (0.85 * price, price, 1.25 * price))),
        (f"product {p + 1} growth", Dist("Pert", (-0.02, 0.06, 0.15))),
        (f"product {p + 1} cogs %", Dist("Uniform", (0.35, 0.50))),
    ]


SEASONALITY = [0.82, 0.86, 0.95, 1.0, 1.04, 1.08, 1.02, 0.97, 1.03, 1.06, 1.12, 1.05]
TIERS = [(0, 1.0), (4_000, 0.98), (8_000, 0.96), (15_000, 0.94), (30_000, 0.92)]


def write_dcf(path: Path, *, months: int = 120, products: int = 3, risk: bool = True) -> Model:
    years = math.ceil(months / 12)
    scale = years / 10  # a shorter horizon gets a proportionally smaller investment and debt
    size = products / 3  # fewer products: proportionally smaller fixed costs and capex
    wb = Workbook()
    inputs: dict[str, Dist] = {}

    a = wb.active
    a.title = "Assumptions"
    a["A1"], a["B1"] = "Assumption", "Value"
    g = {}
    for i, (name, d) in enumerate(GLOBAL_INPUTS):
        if name == "initial investment":
            d = Dist(d.family, tuple(x * scale * size for x in d.args))
        elif name in ("fixed costs / year", "capex / year"):
            d = Dist(d.family, tuple(x * size for x in d.args))
        g[name] = _input_cell(a, 2 + i, name, d, risk, "Assumptions", inputs)
    prod = []
    row = 2 + len(GLOBAL_INPUTS)
    for p in range(products):
        cells = {}
        for name, d in _product_inputs(p):
            cells[name.split(" ", 2)[2]] = _input_cell(a, row, name, d, risk, "Assumptions", inputs)
            row += 1
        prod.append(cells)
    row += 1
    consts = {
        "asset life (months)": 60,
        "debt sweep": 0.5,
        "opening debt": 5_000_000 * scale * size,
    }
    for name, v in consts.items():
        a.cell(row, 1, name)
        a.cell(row, 2, v)
        g[name] = f"Assumptions!$B${row}"
        row += 1

    lk = wb.create_sheet("Lookup")
    lk["A1"], lk["B1"], lk["D1"], lk["E1"], lk["G1"], lk["H1"] = (
        "month",
        "seasonality",
        "year",
        "growth premium",
        "units from",
        "price factor",
    )
    for m, s in enumerate(SEASONALITY, start=1):
        lk.cell(1 + m, 1, m)
        lk.cell(1 + m, 2, s)
    for y in range(1, years + 1):
        lk.cell(1 + y, 4, y)
        lk.cell(1 + y, 5, round(0.03 - 0.004 * (y - 1), 4))
    for i, (t, f) in enumerate(TIERS):
        lk.cell(2 + i, 7, t)
        lk.cell(2 + i, 8, f)
    season = "Lookup!$B$2:$B$13"
    season_keys = "Lookup!$A$2:$A$13"
    premium = f"Lookup!$D$2:$E${1 + years}"
    tier_keys = f"Lookup!$G$2:$G${1 + len(TIERS)}"
    tier_vals = f"Lookup!$H$2:$H${1 + len(TIERS)}"

    d = wb.create_sheet("DCF")
    first, last = col(3), col(2 + months)
    labels: dict[int, str] = {2: "month", 3: "year", 4: "month of year", 5: "seasonality"}
    labels |= {6: "inflation index", 7: "growth premium"}
    blocks = []
    for p in range(products):
        r0 = 8 + 7 * p
        blocks.append(r0)
        for k, lab in enumerate(
            ["volume index", "units", "price factor", "price", "revenue", "cogs", "gross margin"]
        ):
            labels[r0 + k] = f"product {p + 1} {lab}"
    R = 8 + 7 * products
    lines = [
        "revenue",
        "gross margin",
        "fixed costs",
        "marketing",
        "EBITDA",
        "capex",
        "depreciation",
        "EBIT",
        "interest",
        "EBT",
        "tax",
        "working capital",
        "change in working capital",
        "free cash flow",
        "debt",
        "discount factor",
        "PV of FCF",
        "cumulative cash",
    ]
    L = {name: R + i for i, name in enumerate(lines)}
    for r, lab in {**labels, **{v: k for k, v in L.items()}}.items():
        d.cell(r, 1, lab)
    for r0 in blocks:
        d.cell(r0, 2, 1)  # volume index at month 0
    d.cell(L["working capital"], 2, 0)
    d.cell(L["debt"], 2, f"={g['opening debt']}")
    d.cell(L["cumulative cash"], 2, f"=-{g['initial investment']}")

    for m in range(1, months + 1):
        c, prev = col(2 + m), col(1 + m)
        window = col(2 + max(1, m - 59))

        def put(r: int, f: str, c: str = c) -> None:
            d[f"{c}{r}"] = f

        put(2, m)
        put(3, f"=INT(({c}2-1)/12)+1")
        put(4, f"=MOD({c}2-1,12)+1")
        put(5, f"=INDEX({season},MATCH({c}4,{season_keys},0))")
        put(6, f"=(1+{g['inflation']})^(({c}2-1)/12)")
        put(7, f"=VLOOKUP({c}3,{premium},2,FALSE)")
        for p, r0 in enumerate(blocks):
            pi = prod[p]
            put(r0, f"={prev}{r0}*(1+({pi['growth']}+{c}7)/12)")
            put(r0 + 1, f"={pi['volume / year']}/12*{c}{r0}*{c}5")
            put(r0 + 2, f"=INDEX({tier_vals},MATCH({c}{r0 + 1},{tier_keys},1))")
            put(r0 + 3, f"={pi['price']}*{c}6*{c}{r0 + 2}")
            put(r0 + 4, f"={c}{r0 + 1}*{c}{r0 + 3}")
            put(r0 + 5, f"=-{c}{r0 + 4}*{pi['cogs %']}")
            put(r0 + 6, f"={c}{r0 + 4}+{c}{r0 + 5}")
        put(L["revenue"], "=SUM(" + ",".join(f"{c}{r0 + 4}" for r0 in blocks) + ")")
        put(L["gross margin"], "=SUM(" + ",".join(f"{c}{r0 + 6}" for r0 in blocks) + ")")
        put(L["fixed costs"], f"=-{g['fixed costs / year']}/12*{c}6")
        put(L["marketing"], f"=-{c}{L['revenue']}*{g['marketing % revenue']}")
        put(L["EBITDA"], f"=SUM({c}{L['gross margin']}:{c}{L['marketing']})")
        put(L["capex"], f"=-IF({c}4=1,{g['capex / year']}*{c}6,0)-{c}{L['revenue']}*0.01")
        put(
            L["depreciation"],
            f"=SUM({window}{L['capex']}:{c}{L['capex']})/{g['asset life (months)']}",
        )
        put(L["EBIT"], f"={c}{L['EBITDA']}+{c}{L['depreciation']}")
        put(L["interest"], f"=-{prev}{L['debt']}*{g['interest rate']}/12")
        put(L["EBT"], f"={c}{L['EBIT']}+{c}{L['interest']}")
        put(L["tax"], f"=-MAX(0,{c}{L['EBT']})*{g['tax rate']}")
        put(L["working capital"], f"={c}{L['revenue']}*{g['working capital % revenue']}")
        put(
            L["change in working capital"],
            f"=-({c}{L['working capital']}-{prev}{L['working capital']})",
        )
        put(
            L["free cash flow"],
            f"={c}{L['EBITDA']}+{c}{L['tax']}+{c}{L['capex']}+{c}{L['change in working capital']}",
        )
        put(
            L["debt"],
            f"=MAX(0,{prev}{L['debt']}-MAX(0,{c}{L['free cash flow']}+{c}{L['interest']})"
            f"*{g['debt sweep']})",
        )
        put(L["discount factor"], f"=1/(1+{g['wacc']})^({c}2/12)")
        put(L["PV of FCF"], f"={c}{L['free cash flow']}*{c}{L['discount factor']}")
        put(L["cumulative cash"], f"={prev}{L['cumulative cash']}+{c}{L['free cash flow']}")

    an = wb.create_sheet("Annual")
    for r, lab in enumerate(
        [
            "year",
            "revenue",
            "EBITDA",
            "free cash flow",
            "EBITDA margin",
            "terminal value",
            "cash flow",
        ],
        start=2,
    ):
        an.cell(r, 1, lab)
    an["B2"] = 0
    an["B5"] = f"=-{g['initial investment']}"
    an["B8"] = "=B5+B7"
    an["B7"] = 0
    years_row = f"DCF!${first}$3:${last}$3"
    for y in range(1, years + 1):
        c = col(2 + y)
        an[f"{c}2"] = y
        for r, line in ((3, "revenue"), (4, "EBITDA"), (5, "free cash flow")):
            an[f"{c}{r}"] = f"=SUMIF({years_row},{c}$2,DCF!${first}${L[line]}:${last}${L[line]})"
        an[f"{c}6"] = f"=IF({c}3=0,0,{c}4/{c}3)"
        tv = f"{c}5*(1+{g['terminal growth']})/({g['wacc']}-{g['terminal growth']})"
        an[f"{c}7"] = f"=IF({c}2={years},{tv},0)"
        an[f"{c}8"] = f"={c}5+{c}7"
    ly = col(2 + years)

    s = wb.create_sheet("Summary")
    outs = {
        "NPV": f"Annual!B8+NPV({g['wacc']},Annual!C8:{ly}8)",
        "IRR": f"IRR(Annual!B8:{ly}8)",
        "Revenue": f"SUM(DCF!{first}{L['revenue']}:{last}{L['revenue']})",
        "MinCash": f"MIN(DCF!{first}{L['cumulative cash']}:{last}{L['cumulative cash']})",
        "PeakDebt": f"MAX(DCF!{first}{L['debt']}:{last}{L['debt']})",
        "PVMonthlyFCF": f"SUM(DCF!{first}{L['PV of FCF']}:{last}{L['PV of FCF']})",
        "AvgMargin": f"AVERAGE(Annual!C6:{ly}6)",
    }
    outputs = {}
    for i, (name, text) in enumerate(outs.items(), start=2):
        s.cell(i, 1, name)
        s.cell(i, 2, _output(text, name, risk))
        outputs[name] = f"Summary!B{i}"
    wb.save(path)
    return Model(
        path, inputs, outputs, count_formulas(path), {"months": months, "products": products}
    )


# -- the small model and its NumPy twin ----------------------------------------------------

SMALL_INPUTS = [
    ("volume", Dist("Normal", (10_000.0, 1_500.0))),
    ("price", Dist("Triang", (40.0, 50.0, 65.0))),
    ("growth", Dist("Pert", (0.0, 0.05, 0.12))),
    ("cogs %", Dist("Uniform", (0.40, 0.55))),
    ("fixed costs", Dist("Lognorm", (120_000.0, 20_000.0))),
    ("wacc", Dist("Uniform", (0.07, 0.11))),
]
SMALL_TAX, SMALL_INVESTMENT, SMALL_YEARS = 0.25, 450_000.0, 5
SMALL_TIERS = [(0, 1.0), (9_000, 0.97), (12_000, 0.94), (15_000, 0.9)]


def write_small(path: Path, *, risk: bool = True) -> Model:
    wb = Workbook()
    inputs: dict[str, Dist] = {}
    ws = wb.active
    ws.title = "Inputs"
    cells = [
        _input_cell(ws, 2 + i, name, d, risk, "Inputs", inputs)
        for i, (name, d) in enumerate(SMALL_INPUTS)
    ]
    vol, price, growth, cogs, fixed, wacc = cells
    ws["A8"], ws["B8"] = "tax", SMALL_TAX
    ws["A9"], ws["B9"] = "investment", SMALL_INVESTMENT
    for i, (t, f) in enumerate(SMALL_TIERS):
        ws.cell(11 + i, 1, t)
        ws.cell(11 + i, 2, f)
    tiers = f"Inputs!$A$11:$B${10 + len(SMALL_TIERS)}"

    m = wb.create_sheet("Model")
    labels = ["year", "volume", "price", "revenue", "cogs", "fixed", "EBITDA", "tax", "FCF", "tier"]
    for r, lab in enumerate(labels, start=2):
        m.cell(r, 1, lab)
    m["B2"] = 0
    m["B10"] = "=-Inputs!$B$9"
    for y in range(1, SMALL_YEARS + 1):
        c = col(2 + y)
        m[f"{c}2"] = y
        m[f"{c}3"] = f"={vol}*(1+{growth})^({c}2-1)"
        m[f"{c}11"] = f"=VLOOKUP({c}3,{tiers},2,TRUE)"
        m[f"{c}4"] = f"={price}*1.02^({c}2-1)*{c}11"
        m[f"{c}5"] = f"={c}3*{c}4"
        m[f"{c}6"] = f"=-{c}5*{cogs}"
        m[f"{c}7"] = f"=-{fixed}"
        m[f"{c}8"] = f"=SUM({c}5:{c}7)"
        m[f"{c}9"] = f"=-MAX(0,{c}8)*Inputs!$B$8"
        m[f"{c}10"] = f"={c}8+{c}9"
    ly = col(2 + SMALL_YEARS)
    outs = {
        "NPV": f"B10+NPV({wacc},C10:{ly}10)",
        "IRR": f"IRR(B10:{ly}10)",
        "Revenue": f"SUM(C5:{ly}5)",
        "MinFCF": f"MIN(C10:{ly}10)",
    }
    outputs = {}
    for i, (name, text) in enumerate(outs.items(), start=13):
        m.cell(i, 1, name)
        m.cell(i, 2, _output(text, name, risk))
        outputs[name] = f"Model!B{i}"
    wb.save(path)
    return Model(path, inputs, outputs, count_formulas(path))


def small_sample(rng: np.random.Generator, n: int) -> list[np.ndarray]:
    return [d.sample(rng, n) for _, d in SMALL_INPUTS]


def small_numpy(vol, price, growth, cogs, fixed, wacc) -> dict[str, np.ndarray]:
    """The small model by hand: each argument is an array of trials."""
    vol, price, growth, cogs, fixed, wacc = (
        np.asarray(x, dtype=float)[:, None] for x in (vol, price, growth, cogs, fixed, wacc)
    )
    t = np.arange(SMALL_YEARS, dtype=float)[None, :]  # year - 1
    volume = vol * (1 + growth) ** t
    keys = np.array([k for k, _ in SMALL_TIERS], dtype=float)
    factors = np.array([f for _, f in SMALL_TIERS])
    tier = factors[np.searchsorted(keys, volume, side="right") - 1]
    revenue = volume * price * 1.02**t * tier
    ebitda = revenue * (1 - cogs) - fixed
    fcf = ebitda - np.maximum(0, ebitda) * SMALL_TAX
    disc = (1 + wacc) ** -(t + 1)
    npv = -SMALL_INVESTMENT + (fcf * disc).sum(axis=1)
    flows = np.concatenate([np.full((fcf.shape[0], 1), -SMALL_INVESTMENT), fcf], axis=1)
    return {
        "NPV": npv,
        "IRR": irr_newton(flows),
        "Revenue": revenue.sum(axis=1),
        "MinFCF": fcf.min(axis=1),
    }


def irr_newton(flows: np.ndarray, guess: float = 0.1, iterations: int = 50) -> np.ndarray:
    """IRR of each row of ``flows`` (trials x periods), Newton's method; NaN if it fails."""
    t = np.arange(flows.shape[1], dtype=float)
    r = np.full(flows.shape[0], guess)
    with np.errstate(all="ignore"):
        for _ in range(iterations):
            base = (1 + r)[:, None] ** -t
            f = (flows * base).sum(axis=1)
            df = -(flows * t * base / (1 + r)[:, None]).sum(axis=1)
            step = f / df
            r = r - step
            if np.all(np.abs(step) < 1e-10):
                break
        r[~np.isfinite(r) | ~(np.abs(step) <= 1e-6)] = np.nan
    return r


# -- pycel plugin: IRR ---------------------------------------------------------------------


def irr(values, guess=0.1):
    """Excel's IRR for pycel (which has none): Newton's method on the flattened range."""
    from pycel.excelutil import NUM_ERROR, flatten

    flows = [x for x in flatten(values) if isinstance(x, int | float) and not isinstance(x, bool)]
    r = float(guess)
    try:
        for _ in range(50):
            f = sum(x / (1 + r) ** i for i, x in enumerate(flows))
            df = sum(-i * x / (1 + r) ** (i + 1) for i, x in enumerate(flows))
            step = f / df
            r -= step
            if abs(step) < 1e-10:
                return r
    except (ArithmeticError, TypeError):  # overflow, a zero derivative, a complex power
        pass
    return NUM_ERROR


# -- many inputs: 200 uniforms feeding ~1,600 formulas, and its NumPy twin -------------------

MANY_INPUTS = 200
MANY_TIERS = [(0.0, 0.9), (0.25, 1.0), (0.5, 1.1), (0.75, 1.25)]


def many_bounds(i: int) -> tuple[float, float]:
    """The uniform range of input ``i``: widths and offsets vary so that no two are alike."""
    return 0.1 * (i % 7), 1.0 + 0.05 * (i % 11)


def many_weight(i: int) -> float:
    return 1.0 + (i % 13) / 13.0


def write_many(path: Path, *, risk: bool = True, inputs: int = MANY_INPUTS) -> Model:
    """``inputs`` uniforms (Inputs!B2:B…) and 8 formulas per input on Model (~1,600).

    Per input row r (input x, weight w, its neighbour x' = the next input, wrapping):
    C = x*w, D = IF(C>1, C-1, 0), E = D + 0.5*x', F = VLOOKUP(x, tiers, 2, TRUE),
    G = E*F, H = H(r-1) + G (running sum), I = MAX(G - 0.6, 0)*2, J = IF(I>F, 1, 0).
    The one output adds H of the last row, SUM(I) and SUM(J).
    ``risk=False`` writes the uniform means as constants (inputs then come from the spec).
    """
    wb = Workbook()
    ws = wb.active
    ws.title = "Inputs"
    dists: dict[str, Dist] = {}
    for i in range(inputs):
        lo, hi = many_bounds(i)
        _input_cell(ws, 2 + i, f"x{i + 1}", Dist("Uniform", (lo, hi)), risk, "Inputs", dists)
        ws.cell(2 + i, 3, many_weight(i))
    for j, (key, factor) in enumerate(MANY_TIERS):
        ws.cell(2 + j, 5, key)
        ws.cell(2 + j, 6, factor)
    tiers = f"Inputs!$E$2:$F${1 + len(MANY_TIERS)}"
    m = wb.create_sheet("Model")
    last = 1 + inputs
    for i in range(inputs):
        r = 2 + i
        nxt = 2 + (i + 1) % inputs
        m[f"C{r}"] = f"=Inputs!B{r}*Inputs!C{r}"
        m[f"D{r}"] = f"=IF(C{r}>1,C{r}-1,0)"
        m[f"E{r}"] = f"=D{r}+0.5*Inputs!B{nxt}"
        m[f"F{r}"] = f"=VLOOKUP(Inputs!B{r},{tiers},2,TRUE)"
        m[f"G{r}"] = f"=E{r}*F{r}"
        m[f"H{r}"] = f"=G{r}" if i == 0 else f"=H{r - 1}+G{r}"
        m[f"I{r}"] = f"=MAX(G{r}-0.6,0)*2"
        m[f"J{r}"] = f"=IF(I{r}>F{r},1,0)"
    m["L2"] = _output(f"H{last}+SUM(I2:I{last})+SUM(J2:J{last})", "Total", risk)
    wb.save(path)
    return Model(path, dists, {"Total": "Model!L2"}, count_formulas(path))


def many_spec_inputs(model: Model) -> dict[str, str]:
    """The inputs of a ``risk=False`` many-input workbook as spec distributions."""
    return {cell: f"uniform({d.args[0]!r}, {d.args[1]!r})" for cell, d in model.inputs.items()}


def many_sample(rng: np.random.Generator, n: int, inputs: int = MANY_INPUTS) -> np.ndarray:
    """(n, inputs) uniforms, one column per input."""
    lo, hi = np.array([many_bounds(i) for i in range(inputs)]).T
    return lo + (hi - lo) * rng.random((n, inputs))


def many_numpy(x: np.ndarray) -> dict[str, np.ndarray]:
    """The many-input model by hand: ``x`` is (trials, inputs)."""
    k = x.shape[1]
    w = np.array([many_weight(i) for i in range(k)])
    c = x * w
    d = np.where(c > 1, c - 1, 0.0)
    e = d + 0.5 * np.roll(x, -1, axis=1)
    keys = np.array([t for t, _ in MANY_TIERS])
    factors = np.array([f for _, f in MANY_TIERS])
    f = factors[np.searchsorted(keys, x, side="right") - 1]
    g = e * f
    i_col = np.maximum(g - 0.6, 0) * 2
    j_col = (i_col > f).sum(axis=1)
    return {"Total": g.sum(axis=1) + i_col.sum(axis=1) + j_col}
