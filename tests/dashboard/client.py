"""A cookie-keeping HTTP client that uses the dashboard as a browser would: it reads the
CSRF token from each page and sends forms back with it."""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from tests.harness import Account, Server

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
PASSWORD = "correct horse battery"


@dataclass
class Page:
    response: httpx.Response

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def text(self) -> str:
        """The page's HTML with entities decoded (what a person reads, roughly)."""
        return html.unescape(self.response.text)

    @property
    def csrf(self) -> str:
        match = _CSRF.search(self.response.text)
        assert match, f"no CSRF token on the page:\n{self.response.text[:500]}"
        return match.group(1)


class Dashboard:
    def __init__(self, server: Server, *, language: str = "en") -> None:
        self.http = server.client()
        self.http.headers["Accept-Language"] = language
        self.token = ""

    async def get(self, path: str, **params: str) -> Page:
        page = Page(await self.http.get(path, params=params))
        if _CSRF.search(page.response.text):
            self.token = page.csrf
        return page

    async def post(
        self,
        path: str,
        data: Mapping[str, str | list[str]] | None = None,
        *,
        csrf: bool = True,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> Page:
        """`files` (name: (file name, bytes, type)) sends the form as multipart/form-data."""
        if csrf and not self.token:
            await self.get("/dashboard/login")
        form = {**(data or {}), **({"csrf_token": self.token} if csrf else {})}
        page = Page(await self.http.post(path, data=form, files=files))
        if _CSRF.search(page.response.text):
            self.token = page.csrf
        return page

    async def login(self, email: str, password: str = PASSWORD) -> Page:
        await self.get("/dashboard/login")
        page = await self.post("/dashboard/login", {"email": email, "password": password})
        if page.status == 303:
            # Logging in gives a new CSRF token: read it as a browser would, on the next page.
            await self.get(page.response.headers["location"])
        return page

    async def follow(self, page: Page) -> Page:
        """The page a 303 after a form points to."""
        assert page.status == 303, (page.status, page.text[:800])
        return await self.get(page.response.headers["location"])


async def member(server: Server, email: str, *, admin: bool = False) -> tuple[Account, Dashboard]:
    """A user with a password, logged in to the dashboard."""
    account = await server.account(email, admin=admin)
    assert server.app is not None
    await server.app.state.services.passwords.set(account.user.id, PASSWORD)
    dashboard = Dashboard(server)
    page = await dashboard.login(email)
    assert page.status == 303, page.text[:800]
    return account, dashboard
