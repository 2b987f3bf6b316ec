"""`create_app(settings)`: the ASGI application and its lifespan. No side effects at import."""

from __future__ import annotations

import hashlib
import random
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import httpx
from fastapi import FastAPI

from sendmako import __version__, accounts, log
from sendmako.api import handlers
from sendmako.api.deps import Services
from sendmako.api.middleware import BodyLimit, RequestContext, TrailingSlash
from sendmako.api.routes import (
    contacts,
    groups,
    health,
    keys,
    messages,
    sandbox,
    sessions,
    webhooks,
)
from sendmako.bulk import BulkSender
from sendmako.contacts import ContactBook
from sendmako.engines.registry import build_engines
from sendmako.errors import BadRequest
from sendmako.group_cache import GroupCache
from sendmako.groups import Groups
from sendmako.inbox import Inbox
from sendmako.media.outgoing import Downloaded, Downloader
from sendmako.message_log import MessageLog
from sendmako.sending import Sender
from sendmako.sessions import SessionManager
from sendmako.settings import Settings
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord
from sendmako.usage import DailyUsage
from sendmako.webhooks.dispatcher import TIMEOUT_SECONDS, Dispatcher
from sendmako.webhooks.endpoints import Endpoints
from sendmako.webhooks.outbox import EndpointCache, WebhookOutbox
from sendmako.webhooks.retry import RetryPolicy

logger = log.get(__name__)

# Endpoints that take inline media (base64 of a 70 MB document is ~94 MB of JSON).
LARGE_BODY_PATHS = ("/api/send-message", "/api/send-bulk", "/api/sandbox/sessions/")
LARGE_BODY_BYTES = 100 * 1024 * 1024

FirstAdminHook = Callable[[UserRecord, str], None]


def announce_first_admin(user: UserRecord, key: str) -> None:
    """Printed once, on the first start with an empty database (stdout, not the log)."""
    line = "=" * 72
    print(  # the one message meant for the operator's eyes, not the log
        f"\n{line}\n  Sendmako: first start, an admin account was created.\n\n"
        f"    email:   {user.email}\n    API key: {key}\n\n"
        f"  The key is shown only this once; keep it somewhere safe.\n"
        f"  More keys: sendmako keys create {user.email}\n{line}\n",
        flush=True,
    )


@dataclass(frozen=True)
class WebhookSeams:
    """What tests replace in the webhook dispatcher (STYLE.md 7): the HTTP client (an
    httpx MockTransport receiver), the clock, the retry policy, the randomness, and whether
    it delivers in the background or only when `run_once()` is called."""

    client: httpx.AsyncClient | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    rng: random.Random | None = None
    background: bool = True


async def _no_guard(_url: str) -> None:
    """Stands in until media/fetch.py's private-address guard lands."""


def node_name(settings: Settings) -> str:
    """Stable across restarts of the same server (so it can take back what it held before
    it stopped), distinct between servers."""
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:8]
    return f"{socket.gethostname()}:{digest}"


def credentials_epoch(settings: Settings) -> Path:
    """Touched by the CLI when it changes keys, users or plans behind the server's back."""
    return settings.data_dir / "credentials.epoch"


class _NoDownloads:
    """Stands in until media/fetch.py lands: URL media are refused, base64 works."""

    async def download(self, url: str, *, field: str, max_bytes: int) -> Downloaded:
        inline = field.replace("Url", "Base64")
        raise BadRequest(
            f"{field}: downloads by URL are not available yet; send {inline}", field=field
        )


def create_app(  # noqa: PLR0915 - the lifespan starts and stops every service in one sequence
    settings: Settings,
    *,
    on_first_admin: FirstAdminHook = announce_first_admin,
    downloader: Downloader | None = None,
    webhook_seams: WebhookSeams | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        nonlocal downloader
        downloader = downloader or _NoDownloads()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        db = Database(settings.effective_database_url)
        await db.migrate()
        first = await accounts.bootstrap_admin(db, settings.admin_email)
        if first is not None:
            on_first_admin(first[0], first[1].secret)
        engines = build_engines(settings, db)
        for engine in engines.values():
            await engine.start()
        node_id = node_name(settings)
        manager = SessionManager(
            db, engines, default_engine=settings.default_engine, node_id=node_id
        )
        http = httpx.AsyncClient(follow_redirects=False, timeout=TIMEOUT_SECONDS)
        seams = webhook_seams or WebhookSeams()
        dispatcher = Dispatcher(
            db,
            seams.client or http,
            node=node_id,
            policy=seams.policy,
            clock=seams.clock,
            rng=seams.rng,
        )
        endpoint_cache = EndpointCache()
        manager.recorders.append(WebhookOutbox(endpoint_cache, dispatcher.wake, seams.clock))
        endpoints = Endpoints(db, endpoint_cache, dispatcher, guard=_no_guard, clock=seams.clock)
        message_log = MessageLog(db)
        manager.handlers.append(Inbox(db, message_log, manager.recorders))
        # Contacts and the group cache follow engine events and sync when a session connects.
        contact_book, group_cache = ContactBook(db, manager), GroupCache(db, manager)
        manager.handlers.extend([contact_book, group_cache])
        manager.recorders.extend([contact_book, group_cache])
        usage = DailyUsage(db)
        sender = Sender(manager, usage, message_log, downloader)
        bulk = BulkSender(db, sender, manager, usage, settings.data_dir / "spool" / "bulk")
        auth = accounts.Authenticator(db, accounts.CredentialsEpoch(credentials_epoch(settings)))
        app.state.services = Services(
            settings=settings,
            db=db,
            auth=auth,
            engines=engines,
            sessions=manager,
            sender=sender,
            bulk=bulk,
            webhooks=endpoints,
            dispatcher=dispatcher,
            contacts=contact_book,
            groups=Groups(manager, group_cache),
        )
        await dispatcher.start(background=seams.background)
        await manager.start()
        await bulk.resume()
        logger.info("sendmako.started", version=__version__, engines=list(engines), node=node_id)
        try:
            yield
        finally:
            await bulk.stop()
            await contact_book.background.close()  # syncs need the sessions: stop them first
            await group_cache.background.close()
            await manager.stop()
            for engine in engines.values():
                await engine.stop()
            await message_log.close()
            await dispatcher.stop()
            await http.aclose()
            await db.close()
            logger.info("sendmako.stopped")

    app = FastAPI(
        title="Sendmako",
        version=__version__,
        description=(
            "Self-hosted WhatsApp HTTP API. Authenticate with `Authorization: Bearer wsa_...`."
        ),
        lifespan=lifespan,
        redirect_slashes=False,
    )
    handlers.install(app)
    for module in (sessions, messages, contacts, groups, webhooks, keys, sandbox, health):
        app.include_router(module.router)

    def body_limit(path: str) -> int:
        if path.startswith(LARGE_BODY_PATHS):
            return max(LARGE_BODY_BYTES, settings.max_body_bytes)
        return settings.max_body_bytes

    app.add_middleware(BodyLimit, limit_for=body_limit)
    app.add_middleware(TrailingSlash)
    app.add_middleware(RequestContext)
    return app
