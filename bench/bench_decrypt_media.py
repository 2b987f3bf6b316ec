"""Throughput of `POST /api/decrypt-media` on 20 MB and 70 MB files served from 127.0.0.1,
beside the raw AES-256-CBC + HMAC-SHA256 throughput of `cryptography` on the same bytes in
the same run (the ceiling: what decryption alone costs), as a ratio; and the server's peak
RSS growth while it decrypts the 70 MB file.

    make bench            # or: .venv/bin/python bench/bench_decrypt_media.py  (BENCH_RUNS=5)

Targets: at least 60% of the ceiling, and under 32 MB of RSS growth. Beside them it
measures the fastest any server could be on this machine (bench/decrypt_floor.py: the same
download, checks and answer with raw sockets and nothing else), held in memory and spooled,
and says whether the target is within reach at all. The server is a real
`sendmako serve` (bench/server.py) allowed to fetch from 127.0.0.1; the encrypted files come
from a small sendfile() server in this process, and the client reads the answer with a raw
socket, so the figures are the server's and not the tools'.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bench.decrypt_floor import fastest_seconds, warm_buffer
from bench.server import Server, serve
from sendmako.media.crypto import (
    MAC_LENGTH,
    EncryptedMedia,
    MediaType,
    decrypt,
    derive_keys,
    encrypt,
)
from sendmako.media.decrypt import DECRYPT_LIMIT
from sendmako.media.fetch import Fetcher
from sendmako.net.addresses import AddressPolicy
from sendmako.net.guarded import build_client

MB = 1 << 20
SIZES = (20 * MB, 70 * MB)
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
TARGET_RATIO = 0.60
TARGET_RSS_MB = 32


class FileServer:
    """Serves files from disk with sendfile(): almost no CPU on this side of the socket."""

    def __init__(self, files: dict[str, Path]) -> None:
        self.files = files
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        with conn:
            request = b""
            while b"\r\n\r\n" not in request:
                piece = conn.recv(4096)
                if not piece:
                    return
                request += piece
            path = self.files[request.split(b" ", 2)[1].decode().lstrip("/")]
            size = path.stat().st_size
            conn.sendall(
                f"HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n"
                "Content-Type: application/octet-stream\r\nConnection: close\r\n\r\n".encode()
            )
            with path.open("rb") as file:
                conn.sendfile(file)


def decrypt_once(server: Server, body: bytes, *, verify: bytes | None = None) -> tuple[float, int]:
    """POST the request on a raw socket and read the whole answer: (seconds, bytes)."""
    port = int(server.url.rsplit(":", 1)[1])
    head = (
        f"POST /api/decrypt-media HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {server.key}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    buffer = bytearray(MB)
    digest = hashlib.sha256() if verify is not None else None
    with socket.create_connection(("127.0.0.1", port)) as sock:
        started = time.perf_counter()
        sock.sendall(head + body)
        received = bytearray()
        while b"\r\n\r\n" not in received:
            piece = sock.recv(65536)
            if not piece:
                raise SystemExit("the server closed before answering")
            received += piece
        header, _, rest = bytes(received).partition(b"\r\n\r\n")
        status = int(header.split(b" ", 2)[1])
        if status != 200:
            raise SystemExit(f"decrypt-media answered {status}: {rest[:300]!r}")
        length = next(
            int(line.split(b":", 1)[1])
            for line in header.split(b"\r\n")
            if line.lower().startswith(b"content-length:")
        )
        got = len(rest)
        if digest is not None:
            digest.update(rest)
        view = memoryview(buffer)
        while got < length:
            n = sock.recv_into(buffer)
            if n == 0:
                raise SystemExit(f"the answer ended after {got} of {length} bytes")
            if digest is not None:
                digest.update(view[:n])
            got += n
        elapsed = time.perf_counter() - started
    if digest is not None and digest.digest() != verify:
        raise SystemExit("decrypted bytes differ from the original")
    return elapsed, got


def ceiling(media: EncryptedMedia) -> float:
    """Seconds for AES-256-CBC decryption plus HMAC-SHA256 of the file with `cryptography`,
    one thread, 1 MB blocks into a reused buffer (its fastest use)."""
    keys = derive_keys(media.media_key, media.media_type)
    ciphertext = memoryview(media.file)[:-MAC_LENGTH]
    out = bytearray(MB + 16)
    started = time.perf_counter()
    decryptor = Cipher(algorithms.AES(keys.cipher_key), modes.CBC(keys.iv)).decryptor()
    mac = hmac.HMAC(keys.mac_key, hashes.SHA256())
    mac.update(keys.iv)
    for offset in range(0, len(ciphertext), MB):
        block = ciphertext[offset : offset + MB]
        mac.update(block)
        decryptor.update_into(block, out)
    decryptor.finalize()
    assert mac.finalize()[:MAC_LENGTH] == media.file[-MAC_LENGTH:]
    return time.perf_counter() - started


class RssSampler:
    """Peak VmRSS of a process, sampled every 2 ms from /proc in a thread."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def rss(self) -> int:
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(x for x in status.splitlines() if x.startswith("VmRSS:"))
        return int(line.split()[1]) * 1024

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.rss())
            time.sleep(0.002)

    def __enter__(self) -> RssSampler:
        self.peak = self.rss()
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def download_alone(url: str) -> float:
    """Seconds to download the file with the server's own fetch path (the guarded client,
    size cap), in this process: what the endpoint spends before any crypto."""
    client = build_client(AddressPolicy.allowing(["127.0.0.1"]))
    try:
        started = time.perf_counter()
        async with Fetcher(client).open(url, field="url", limit=DECRYPT_LIMIT) as download:
            async for _chunk in download.chunks():
                pass
        return time.perf_counter() - started
    finally:
        await client.close()


def sha256_alone(data: bytes) -> float:
    started = time.perf_counter()
    hashlib.sha256(data).digest()
    return time.perf_counter() - started


def rate(size: int, seconds: float) -> float:
    return size / seconds / 1e6


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="sendmako-bench-media-") as tmp:
        files: dict[str, Path] = {}
        media: dict[int, EncryptedMedia] = {}
        for size in SIZES:
            media[size] = encrypt(os.urandom(size), MediaType.DOCUMENT)
            files[f"{size // MB}mb.enc"] = Path(tmp) / f"{size // MB}mb.enc"
            files[f"{size // MB}mb.enc"].write_bytes(media[size].file)
        origin = FileServer(files)
        env = {
            "SENDMAKO_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
            "SENDMAKO_MEDIA_HOSTS": "http://127.0.0.1",
        }
        with serve(**env) as server:
            print(
                f"{RUNS} runs per size, endpoint and ceiling interleaved (best and median); "
                f"1 server process; {os.cpu_count()} cores shared by server, origin and client; "
                f"load average before: {os.getloadavg()[0]:.2f}"
            )
            for size in SIZES:
                run_size(server, origin, size, media[size])


def run_size(server: Server, origin: FileServer, size: int, encrypted: EncryptedMedia) -> None:
    url = origin.url(f"{size // MB}mb.enc")
    body = json.dumps(
        {
            "url": url,
            "mediaKey": base64.b64encode(encrypted.media_key).decode(),
            "mimetype": "application/pdf",
            "mediaType": "document",
            "fileEncSha256": base64.b64encode(encrypted.file_enc_sha256).decode(),
        }
    ).encode()
    # Warm-up, and proof that the answer is the original file.
    decrypt_once(server, body, verify=hashlib.sha256(_plaintext_of(encrypted)).digest())
    sampler = RssSampler(server.pid)
    baseline = sampler.rss()
    endpoint: list[float] = []
    ceilings: list[float] = []
    with sampler:
        for _ in range(RUNS):  # alternated, so load from elsewhere hits both alike
            endpoint.append(decrypt_once(server, body)[0])
            ceilings.append(ceiling(encrypted))
    growth = (sampler.peak - baseline) / MB
    downloads = [asyncio.run(download_alone(url)) for _ in range(3)]
    hashing = min(sha256_alone(encrypted.file) for _ in range(3))
    fastest = {"in memory": [], "spooled": []}
    buffer = warm_buffer(encrypted)
    for _ in range(RUNS):
        for label, spool_dir in (("in memory", None), ("spooled", server.data_dir)):
            fastest[label].append(
                fastest_seconds(
                    ("127.0.0.1", origin.port),
                    f"{size // MB}mb.enc",
                    encrypted,
                    buffer,
                    plaintext_length=size,
                    spool_dir=spool_dir,
                )
            )
    ceiling_rate = rate(len(encrypted.file), min(ceilings))
    best = rate(size, min(endpoint)) / ceiling_rate
    typical = rate(size, statistics.median(endpoint)) / rate(
        len(encrypted.file), statistics.median(ceilings)
    )
    print(
        f"\n{size // MB} MB: endpoint {rate(size, min(endpoint)):5.0f} MB/s best, "
        f"{rate(size, statistics.median(endpoint)):5.0f} median   |   "
        f"ceiling (AES-256-CBC + HMAC-SHA256, cryptography) "
        f"{ceiling_rate:5.0f} MB/s best, "
        f"{rate(len(encrypted.file), statistics.median(ceilings)):5.0f} median"
    )
    print(
        f"  ratio endpoint/ceiling: {best:.2f} best-to-best, {typical:.2f} median-to-median "
        f"(target >= {TARGET_RATIO:.2f}: {'met' if best >= TARGET_RATIO else 'MISSED'})"
    )
    print(
        f"  server peak RSS growth: {growth:.1f} MB "
        f"(target < {TARGET_RSS_MB} MB: {'met' if growth < TARGET_RSS_MB else 'MISSED'})"
    )
    print(
        f"  where the time goes, best of each (ms): endpoint {min(endpoint) * 1e3:.0f} = "
        f"download ~{min(downloads) * 1e3:.0f} + SHA-256 of the file "
        f"~{hashing * 1e3:.0f} + AES + HMAC ~{min(ceilings) * 1e3:.0f} + spool, send, HTTP"
    )
    bound = {label: rate(size, min(seconds)) for label, seconds in fastest.items()}
    print(
        "  fastest possible here (bench/decrypt_floor.py: raw sockets, no HTTP, both hashes "
        "on their own threads), best: "
        + ", ".join(
            f"{label} {value:5.0f} MB/s = ratio {value / ceiling_rate:.2f}"
            for label, value in bound.items()
        )
    )
    # Under the memory target a file this large can be held in memory, or must be spooled.
    fits = size < TARGET_RSS_MB * MB
    applicable = bound["in memory" if fits else "spooled"]
    reachable = applicable / ceiling_rate >= TARGET_RATIO
    print(
        f"  within the memory target ({'in memory' if fits else 'spooled'}), the best possible "
        f"here is ratio {applicable / ceiling_rate:.2f}: the {TARGET_RATIO:.2f} target is "
        + ("within this machine's reach" if reachable else "beyond any server on this machine")
        + f"; the endpoint does {rate(size, min(endpoint)) / applicable:.0%} of that best"
    )


def _plaintext_of(media: EncryptedMedia) -> bytes:
    return decrypt(media.file, media.media_key, media.media_type)


if __name__ == "__main__":
    main()
