"""Text functions added for issue 26. Expected values: the examples of the TEXTBEFORE,
TEXTAFTER, TEXTSPLIT, REGEX... and VALUETOTEXT help pages (their sentence "Little Red
Riding Hood's red hood", their names and codes), worked through the rules those pages
state (case-sensitive unless match_mode is 1; a negative instance counts from the end;
match_end makes the end of the text a delimiter; #N/A when not found)."""

from __future__ import annotations

from typing import Any

import pytest
from tests.engines.excel.test_excel_rules import err, ev

A2 = '"Little Red Riding Hood\'s red hood"'


@pytest.mark.parametrize(
    ("formula", "expected"),
    [
        (f'=TEXTBEFORE({A2},"Red")', "Little "),
        (f'=TEXTBEFORE({A2},"red")', "Little Red Riding Hood's "),
        (f'=TEXTBEFORE({A2},"red",2,1)', "Little Red Riding Hood's "),
        (f'=TEXTBEFORE({A2},"red",-2,1)', "Little "),
        (f'=TEXTBEFORE({A2},{{"Riding","Hood"}})', "Little Red "),  # any of several
        (f'=TEXTBEFORE({A2},"red",2)', err("#N/A")),  # one "red" only, case counting
        (f'=TEXTBEFORE({A2},"basket",,,1)', "Little Red Riding Hood's red hood"),
        (f'=TEXTAFTER({A2},"hood")', ""),
        (f'=TEXTAFTER({A2},"HOOD",,1)', "'s red hood"),
        (f'=TEXTAFTER({A2},"basket")', err("#N/A")),
        (f'=TEXTAFTER({A2},"basket",,,,"none")', "none"),
        (f'=TEXTAFTER({A2}," ",-1)', "hood"),
        (f'=TEXTAFTER({A2},"")', "Little Red Riding Hood's red hood"),
        (f'=TEXTBEFORE({A2},"red",0)', err("#VALUE!")),  # instance 0
        ('=INDEX(TEXTSPLIT("Dakota Lennon Sanchez"," "),1,3)', "Sanchez"),
        ('=INDEX(TEXTSPLIT("1,2,3;4,5",",",";"),2,2)', "5"),
        ('=INDEX(TEXTSPLIT("1,2,3;4,5",",",";"),2,3)', err("#N/A")),  # padded
        ('=INDEX(TEXTSPLIT("1,2,3;4,5",",",";",,,"-"),2,3)', "-"),
        ('=COLUMNS(TEXTSPLIT("a,,b",",",,TRUE))', 2.0),  # empty parts ignored
        ('=REGEXTEST("sheep","s..ep")', True),
        ('=REGEXTEST("Sheep","^s",1)', True),  # case_sensitivity 1: ignore case
        ('=REGEXTEST("Sheep","^s")', False),
        ('=REGEXEXTRACT("DylanWilliams","[A-Z][a-z]+")', "Dylan"),
        ('=INDEX(REGEXEXTRACT("DylanWilliams","[A-Z][a-z]+",1),2)', "Williams"),
        ('=INDEX(REGEXEXTRACT("Dylan Williams","(\\w+) (\\w+)",2),1,2)', "Williams"),
        ('=REGEXEXTRACT("abc","[0-9]")', err("#N/A")),
        ('=REGEXREPLACE("Sonia Rees","([A-Z][a-z]+) ([A-Z][a-z]+)","$2, $1")', "Rees, Sonia"),
        ('=REGEXREPLACE("a1b2c3","[0-9]","#",2)', "a1b#c3"),  # the second match only
        ('=VALUETOTEXT("Hello",1)', '"Hello"'),  # strict: text in quotes
        ('=VALUETOTEXT("Hello")', "Hello"),
        ("=VALUETOTEXT(1234.5)", "1234.5"),
        ("=VALUETOTEXT(TRUE,1)", "TRUE"),
        ("=VALUETOTEXT(NA())", "#N/A"),
        ('=LENB("abc")', 3.0),  # a language without double-byte characters
        ('=LEFTB("abc",2)', "ab"),
        ('=MIDB("abcdef",2,3)', "bcd"),
    ],
)
def test_examples(formula: str, expected: Any) -> None:
    assert ev(formula) == expected
