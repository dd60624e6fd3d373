"""Formulas that differ only in their cell references share one parse (a template with
the references put in): the tree must be exactly the one a parse of the text gives."""

from __future__ import annotations

import pytest

from montesim.engines.excel import parser as P

# each group: formulas with the same skeleton (or nearly), the first parsed, the rest filled
GROUPS = [
    ["=A1+A1", "=B7+B7", "=B7+C7"],
    ["=SUM(A1:B2)*'Q1'!C3", "=SUM(A2:B3)*'Q1'!C4"],
    ["=Q1!A1+Q2!A1", "=Q1!A2+Q2!A2"],  # sheets named like cells are not references
    ["=LOG10(A1)", "=LOG10(A2)"],  # nor are function names
    ['="A1"&B2', '="A1"&B3', '="A2"&B3'],  # nor text
    ["=Tbl[Col1]+A2", "=Tbl[Col2]+A3"],  # nor structured references
    ["=A1 B2", "=A2 B3"],
    ["=INDEX(A1:A5,2):B3", "=INDEX(A1:A6,2):B4"],
    ["=XFD1+1", "=XFE1+1", "=XFE2+1", "=A0+1", "=A1048577+1"],  # off the grid: names
    ["=1E5+A1", "=1E5+A2", "=1E+5+A3"],
    ["=$a$1+b$2", "=$A$1+B$3", "=$A1+$B2"],
    ["=[1]Sheet1!A1", "=[1]Sheet1!A2", "=[0]!A1"],
    ["=SUM(A:A)+B1", "=SUM(B:B)+B2", "=SUM(1:1)+B2"],
    ["=TAX2020+A1", "=TAX2021+A1", "=AB12C+A1"],
    ['=IF(A1>0,"x",A2%)', '=IF(A3>0,"x",A4%)', "=-A1^2", "=-B1^2"],
    ["='My Sheet'!A1:B2", "='My Sheet'!A2:B3", "='It''s A1'!C5"],
    ["=Sheet1!A1:Sheet1!B2", "=Sheet1!A2:Sheet1!B3"],
    ["={1,2;3,4}+A1", "={1,2;3,4}+A2"],
    ["=A1+", "=A2+", "=SUM(A1", "=SUM(A2"],  # parse errors stay parse errors
]


def outcome(fn, text: str) -> object:
    try:
        return fn(text)
    except P.ParseError as exc:
        return ("ParseError", str(exc))


@pytest.mark.parametrize("group", GROUPS, ids=lambda g: g[0])
def test_a_filled_template_is_the_parsed_tree(group: list[str]) -> None:
    P.parse.cache_clear()
    P._templates.clear()
    for text in group:
        assert outcome(P.parse, text) == outcome(P.parse_text, text), text


def test_copies_of_a_formula_are_tokenized_once(monkeypatch: pytest.MonkeyPatch) -> None:
    P.parse.cache_clear()
    P._templates.clear()
    calls = []
    lex = P._lex
    monkeypatch.setattr(P, "_lex", lambda text: calls.append(text) or lex(text))
    trees = [P.parse(f"=B{r}*(1+$C$2)-SUM(D{r}:F{r})/Inputs!G{r + 1}") for r in range(2, 200)]
    assert len(calls) == 1
    assert trees[-1] == P.parse_text("=B199*(1+$C$2)-SUM(D199:F199)/Inputs!G200")
