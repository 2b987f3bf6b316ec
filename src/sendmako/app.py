"""`create_app(settings)`: the ASGI application and its lifespan. No side effects at import."""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI

from sendmako import __version__, accounts, log
from sendmako.api import handlers
from sendmako.api.deps import Services
from sendmako.api.middleware import BodyLimit, RequestContext, TrailingSlash
from sendmako.api.routes import health, keys, messages, sandbox, sessions
from sendmako.bulk import BulkSender
from sendmako.engines.registry import build_engines
from sendmako.errors import BadRequest
from sendmako.inbox import Inbox
from sendmako.media.outgoing import Downloaded, Downloader
from sendmako.message_log import MessageLog
from sendmako.sending import Sender
from sendmako.sessions import SessionManager
from sendmako.settings import Settings
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord
from sendmako.usage import DailyUsage

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


def create_app(
    settings: Settings,
    *,
    on_first_admin: FirstAdminHook = announce_first_admin,
    downloader: Downloader | None = None,
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
        node_id = f"{socket.gethostname()}-{secrets.token_hex(3)}"
        manager = SessionManager(
            db, engines, default_engine=settings.default_engine, node_id=node_id
        )
        message_log = MessageLog(db)
        manager.handlers.append(Inbox(db, message_log, manager.recorders))
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
        )
        await manager.start()
        await bulk.resume()
        logger.info("sendmako.started", version=__version__, engines=list(engines), node=node_id)
        try:
            yield
        finally:
            await bulk.stop()
            await manager.stop()
            for engine in engines.values():
                await engine.stop()
            await message_log.close()
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
    for module in (sessions, messages, keys, sandbox, health):
        app.include_router(module.router)

    def body_limit(path: str) -> int:
        if path.startswith(LARGE_BODY_PATHS):
            return max(LARGE_BODY_BYTES, settings.max_body_bytes)
        return settings.max_body_bytes

    app.add_middleware(BodyLimit, limit_for=body_limit)
    app.add_middleware(TrailingSlash)
    app.add_middleware(RequestContext)
    return app
