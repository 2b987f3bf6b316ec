"""The inbox in real headless Chromium against a real server process: open a chat and read
a conversation with an image, a reaction and an edited message; answer and see the answer
appear; see a message from the sandbox arrive without a reload; fit desktop and phone
screens (screenshots in docs/ when SENDMAKO_SCREENSHOTS is set)."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests import media_samples
from tests.contract.live import LiveServer
from tests.dashboard.conftest import screenshots_dir
from tests.dashboard.test_browser import (
    DESKTOP,
    PHONE,
    TIMEOUT_MS,
    _api,
    _fits,
    _linked_session,
    log_in,
)

pytestmark = pytest.mark.slow

BOB = "221781234500"


@pytest.fixture
def context(browser: Browser, live: LiveServer) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=live.url, locale="en-US")
    context.set_default_timeout(TIMEOUT_MS)
    try:
        yield context
    finally:
        context.close()


def conversation(live: LiveServer, name: str, phone: str) -> tuple[str, str]:
    """A linked session where Bob sent a photo and a text he then edited, and where our
    answer got Bob's reaction: (session id, our answer's id)."""
    session_id = _linked_session(live, name, phone)
    inbound = f"/api/sandbox/sessions/{session_id}/inbound"
    photo = base64.b64encode(media_samples.png(320, 200)).decode()
    _api(
        live,
        "POST",
        inbound,
        {
            "from": BOB,
            "from_name": "Bob",
            "type": "image",
            "imageBase64": photo,
            "caption": "la vitrine",
        },
    )
    text = _api(
        live,
        "POST",
        inbound,
        {"from": BOB, "from_name": "Bob", "type": "text", "text": "Ouvert à 9 h ?"},
    )
    assert isinstance(text, dict)
    sent = _api(
        live,
        "POST",
        "/api/send-message",
        {
            "to": BOB,
            "type": "text",
            "text": "Oui, dès 9 h",
            "session_id": session_id,
            "quoted_message_id": text["message_id"],
        },
    )
    assert isinstance(sent, dict)
    happen = f"/api/sandbox/sessions/{session_id}/happen"
    _api(
        live,
        "POST",
        happen,
        {"event": "reaction", "from": BOB, "message_id": sent["message_id"], "emoji": "❤️"},
    )
    _api(
        live,
        "POST",
        happen,
        {"event": "edit", "from": BOB, "message_id": text["message_id"], "text": "Ouvert à 8 h ?"},
    )
    return session_id, str(sent["message_id"])


def open_chat(page: Page, session_id: str) -> None:
    page.goto(f"/dashboard/sessions/{session_id}")
    page.locator("[data-test=to-chats]").click()
    expect(page.locator("main h1")).to_contain_text("Chats")
    page.locator("[data-chat-list] a", has_text="Bob").click()
    expect(page.locator(".thread-head h2")).to_have_text("Bob")


def test_a_conversation_shows_an_image_a_reaction_and_an_edit(
    context: BrowserContext, live: LiveServer
) -> None:
    session_id, answer = conversation(live, "Vitrine", "22241850001")
    page = context.new_page()
    log_in(page)
    open_chat(page, session_id)
    image = page.locator(".bubble img.media")
    expect(image).to_be_visible()
    page.wait_for_function("document.querySelector('.bubble img.media').naturalWidth === 320")
    ours = page.locator(f'[data-message-id="{answer}"]')
    expect(ours.locator("[data-test=reactions]")).to_have_text("❤️")
    expect(ours.locator("[data-quote]")).to_have_text("Ouvert à 8 h ?")
    expect(ours.locator(".ticks")).to_have_attribute("data-status", re.compile("delivered|read"))
    edited = page.locator(".bubble.theirs", has_text="Ouvert à 8 h ?")
    expect(edited.locator("[data-test=edited]")).to_have_text("Edited")


def test_an_answer_appears_and_a_new_message_arrives_live(
    context: BrowserContext, live: LiveServer
) -> None:
    """Answer from the composer (replying to a message), then Bob writes: his message
    shows up in the open conversation without the page reloading."""
    session_id, _ = conversation(live, "Comptoir", "22241850002")
    page = context.new_page()
    log_in(page)
    open_chat(page, session_id)
    question = page.locator(".bubble.theirs", has_text="Ouvert à 8 h ?")
    question.locator("summary").click()
    question.get_by_role("link", name="Reply").click()
    expect(page.locator("[data-replying]")).to_contain_text("Ouvert à 8 h ?")
    page.get_by_placeholder("Message").fill("À 8 h, oui !")
    page.locator("[data-test=composer-send]").click()
    mine = page.locator(".bubble.mine", has_text="À 8 h, oui !")
    expect(mine).to_be_visible()
    expect(mine.locator("[data-quote]")).to_have_text("Ouvert à 8 h ?")

    page.evaluate("window.__stillHere = true")
    _api(
        live,
        "POST",
        f"/api/sandbox/sessions/{session_id}/inbound",
        {"from": BOB, "type": "text", "text": "Parfait, à demain"},
    )
    expect(page.locator(".bubble.theirs", has_text="Parfait, à demain")).to_be_visible()
    assert page.evaluate("window.__stillHere === true"), "the page reloaded"


def test_the_inbox_fits_desktop_and_phone_screens(browser: Browser, live: LiveServer) -> None:
    """The list and a conversation side by side on a desktop; one at a time on a phone,
    with a way back; no sideways scrolling."""
    session_id, _ = conversation(live, "Boutique", "22241850003")
    for n, name in enumerate(("Awa", "Moussa", "Fatou")):
        _api(
            live,
            "POST",
            f"/api/sandbox/sessions/{session_id}/inbound",
            {
                "from": f"22177000000{n}",
                "from_name": name,
                "type": "text",
                "text": f"Bonjour, c'est {name}",
            },
        )
    target = screenshots_dir()
    for device, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        context = browser.new_context(
            base_url=live.url, locale="en-US", viewport=viewport, is_mobile=device == "phone"
        )
        context.set_default_timeout(TIMEOUT_MS)
        try:
            page = context.new_page()
            log_in(page)
            page.goto(f"/dashboard/sessions/{session_id}/chats")
            expect(page.locator("[data-chat-list] [data-unread]").first).to_be_visible()
            _fits(page, device, "chats")
            if target is not None:
                page.screenshot(path=target / f"{device}-chats.png", full_page=True)
            page.locator("[data-chat-list] a", has_text="Bob").click()
            expect(page.locator(".bubble img.media")).to_be_visible()
            page.wait_for_function("document.querySelector('.bubble img.media').naturalWidth > 0")
            _fits(page, device, "conversation")
            list_shown = page.locator("[data-chat-list]").is_visible()
            assert list_shown == (device == "desktop")
            if device == "phone":
                expect(page.locator("[data-test=back]")).to_be_visible()
            if target is not None:
                page.screenshot(path=target / f"{device}-conversation.png", full_page=True)
        finally:
            context.close()
