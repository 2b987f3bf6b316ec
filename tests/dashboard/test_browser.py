"""The dashboard in real headless Chromium against a real server process: log in, link a
sandbox number by "scanning" from the sandbox page, create an API key and use it, watch a
webhook's deliveries reach a real receiver (a test event, then a message made to arrive
from the sandbox page), switch language."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.contract.live import LiveServer
from tests.dashboard.conftest import ADMIN_EMAIL, ADMIN_PASSWORD, screenshots_dir
from tests.receiver import Received, receiver

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


def test_a_webhook_receives_a_test_event_and_a_message_from_the_sandbox(
    context: BrowserContext, live: LiveServer
) -> None:
    """Add a webhook pointing at a receiver on loopback, send a test event and see its 200 in
    the delivery log; make a text arrive from the sandbox page: the receiver gets its
    message.received and the webhook page, left open, shows it delivered by itself."""
    session_id = _linked_session(live, "Accueil", "22236123456")
    with receiver() as (url, received):
        page = context.new_page()
        log_in(page)
        page.get_by_role("link", name="Webhooks").click()
        page.get_by_label("URL", exact=True).fill(url)
        page.get_by_label("message.received").check()
        page.locator(f"input[name=session_ids][value={session_id}]").check()
        page.get_by_role("button", name="Add webhook").click()
        expect(page.locator(".flash")).to_contain_text("Webhook added.")

        page.get_by_role("button", name="Send a test event").click()
        expect(page.locator(".flash")).to_contain_text("Test event delivered: HTTP 200 in")
        test = page.locator("li.delivery[data-event='webhook.test']")
        expect(test.locator("[data-status]")).to_have_attribute("data-status", "succeeded")
        expect(test.locator("[data-status-code]")).to_have_text("HTTP 200")
        expect(test.locator(".excerpt")).to_have_text("ok")
        assert [d.event for d in received.deliveries] == ["webhook.test"]

        phone = context.new_page()
        phone.goto("/dashboard/sandbox")
        card = phone.locator(".phone", has_text="Accueil")
        card.get_by_text("Receive a message").click()
        card.get_by_label("From (phone number)").fill("+221 78 123 45 67")
        card.get_by_label("Sender's name (optional)").fill("Aminata Sow")
        expect(card.get_by_label("Latitude")).to_be_hidden()  # a text needs no location
        card.get_by_label("Text, or the caption").fill("Bonjour depuis le navigateur")
        card.get_by_role("button", name="Receive this message").click()
        expect(phone.locator(".flash")).to_contain_text("a message from +221781234567 arrived")

        received.wait_until(lambda r: _got(r, "message.received"), timeout=10)
        (body,) = [d.body for d in received.deliveries if d.event == "message.received"]
        assert body["session_id"] == session_id
        assert body["data"] == {
            **body["data"],  # type: ignore[dict-item]
            "from": "221781234567",
            "sender_name": "Aminata Sow",
            "body": "Bonjour depuis le navigateur",
        }
        message = page.locator("li.delivery[data-event='message.received']")
        expect(message.locator("[data-status]")).to_have_attribute("data-status", "succeeded")
        expect(message.locator("[data-status-code]")).to_have_text("HTTP 200")

        page.get_by_role("link", name="Delete").click()
        page.get_by_role("button", name="Delete").click()
        expect(page.locator(".flash")).to_contain_text(f"Webhook {url} deleted.")


def _got(received: Received, event: str) -> bool:
    return any(d.event == event for d in received.deliveries)


def _linked_session(live: LiveServer, name: str, phone: str) -> str:
    """A sandbox session of the admin, created and scanned through the API."""
    created = _api(live, "POST", "/api/whatsapp/sessions/", {"session_name": name})
    assert isinstance(created, dict)
    session_id = str(created["session_id"])
    _api(live, "GET", f"/api/whatsapp/sessions/{session_id}?wait_for=qr_ready&timeout=10")
    _api(
        live,
        "POST",
        f"/api/sandbox/sessions/{session_id}/scan",
        {"phone_number": phone, "push_name": name},
    )
    return session_id


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


@pytest.fixture
def hook_receiver() -> Iterator[tuple[str, Received]]:
    with receiver() as started:
        yield started


def test_main_pages_fit_desktop_and_phone_screens(
    browser: Browser, live: LiveServer, hook_receiver: tuple[str, Received]
) -> None:
    """Every main page renders without sideways scrolling at 1280 and 390 px wide (and
    becomes a screenshot in docs/ when SENDMAKO_SCREENSHOTS is set)."""
    linked = _linked_session(live, "Ventes", "22241857975")
    waiting = _api(live, "POST", "/api/whatsapp/sessions/", {"session_name": "Support"})
    assert isinstance(waiting, dict)
    _api(
        live, "GET", f"/api/whatsapp/sessions/{waiting['session_id']}?wait_for=qr_ready&timeout=10"
    )
    hook_id = _webhook_with_deliveries(live, *hook_receiver, linked)
    for text in ("Bonjour !", "Votre commande est partie."):
        message = {"to": "221781234567", "type": "text", "text": text, "session_id": linked}
        _api(live, "POST", "/api/send-message", message)  # counted on the usage page
    _api(live, "POST", "/api/keys", {"name": "production"})
    target = screenshots_dir()
    pages = [
        ("sessions", "/dashboard/sessions", True),
        ("session-qr", f"/dashboard/sessions/{waiting['session_id']}", True),
        ("keys", "/dashboard/keys", True),
        ("usage", "/dashboard/usage", False),
        ("sandbox", "/dashboard/sandbox", True),
        ("webhooks", "/dashboard/webhooks", True),
        ("webhook-log", f"/dashboard/webhooks/{hook_id}", True),
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
                _settled(page, name)
                _fits(page, device, name)
                if target is not None and (device == "desktop" or on_phone):
                    page.screenshot(path=target / f"{device}-{name}.png", full_page=True)
            # The sandbox's incoming message form, opened.
            page.goto("/dashboard/sandbox")
            card = page.locator(".phone", has_text="Ventes")
            card.get_by_text("Receive a message").click()
            expect(card.get_by_role("button", name="Receive this message")).to_be_visible()
            _fits(page, device, "sandbox inbound")
            if target is not None:
                page.screenshot(path=target / f"{device}-sandbox-inbound.png", full_page=True)
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


def _settled(page: Page, name: str) -> None:
    """Waits until the page `name` shows what its screenshot is for."""
    if name == "webhook-log":  # the page reloads itself until both are delivered
        expect(page.locator("li.delivery [data-status=succeeded]")).to_have_count(2)
    elif name == "usage":
        expect(page.locator("[data-meter=messages_today]")).to_contain_text("2 /")


def _webhook_with_deliveries(live: LiveServer, url: str, received: Received, session: str) -> int:
    """A webhook to `url` whose log shows a test event and a message received on `session`,
    beside a paused one; its id."""
    created = _api(
        live,
        "POST",
        "/api/webhooks",
        {
            "url": url,
            # Not message.status: the receipts of the messages sent for the usage page
            # would arrive while the screenshots are taken.
            "events": ["message.received", "session.disconnected"],
            "session_ids": [session],
            "description": "CRM",
        },
    )
    assert isinstance(created, dict)
    hook_id = int(created["webhook"]["id"])
    paused = {"url": "http://127.0.0.1:9/archive", "enabled": False, "description": "Archive"}
    _api(live, "POST", "/api/webhooks", paused)
    _api(live, "POST", f"/api/webhooks/{hook_id}/test")
    _api(
        live,
        "POST",
        f"/api/sandbox/sessions/{session}/inbound",
        {"from": "221781234567", "from_name": "Aminata Sow", "type": "text", "text": "Bonjour !"},
    )
    received.wait_until(lambda r: _got(r, "message.received"), timeout=10)
    return hook_id


def _fits(page: Page, device: str, name: str) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on {device}"


def test_the_send_policy_is_changed_on_the_session_page(
    context: BrowserContext, live: LiveServer
) -> None:
    """The policy's form shows the session's values, a refused value is named at its field,
    a saved one is what the API answers."""
    session_id = _linked_session(live, "Campagnes", "22236123457")
    page = context.new_page()
    log_in(page)
    page.goto(f"/dashboard/sessions/{session_id}")
    policy = page.locator("[data-test=send-policy]")
    expect(policy.get_by_role("heading")).to_have_text("Sending safely")
    policy.get_by_label("Messages per hour").fill("beaucoup")
    policy.get_by_role("button", name="Save the policy").click()
    expect(page.locator("#per_hour-error")).to_contain_text("a whole number")
    policy.get_by_label("Messages per hour").fill("45")
    policy.get_by_label("Typing").uncheck()
    policy.get_by_role("button", name="Save the policy").click()
    expect(page.locator(".flash")).to_contain_text("Send policy saved.")
    expect(policy.get_by_label("Messages per hour")).to_have_value("45")
    view = _api(live, "GET", f"/api/whatsapp/sessions/{session_id}")
    assert isinstance(view, dict)
    assert view["send_policy"]["per_hour"] == 45
    assert view["send_policy"]["typing"] is False
