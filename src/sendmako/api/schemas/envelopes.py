"""The envelopes every route shares: strict request bodies (the base every body extends), the
success and error answers, a bounded name, health."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ErrorOut(BaseModel):
    success: Literal[False] = False
    message: str = Field(description="what went wrong, for a human; names the field at fault")
    code: str = Field(description="stable machine-readable error code")


class SuccessOut(BaseModel):
    success: Literal[True] = True


class HealthOut(BaseModel):
    status: Literal["ok", "degraded"]
    database: str
    engines: dict[str, str]
    version: str
