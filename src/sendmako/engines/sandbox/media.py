"""The sandbox's media CDN: files of simulated messages, encrypted exactly as WhatsApp
encrypts them, stored under the data directory and served at SANDBOX_MEDIA_PATH. As on
WhatsApp's CDN, fetching needs no API key: the mediaKey (given only to the recipient)
protects the content, and names are unguessable."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from pathlib import Path

from sendmako.media import crypto
from sendmako.media.fetch import SANDBOX_MEDIA_PATH, sandbox_media_prefix
from sendmako.model.events import IncomingMedia
from sendmako.model.messages import MediaPayload, MessageType

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
# Simulated media are for demos and tests; a week is plenty.
KEEP_SECONDS = 7 * 24 * 3600


class SandboxMediaStore:
    def __init__(self, directory: Path, public_url: str) -> None:
        self.directory = directory
        self.prefix = sandbox_media_prefix(public_url)
        self._last_prune = 0.0

    async def store(
        self, payload: MediaPayload, kind: MessageType, *, voice_note: bool = False
    ) -> IncomingMedia:
        """Encrypt `payload` with a fresh mediaKey and publish it; the descriptor is what
        the recipient's message carries (and what /api/decrypt-media takes back)."""
        token = secrets.token_urlsafe(24)
        encrypted = await asyncio.to_thread(
            self._write, token, payload.data, crypto.MediaType(kind.value)
        )
        return IncomingMedia(
            media_type=kind.value,
            url=self.prefix + token,
            direct_path=SANDBOX_MEDIA_PATH + token,
            media_key=encrypted.media_key,
            file_enc_sha256=encrypted.file_enc_sha256,
            file_sha256=encrypted.file_sha256,
            file_length=encrypted.file_length,
            mimetype=payload.mimetype,
            width=payload.width,
            height=payload.height,
            duration=payload.seconds,
            filename=payload.filename if kind == MessageType.DOCUMENT else None,
            voice_note=voice_note,
        )

    async def publish(self, data: bytes) -> str:
        """Publish a file in the clear (a profile picture, public like WhatsApp's): its
        token."""
        token = secrets.token_urlsafe(24)
        await asyncio.to_thread(self._write_plain, token, data)
        return token

    def url_of(self, token: str) -> str:
        return self.prefix + token

    def path_of(self, token: str) -> Path | None:
        """The stored file for `token`, or None (also for anything that is not a token)."""
        if not _TOKEN.match(token):
            return None
        for suffix in (".enc", ".jpg"):
            path = self.directory / f"{token}{suffix}"
            if path.is_file():
                return path
        return None

    def _write_plain(self, token: str, data: bytes) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / f"{token}.jpg").write_bytes(data)

    def _write(
        self, token: str, data: bytes, media_type: crypto.MediaType
    ) -> crypto.EncryptedMedia:
        self.directory.mkdir(parents=True, exist_ok=True)
        encrypted = crypto.encrypt(data, media_type)
        (self.directory / f"{token}.enc").write_bytes(encrypted.file)
        self._prune()
        return encrypted

    def _prune(self) -> None:
        now = time.time()
        if now - self._last_prune < 3600:
            return
        self._last_prune = now
        for old in self.directory.glob("*.enc"):
            if now - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink(missing_ok=True)
