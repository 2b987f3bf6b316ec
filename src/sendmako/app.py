"""`create_app(settings)`: the ASGI application and its lifespan. No side effects at import."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import Scope

from sendmako import __version__, dashboard, log
from sendmako import wiring as services
from sendmako.api import docs, handlers
from sendmako.api.fast_lane import Endpoint, FastLane
from sendmako.api.metrics import ScrapeApp, ScrapeListener
from sendmako.api.middleware import (
    Allowance,
    BodyLimit,
    BodyPace,
    RequestContext,
    TrailingSlash,
)
from sendmako.api.routes import (
    admin,
    chats,
    contacts,
    events,
    groups,
    health,
    keys,
    message_actions,
    messages,
    metrics,
    presence,
    profile,
    sandbox,
    sessions,
    webhooks,
)
from sendmako.api.routes import media as media_routes
from sendmako.dashboard.visit import get_visit
from sendmako.errors import SendmakoError
from sendmako.settings import Settings
from sendmako.storage.records import UserRecord
from sendmako.wiring import (
    FirstAdminHook,
    NetworkSeams,
    WebhookSeams,
    credentials_epoch,
    node_name,
)

logger = log.get(__name__)

# Endpoints that take inline media (base64 of a 70 MB document is ~94 MB of JSON), and the
# sandbox page's form, which uploads it.
LARGE_BODY_PATHS = (
    "/api/send-message",
    "/api/send-bulk",
    "/api/sandbox/sessions/",
    "/dashboard/sandbox/",
)
LARGE_BODY_BYTES = 100 * 1024 * 1024


def announce_first_admin(user: UserRecord, key: str, password: str) -> None:
    """Printed once, on the first start with an empty database (stdout, not the log)."""
    line = "=" * 72
    print(  # the one message meant for the operator's eyes, not the log
        f"\n{line}\n  Sendmako: first start, an admin account was created.\n\n"
        f"    email:    {user.email}\n    API key:  {key}\n    password: {password}\n\n"
        f"  The key and the password are shown only this once; keep them somewhere safe.\n"
        f"  Dashboard: log in with the email and password above.\n"
        f"  More keys: sendmako keys create {user.email}\n"
        f"  New password: sendmako users passwd {user.email}\n{line}\n",
        flush=True,
    )


def create_app(
    settings: Settings,
    *,
    on_first_admin: FirstAdminHook = announce_first_admin,
    network: NetworkSeams | None = None,
    webhook_seams: WebhookSeams | None = None,
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        started = await services.start(
            settings,
            app,
            on_first_admin=on_first_admin,
            webhook_seams=webhook_seams,
            network=network,
        )
        app.state.services = started
        try:
            app.state.dashboard = await dashboard.DashboardState.load(settings, started.db)
        except BaseException:
            await services.stop(started)
            raise
        scraper = None
        try:
            if settings.metrics.listen:
                scraper = ScrapeListener(ScrapeApp(lambda: started), settings.metrics.listen)
                await scraper.start()
            yield
        finally:
            if scraper is not None:
                await scraper.stop()
            await app.state.dashboard.close()
            await services.stop(started)

    app = FastAPI(
        title="Sendmako",
        version=__version__,
        description=(
            "Self-hosted WhatsApp HTTP API. Authenticate with `Authorization: Bearer wsa_...`."
        ),
        lifespan=lifespan,
        redirect_slashes=False,
        docs_url=None,  # ours, with their assets served here: api/docs.py
        redoc_url=None,
    )
    handlers.install(app)
    docs.mount(app)
    for module in (
        sessions,
        messages,
        message_actions,
        chats,
        presence,
        profile,
        media_routes,
        contacts,
        groups,
        webhooks,
        events,
        keys,
        sandbox,
        admin,
        health,
        metrics,
    ):
        app.include_router(module.router)
    app.include_router(sandbox.media_router)
    app.include_router(contacts.lookups)
    dashboard.mount(app)

    ordinary = Allowance(settings.max_body_bytes)
    large = Allowance(max(LARGE_BODY_BYTES, settings.max_body_bytes))
    anonymous = Allowance(
        settings.max_body_bytes,
        f"Authenticated requests may send up to {large.limit:,} bytes here.",
    )

    async def body_allowance(scope: Scope) -> Allowance:
        """Large bodies only for callers who may send them: an anonymous request must not
        make the server read and parse 100 MB before it is refused. (A body declared within
        the ordinary limit needs no check: the ordinary limit holds it.)"""
        if not scope["path"].startswith(LARGE_BODY_PATHS):
            return ordinary
        declared = Headers(scope=scope).get("content-length", "")
        if declared.isascii() and declared.isdigit() and int(declared) <= ordinary.limit:
            return ordinary  # enough for what is declared, and a lying client stays capped
        return large if await _authenticated(scope) else anonymous

    fast_routes: dict[tuple[str, str], Endpoint] = {
        ("POST", "/api/send-message"): messages.send_message,
        ("GET", "/health/live"): health.live,
    }
    app.add_middleware(FastLane, routes=fast_routes, owner=app)
    pace = BodyPace(
        gap=settings.body_gap_seconds,
        min_rate=settings.body_min_rate,
        grace=settings.body_rate_grace_seconds,
    )
    app.add_middleware(BodyLimit, allowance_for=body_allowance, pace=pace)
    app.add_middleware(TrailingSlash)
    app.add_middleware(
        RequestContext,
        slow_ms=settings.slow_request_ms,
        fixed_routes=frozenset(path for _method, path in fast_routes),
    )
    return app


__all__ = [
    "FirstAdminHook",
    "NetworkSeams",
    "WebhookSeams",
    "create_app",
    "credentials_epoch",
    "node_name",
]


async def _authenticated(scope: Scope) -> bool:
    """The request carries a valid API key (the API) or a signed-in session (the
    dashboard). Both are cheap: keys are cached, the session is the one its page uses."""
    if scope["path"].startswith("/api/"):
        header = Headers(scope=scope).get("authorization")
        try:
            await scope["app"].state.services.auth.authenticate(header)
        except SendmakoError:
            return False
        return True
    try:
        return (await get_visit(Request(scope))).user is not None
    finally:
        # The page builds its own visit, from a request it can read the body of.
        scope.get("state", {}).pop("visit", None)
