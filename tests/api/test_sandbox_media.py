"""Sandbox media are encrypted exactly as WhatsApp does: a message.received event's
data.media, forwarded as it is to /api/decrypt-media, gives back the original bytes."""

from __future__ import annotations

import base64
import hashlib

import pytest

from sendmako.media import audio
from tests import media_samples
from tests.harness import Account, Server, connect_sandbox
from tests.recording import EventLog


@pytest.fixture
async def events(server: Server) -> EventLog:
    log = EventLog()
    server.sessions.recorders.append(log)
    return log


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


async def decrypt(account: Account, media: dict[str, object]) -> bytes:
    answer = await account.client.post("/api/decrypt-media", json=media)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith(str(media["mimetype"]).split(";")[0])
    assert int(answer.headers["content-length"]) == len(answer.content)
    return answer.content


@pytest.mark.parametrize(
    ("kind", "data", "extra", "wa_type"),
    [
        ("image", media_samples.png(40, 30), {"caption": "photo"}, "imageMessage"),
        ("video", media_samples.mp4(), {}, "videoMessage"),
        ("audio", media_samples.tone("mp3", "libmp3lame"), {}, "audioMessage"),
        ("document", b"%PDF-1.4 facture", {"filename": "facture.pdf"}, "documentMessage"),
        ("sticker", media_samples.webp(), {}, "stickerMessage"),
    ],
)
async def test_injected_media_decrypt_to_the_original_bytes(
    server: Server,
    alice: Account,
    events: EventLog,
    kind: str,
    data: bytes,
    extra: dict[str, object],
    wa_type: str,
) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": "221781234567", "type": kind, f"{kind}Base64": b64(data), **extra},
    )
    assert answer.status_code == 200, answer.text
    (event,) = events.named("message.received", session_id)
    assert event.data["type"] == wa_type
    media = event.data["media"]
    assert isinstance(media, dict)
    assert media["mediaType"] == kind
    assert media["fileSize"] == str(len(data))
    assert media["fileSha256"] == b64(hashlib.sha256(data).digest())
    assert await decrypt(alice, media) == data


async def test_a_voice_note_from_wav_arrives_as_ogg_opus(
    server: Server, alice: Account, bob: Account, events: EventLog
) -> None:
    """Alice sends a WAV as a voice note; Bob receives OGG/Opus with its duration."""
    await connect_sandbox(server, alice, "22241857975")
    bobs = await connect_sandbox(server, bob, "221781234567")
    wav = media_samples.tone("wav", "pcm_s16le", seconds=2.0)
    answer = await alice.client.post(
        "/api/send-message",
        json={"to": "221781234567", "type": "audio", "audioBase64": b64(wav), "voiceNote": True},
    )
    assert answer.status_code == 200, answer.text
    await events.wait_for(lambda log: bool(log.named("message.received", bobs)))
    (event,) = events.named("message.received", bobs)
    media = event.data["media"]
    assert isinstance(media, dict)
    assert media["mimetype"] == "audio/ogg; codecs=opus"
    assert media["duration"] == 2
    assert media["voiceNote"] is True
    info = audio.probe(await decrypt(bob, media), field="x")
    assert (info.is_ogg_opus, info.channels, info.seconds) == (True, 1, 2)


async def test_media_urls_need_no_api_key_but_an_exact_token(
    server: Server, alice: Account, events: EventLog
) -> None:
    session_id = await connect_sandbox(server, alice, "22241857975")
    await alice.client.post(
        f"/api/sandbox/sessions/{session_id}/inbound",
        json={"from": "221781234567", "type": "image", "imageBase64": b64(media_samples.png())},
    )
    (event,) = events.named("message.received", session_id)
    media = event.data["media"]
    assert isinstance(media, dict)
    anonymous = server.client()
    path = str(media["directPath"])
    encrypted = await anonymous.get(path)
    assert encrypted.status_code == 200
    assert hashlib.sha256(encrypted.content).digest() == base64.b64decode(
        str(media["fileEncSha256"])
    )
    assert (await anonymous.get(path[:-1] + ("A" if path[-1] != "A" else "B"))).status_code == 404
    assert (await anonymous.get("/media/sandbox/..%2F..%2Fsendmako.db")).status_code == 404
