"""The job spec of the ``excel`` engine (pydantic), and its errors as InputErrors."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError

from montesim.engines.base import InputError

MAX_ITERATIONS = 10_000_000


class InputSpec(BaseModel):
    """A random input given in the spec: ``distribution`` text, or ``family`` + ``params``."""

    model_config = ConfigDict(extra="forbid")
    distribution: str | None = Field(None, description='e.g. "normal(10, 2)" or "RiskPert(1,2,5)"')
    family: str | None = None
    params: list[float | list[float]] | None = None
    truncate: tuple[float | None, float | None] | None = None
    name: str | None = None


class OutputSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    cell: str = Field(description="Sheet1!B9, or a defined name of one cell")
    name: str | None = None


class CorrelationSpec(BaseModel):
    """Rank correlation (Iman–Conover) between inputs named by cell or input name."""

    model_config = ConfigDict(extra="forbid")
    inputs: list[str] = Field(min_length=2)
    matrix: list[list[float | None]]


class ExcelSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    file_id: str | None = Field(
        None,
        validation_alias=AliasChoices("file_id", "file"),
        description="id of an uploaded .xlsx/.xlsm (POST /api/files)",
    )
    cells: dict[str, Any] | None = Field(
        None, description='an inline workbook instead of a file: {"Sheet1!A1": "=RiskNormal(1,2)"}'
    )
    names: dict[str, str] | None = Field(None, description="defined names of the inline workbook")
    iterations: int = Field(10_000, ge=1, le=MAX_ITERATIONS)
    seed: int = Field(0, ge=0, le=2**63 - 1)
    sampling: Literal["lhs", "mc"] = Field(
        "lhs", description="Latin hypercube or plain Monte Carlo"
    )
    inputs: dict[str, str | InputSpec] = Field(
        default_factory=dict,
        description="cell -> distribution, added to the workbook's Risk* cells",
    )
    fixed: dict[str, float | int | bool | str | None] = Field(
        default_factory=dict, description="cell -> a fixed value that replaces the cell"
    )
    outputs: list[str | OutputSpec] = Field(
        default_factory=list, description="output cells; default: the workbook's RiskOutput() cells"
    )
    correlation: CorrelationSpec | None = None
    today: date | None = Field(None, description="the date TODAY() returns (default: submit day)")
    simulation: int = Field(
        1,
        ge=1,
        le=10_000,
        description="which simulation RiskSimtable({...}) cells take their value for "
        "(@RISK's simulation number; submit a batch with 1..N for a table of scenarios)",
    )
    chunk_size: int | None = Field(
        None, ge=1, le=MAX_ITERATIONS, description="iterations per chunk"
    )
    batch_size: int | None = Field(
        None, ge=256, le=1_048_576, description="iterations evaluated at once inside a chunk"
    )
    raw_iterations: int = Field(
        100_000,
        ge=0,
        le=MAX_ITERATIONS,
        description="iterations kept for download and sensitivity (statistics use all)",
    )


def parse_spec(spec: Mapping[str, Any]) -> ExcelSpec:
    try:
        parsed = ExcelSpec.model_validate(dict(spec))
    except ValidationError as exc:
        errors = exc.errors()
        items = []
        for err in errors:
            loc = ".".join(str(p) for p in err.get("loc", ()))
            msg = str(err.get("msg", "invalid")).removeprefix("Value error, ")
            items.append({"location": f"spec.{loc}" if loc else "spec", "message": msg})
        first = items[0]
        raise InputError(
            f"{first['location']}: {first['message']}", location=first["location"], detail=items
        ) from None
    if (parsed.file_id is None) == (parsed.cells is None):
        raise InputError(
            "give the workbook as file_id (an uploaded file) or as inline cells, not both",
            location="spec.file_id",
        )
    return parsed
