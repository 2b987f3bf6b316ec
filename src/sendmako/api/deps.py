"""FastAPI dependencies, as `Annotated` aliases for the routes' signatures.

All are `async def`: FastAPI runs plain `def` dependencies in a thread pool, a thread hop
per request for what is only an attribute lookup."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request

from sendmako import accounts
from sendmako.bulk import BulkSender
from sendmako.contacts import ContactBook
from sendmako.engines.base import Engine
from sendmako.groups import Groups
from sendmako.sending import Sender
from sendmako.sessions import SessionManager
from sendmako.settings import Settings
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord
from sendmako.webhooks.dispatcher import Dispatcher
from sendmako.webhooks.endpoints import Endpoints


@dataclass
class Services:
    """Everything a request may need, built once by the app's lifespan."""

    settings: Settings
    db: Database
    auth: accounts.Authenticator
    engines: dict[str, Engine]
    sessions: SessionManager
    sender: Sender
    bulk: BulkSender
    webhooks: Endpoints
    dispatcher: Dispatcher
    contacts: ContactBook
    groups: Groups


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
