"""What compiling a cell gives: a constant folded at compile time, or a program slot."""

from __future__ import annotations

from dataclasses import dataclass

from .values import Value


@dataclass
class Const:
    value: Value


@dataclass
class Slot:
    index: int
    probe: Value


CNode = Const | Slot
