"""WhatsApp media encryption, exactly as WhatsApp does it, and decryption that verifies
everything before it gives out a single byte of plaintext.

    keys  = HKDF-SHA256(mediaKey, salt=empty, info="WhatsApp <Family> Keys", 112 bytes)
    iv, cipherKey, macKey = keys[0:16], keys[16:48], keys[48:80]
    ciphertext = AES-256-CBC/PKCS7(cipherKey, iv, plaintext)
    file  = ciphertext || HMAC-SHA256(macKey, iv || ciphertext)[:10]
    fileEncSha256 = SHA-256(file)        fileSha256 = SHA-256(plaintext)

The family (image, video, audio, document; stickers use image keys) comes from the WhatsApp
message type, not the mimetype: a photo sent as a document is encrypted with document keys.

Everything here is incremental, so a 70 MB file is never held twice: `MediaEncryptor` and
`encrypt_stream` encrypt piece by piece; `EncryptedFileCheck` takes the encrypted file as it
downloads (SHA-256 of the file and the MAC); `PlaintextReader` decrypts a verified file from
a seekable spool in blocks, knowing the plaintext length (from the padding) before the first
block, so an HTTP answer can carry `Content-Length`. `encrypt` and `decrypt` are the one-shot
forms. Every verification failure is an `OperationFailed` whose code says which check failed.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import secrets
from collections.abc import Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import IO, Protocol

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from sendmako.errors import BadRequest, OperationFailed

KEY_LENGTH = 32  # mediaKey
BLOCK = 16  # AES block
MAC_LENGTH = 10  # WhatsApp keeps the first 10 bytes of the HMAC
DIGEST_LENGTH = 32  # fileSha256, fileEncSha256
# Decryption works in blocks this large: big enough that per-call overhead vanishes, small
# enough that a few concurrent downloads stay far from the memory budget.
READ_BLOCK = 1 << 20


class MediaType(StrEnum):
    """The WhatsApp message type of a media message; it chooses the key family."""

    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"
    DOCUMENT = "document"
    STICKER = "sticker"


_HKDF_INFO = {
    MediaType.IMAGE: b"WhatsApp Image Keys",
    MediaType.VIDEO: b"WhatsApp Video Keys",
    MediaType.AUDIO: b"WhatsApp Audio Keys",
    MediaType.DOCUMENT: b"WhatsApp Document Keys",
    MediaType.STICKER: b"WhatsApp Image Keys",
}

# One media type per distinct key family, in the order a fallback tries them.
KEY_FAMILIES = (MediaType.IMAGE, MediaType.VIDEO, MediaType.AUDIO, MediaType.DOCUMENT)


def hkdf_info(media_type: MediaType) -> bytes:
    return _HKDF_INFO[media_type]


def media_type_for_mimetype(mimetype: str) -> MediaType:
    """The likeliest message type for a mimetype (a guess: documents can hold anything)."""
    major = mimetype.split(";", 1)[0].strip().lower().split("/", 1)[0]
    return {
        "image": MediaType.IMAGE,
        "video": MediaType.VIDEO,
        "audio": MediaType.AUDIO,
    }.get(major, MediaType.DOCUMENT)


def candidate_types(media_type: MediaType | None, mimetype: str) -> tuple[MediaType, ...]:
    """Key families to try, in order. A given `mediaType` is trusted alone; without it the
    mimetype's family comes first and the MAC decides between it and the others."""
    if media_type is not None:
        return (media_type,)
    guess = media_type_for_mimetype(mimetype)
    others = tuple(t for t in KEY_FAMILIES if _HKDF_INFO[t] != _HKDF_INFO[guess])
    return (guess, *others)


# repr=False: a dataclass repr would print the keys into any log line or traceback.
@dataclass(frozen=True, slots=True, repr=False)
class MediaKeys:
    media_type: MediaType
    iv: bytes
    cipher_key: bytes
    mac_key: bytes
    ref_key: bytes

    def __repr__(self) -> str:
        return f"MediaKeys({self.media_type.value})"


def derive_keys(media_key: bytes, media_type: MediaType) -> MediaKeys:
    if len(media_key) != KEY_LENGTH:
        raise BadRequest(
            f"mediaKey: must be {KEY_LENGTH} bytes, got {len(media_key)}.", field="mediaKey"
        )
    # salt=None is HKDF's all-zero salt, which RFC 5869 defines as identical to an empty one.
    expanded = HKDF(
        algorithm=hashes.SHA256(), length=112, salt=None, info=_HKDF_INFO[media_type]
    ).derive(media_key)
    return MediaKeys(
        media_type=media_type,
        iv=expanded[0:16],
        cipher_key=expanded[16:48],
        mac_key=expanded[48:80],
        ref_key=expanded[80:112],
    )


def encrypted_size(plaintext_length: int) -> int:
    """Length of the encrypted file: PKCS7 always adds 1 to 16 bytes, then the MAC."""
    return (plaintext_length // BLOCK + 1) * BLOCK + MAC_LENGTH


# -- encryption ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, repr=False)
class MediaDigests:
    """What a WhatsApp media message carries about its encrypted file."""

    media_type: MediaType
    media_key: bytes
    file_sha256: bytes
    file_enc_sha256: bytes
    file_length: int  # of the plaintext, as WhatsApp's fileLength

    def __repr__(self) -> str:
        return f"MediaDigests({self.media_type.value}, {self.file_length} bytes)"


@dataclass(frozen=True, slots=True, repr=False)
class EncryptedMedia:
    media_type: MediaType
    media_key: bytes
    file: bytes  # ciphertext || MAC: what WhatsApp's CDN serves
    file_sha256: bytes
    file_enc_sha256: bytes
    file_length: int

    def __repr__(self) -> str:
        return f"EncryptedMedia({self.media_type.value}, {self.file_length} bytes)"


class MediaEncryptor:
    """Encrypts a file piece by piece. Feed `update`, then `finalize` gives the last
    ciphertext and the MAC; `digests()` then tells what the message must carry."""

    def __init__(self, media_type: MediaType, media_key: bytes | None = None) -> None:
        self.media_type = MediaType(media_type)
        self.media_key = secrets.token_bytes(KEY_LENGTH) if media_key is None else media_key
        keys = derive_keys(self.media_key, self.media_type)
        self._cipher = Cipher(algorithms.AES(keys.cipher_key), modes.CBC(keys.iv)).encryptor()
        self._mac = hmac.new(keys.mac_key, keys.iv, hashlib.sha256)
        self._plain_sha = hashlib.sha256()
        self._file_sha = hashlib.sha256()
        self._length = 0
        self._digests: MediaDigests | None = None

    def update(self, plaintext: bytes | memoryview) -> bytes:
        assert self._digests is None, "update() after finalize()"
        self._plain_sha.update(plaintext)
        self._length += len(plaintext)
        ciphertext = self._cipher.update(plaintext)
        self._mac.update(ciphertext)
        self._file_sha.update(ciphertext)
        return ciphertext

    def finalize(self) -> bytes:
        assert self._digests is None, "finalize() twice"
        pad = BLOCK - self._length % BLOCK
        tail = self._cipher.update(bytes([pad]) * pad) + self._cipher.finalize()
        self._mac.update(tail)
        tail += self._mac.digest()[:MAC_LENGTH]
        self._file_sha.update(tail)
        self._digests = MediaDigests(
            media_type=self.media_type,
            media_key=self.media_key,
            file_sha256=self._plain_sha.digest(),
            file_enc_sha256=self._file_sha.digest(),
            file_length=self._length,
        )
        return tail

    def digests(self) -> MediaDigests:
        assert self._digests is not None, "digests() before finalize()"
        return self._digests


def encrypt(
    plaintext: bytes, media_type: MediaType, media_key: bytes | None = None
) -> EncryptedMedia:
    """Encrypt a whole file held in memory (a fresh random mediaKey unless one is given)."""
    encryptor = MediaEncryptor(media_type, media_key)
    view = memoryview(plaintext)
    pieces = [encryptor.update(view[i : i + READ_BLOCK]) for i in range(0, len(view), READ_BLOCK)]
    pieces.append(encryptor.finalize())
    digests = encryptor.digests()
    return EncryptedMedia(
        media_type=digests.media_type,
        media_key=digests.media_key,
        file=b"".join(pieces),
        file_sha256=digests.file_sha256,
        file_enc_sha256=digests.file_enc_sha256,
        file_length=digests.file_length,
    )


def encrypt_stream(
    source: IO[bytes], target: IO[bytes], media_type: MediaType, media_key: bytes | None = None
) -> MediaDigests:
    """Encrypt from one file object to another, one block in memory at a time."""
    encryptor = MediaEncryptor(media_type, media_key)
    while piece := source.read(READ_BLOCK):
        target.write(encryptor.update(piece))
    target.write(encryptor.finalize())
    return encryptor.digests()


# -- verification --------------------------------------------------------------------------


class Spool(Protocol):
    """Where a downloaded encrypted file waits: a temp file, a SpooledTemporaryFile, a
    BytesIO; anything seekable that reads into a buffer."""

    def seek(self, offset: int, whence: int = ..., /) -> int: ...
    def read(self, size: int = ..., /) -> bytes: ...
    def readinto(self, buffer: memoryview, /) -> int: ...


class Check(StrEnum):
    """The checks a download passes before any plaintext leaves, in the order they run."""

    LENGTH = "length"
    FILE_ENC_SHA256 = "fileEncSha256"
    MAC = "MAC"
    PADDING = "padding"
    FILE_SHA256 = "fileSha256"


_FAILURE_CODES = {
    Check.LENGTH: "media_length_mismatch",
    Check.FILE_ENC_SHA256: "media_file_enc_sha256_mismatch",
    Check.MAC: "media_mac_mismatch",
    Check.PADDING: "media_padding_invalid",
    Check.FILE_SHA256: "media_file_sha256_mismatch",
}


def verification_failed(check: Check, detail: str) -> OperationFailed:
    return OperationFailed(f"{check.value} check failed: {detail}", code=_FAILURE_CODES[check])


def failed_check(error: OperationFailed) -> Check | None:
    """Which check an error from this module reports (None for any other error)."""
    for check, code in _FAILURE_CODES.items():
        if error.code == code:
            return check
    return None


def mac_failed(tried: Sequence[MediaType]) -> OperationFailed:
    families = ", ".join(t.value for t in tried)
    return verification_failed(
        Check.MAC,
        f"the file's MAC does not match the {families} keys of this mediaKey "
        "(wrong mediaKey or mediaType, or a tampered file).",
    )


# Hashing the file and its MAC are two SHA-256 passes over the same bytes; hashlib releases
# the GIL, so on big pieces they run side by side on two cores. Created on first use.
_PARALLEL_MIN = 256 * 1024
_hash_pool: ThreadPoolExecutor | None = None


def _pool() -> ThreadPoolExecutor:
    global _hash_pool  # noqa: PLW0603 - one lazily created pool per process, never replaced
    if _hash_pool is None:
        _hash_pool = ThreadPoolExecutor(
            max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="media-hash"
        )
    return _hash_pool


class EncryptedFileCheck:
    """Verifies an encrypted file as its bytes arrive, without keeping them: SHA-256 of the
    whole file (fileEncSha256) and the HMAC of one key family over iv || ciphertext. The
    last 10 bytes seen are held back: when the file ends, they are its MAC.

    Call `update` from one thread at a time (a worker thread, for big pieces); or
    `update_file_hash` and `update_mac` each from its own thread: they share no state."""

    def __init__(self, keys: MediaKeys) -> None:
        self.keys = keys
        self.size = 0
        self._sha = hashlib.sha256()
        self._mac = hmac.new(keys.mac_key, keys.iv, hashlib.sha256)
        self._tail = b""

    def update(self, piece: bytes) -> None:
        """Both hashes over `piece`: side by side on two cores when it is big."""
        pending: Future[None] | None = None
        if len(piece) >= _PARALLEL_MIN:
            pending = _pool().submit(self.update_file_hash, piece)
        else:
            self.update_file_hash(piece)
        self.update_mac(piece)
        if pending is not None:
            pending.result()

    # The two halves of `update`, for callers that run each on its own thread (media/lanes);
    # each must see every piece, in order.

    def update_file_hash(self, piece: bytes) -> None:
        self.size += len(piece)
        self._sha.update(piece)

    def update_mac(self, piece: bytes) -> None:
        size = len(piece)
        if size >= MAC_LENGTH:
            view = memoryview(piece)
            self._mac.update(self._tail)
            self._mac.update(view[: size - MAC_LENGTH])
            self._tail = bytes(view[size - MAC_LENGTH :])
        else:
            joined = self._tail + piece
            self._mac.update(joined[: max(0, len(joined) - MAC_LENGTH)])
            self._tail = joined[-MAC_LENGTH:]

    def check_length(self, file_length: int | None = None) -> None:
        """A whole number of blocks plus the MAC and, when fileLength is known, its size."""
        check_encrypted_length(self.size, file_length)

    def check_file_enc_sha256(self, expected: bytes) -> None:
        if not hmac.compare_digest(self._sha.digest(), expected):
            raise verification_failed(
                Check.FILE_ENC_SHA256,
                "the downloaded file's SHA-256 is not fileEncSha256 (a different or damaged file).",
            )

    def mac_matches(self) -> bool:
        return hmac.compare_digest(self._mac.digest()[:MAC_LENGTH], self._tail)


def check_encrypted_length(size: int, file_length: int | None = None) -> None:
    if size < BLOCK + MAC_LENGTH or (size - MAC_LENGTH) % BLOCK:
        raise verification_failed(
            Check.LENGTH,
            f"an encrypted file is whole 16-byte blocks plus a 10-byte MAC; this one is {size} "
            "bytes (truncated or not a WhatsApp media file).",
        )
    if file_length is not None and encrypted_size(file_length) != size:
        raise verification_failed(
            Check.LENGTH,
            f"fileLength {file_length} means a {encrypted_size(file_length)}-byte encrypted "
            f"file; the downloaded one is {size} bytes.",
        )


def find_family(
    source: Spool, size: int, media_key: bytes, candidates: Iterable[MediaType]
) -> MediaType | None:
    """The first candidate whose MAC matches a spooled encrypted file, in one pass over it
    (the fallback when the first guess of the key family was wrong)."""
    keyed = [(t, derive_keys(media_key, t)) for t in candidates]
    if not keyed:
        return None
    macs = [hmac.new(keys.mac_key, keys.iv, hashlib.sha256) for _, keys in keyed]
    source.seek(0)
    remaining = size - MAC_LENGTH
    while remaining > 0:
        piece = source.read(min(READ_BLOCK, remaining))
        if not piece:
            return None
        remaining -= len(piece)
        for mac in macs:
            mac.update(piece)
    stored = source.read(MAC_LENGTH)
    for (media_type, _), mac in zip(keyed, macs, strict=True):
        if hmac.compare_digest(mac.digest()[:MAC_LENGTH], stored):
            return media_type
    return None


# -- decryption ----------------------------------------------------------------------------


class PlaintextReader:
    """Decrypts an encrypted file whose length, hash and MAC were verified, from a seekable
    file object, one block per `read()`.

    It decrypts the last block first (CBC allows it: the block before serves as its IV), so
    the plaintext length is known, and the padding checked, before the first byte is given
    out. `read()` returns fresh `bytes` each time (a server may still queue the previous
    one), and b"" at the end."""

    def __init__(
        self,
        source: Spool,
        size: int,
        keys: MediaKeys,
        *,
        block_size: int = READ_BLOCK,
        file_length: int | None = None,
    ) -> None:
        assert block_size % BLOCK == 0, "blocks must be whole AES blocks"
        check_encrypted_length(size, file_length)
        cipher_length = size - MAC_LENGTH
        source.seek(cipher_length - 2 * BLOCK if cipher_length > BLOCK else 0)
        tail = source.read(2 * BLOCK if cipher_length > BLOCK else BLOCK)
        previous = tail[:BLOCK] if cipher_length > BLOCK else keys.iv
        last = _decryptor(keys.cipher_key, previous).update(tail[-BLOCK:])
        pad = last[-1]
        if not 1 <= pad <= BLOCK or not hmac.compare_digest(last[-pad:], bytes([pad]) * pad):
            raise verification_failed(
                Check.PADDING,
                "the MAC matched but the plaintext's PKCS7 padding is invalid "
                "(the sender encrypted it wrongly).",
            )
        self.length = cipher_length - pad
        if file_length is not None and file_length != self.length:
            raise verification_failed(
                Check.LENGTH,
                f"the decrypted file is {self.length} bytes, fileLength says {file_length}.",
            )
        self._source = source
        self._pad = pad
        self._remaining = cipher_length
        self._block_size = block_size
        self._decryptor = _decryptor(keys.cipher_key, keys.iv)
        # Reused buffers: allocating fresh memory per block costs more than AES itself.
        self._in = memoryview(bytearray(block_size))
        self._out = bytearray(block_size + BLOCK)
        self._view = memoryview(self._out)
        source.seek(0)

    def read(self) -> bytes:
        if self._remaining == 0:
            return b""
        wanted = min(self._block_size, self._remaining)
        piece = self._in[:wanted]
        if self._source.readinto(piece) != wanted:
            raise verification_failed(Check.LENGTH, "the spooled file ended early.")
        self._remaining -= wanted
        written = self._decryptor.update_into(piece, self._out)
        if self._remaining == 0:
            written -= self._pad
        return bytes(self._view[:written])


def _decryptor(cipher_key: bytes, iv: bytes) -> CipherContext:
    return Cipher(algorithms.AES(cipher_key), modes.CBC(iv)).decryptor()


def plaintext_sha256(source: Spool, size: int, keys: MediaKeys) -> bytes:
    """SHA-256 of the plaintext of a verified file, decrypting it without keeping it."""
    reader = PlaintextReader(source, size, keys)
    digest = hashlib.sha256()
    while piece := reader.read():
        digest.update(piece)
    return digest.digest()


def check_file_sha256(actual: bytes, expected: bytes) -> None:
    if not hmac.compare_digest(actual, expected):
        raise verification_failed(
            Check.FILE_SHA256,
            "the decrypted file's SHA-256 is not fileSha256 (the sender's digest is wrong).",
        )


def decrypt(
    file: bytes,
    media_key: bytes,
    media_type: MediaType | Sequence[MediaType],
    *,
    file_enc_sha256: bytes | None = None,
    file_sha256: bytes | None = None,
    file_length: int | None = None,
) -> bytes:
    """Verify and decrypt a whole encrypted file held in memory. With several media types,
    the first whose MAC matches wins (see `candidate_types`)."""
    tried = (media_type,) if isinstance(media_type, MediaType) else tuple(media_type)
    assert tried, "at least one media type"
    check = EncryptedFileCheck(derive_keys(media_key, tried[0]))
    check.update(file)
    check.check_length(file_length)
    if file_enc_sha256 is not None:
        check.check_file_enc_sha256(file_enc_sha256)
    source = io.BytesIO(file)  # shares `file`'s buffer until written to: no copy
    keys = check.keys
    if not check.mac_matches():
        found = find_family(source, len(file), media_key, tried[1:])
        if found is None:
            raise mac_failed(tried)
        keys = derive_keys(media_key, found)
    reader = PlaintextReader(
        source, len(file), keys, block_size=len(file) - MAC_LENGTH, file_length=file_length
    )
    plaintext = reader.read()
    if file_sha256 is not None:
        check_file_sha256(hashlib.sha256(plaintext).digest(), file_sha256)
    return plaintext
