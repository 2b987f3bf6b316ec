"""The Chats page of a session: the chat list (search, unread badges), a conversation
(bubbles, ticks, reactions, edited and deleted marks, replies with their quote, media
decrypted through the server), the composer (text, reaction, file), marking read, the
live token that tells the page something changed, in English and French, and only for
the session's owner."""

from __future__ import annotations

import base64
import re
from urllib.parse import quote

import pytest

from tests import media_samples
from tests.dashboard.client import Dashboard, member
from tests.harness import Account, Server, connect_sandbox

ME, BOB, CAROL = "22241857975", "221781234567", "237691234567"
GROUP = "120363025246125244@g.us"


async def alice(server: Server) -> tuple[Account, Dashboard, str]:
    account, dashboard = await member(server, "alice@example.com")
    session_id = await connect_sandbox(server, account, ME)
    return account, dashboard, session_id


async def arrive(account: Account, session_id: str, **body: object) -> str:
    answer = await account.client.post(f"/api/sandbox/sessions/{session_id}/inbound", json=body)
    assert answer.status_code == 200, answer.text
    message_id: str = answer.json()["message_id"]
    return message_id


def chats_path(session_id: str) -> str:
    return f"/dashboard/sessions/{session_id}/chats"


async def test_the_list_shows_chats_with_unread_badges_and_searches(server: Server) -> None:
    account, dashboard, session_id = await alice(server)
    await arrive(
        account, session_id, **{"from": BOB, "type": "text", "text": "Salut", "from_name": "Bob"}
    )
    await arrive(
        account, session_id, **{"from": BOB, "type": "text", "text": "Ça va ?", "from_name": "Bob"}
    )
    await arrive(account, session_id, **{"from": CAROL, "type": "text", "text": "Bonjour"})
    page = await dashboard.get(chats_path(session_id))
    assert page.status == 200
    assert re.findall(r'data-unread="(\d+)"', page.response.text) == ["1", "2"]
    assert page.text.index("+" + CAROL) < page.text.index("Bob")
    found = await dashboard.get(chats_path(session_id), q="bob")
    assert "Bob" in found.text
    assert CAROL not in found.text
    by_number = await dashboard.get(chats_path(session_id), q="+237 69")
    assert CAROL in by_number.text
    assert "Bob" not in by_number.text
    nothing = await dashboard.get(chats_path(session_id), q="zzz")
    assert "No chat matches this search." in nothing.text


async def test_the_session_page_links_to_its_chats(server: Server) -> None:
    _, dashboard, session_id = await alice(server)
    page = await dashboard.get(f"/dashboard/sessions/{session_id}")
    assert f'href="{chats_path(session_id)}"' in page.response.text


async def test_a_conversation_shows_ticks_reactions_edits_deletions_and_quotes(
    server: Server,
) -> None:
    """Bob writes, Alice answers quoting him (ticks), Bob reacts to it, edits his message
    and deletes another: the conversation shows each."""
    account, dashboard, session_id = await alice(server)
    first = await arrive(account, session_id, **{"from": BOB, "type": "text", "text": "RDV à 10 h"})
    gone = await arrive(account, session_id, **{"from": BOB, "type": "text", "text": "oups"})
    answer = await account.client.post(
        "/api/send-message",
        json={"to": BOB, "type": "text", "text": "D'accord", "quoted_message_id": first},
    )
    mine = answer.json()["message_id"]
    for event in (
        {"event": "reaction", "from": BOB, "message_id": mine, "emoji": "👍"},
        {"event": "edit", "from": BOB, "message_id": first, "text": "RDV à 11 h"},
        {"event": "revoke", "from": BOB, "message_id": gone},
    ):
        done = await account.client.post(f"/api/sandbox/sessions/{session_id}/happen", json=event)
        assert done.status_code == 200, done.text
    page = await dashboard.get(chats_path(session_id), chat=BOB)
    html = page.response.text
    bubble = html[html.index(f'data-message-id="{mine}"') :]
    assert "data-quote>RDV à 11 h</blockquote>" in bubble.split("</li>")[0]
    assert 'data-status="read"' in bubble.split("</li>")[0]  # the sandbox reads at once here
    assert "👍" in bubble.split("</li>")[0]
    edited = html[html.index(f'data-message-id="{first}"') :].split("</li>")[0]
    assert 'data-test="edited"' in edited
    assert "RDV à 11 h" in edited
    deleted = html[html.index(f'data-message-id="{gone}"') :].split("</li>")[0]
    assert 'data-test="deleted"' in deleted
    # Oldest at the top, as a conversation reads.
    assert html.index(f'data-message-id="{first}"') < html.index(f'data-message-id="{mine}"')


async def test_an_image_is_shown_inline_decrypted_through_the_server(server: Server) -> None:
    account, dashboard, session_id = await alice(server)
    png = media_samples.png()
    message_id = await arrive(
        account,
        session_id,
        **{
            "from": BOB,
            "type": "image",
            "imageBase64": base64.b64encode(png).decode(),
            "caption": "photo",
        },
    )
    page = await dashboard.get(chats_path(session_id), chat=BOB)
    src = re.search(r'<img class="media" src="([^"]+)"', page.response.text)
    assert src is not None
    # Served by the dashboard itself: never WhatsApp's (or the sandbox's) URL and keys.
    assert src.group(1).startswith(f"/dashboard/sessions/{session_id}/chats/")
    image = await dashboard.http.get(src.group(1).replace("&amp;", "&"))
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/png"
    assert image.content == png
    assert message_id in src.group(1)


async def test_the_composer_sends_text_a_reply_a_reaction_and_a_file(server: Server) -> None:
    account, dashboard, session_id = await alice(server)
    theirs = await arrive(account, session_id, **{"from": BOB, "type": "text", "text": "Prix ?"})
    page = await dashboard.get(chats_path(session_id), chat=BOB, reply=theirs)
    assert f'name="quoted_message_id" value="{theirs}"' in page.response.text
    path = f"{chats_path(session_id)}/{BOB}%40s.whatsapp.net"
    sent = await dashboard.post(f"{path}/send", {"text": "10 €", "quoted_message_id": theirs})
    assert sent.status == 303
    await dashboard.post(f"{path}/react", {"message_id": theirs, "emoji": "🙏"})
    png = media_samples.png()
    filed = await dashboard.post(
        f"{path}/send",
        {"text": "le catalogue"},
        files={"media": ("catalogue.png", png, "image/png")},
    )
    assert filed.status == 303
    listed = (await account.client.get(f"/api/chats/{BOB}/messages")).json()["messages"]
    picture, text, received = listed
    assert (picture["type"], picture["body"], picture["from_me"]) == ("image", "le catalogue", True)
    assert (text["body"], text["quoted_message_id"]) == ("10 €", theirs)
    assert received["reactions"] == [{"from": ME, "emoji": "🙏"}]
    shown = await dashboard.get(chats_path(session_id), chat=BOB)
    # A file we sent is named by its kind: only what it was is kept, never its bytes.
    sent_file = shown.response.text.split(f'data-message-id="{picture["message_id"]}"')[1]
    assert '<p class="file">📎 Photo</p>' in sent_file.split("</li>")[0]


async def test_an_empty_message_is_refused_naming_the_field(server: Server) -> None:
    account, dashboard, session_id = await alice(server)
    await arrive(account, session_id, **{"from": BOB, "type": "text", "text": "?"})
    refused = await dashboard.post(f"{chats_path(session_id)}/{BOB}/send", {"text": ""})
    assert refused.status == 400
    assert "Message: this field is required." in refused.text


async def test_mark_read_clears_the_badge(server: Server) -> None:
    account, dashboard, session_id = await alice(server)
    for text in ("un", "deux"):
        await arrive(account, session_id, **{"from": BOB, "type": "text", "text": text})
    page = await dashboard.get(chats_path(session_id), chat=BOB)
    assert 'data-test="mark-read"' in page.response.text
    done = await dashboard.post(
        f"{chats_path(session_id)}/{quote(BOB + '@s.whatsapp.net', safe='')}/read"
    )
    after = await dashboard.follow(done)
    assert "data-unread" not in after.response.text
    assert 'data-test="mark-read"' not in after.response.text


async def test_the_live_token_changes_when_a_message_arrives(server: Server) -> None:
    account, dashboard, session_id = await alice(server)
    await arrive(account, session_id, **{"from": BOB, "type": "text", "text": "un"})
    page = await dashboard.get(chats_path(session_id), chat=BOB)
    shown = re.search(r'data-token="([0-9a-f]+)"', page.response.text)
    assert shown is not None
    live = f"/dashboard/live/chats/{session_id}"
    same = (await dashboard.http.get(live, params={"chat": BOB})).json()["token"]
    assert same == shown.group(1)
    await arrive(account, session_id, **{"from": BOB, "type": "text", "text": "deux"})
    moved = (await dashboard.http.get(live, params={"chat": BOB})).json()["token"]
    assert moved != same


async def test_a_group_conversation_names_each_author(server: Server) -> None:
    account, dashboard, session_id = await alice(server)
    await arrive(
        account,
        session_id,
        **{"from": BOB, "type": "text", "text": "hi", "group_id": GROUP, "from_name": "Bob"},
    )
    page = await dashboard.get(chats_path(session_id), chat=GROUP)
    assert '<p class="author">Bob</p>' in page.response.text


async def test_the_page_speaks_french(server: Server) -> None:
    account, _ = await member(server, "fatou@example.com")
    session_id = await connect_sandbox(server, account, "22241000009")
    french = Dashboard(server, language="fr")
    from tests.dashboard.client import PASSWORD

    await french.login("fatou@example.com", PASSWORD)
    await arrive(account, session_id, **{"from": BOB, "type": "text", "text": "Salut"})
    page = await french.get(chats_path(session_id), chat=BOB)
    assert "Discussions" in page.text
    assert "Rechercher un nom ou un numéro" in page.text
    assert "Marquer comme lu" in page.text


@pytest.mark.parametrize("path", ["/chats", "/chats/{bob}/media/X"])
async def test_another_users_session_is_not_found(server: Server, path: str) -> None:
    account, _, session_id = await alice(server)
    await arrive(account, session_id, **{"from": BOB, "type": "text", "text": "secret"})
    _, mallory = await member(server, "mallory@example.com")
    page = await mallory.get(f"/dashboard/sessions/{session_id}" + path.format(bob=BOB))
    assert page.status == 404
    assert "secret" not in page.text
    live = await mallory.http.get(f"/dashboard/live/chats/{session_id}")
    assert live.status_code == 404
