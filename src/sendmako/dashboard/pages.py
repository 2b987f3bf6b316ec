"""Rendering pages: the Jinja2 environment, the navigation, error pages, and the route class
that turns every dashboard error into a page (never JSON, never a stack trace).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from importlib import resources
from typing import Any

import jinja2
import structlog
from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.routing import APIRoute
from starlette.responses import Response

from sendmako import __version__, log
from sendmako.dashboard import i18n
from sendmako.dashboard.forms import CSRF_FIELD, error_text
from sendmako.dashboard.visit import PREFIX, LoginRequired, Visit, anonymous_visit, login_url
from sendmako.errors import SendmakoError

logger = log.get(__name__)

LIVE_PREFIX = f"{PREFIX}/live/"

# Scripts and styles come only from our own static files; QR codes are data: URLs.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; img-src 'self' data:; script-src 'self'; style-src 'self'; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "x-frame-options": "DENY",
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    # Pages show keys, QR codes and passwords: never keep them in a shared cache.
    "cache-control": "no-store",
}


@dataclass(frozen=True, slots=True)
class NavItem:
    key: str  # matches the `active` a page renders with
    path: str
    label: str  # catalogue key
    admin_only: bool = False


# The navigation, in order.
NAV: list[NavItem] = [
    NavItem("sessions", f"{PREFIX}/sessions", "nav.sessions"),
    NavItem("keys", f"{PREFIX}/keys", "nav.keys"),
    NavItem("webhooks", f"{PREFIX}/webhooks", "nav.webhooks"),
    NavItem("usage", f"{PREFIX}/usage", "nav.usage"),
    NavItem("sandbox", f"{PREFIX}/sandbox", "nav.sandbox"),
    NavItem("admin_users", f"{PREFIX}/admin/users", "nav.admin_users", admin_only=True),
    NavItem("admin_plans", f"{PREFIX}/admin/plans", "nav.admin_plans", admin_only=True),
]


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("sendmako.dashboard", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,  # a typo in a template fails the tests, not silently
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _format_time
    env.filters["moment"] = _format_moment
    env.globals["static"] = static_url
    env.globals["csrf_field"] = CSRF_FIELD
    return env


@cache
def _static_version() -> str:
    """Changes whenever a static file does, so browsers never keep an old script."""
    digest = hashlib.sha256(__version__.encode())
    for item in sorted(
        resources.files("sendmako.dashboard").joinpath("static").iterdir(),
        key=lambda entry: entry.name,
    ):
        if item.is_file():
            digest.update(item.read_bytes())
    return digest.hexdigest()[:10]


def static_url(name: str) -> str:
    return f"{PREFIX}/static/{name}?v={_static_version()}"


def _format_time(value: datetime | None, empty: str = "") -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value is not None else empty


def _format_moment(value: datetime) -> str:
    """To the second: webhook attempts often come seconds apart."""
    return f"{value:%Y-%m-%d %H:%M:%S} UTC"


def render(visit: Visit, template: str, *, status: int = 200, **context: Any) -> HTMLResponse:
    user = visit.user
    nav = [item for item in NAV if user is not None and (user.is_admin or not item.admin_only)]
    page = (
        _environment()
        .get_template(template)
        .render(
            t=visit.t,
            lang=visit.lang,
            languages=i18n.LANGUAGE_NAMES,
            user=user,
            csrf=visit.cookie.csrf,
            nav=nav,
            flashes=visit.take_flashes(),
            path=visit.request.url.path,
            active=context.pop("active", ""),
            num=lambda value: i18n.format_count(value, visit.lang),
            **context,
        )
    )
    return HTMLResponse(page, status_code=status)


def redirect(path: str) -> RedirectResponse:
    """After a POST: 303 makes the browser GET the page (no re-submission on reload)."""
    return RedirectResponse(path, status_code=303)


def error_page(visit: Visit, status: int, message: str) -> HTMLResponse:
    titles = {403: "error.title_403", 404: "error.title_404", 429: "error.title_429"}
    title = visit.t(titles.get(status, "error.title"))
    return render(visit, "error.html", status=status, title=title, message=message)


Handler = Callable[[Request], Coroutine[Any, Any, Response]]


class DashboardRoute(APIRoute):
    """Routes of the dashboard: errors become pages (JSON for the pages' own scripts under
    /dashboard/live/), the session and language cookies are written back, and every answer
    carries the security headers."""

    def get_route_handler(self) -> Handler:
        handler = super().get_route_handler()

        async def run(request: Request) -> Response:
            response = await _answer(handler, request)
            anonymous_visit(request).write_cookies(response)
            response.headers.update(SECURITY_HEADERS)
            return response

        return run


async def _answer(handler: Handler, request: Request) -> Response:
    try:
        return await handler(request)
    except LoginRequired as exc:
        if request.url.path.startswith(LIVE_PREFIX):
            return JSONResponse({"error": "login_required"}, status_code=401)
        return redirect(login_url(exc.next_path))
    except (SendmakoError, RequestValidationError) as exc:
        return _refused(request, exc)
    except Exception:  # noqa: BLE001 - the dashboard's outermost boundary: a page, no trace
        ref = str(structlog.contextvars.get_contextvars().get("request_id", ""))
        logger.exception("dashboard.unhandled", ref=ref, path=request.url.path)
        visit = anonymous_visit(request)
        return error_page(visit, 500, visit.t("error.internal", ref=ref))


def _refused(request: Request, exc: SendmakoError | RequestValidationError) -> Response:
    status, code = (exc.status, exc.code) if isinstance(exc, SendmakoError) else (400, "")
    if request.url.path.startswith(LIVE_PREFIX):
        return JSONResponse({"error": code or "bad_request"}, status_code=status)
    visit = anonymous_visit(request)
    if not isinstance(exc, SendmakoError):
        message = visit.t("error.bad_request")
    elif code in ("csrf", "admin_only"):
        message = visit.t(f"error.{code}")
    else:
        message = error_text(visit, exc)
    return error_page(visit, status, message)
