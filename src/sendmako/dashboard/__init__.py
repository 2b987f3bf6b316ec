"""The dashboard: server-rendered pages at /dashboard where people link numbers, get their
API keys and watch their usage; admins manage users and plans.

Jinja2 templates, one small stylesheet and one small script shipped in `static/` (no build
step, nothing from a CDN), English and French. Routes are thin: they call `SessionManager`,
`accounts` and `storage` like the API does, and render.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.responses import RedirectResponse, Response
from starlette.staticfiles import StaticFiles

from sendmako.dashboard.pages import DashboardRoute
from sendmako.dashboard.routes import ROUTERS
from sendmako.dashboard.state import DashboardState
from sendmako.dashboard.visit import PREFIX, Visitor
from sendmako.errors import NotFound

__all__ = ["DashboardState", "mount"]

_fallback = APIRouter(prefix=PREFIX, route_class=DashboardRoute, include_in_schema=False)


@_fallback.get("/{rest:path}")
async def not_found(rest: str, visit: Visitor) -> Response:
    """Any other /dashboard/... path: a page saying so, not the API's JSON."""
    raise NotFound(f"No page at {PREFIX}/{rest}.", code="page_not_found")


def mount(app: FastAPI) -> None:
    """Add the dashboard to `app`; the lifespan must set `app.state.dashboard`."""

    async def root() -> Response:
        return RedirectResponse(PREFIX, status_code=307)

    app.add_api_route("/", root, methods=["GET"], include_in_schema=False)
    for router in ROUTERS:
        app.include_router(router)
    app.mount(
        f"{PREFIX}/static",
        StaticFiles(packages=[("sendmako.dashboard", "static")]),
        name="dashboard-static",
    )
    app.include_router(_fallback)
