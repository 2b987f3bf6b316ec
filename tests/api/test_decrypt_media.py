"""`POST /api/decrypt-media`: files encrypted by media/crypto.py, served by a real HTTP server
on 127.0.0.1 (allowed by settings), come back byte for byte; anything unverifiable is a 422
that names the failed check, never a 200."""

from __future__ import annotations

import base64
import hashlib
import os
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from sendmako.media.crypto import EncryptedMedia, MediaType, encrypt
from sendmako.model.messages import MediaPayload, MessageType
from sendmako.settings import DEFAULT_MEDIA_HOSTS, Settings
from tests.harness import Account, Server, running
from tests.media.files import jpeg_bytes
from tests.media.origin import Origin

DECRYPT = "/api/decrypt-media"


@pytest.fixture
async def origin() -> AsyncIterator[Origin]:
    server = Origin()
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The suite's settings, with plain http from 127.0.0.1 added to the media hosts."""
    return settings.model_copy(update={"media_hosts": [*DEFAULT_MEDIA_HOSTS, "http://127.0.0.1"]})


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def body_for(media: EncryptedMedia, url: str, mimetype: str, **extra: Any) -> dict[str, Any]:
    return {
        "url": url,
        "mediaKey": b64(media.media_key),
        "mimetype": mimetype,
        "fileEncSha256": b64(media.file_enc_sha256),
        **extra,
    }


def assert_failed(answer: httpx.Response, status: int) -> dict[str, Any]:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/json"
    body: dict[str, Any] = answer.json()
    assert body["success"] is False
    return body


@pytest.mark.parametrize("size", [0, 1000, 3 * 1024 * 1024 + 5])
async def test_round_trip_returns_the_exact_file(
    size: int, origin: Origin, alice: Account, server: Server
) -> None:
    """Encrypted by crypto.py, served from 127.0.0.1, decrypted to the same SHA-256, with
    Content-Type and Content-Length (small files spool in memory, big ones on disk)."""
    plaintext = os.urandom(size)
    media = encrypt(plaintext, MediaType.VIDEO)
    url = origin.file("/v/t62/clip.enc", media.file)
    answer = await alice.client.post(
        DECRYPT, json=body_for(media, url, "video/mp4", mediaType="video")
    )
    assert answer.status_code == 200, answer.text
    assert hashlib.sha256(answer.content).digest() == media.file_sha256
    assert answer.headers["content-type"] == "video/mp4"
    assert answer.headers["content-length"] == str(size)
    assert list((server.settings.data_dir / "spool").iterdir()) == []


async def test_forwarded_webhook_media_with_url_safe_keys_works(
    origin: Origin, alice: Account
) -> None:
    """A webhook's data.media as is (extra fields, fileSize as a string, URL-safe unpadded
    base64, every optional check given) decrypts."""
    photo = jpeg_bytes()
    media = encrypt(photo, MediaType.IMAGE)
    url = origin.file("/img.enc", media.file)
    answer = await alice.client.post(
        DECRYPT,
        json={
            "url": url,
            "directPath": "/img.enc",
            "mediaKey": base64.urlsafe_b64encode(media.media_key).decode().rstrip("="),
            "mimetype": "image/jpeg",
            "fileEncSha256": base64.urlsafe_b64encode(media.file_enc_sha256).decode(),
            "fileSha256": b64(media.file_sha256),
            "fileSize": str(len(photo)),
            "width": 8,
            "height": 6,
            "mediaType": "image",
        },
    )
    assert answer.status_code == 200, answer.text
    assert answer.content == photo


async def test_a_document_keyed_jpeg_decrypts_with_and_without_media_type(
    origin: Origin, alice: Account
) -> None:
    """A photo sent as a document: mediaType document works; without mediaType the MAC
    finds the document keys; mediaType image (wrong) is a 422 MAC failure."""
    photo = jpeg_bytes()
    media = encrypt(photo, MediaType.DOCUMENT)
    url = origin.file("/doc.enc", media.file)
    with_type = await alice.client.post(
        DECRYPT, json=body_for(media, url, "image/jpeg", mediaType="document")
    )
    without_type = await alice.client.post(DECRYPT, json=body_for(media, url, "image/jpeg"))
    wrong_type = await alice.client.post(
        DECRYPT, json=body_for(media, url, "image/jpeg", mediaType="image")
    )
    assert with_type.content == photo
    assert without_type.content == photo
    assert without_type.headers["content-type"] == "image/jpeg"
    assert assert_failed(wrong_type, 422)["code"] == "media_mac_mismatch"


async def test_a_tampered_file_is_a_422_naming_the_mac(origin: Origin, alice: Account) -> None:
    """One flipped bit, with a fileEncSha256 that matches the tampered file: MAC check failed."""
    media = encrypt(os.urandom(5000), MediaType.AUDIO)
    tampered = bytearray(media.file)
    tampered[100] ^= 0x04
    url = origin.file("/a.enc", bytes(tampered))
    answer = await alice.client.post(
        DECRYPT,
        json=body_for(
            media,
            url,
            "audio/ogg; codecs=opus",
            fileEncSha256=b64(hashlib.sha256(tampered).digest()),
        ),
    )
    body = assert_failed(answer, 422)
    assert body["message"].startswith("MAC check failed")
    assert "audio, image, video, document keys" in body["message"]


async def test_a_wrong_file_enc_sha256_is_a_422_naming_it(origin: Origin, alice: Account) -> None:
    """The downloaded file is not the one described."""
    media = encrypt(b"x" * 100, MediaType.IMAGE)
    url = origin.file("/i.enc", media.file)
    answer = await alice.client.post(
        DECRYPT, json=body_for(media, url, "image/png", fileEncSha256=b64(bytes(32)))
    )
    assert assert_failed(answer, 422)["message"].startswith("fileEncSha256 check failed")


async def test_a_truncated_download_is_a_422_naming_the_length(
    origin: Origin, alice: Account
) -> None:
    """A file missing its last bytes fails the length check."""
    media = encrypt(b"y" * 100, MediaType.IMAGE)
    url = origin.file("/t.enc", media.file[:-3])
    answer = await alice.client.post(DECRYPT, json=body_for(media, url, "image/png"))
    assert assert_failed(answer, 422)["message"].startswith("length check failed")


async def test_a_wrong_file_length_fails_before_the_download(
    origin: Origin, alice: Account
) -> None:
    """A Content-Length that cannot hold fileLength is refused from the headers alone."""
    media = encrypt(b"z" * 100, MediaType.DOCUMENT)
    url = origin.file("/l.enc", media.file)
    answer = await alice.client.post(
        DECRYPT, json=body_for(media, url, "application/pdf", fileLength=5000)
    )
    assert assert_failed(answer, 422)["code"] == "media_length_mismatch"


async def test_a_wrong_file_sha256_is_a_422_naming_it(origin: Origin, alice: Account) -> None:
    """A given fileSha256 is checked before anything is sent."""
    media = encrypt(b"w" * 100, MediaType.DOCUMENT)
    url = origin.file("/s.enc", media.file)
    answer = await alice.client.post(
        DECRYPT, json=body_for(media, url, "application/pdf", fileSha256=b64(bytes(32)))
    )
    assert assert_failed(answer, 422)["message"].startswith("fileSha256 check failed")


async def test_an_upstream_error_is_a_422_naming_its_status(origin: Origin, alice: Account) -> None:
    """The media host answers 410: 422 naming HTTP 410."""
    media = encrypt(b"v", MediaType.IMAGE)
    url = origin.file("/expired.enc", b"", status=410)
    answer = await alice.client.post(DECRYPT, json=body_for(media, url, "image/jpeg"))
    assert assert_failed(answer, 422)["message"] == (
        "url: download failed: 127.0.0.1 answered HTTP 410."
    )


@pytest.mark.parametrize(
    "url",
    [
        "https://files.example.com/a.enc",
        "http://mmg.whatsapp.net/v/t62/a.enc",
        "https://mmg.whatsapp.net.evil.example/a.enc",
    ],
)
async def test_a_host_off_the_media_list_is_a_400(url: str, alice: Account) -> None:
    """Only WhatsApp's media hosts (https) and the operator's: 400 naming url, no fetch."""
    media = encrypt(b"u", MediaType.IMAGE)
    body = assert_failed(
        await alice.client.post(DECRYPT, json=body_for(media, url, "image/jpeg")), 400
    )
    assert body["field"] == "url"
    assert body["code"] == "host_not_allowed"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mediaKey": None}, "mediaKey"),
        ({"mediaKey": "not base64 at all!"}, "mediaKey"),
        ({"mediaKey": b64(bytes(16))}, "mediaKey"),
        ({"fileEncSha256": None}, "fileEncSha256"),
        ({"fileEncSha256": b64(bytes(31))}, "fileEncSha256"),
        ({"mimetype": None}, "mimetype"),
        ({"mimetype": "image/jpeg\r\nX-Evil: 1"}, "mimetype"),
        ({"mediaType": "gif"}, "mediaType"),
        ({"fileLength": "lots"}, "fileLength"),
        ({"url": None}, "url"),
        ({"url": None, "directPath": "v/t62/no-slash"}, "directPath"),
    ],
)
async def test_a_missing_or_malformed_field_is_a_400_naming_it(
    change: dict[str, Any], field: str, alice: Account
) -> None:
    """Each required field missing, or each field malformed, is named in the 400."""
    media = encrypt(b"t", MediaType.IMAGE)
    body = body_for(media, "https://mmg.whatsapp.net/v/t62/x.enc", "image/jpeg")
    for name, value in change.items():
        if value is None:
            body.pop(name)
        else:
            body[name] = value
    failed = assert_failed(await alice.client.post(DECRYPT, json=body), 400)
    assert failed["field"] == field
    assert failed["message"].startswith(f"{field}:")


def test_direct_path_builds_the_whatsapp_url() -> None:
    """Without url, directPath is appended to https://mmg.whatsapp.net."""
    from sendmako.api.schemas.media import DecryptMediaIn

    request = DecryptMediaIn.model_validate(
        {
            "directPath": "/v/t62.7118-24/abc.enc?ccb=11-4",
            "mediaKey": b64(bytes(32)),
            "mimetype": "image/jpeg",
            "fileEncSha256": b64(bytes(32)),
        }
    ).to_request()
    assert request.url == "https://mmg.whatsapp.net/v/t62.7118-24/abc.enc?ccb=11-4"
    assert request.field == "directPath"


async def test_decrypt_media_needs_an_api_key(server: Server) -> None:
    """Like every /api route: 401 without a key."""
    answer = await server.client().post(DECRYPT, json={})
    assert_failed(answer, 401)


async def test_the_sandbox_media_url_is_always_allowed(settings: Settings) -> None:
    """Our own public URL's /media/sandbox/ is fetched, in-process, even with no media host
    and no private address allowed and a public URL this machine cannot reach."""
    own = settings.model_copy(
        update={
            "allow_private_hosts": [],
            "media_hosts": list(DEFAULT_MEDIA_HOSTS),
            "public_url": "https://sendmako.invalid",
        }
    )
    async with running(own) as server:
        assert server.app is not None
        store = server.app.state.services.engines["sandbox"].media
        stored = await store.store(
            MediaPayload(data=b"sandbox photo", mimetype="image/jpeg"), MessageType.IMAGE
        )
        assert stored.url.startswith("https://sendmako.invalid/media/sandbox/")
        account = await server.account("carol@example.com")
        body = {
            "url": stored.url,
            "mediaKey": b64(stored.media_key),
            "mimetype": "image/jpeg",
            "fileEncSha256": b64(stored.file_enc_sha256),
        }
        answer = await account.client.post(DECRYPT, json=body)
        other = "https://sendmako.invalid/api/whatsapp/sessions"
        refused = await account.client.post(DECRYPT, json={**body, "url": other})
    assert answer.content == b"sandbox photo"
    assert assert_failed(refused, 400)["code"] == "host_not_allowed"
