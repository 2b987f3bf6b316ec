"""The decrypt-media service: download an encrypted WhatsApp file, verify it while it
arrives, then hand out its plaintext as a stream.

    download ──> spool (memory up to 1 MB, else an unnamed temp file in the data dir)
        └──────> EncryptedFileCheck (SHA-256 of the file, and the MAC)
    (the spool, the SHA-256 and the MAC each on its own thread: media/lanes.py)
    length, fileEncSha256, MAC (other key families from the spool if the guess was wrong),
    padding, fileLength, fileSha256 (only if given: one more pass)  ──> DecryptedMedia
    DecryptedMedia.chunks(): decrypted block by block from the spool, one block ahead of the client

Nothing is decrypted for the client before every check passed, and the plaintext length is
known (from the padding) before the first byte, so the answer carries Content-Length. The
encrypted file is held once, in the spool; memory holds at most MAX_PENDING_BYTES of it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from tempfile import SpooledTemporaryFile

from sendmako import log, metrics
from sendmako.media.crypto import (
    EncryptedFileCheck,
    MediaKeys,
    MediaType,
    PlaintextReader,
    candidate_types,
    check_encrypted_length,
    check_file_sha256,
    derive_keys,
    find_family,
    mac_failed,
    plaintext_sha256,
)
from sendmako.media.fetch import MB, Download, Fetcher, SizeLimit
from sendmako.media.lanes import Lanes, outlive_cancellation
from sendmako.media.work import MEDIA_WORK
from sendmako.net.hosts import HostAllowList

logger = log.get(__name__)

# The largest encrypted file decrypt-media downloads (spooled to disk, never to memory).
DECRYPT_LIMIT = SizeLimit(128 * MB, "decrypt-media downloads")
# Files up to this size are spooled in memory; larger ones in a temp file.
MEMORY_SPOOL_BYTES = 1 * MB
# Downloaded bytes waiting for the slowest of the spool, the SHA-256 and the MAC, at most.
MAX_PENDING_BYTES = 8 * MB


@dataclass(frozen=True, slots=True, repr=False)
class DecryptRequest:
    url: str
    field: str  # the request field the URL comes from ("url" or "directPath"), for errors
    media_key: bytes
    mimetype: str
    file_enc_sha256: bytes
    media_type: MediaType | None = None
    file_sha256: bytes | None = None
    file_length: int | None = None

    def __repr__(self) -> str:  # never the key
        return f"DecryptRequest({self.mimetype}, {self.media_type})"


class DecryptedMedia:
    """A verified file ready to stream. `chunks()` closes the spool when it ends; call
    `close()` if the chunks are never read."""

    def __init__(
        self,
        reader: PlaintextReader,
        spool: SpooledTemporaryFile[bytes],
        mimetype: str,
        media_type: MediaType,
    ) -> None:
        self.length = reader.length
        self.mimetype = mimetype
        self.media_type = media_type  # the key family that verified
        self._reader = reader
        self._spool = spool

    async def chunks(self) -> AsyncIterator[bytes]:
        # The next block is read and decrypted while the server sends this one. A client
        # that goes away cancels the stream, never the thread using the spool.
        loop = asyncio.get_running_loop()
        upcoming = loop.run_in_executor(None, self._reader.read)
        try:
            while piece := await asyncio.shield(upcoming):
                upcoming = loop.run_in_executor(None, self._reader.read)
                metrics.DECRYPTED_BYTES.inc(len(piece))
                yield piece
        finally:
            await outlive_cancellation(upcoming)
            if not upcoming.cancelled():
                upcoming.exception()  # retrieved: moot beside why the stream ended
            self.close()

    def close(self) -> None:
        self._spool.close()


class MediaDecryptor:
    """Downloads from the allowed media hosts only; one per process."""

    def __init__(
        self,
        fetcher: Fetcher,
        *,
        allow: HostAllowList,
        spool_dir: Path,
        limit: SizeLimit = DECRYPT_LIMIT,
    ) -> None:
        self._fetcher = fetcher
        self.allow = allow
        self._spool_dir = spool_dir
        self._limit = limit

    async def open(self, request: DecryptRequest) -> DecryptedMedia:
        """Download and verify; raises BadRequest (URL refused, too large) or
        OperationFailed (download failed, or the check that failed)."""
        candidates = candidate_types(request.media_type, request.mimetype)
        check = EncryptedFileCheck(derive_keys(request.media_key, candidates[0]))
        spool = self._new_spool()
        try:
            async with self._fetcher.open(
                request.url, field=request.field, limit=self._limit, allow=self.allow
            ) as download:
                if download.declared_length is not None:  # a wrong size fails before the body
                    check_encrypted_length(download.declared_length, request.file_length)
                await _absorb(download, check, spool)
            keys = await _verify(request, candidates, check, spool)
            reader = PlaintextReader(spool, check.size, keys, file_length=request.file_length)
        except BaseException:
            spool.close()
            raise
        return DecryptedMedia(reader, spool, request.mimetype, keys.media_type)

    def _new_spool(self) -> SpooledTemporaryFile[bytes]:
        self._spool_dir.mkdir(parents=True, exist_ok=True)
        # Unnamed (unlinked at once): nothing is left on disk whatever happens to the process.
        return SpooledTemporaryFile(
            max_size=MEMORY_SPOOL_BYTES, mode="w+b", dir=str(self._spool_dir)
        )


async def _verify(
    request: DecryptRequest,
    candidates: tuple[MediaType, ...],
    check: EncryptedFileCheck,
    spool: SpooledTemporaryFile[bytes],
) -> MediaKeys:
    """The checks, in order, on a downloaded file; the keys of the family that verified."""
    check.check_length(request.file_length)
    check.check_file_enc_sha256(request.file_enc_sha256)
    keys = check.keys
    if not check.mac_matches():
        found = await MEDIA_WORK.run(
            find_family, spool, check.size, request.media_key, candidates[1:]
        )
        if found is None:
            raise mac_failed(candidates)
        logger.info("decrypt.family_fallback", guessed=candidates[0], found=found)
        keys = derive_keys(request.media_key, found)
    if request.file_sha256 is not None:
        digest = await MEDIA_WORK.run(plaintext_sha256, spool, check.size, keys)
        check_file_sha256(digest, request.file_sha256)
    return keys


async def _absorb(
    download: Download, check: EncryptedFileCheck, spool: SpooledTemporaryFile[bytes]
) -> None:
    """Spool and hash the body as it arrives: the spool, the SHA-256 and the MAC each on
    its own thread (all three release the GIL) while the event loop downloads."""
    consumers = (spool.write, check.update_file_hash, check.update_mac)
    async with Lanes(consumers, max_pending=MAX_PENDING_BYTES) as lanes:
        async for chunk in download.chunks():
            await lanes.put(chunk)
