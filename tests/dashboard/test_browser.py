"""The dashboard in real headless Chromium against a real server process: log in, link a
sandbox number by "scanning" from the sandbox page, create an API key and use it, switch
language."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.contract.live import LiveServer
from tests.dashboard.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, screenshots_dir

pytestmark = pytest.mark.slow

TIMEOUT_MS = 10_000


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def log_in(page: Page) -> None:
    page.goto("/dashboard/login")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(ADMIN_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(re.compile(r"/dashboard/sessions$"))


def test_scan_from_the_sandbox_page_connects_the_session(context: BrowserContext) -> None:
    """Log in, create a sandbox session, see its QR (refreshed as it rotates), scan it from
    the sandbox page in another tab, and watch the session page turn `connected` by itself."""
    page = context.new_page()
    log_in(page)
    page.get_by_label("Name").fill("Boutique")
    page.get_by_role("button", name="Create session").click()
    expect(page.locator("h1")).to_contain_text("Boutique")
    qr = page.locator("img[data-live-qr]")
    expect(qr).to_be_visible()
    first = qr.get_attribute("src")
    assert first is not None
    assert first.startswith("data:image/png;base64,")
    assert page.evaluate("document.querySelector('img[data-live-qr]').naturalWidth") > 100
    # The sandbox rotates its QR every 1.5 s here: the page follows without a reload.
    expect(qr).not_to_have_attribute("src", first)

    phone = context.new_page()
    phone.goto(page.locator("[data-test=to-sandbox]").get_attribute("href") or "")
    card = phone.locator(".phone", has_text="Boutique")
    card.get_by_label("Phone number of the simulated phone").fill("+222 41 85 79 75")
    card.get_by_role("button", name="Scan the QR code").click()
    expect(phone.locator(".flash")).to_contain_text("linked to +22241857975")

    badge = page.locator("h1 [data-status]")
    expect(badge).to_have_attribute("data-status", "connected")
    expect(badge).to_have_text("Connected")
    expect(page.locator(".state-ok")).to_contain_text("+22241857975")


def test_an_api_key_made_in_the_dashboard_works_at_once(
    context: BrowserContext, live: LiveServer
) -> None:
    """Create a key: it is shown once with a copy button, and works with the API."""
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    log_in(page)
    page.get_by_role("link", name="API keys").click()
    page.get_by_label("Name").fill("from the browser test")
    page.get_by_role("button", name="Create key").click()
    key = (page.locator("#new-key").text_content() or "").strip()
    assert key.startswith("wsa_")
    page.locator("[data-copy=new-key]").click()
    expect(page.locator("[data-copy=new-key]")).to_have_text("Copied")
    assert page.evaluate("navigator.clipboard.readText()") == key

    answer = httpx.get(
        f"{live.url}/api/whatsapp/sessions/", headers={"Authorization": f"Bearer {key}"}
    )
    assert answer.status_code == 200, answer.text

    page.goto("/dashboard/keys")
    row = page.locator(f"tr[data-key-prefix='{key[:12]}']")
    expect(row).to_contain_text("from the browser test")
    assert key not in page.content(), "the key is never shown again"


def test_language_follows_the_browser_and_the_switch(browser: Browser, live: LiveServer) -> None:
    """A French browser gets French; the switch changes it and the choice sticks."""
    context = browser.new_context(base_url=live.url, locale="fr-FR")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        page = context.new_page()
        page.goto("/dashboard/login")
        expect(page.locator("html")).to_have_attribute("lang", "fr")
        expect(page.locator("h1")).to_have_text("Connexion")
        page.get_by_label("E-mail").fill(ADMIN_EMAIL)
        page.get_by_label("Mot de passe").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.get_by_role("link", name="Clés API")).to_be_visible()

        page.locator("button[data-lang=en]").click()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(page.get_by_role("link", name="API keys")).to_be_visible()
        page.goto("/dashboard/usage")
        expect(page.locator("h1")).to_have_text("Usage and plan")
    finally:
        context.close()


DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def _api(live: LiveServer, method: str, path: str, body: object | None = None) -> object:
    answer = httpx.request(
        method,
        f"{live.url}{path}",
        headers={"Authorization": f"Bearer {live.admin_key}"},
        json=body,
        timeout=10,
    )
    assert answer.status_code < 300, answer.text
    return answer.json()


def test_main_pages_fit_desktop_and_phone_screens(browser: Browser, live: LiveServer) -> None:
    """Every main page renders without sideways scrolling at 1280 and 390 px wide (and
    becomes a screenshot in docs/ when SENDMAKO_SCREENSHOTS is set)."""
    linked = _api(live, "POST", "/api/whatsapp/sessions/", {"session_name": "Ventes"})
    waiting = _api(live, "POST", "/api/whatsapp/sessions/", {"session_name": "Support"})
    assert isinstance(linked, dict)
    assert isinstance(waiting, dict)
    for created in (linked, waiting):
        path = f"/api/whatsapp/sessions/{created['session_id']}?wait_for=qr_ready&timeout=10"
        _api(live, "GET", path)
    _api(
        live,
        "POST",
        f"/api/sandbox/sessions/{linked['session_id']}/scan",
        {"phone_number": "22241857975", "push_name": "Ventes"},
    )
    _api(live, "POST", "/api/keys", {"name": "production"})
    target = screenshots_dir()
    pages = [
        ("sessions", "/dashboard/sessions", True),
        ("session-qr", f"/dashboard/sessions/{waiting['session_id']}", True),
        ("keys", "/dashboard/keys", True),
        ("usage", "/dashboard/usage", False),
        ("sandbox", "/dashboard/sandbox", True),
        ("admin-users", "/dashboard/admin/users", False),
        ("admin-plans", "/dashboard/admin/plans", False),
    ]
    for device, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(
            base_url=live.url, locale="en-US", viewport=viewport, is_mobile=device == "phone"
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            page.goto("/dashboard/login")
            _fits(page, device, "login")
            if target is not None:
                page.screenshot(path=target / f"{device}-login.png")
            log_in(page)
            for name, path, on_phone in pages:
                page.goto(path)
                expect(page.locator("main h1").first).to_be_visible()
                _fits(page, device, name)
                if target is not None and (device == "desktop" or on_phone):
                    page.screenshot(path=target / f"{device}-{name}.png", full_page=True)
            # Pages that show a secret once, right after the form that made it.
            page.goto("/dashboard/keys")
            page.get_by_label("Name").fill(f"{device} app")
            page.get_by_role("button", name="Create key").click()
            expect(page.locator("[data-test=new-key]")).to_be_visible()
            _fits(page, device, "new key")
            if target is not None:
                page.screenshot(path=target / f"{device}-keys-new.png", full_page=True)
            page.goto("/dashboard/admin/users")
            page.locator("#f-email").fill(f"fatou.{device}@example.com")
            page.locator("#f-plan").select_option("pro")
            page.get_by_role("button", name="Create user").click()
            expect(page.locator("[data-test=user-created]")).to_be_visible()
            _fits(page, device, "user created")
            if target is not None and device == "desktop":
                page.screenshot(path=target / f"{device}-admin-user-created.png", full_page=True)
        finally:
            context.close()
    french = browser.new_context(base_url=live.url, locale="fr-FR", viewport=DESKTOP)
    french.set_default_timeout(TIMEOUT_MS)
    try:
        page = french.new_page()
        page.goto("/dashboard/login")
        page.get_by_label("E-mail").fill(ADMIN_EMAIL)
        page.get_by_label("Mot de passe").fill(ADMIN_PASSWORD)
        page.get_by_role("button", name="Se connecter").click()
        expect(page.locator("main h1")).to_have_text("Sessions")
        if target is not None:
            page.screenshot(path=target / "desktop-fr-sessions.png", full_page=True)
        page.goto(f"/dashboard/sessions/{waiting['session_id']}")
        expect(page.locator("main h2").first).to_have_text("Scannez ce QR code avec WhatsApp")
        if target is not None:
            page.screenshot(path=target / "desktop-fr-session-qr.png", full_page=True)
    finally:
        french.close()


def _fits(page: Page, device: str, name: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on {device}"
