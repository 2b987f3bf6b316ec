"""Health checks: `/health` (database and engines) and `/health/live` (the process answers)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import SQLAlchemyError

from sendmako import __version__
from sendmako.api.deps import ServicesDep
from sendmako.api.schemas.envelopes import HealthOut

router = APIRouter(tags=["health"])


@router.get("/health", responses={503: {"model": HealthOut}})
async def health(services: ServicesDep) -> JSONResponse:
    """200 when the database answers and every enabled engine is healthy, else 503."""
    try:
        await services.db.ping()
        database = "ok"
    except (SQLAlchemyError, OSError) as exc:
        database = f"unreachable: {type(exc).__name__}"
    engines = {}
    for name, engine in services.engines.items():
        state = await engine.health()
        engines[name] = state.detail if not state.ok else "ok"
    ok = database == "ok" and all(value == "ok" for value in engines.values())
    body = HealthOut(
        status="ok" if ok else "degraded", database=database, engines=engines, version=__version__
    )
    return JSONResponse(body.model_dump(), status_code=200 if ok else 503)


class LiveOut(BaseModel):
    status: Literal["ok"] = "ok"


@router.get("/health/live", response_model=LiveOut)
async def live(_request: Request) -> Response:
    """The process is up and serving; touches nothing else (for liveness probes)."""
    return Response(b'{"status":"ok"}', media_type="application/json")
