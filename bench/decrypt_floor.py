"""The fastest decrypt-media this machine allows: a bound for bench_decrypt_media.py.

A "server" with no HTTP framework, no asyncio and no httpx: it downloads the encrypted file
from the origin with recv_into() into one warm buffer, hashes it as it arrives (the
fileEncSha256 and the MAC, each on its own thread, so both cores), and once both match it
decrypts the file and writes the plaintext to a socket whose reader counts the bytes.
Nothing it does can be skipped by a real server (the API answers only verified bytes);
everything a real server adds (HTTP parsing, authentication, validation, the host
allow-list, size caps, timeouts, error handling) is left out, and the buffer it fills is
allocated and touched beforehand. No real endpoint can beat it on the same machine.

With `spool_dir`, the file also goes to an unnamed temp file there as it arrives, and the
plaintext is decrypted from that file: what keeping a 70 MB download under the 32 MB
memory target takes. Without it, the file stays in memory.
"""

from __future__ import annotations

import hashlib
import hmac
import queue
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from sendmako.media.crypto import MAC_LENGTH, EncryptedMedia, MediaKeys, derive_keys

MB = 1 << 20
PIECE = MB  # hashed, spooled and decrypted in pieces of this size


class _Lane:
    """A thread applying `work` to the pieces it is given, in order."""

    def __init__(self, work: Callable[[memoryview], object]) -> None:
        self._pieces: queue.SimpleQueue[memoryview | None] = queue.SimpleQueue()
        self._work = work
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def put(self, piece: memoryview) -> None:
        self._pieces.put(piece)

    def finish(self) -> None:
        self._pieces.put(None)
        self._thread.join()

    def _run(self) -> None:
        while (piece := self._pieces.get()) is not None:
            self._work(piece)


def warm_buffer(media: EncryptedMedia) -> bytearray:
    """Room for the whole answer, every page already touched."""
    return bytearray(b"\1" * (len(media.file) + 64 * 1024))


def fastest_seconds(
    origin: tuple[str, int],
    name: str,
    media: EncryptedMedia,
    buffer: bytearray,
    *,
    plaintext_length: int,
    spool_dir: Path | None = None,
) -> float:
    """Seconds from asking the origin for `name` to the last plaintext byte read by the
    client; raises if the hashes, the MAC or the plaintext length are wrong."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        read: list[tuple[float, int]] = []
        client = threading.Thread(target=_client, args=(listener, read), daemon=True)
        client.start()
        started = time.perf_counter()
        with (
            socket.create_connection(origin) as source,
            socket.create_connection(listener.getsockname()) as sink,
            tempfile.TemporaryFile(dir=spool_dir) if spool_dir else nullcontext() as spool,
        ):
            source.sendall(f"GET /{name} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
            run = _Run(derive_keys(media.media_key, media.media_type), memoryview(buffer), spool)
            body, end = run.download(source, media)
            run.answer(sink, body, end)
        client.join()
    finished, count = read[0]
    if count != plaintext_length:
        raise RuntimeError(f"the client read {count} bytes, not {plaintext_length}")
    return finished - started


class _Spool(Protocol):
    def write(self, piece: memoryview, /) -> int: ...
    def seek(self, offset: int, /) -> int: ...
    def readinto(self, piece: memoryview, /) -> int: ...


@dataclass
class _Run:
    keys: MediaKeys
    view: memoryview
    spool: _Spool | None

    def download(self, source: socket.socket, media: EncryptedMedia) -> tuple[int, int]:
        """The file into the buffer, hashed (and spooled) on lanes as it arrives, verified:
        where its body starts and ends in the buffer."""
        sha = hashlib.sha256()
        mac = hmac.new(self.keys.mac_key, self.keys.iv, hashlib.sha256)
        sha_lane, mac_lane = _Lane(sha.update), _Lane(mac.update)
        spool_lane = _Lane(self.spool.write) if self.spool is not None else None
        view = self.view
        got, body, hashed, maced = 0, -1, 0, 0
        while n := source.recv_into(view[got:], min(4 * MB, len(view) - got)):
            got += n
            if body < 0:
                head_end = bytes(view[:got]).find(b"\r\n\r\n")
                if head_end < 0:
                    continue
                body = hashed = maced = head_end + 4
            if got - hashed >= PIECE:
                sha_lane.put(view[hashed:got])
                if spool_lane is not None:
                    spool_lane.put(view[hashed:got])
                hashed = got
                mac_lane.put(view[maced : got - MAC_LENGTH])  # the last 10 may be the MAC
                maced = got - MAC_LENGTH
        sha_lane.put(view[hashed:got])
        if spool_lane is not None:
            spool_lane.put(view[hashed:got])
        mac_lane.put(view[maced : got - MAC_LENGTH])
        for lane in (sha_lane, mac_lane, spool_lane):
            if lane is not None:
                lane.finish()
        if (
            sha.digest() != media.file_enc_sha256
            or mac.digest()[:MAC_LENGTH] != view[got - MAC_LENGTH : got]
        ):
            raise RuntimeError("the downloaded file did not verify")
        return body, got

    def answer(self, sink: socket.socket, body: int, end: int) -> None:
        """The plaintext to `sink`, decrypted from the buffer or the spool, unpadded."""
        decryptor = Cipher(
            algorithms.AES(self.keys.cipher_key), modes.CBC(self.keys.iv)
        ).decryptor()
        out = bytearray(PIECE + 16)
        source = self.view[body : end - MAC_LENGTH]
        scratch = memoryview(bytearray(PIECE))
        if self.spool is not None:
            self.spool.seek(0)
        for offset in range(0, len(source), PIECE):
            wanted = min(PIECE, len(source) - offset)
            if self.spool is not None:
                piece = scratch[:wanted]
                if self.spool.readinto(piece) != wanted:
                    raise RuntimeError("the spool ended early")
            else:
                piece = source[offset : offset + wanted]
            written = decryptor.update_into(piece, out)
            if offset + wanted == len(source):
                written -= out[written - 1]  # PKCS7 padding
            sink.sendall(memoryview(out)[:written])
        sink.shutdown(socket.SHUT_WR)


def _client(listener: socket.socket, read: list[tuple[float, int]]) -> None:
    connection, _ = listener.accept()
    with connection:
        scratch = bytearray(MB)
        count = 0
        while n := connection.recv_into(scratch):
            count += n
    read.append((time.perf_counter(), count))
