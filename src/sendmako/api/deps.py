"""FastAPI dependencies, as `Annotated` aliases for the routes' signatures.

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop
per request for what is only an attribute lookup."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request

from sendmako.concurrency.acting import act_for
from sendmako.sessions.manager import SessionManager
from sendmako.storage.records import UserRecord
from sendmako.wiring import Services


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
    user = await services.auth.authenticate(authorization)
    act_for(user.id)  # downloads and media work of this request count to this account
    return user


CurrentUser = Annotated[UserRecord, Depends(current_user)]

# Row ids in paths: bounded to what the database's integers hold, so a huge id is a 400
# naming the field rather than an overflow deep in the driver.
MAX_ROW_ID = 2**63 - 1
RowId = Annotated[int, Path(ge=1, le=MAX_ROW_ID)]
Sessions = Annotated[SessionManager, Depends(get_sessions)]


async def known_session(
    _caller: CurrentUser,  # checked first: strangers cause no database read
    sessions: Sessions,
    session_id: Annotated[str, Path(description="`user_1`, `user_1_2`...", examples=["user_1"])],
) -> str:
    """The session named in the path, known to this node: one just created through another
    node is read from the database rather than answered 404 before its news arrives."""
    await sessions.know(session_id)
    return session_id


SessionIdPath = Annotated[str, Depends(known_session)]
