"""`create_app(settings)`: the ASGI application and its lifespan. No side effects at import."""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from fastapi import FastAPI

from sendmako import __version__, accounts, log
from sendmako.api import handlers
from sendmako.api.deps import Services
from sendmako.api.middleware import BodyLimit, RequestContext, TrailingSlash
from sendmako.api.routes import health, keys, media, sandbox, sessions
from sendmako.engines.registry import build_engines
from sendmako.media.addresses import AddressPolicy
from sendmako.media.decrypt import MediaDecryptor
from sendmako.media.fetch import Fetcher, TrustedPrefix, sandbox_media_prefix
from sendmako.media.guard import build_client
from sendmako.media.hosts import HostAllowList
from sendmako.sessions import SessionManager
from sendmako.settings import Settings
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord

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


def create_app(
    settings: Settings, *, on_first_admin: FirstAdminHook = announce_first_admin
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
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
        auth = accounts.Authenticator(db, accounts.CredentialsEpoch(credentials_epoch(settings)))
        http = build_client(AddressPolicy.allowing(settings.allow_private_hosts))
        # The server's own sandbox media is served by this very app: fetch it in-process (the
        # public URL is often loopback, which the guard refuses, or not reachable from here).
        own = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), trust_env=False
        )
        sandbox_media = sandbox_media_prefix(settings.effective_public_url)
        fetcher = Fetcher(http, trusted=TrustedPrefix(sandbox_media, own))
        decryptor = MediaDecryptor(
            fetcher,
            allow=HostAllowList.parse(settings.media_hosts, prefixes=[sandbox_media]),
            spool_dir=settings.data_dir / "spool",
        )
        app.state.services = Services(
            settings=settings,
            db=db,
            auth=auth,
            engines=engines,
            sessions=manager,
            http=http,
            fetcher=fetcher,
            media=decryptor,
        )
        await manager.start()
        logger.info("sendmako.started", version=__version__, engines=list(engines), node=node_id)
        try:
            yield
        finally:
            await manager.stop()
            for engine in engines.values():
                await engine.stop()
            await http.aclose()
            await own.aclose()
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
    for module in (sessions, keys, media, sandbox, health):
        app.include_router(module.router)

    def body_limit(path: str) -> int:
        if path.startswith(LARGE_BODY_PATHS):
            return max(LARGE_BODY_BYTES, settings.max_body_bytes)
        return settings.max_body_bytes

    app.add_middleware(BodyLimit, limit_for=body_limit)
    app.add_middleware(TrailingSlash)
    app.add_middleware(RequestContext)
    return app
