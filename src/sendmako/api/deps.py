"""FastAPI dependencies, as `Annotated` aliases for the routes' signatures.

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop
per request for what is only an attribute lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from sendmako.services import Services
from sendmako.sessions import SessionManager
from sendmako.storage.records import UserRecord


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def get_sessions(services: ServicesDep) -> SessionManager:
    return services.sessions


async def current_user(
    services: ServicesDep,
    authorization: Annotated[
        str | None, Header(description="`Bearer wsa_...`: your API key")
    ] = None,
) -> UserRecord:
    return await services.auth.authenticate(authorization)


CurrentUser = Annotated[UserRecord, Depends(current_user)]
Sessions = Annotated[SessionManager, Depends(get_sessions)]
