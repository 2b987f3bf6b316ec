"""One request's view of the dashboard: the session cookie, the language, the signed-in user.

Routes receive a `Visit` through the `Visitor`, `Member` and `Admin` dependencies; the
route class (`pages.DashboardRoute`) writes the cookies back on whatever response leaves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Request
from starlette.responses import Response

from sendmako import accounts
from sendmako.dashboard import i18n
from sendmako.dashboard.cookies import (
    COOKIE_PATH,
    DEVICE_COOKIE,
    DEVICE_MAX_AGE,
    LANG_COOKIE,
    LANG_MAX_AGE,
    MAX_FLASHES,
    SESSION_COOKIE,
    SESSION_MAX_AGE,
    SessionCookie,
)
from sendmako.dashboard.state import DashboardState
from sendmako.errors import Forbidden
from sendmako.storage import users
from sendmako.storage.records import UserRecord
from sendmako.wiring import Services

PREFIX = "/dashboard"


class LoginRequired(Exception):
    """Raised by `Member` when nobody is signed in: answered with a redirect to the login."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


@dataclass
class Visit:
    request: Request
    services: Services
    state: DashboardState
    cookie: SessionCookie
    lang: str
    user: UserRecord | None = None
    cookie_changed: bool = False
    new_lang: str | None = None
    new_device: str | None = None
    t: i18n.Translator = field(init=False)

    def __post_init__(self) -> None:
        self.t = i18n.Translator(self.lang)

    @property
    def account(self) -> UserRecord:
        """The signed-in user (routes behind `Member` always have one)."""
        if self.user is None:
            raise LoginRequired(self.request.url.path)
        return self.user

    @property
    def address(self) -> str:
        """The client's address: the peer's, or the one a trusted proxy forwarded."""
        peer = self.request.client.host if self.request.client else "unknown"
        return self.state.proxies.client_address(peer, self.request.headers)

    def device_for(self, email: str) -> str | None:
        """This browser's device id if it logged in to `email` before (see throttle.py)."""
        return self.state.cookies.device_for(self.request.cookies.get(DEVICE_COOKIE), email)

    def remember_device(self, email: str) -> None:
        self.new_device = self.state.cookies.dump_device(email)

    def flash(self, text: str, kind: str = "success") -> None:
        """A message shown on the next page rendered (after a redirect)."""
        self.cookie.flashes = [*self.cookie.flashes, (kind, text)][-MAX_FLASHES:]
        self.cookie_changed = True

    def take_flashes(self) -> list[tuple[str, str]]:
        flashes, self.cookie.flashes = self.cookie.flashes, []
        if flashes:
            self.cookie_changed = True
        return flashes

    def sign_in(self, user: UserRecord, login: str) -> None:
        """`login`: the token of the login opened for this user (accounts.open_login)."""
        # A new CSRF token with the new identity: a token planted before login is useless.
        self.cookie = SessionCookie(user_id=user.id, login=login)
        self.user = user
        self.cookie_changed = True

    def sign_out(self) -> None:
        self.cookie = SessionCookie(flashes=self.cookie.flashes)
        self.user = None
        self.cookie_changed = True

    def switch_language(self, lang: str) -> None:
        self.lang = lang
        self.t = i18n.Translator(lang)
        self.new_lang = lang

    def write_cookies(self, response: Response) -> None:
        secure = self.state.secure_cookies
        if self.cookie_changed:
            response.set_cookie(
                SESSION_COOKIE,
                self.state.cookies.dump(self.cookie),
                max_age=SESSION_MAX_AGE,
                path=COOKIE_PATH,
                secure=secure,
                httponly=True,
                samesite="lax",
            )
        if self.new_device is not None:
            response.set_cookie(
                DEVICE_COOKIE,
                self.new_device,
                max_age=DEVICE_MAX_AGE,
                path=COOKIE_PATH,
                secure=secure,
                httponly=True,
                samesite="lax",
            )
        if self.new_lang is not None:
            response.set_cookie(
                LANG_COOKIE,
                self.new_lang,
                max_age=LANG_MAX_AGE,
                path=COOKIE_PATH,
                secure=secure,
                httponly=True,
                samesite="lax",
            )


def anonymous_visit(request: Request) -> Visit:
    """The visit from the cookies alone, without the database (also for error pages)."""
    existing: Visit | None = getattr(request.state, "visit", None)
    if existing is not None:
        return existing
    state: DashboardState = request.app.state.dashboard
    cookie = state.cookies.load(request.cookies.get(SESSION_COOKIE))
    visit = Visit(
        request=request,
        services=request.app.state.services,
        state=state,
        cookie=cookie or SessionCookie(),
        lang=i18n.choose(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language")),
        cookie_changed=cookie is None,
    )
    request.state.visit = visit
    return visit


async def get_visit(request: Request) -> Visit:
    visit = anonymous_visit(request)
    user_id, login = visit.cookie.user_id, visit.cookie.login
    if user_id is None or visit.user is not None:
        return visit
    user = None
    if login is not None:
        async with visit.services.db.read() as db:
            if await accounts.login_owner(db, login) == user_id:
                user = await users.get(db, user_id)
    if user is not None and not user.disabled:
        visit.user = user
    else:  # logged out, a new password, disabled, deleted, or the login expired
        visit.sign_out()
    return visit


async def get_member(visit: Annotated[Visit, Depends(get_visit)]) -> Visit:
    if visit.user is None:
        query = visit.request.url.query
        raise LoginRequired(visit.request.url.path + (f"?{query}" if query else ""))
    return visit


async def get_admin(visit: Annotated[Visit, Depends(get_member)]) -> Visit:
    if not visit.account.is_admin:
        raise Forbidden("Admins only.", code="admin_only")
    return visit


def login_url(next_path: str | None) -> str:
    if next_path and safe_next(next_path):
        return f"{PREFIX}/login?next={quote(next_path, safe='/')}"
    return f"{PREFIX}/login"


def safe_next(path: str) -> bool:
    """Only our own pages: `//evil.example` or `https://...` would be an open redirect."""
    return path.startswith(f"{PREFIX}/") and not path.startswith("//") and "\\" not in path


Visitor = Annotated[Visit, Depends(get_visit)]
Member = Annotated[Visit, Depends(get_member)]
Admin = Annotated[Visit, Depends(get_admin)]
