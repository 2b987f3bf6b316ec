"""Bad input that once answered 500: image bytes that Pillow chokes on with errors other than
"cannot identify", and URLs whose host is not valid IDNA, not a valid name or address, or
whose port does not exist. Each is a 400 naming the field."""

from __future__ import annotations

import base64

import pytest

from tests.harness import Account, Server, connect_sandbox

# PNGs damaged by a mutation run, each making Pillow raise something else than
# UnidentifiedImageError (ValueError, SyntaxError).
DAMAGED_PNGS = [
    # SyntaxError: broken PNG file (chunk b'\x000\x9c\xfa')
    "iVBORw0KGgoAAAANSUhEUgAAACgAAAAeCAIAAADRv8uKAAAAAUlEQVR4nO3NMQEAAAQAMJz6hxJLBZ9nK7Cc7vhQL6tYLBaLxWKxWBAWi08W5uMBGPa2QY4AAAAASUVORK5CYII=",
    # SyntaxError: broken PNG file (chunk b'\xf8P/\xab')
    "iVBORw0KGgoAAAANSUhEUgAAACgAAAAeCAIAAADRv8uKAAAAD0lEQVR4nO3NMQEAAAQAMJz6hxJLBZ9nK7Cc7vhQL6tYLBaLxWKxWCwWi08W5uMBGPa2QY4AAAAASUVORK5CYII=",
    # ValueError: Truncated IHDR chunk
    "iVBORw0KGgoAAAAESUhEUgAAACgAAAAeCAIAAADRv8uKAAAALElEQVR4nO3NMQEAAAQAMJz6hxJLBZ9nK7Cc7vhQL6tYLBaLxWKxWCwWi08W5uMBGPa2QY4AAAAASUVORK5CYII=",
    # ValueError: tile cannot extend outside image
    "R0lGODdhKAAeAIEAAMgKCgAAnAAAAAAAACwAAAAAAAAeAEAIOgABCBxIsKDBgwgToVzIsKHDhxAjSpxIsaLFixgzatzIsaPHjyBDihxJsqTJkyhTqlzJsqXLlzBJBgQAOw==",
]
BAD_HOSTS = [
    "https://xn--/f.enc",
    "https://xn--zz-.whatsapp.net/f",
    "https://mmg.whatsapp.net:99999/f",
    "https://[/f",
    "https://mmg.what sapp.net/f",
]


@pytest.mark.parametrize("image", DAMAGED_PNGS)
async def test_a_damaged_image_is_a_400_naming_the_field(
    server: Server, alice: Account, image: str
) -> None:
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        "/api/send-message", json={"to": "221781234567", "type": "image", "imageBase64": image}
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["message"].startswith("imageBase64: ")


@pytest.mark.parametrize("url", BAD_HOSTS)
async def test_a_host_that_is_not_valid_idna_is_a_400_everywhere_a_url_is_taken(
    server: Server, alice: Account, url: str
) -> None:
    await connect_sandbox(server, alice, "22241857975")
    sent = await alice.client.post(
        "/api/send-message", json={"to": "221781234567", "type": "image", "imageUrl": url}
    )
    hooked = await alice.client.post("/api/webhooks", json={"url": url})
    key = base64.b64encode(b"k" * 32).decode()
    decrypted = await alice.client.post(
        "/api/decrypt-media",
        json={"url": url, "mediaKey": key, "mimetype": "image/jpeg", "fileEncSha256": key},
    )
    for answer, field in ((sent, "imageUrl"), (hooked, "url"), (decrypted, "url")):
        assert answer.status_code == 400, answer.text
        assert answer.json()["message"].startswith(f"{field}: "), answer.text
