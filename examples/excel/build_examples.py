"""Write the example workbooks in this folder (run: python examples/excel/build_examples.py).

``project.xlsx``: a 5-year project appraisal with @RISK-style inputs (RiskPert,
RiskTriang, RiskNormal, RiskDiscrete with RiskCorrmat), a price table looked up with
INDEX/MATCH, NPV and IRR outputs marked with RiskOutput(). Excel itself is not needed:
the workbook holds formulas only, and montesim computes them.
"""

from __future__ import annotations

from pathlib import Path

import openpyxl
from openpyxl.styles import Font

HERE = Path(__file__).resolve().parent
YEARS = 5


def build_project(path: Path) -> Path:
    wb = openpyxl.Workbook()
    inputs = wb.active
    inputs.title = "Inputs"
    rows = [
        ("Market size (units)", '=RiskPert(40000, 50000, 75000, RiskName("Market size"))'),
        (
            "Market share",
            '=RiskTriang(0.08, 0.12, 0.2, RiskName("Share"), RiskCorrmat(Corr!B2:C3, 1))',
        ),
        (
            "Market growth",
            '=RiskNormal(0.04, 0.02, RiskName("Growth"), RiskCorrmat(Corr!B2:C3, 2))',
        ),
        ("Price tier", '=RiskDiscrete({1,2,3}, {0.3,0.5,0.2}, RiskName("Price tier"))'),
        ("Unit cost", '=RiskUniform(11, 14, RiskName("Unit cost"))'),
        ("Fixed costs", 30_000),
        ("Investment", 150_000),
        ("Discount rate", 0.09),
        ("Tax rate", 0.25),
    ]
    for r, (label, value) in enumerate(rows, start=1):
        inputs.cell(r, 1, label)
        inputs.cell(r, 2, value)
    corr = wb.create_sheet("Corr")
    corr["B1"], corr["C1"], corr["A2"], corr["A3"] = "Share", "Growth", "Share", "Growth"
    corr["B2"], corr["C3"], corr["B3"] = 1, 1, -0.5  # a bigger share in a slower market
    prices = wb.create_sheet("Prices")
    prices.append(["Tier", "Price"])
    for tier, price in ((1, 21.0), (2, 24.5), (3, 28.0)):
        prices.append([tier, price])

    model = wb.create_sheet("Model")
    model.append(["Year", *range(0, YEARS + 1)])
    labels = ["Units", "Price", "Revenue", "Costs", "EBIT", "Tax", "Cash flow"]
    for i, label in enumerate(labels, start=2):
        model.cell(i, 1, label)
    for c in range(2, YEARS + 3):
        col = openpyxl.utils.get_column_letter(c)
        if c == 2:  # year 0: the investment only
            for r in range(2, 8):
                model[f"{col}{r}"] = 0
            model[f"{col}8"] = "=-Inputs!B7"
            continue
        model[f"{col}2"] = f"=Inputs!$B$1*Inputs!$B$2*(1+Inputs!$B$3)^({col}1-1)"
        model[f"{col}3"] = "=INDEX(Prices!$B$2:$B$4, MATCH(Inputs!$B$4, Prices!$A$2:$A$4, 0))"
        model[f"{col}4"] = f"={col}2*{col}3"
        model[f"{col}5"] = f"={col}2*Inputs!$B$5+Inputs!$B$6"
        model[f"{col}6"] = f"={col}4-{col}5"
        model[f"{col}7"] = f"=MAX(0, {col}6*Inputs!$B$9)"
        model[f"{col}8"] = f"={col}6-{col}7"
    last = openpyxl.utils.get_column_letter(YEARS + 2)
    model["A10"], model["B10"] = "NPV", f'=RiskOutput("NPV") + B8 + NPV(Inputs!B8, C8:{last}8)'
    model["A11"], model["B11"] = "IRR", f'=RiskOutput("IRR") + IRR(B8:{last}8)'
    model["A12"], model["B12"] = "NPV > 0", '=RiskOutput("NPV > 0") + IF(B10>0, 1, 0)'
    model["A13"], model["B13"] = (
        "Loss-making years",
        f'=RiskOutput("Loss-making years") + COUNTIF(C6:{last}6, "<0")',
    )
    for sheet in wb.worksheets:
        sheet["A1"].font = Font(bold=True)
    wb.save(path)
    return path


if __name__ == "__main__":
    print(build_project(HERE / "project.xlsx"))
