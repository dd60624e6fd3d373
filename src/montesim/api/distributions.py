"""GET /api/distributions: the families inputs may use, their parameters, and the @RISK
functions that create them (the studio's family picker and the docs read it)."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from montesim.sampling.families import FAMILY_TABLE

router = APIRouter(tags=["distributions"])


class FamilyInfo(BaseModel):
    family: str  # the name a spec uses: "loglogistic(0, 1, 3)"
    risk_name: str  # @RISK's function: "RiskLoglogistic"
    risk_names: list[str]  # every @RISK function that creates it
    params: list[str]  # in order, as @RISK takes them
    vectors: list[str]  # the parameters that are lists of numbers
    discrete: bool
    description: str


class FamilyList(BaseModel):
    families: list[FamilyInfo]


@router.get("/api/distributions")
def distributions() -> FamilyList:
    """The families inputs may use, with @RISK's names for them and their parameters."""
    return FamilyList(
        families=[
            FamilyInfo(
                family=f.name,
                risk_name=f.risk[0] if f.risk else f.name,
                risk_names=list(f.risk),
                params=list(f.params),
                vectors=sorted(f.vectors),
                discrete=f.discrete,
                description=f.doc,
            )
            for f in FAMILY_TABLE.values()
        ]
    )
