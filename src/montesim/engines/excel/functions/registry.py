"""The function registry: Excel name -> vectorized implementation."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ..values import Value


@dataclass
class EvalContext:
    """What a function may know besides its arguments (never changed once made: not
    frozen only because the compiler makes one per call, three times faster so)."""

    trials: int = 1
    today: float = 45000.0  # serial of TODAY(), fixed per job
    now: float = 45000.5  # serial of NOW(), fixed per job
    caller: tuple[str, int, int] | None = None  # (sheet, row, col) of the formula's cell


@dataclass(frozen=True)
class FunctionSpec:
    name: str
    impl: Callable[..., Value]
    min_args: int
    max_args: int | None  # None: any number


REGISTRY: dict[str, FunctionSpec] = {}


def register(*names: str, min_args: int = 0, max_args: int | None = None) -> Callable:
    """Register ``impl(ctx, *args)`` under each of ``names`` (upper case)."""

    def deco(impl: Callable[..., Value]) -> Callable[..., Value]:
        for name in names:
            key = name.upper()
            if key in REGISTRY:
                raise RuntimeError(f"Excel function {key} registered twice")
            REGISTRY[key] = FunctionSpec(key, impl, min_args, max_args)
        return impl

    return deco


def get_function(name: str) -> FunctionSpec | None:
    return REGISTRY.get(name.upper())
