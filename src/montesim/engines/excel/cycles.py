"""The compiler's depth-first walk and the cycles it meets, in time linear in the graph.

The walk keeps the path from the root to the cell being compiled as a list with each
cell's place in it, so a dependency already on the path (a circular reference) is seen in
O(1) and its cycle is the tail of the path from that cell: no scan of the walk's stack,
which holds every dependency pushed (millions in a large model).
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


class WalkPath(Generic[K]):
    """The cells entered and not yet finished, in the order they were entered."""

    def __init__(self) -> None:
        self._order: list[K] = []
        self._place: dict[K, int] = {}

    def __contains__(self, key: object) -> bool:
        return key in self._place

    def __len__(self) -> int:
        return len(self._order)

    def enter(self, key: K) -> None:
        if key in self._place:
            raise ValueError(f"{key!r} is on the path already")
        self._place[key] = len(self._order)
        self._order.append(key)

    def leave(self, key: K) -> None:
        """``key`` is finished: the walk finishes cells in the reverse order it entered
        them, so it is the last one on the path."""
        if not self._order or self._order[-1] != key:
            raise ValueError(f"{key!r} is not the last cell on the path")
        self._order.pop()
        del self._place[key]

    def cycle(self, dep: K, key: K) -> list[K]:
        """The circular reference met when ``key`` (on the path) reads ``dep`` (on the
        path too): ``dep``, the cells after it, up to ``key``."""
        start = self._place[dep]
        end = self._place[key]
        return self._order[start : end + 1] if end >= start else [dep, key]
