"""The sandbox's media CDN: files of simulated messages, encrypted exactly as WhatsApp
encrypts them, stored under the data directory and served at SANDBOX_MEDIA_PATH. As on
WhatsApp's CDN, fetching needs no API key: the mediaKey (given only to the recipient)
protects the content, and names are unguessable.

With several nodes, a file is also kept in the database (`shared`): a URL made on one node
is served by any other, which copies the file into its own directory the first time."""

from __future__ import annotations

import asyncio
import re
import secrets
import time
from datetime import timedelta
from pathlib import Path

from sendmako.engines.sandbox.store import media as stored_media
from sendmako.media import crypto
from sendmako.media.fetch import SANDBOX_MEDIA_PATH, sandbox_media_prefix
from sendmako.model.events import IncomingMedia
from sendmako.model.messages import MediaPayload, MessageType
from sendmako.storage.db import Database
from sendmako.storage.tables import utcnow

_TOKEN = re.compile(r"^[A-Za-z0-9_-]{32}$")
# Simulated media are for demos and tests; a week is plenty.
KEEP_SECONDS = 7 * 24 * 3600
PRUNE_EVERY_SECONDS = 3600
_SUFFIXES = {True: ".enc", False: ".jpg"}  # by whether the file is encrypted


class SandboxMediaStore:
    def __init__(self, directory: Path, public_url: str, *, shared: Database | None = None) -> None:
        """`shared`: the database every node reads (several nodes), or None (one node:
        the directory is enough)."""
        self.directory = directory
        self.prefix = sandbox_media_prefix(public_url)
        self.shared = shared
        self._last_prune = 0.0

    async def store(
        self, payload: MediaPayload, kind: MessageType, *, voice_note: bool = False
    ) -> IncomingMedia:
        """Encrypt `payload` with a fresh mediaKey and publish it; the descriptor is what
        the recipient's message carries (and what /api/decrypt-media takes back)."""
        token = secrets.token_urlsafe(24)
        encrypted = await asyncio.to_thread(
            crypto.encrypt, payload.data, crypto.MediaType(kind.value)
        )
        await self._keep(token, encrypted.file, encrypted=True)
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
        await self._keep(token, data, encrypted=False)
        return token

    def url_of(self, token: str) -> str:
        return self.prefix + token

    async def path_of(self, token: str) -> Path | None:
        """The stored file for `token`, or None (also for anything that is not a token).
        With several nodes, one another node stored is copied here first."""
        if not _TOKEN.match(token):
            return None
        for suffix in _SUFFIXES.values():
            path = self.directory / f"{token}{suffix}"
            if path.is_file():
                return path
        if self.shared is None:
            return None
        async with self.shared.read() as db:
            found = await stored_media.get(db, token)
        if found is None:
            return None
        return await asyncio.to_thread(self._write, token, found.data, found.encrypted)

    async def _keep(self, token: str, data: bytes, *, encrypted: bool) -> None:
        # The database first: a URL handed out is served by every node from then on.
        if self.shared is not None:
            async with self.shared.write() as tx:
                await stored_media.add(tx, token, data, encrypted=encrypted)
        await asyncio.to_thread(self._write, token, data, encrypted)
        await self._prune()

    def _write(self, token: str, data: bytes, encrypted: bool) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / f"{token}{_SUFFIXES[encrypted]}"
        partial = path.with_name(f"{path.name}.{secrets.token_hex(4)}.part")
        partial.write_bytes(data)
        partial.replace(path)  # a file is served whole or not at all
        return path

    async def _prune(self) -> None:
        now = time.time()
        if now - self._last_prune < PRUNE_EVERY_SECONDS:
            return
        self._last_prune = now
        await asyncio.to_thread(self._prune_files, now)
        if self.shared is not None:
            async with self.shared.write() as tx:
                await stored_media.prune(tx, utcnow() - timedelta(seconds=KEEP_SECONDS))

    def _prune_files(self, now: float) -> None:
        for old in self.directory.glob("*.enc"):
            if now - old.stat().st_mtime > KEEP_SECONDS:
                old.unlink(missing_ok=True)
