"""FastAPI dependencies, as `Annotated` aliases for the routes' signatures.

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop
per request for what is only an attribute lookup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import httpx
from fastapi import Depends, Header, Request

from sendmako import accounts
from sendmako.engines.base import Engine
from sendmako.media.decrypt import MediaDecryptor
from sendmako.media.fetch import Fetcher
from sendmako.sessions import SessionManager
from sendmako.settings import Settings
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord


@dataclass
class Services:
    """Everything a request may need, built once by the app's lifespan."""

    settings: Settings
    db: Database
    auth: accounts.Authenticator
    engines: dict[str, Engine]
    sessions: SessionManager
    http: httpx.AsyncClient  # guarded (media/guard.py): for any URL a user gave us
    fetcher: Fetcher  # media downloads on that client: size caps, redirects, errors
    media: MediaDecryptor  # decrypt-media


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
