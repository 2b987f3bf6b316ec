"""The API docs and the dashboard in Chromium with their Content-Security-Policy on:
everything they need comes from this server, and the policy blocks none of it."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, expect

from tests.contract.live import LiveServer
from tests.dashboard.conftest import ADMIN_EMAIL, ADMIN_PASSWORD

pytestmark = pytest.mark.slow

TIMEOUT_MS = 10_000


@dataclass
class Watch:
    """What a page did that its policy concerns."""

    origin: str
    violations: list[str] = field(default_factory=list)  # the browser's console reports
    elsewhere: list[str] = field(default_factory=list)  # loads from another host that came

    def console(self, message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(message.text)

    def finished(self, request: Request) -> None:
        url = request.url
        if not url.startswith((self.origin + "/", f"blob:{self.origin}/", "data:")):
            self.elsewhere.append(url)


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def watched(context: BrowserContext, live: LiveServer) -> tuple[Page, Watch]:
    page = context.new_page()
    watch = Watch(live.url)
    page.on("console", watch.console)
    page.on("requestfinished", watch.finished)
    return page, watch


def test_swagger_ui_works_under_its_policy(context: BrowserContext, live: LiveServer) -> None:
    """The operations show, and "Try it out" gets its answer from this server."""
    page, watch = watched(context, live)
    page.goto("/docs")
    operation = page.locator(".opblock", has_text="/health/live").first
    expect(operation).to_be_visible()
    assert page.locator(".opblock").count() > 20
    operation.locator(".opblock-summary").click()
    operation.get_by_role("button", name="Try it out").click()
    operation.get_by_role("button", name="Execute").click()
    expect(
        operation.locator(".live-responses-table tr.response .response-col_status").first
    ).to_have_text("200")
    assert watch.violations == []
    assert watch.elsewhere == []


def test_redoc_works_under_its_policy(context: BrowserContext, live: LiveServer) -> None:
    """The reference shows; only Redoc's own logo, from its maker's CDN, is refused."""
    page, watch = watched(context, live)
    page.goto("/redoc")
    expect(page.get_by_role("heading", name=re.compile(r"^Sendmako"))).to_be_visible()
    expect(page.get_by_role("heading", name="List Sessions").first).to_be_visible()
    assert all("img-src" in text and "cdn.redoc.ly" in text for text in watch.violations), (
        watch.violations
    )
    assert watch.elsewhere == []


def test_the_dashboard_pages_break_no_rule_of_their_policy(
    context: BrowserContext, live: LiveServer
) -> None:
    """Log in and visit every page of the navigation: no script, style or image refused."""
    page, watch = watched(context, live)
    page.goto("/dashboard/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/sessions$"))
    links = page.locator("nav.nav a")
    paths = [links.nth(index).get_attribute("href") or "" for index in range(links.count())]
    assert len(paths) >= 5
    for path in paths:
        answer = page.goto(path)
        assert answer is not None
        assert answer.status == 200, path
        assert "default-src 'self'" in answer.headers["content-security-policy"]
    assert watch.violations == []
    assert watch.elsewhere == []
