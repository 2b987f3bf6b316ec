"""Which hosts decrypt-media downloads from: `SENDMAKO_MEDIA_HOSTS` patterns (WhatsApp's
media hosts by default, https only) and whole-URL prefixes that are always allowed (the
server's own sandbox media URL). Checked on the first URL and on every redirect."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import httpx


@dataclass(frozen=True, slots=True)
class HostPattern:
    """`mmg.whatsapp.net`, `*.whatsapp.net` (any subdomain), optionally with a scheme
    (`http://127.0.0.1`, default https) and a port."""

    scheme: str
    host: str
    port: int | None = None

    @classmethod
    def parse(cls, entry: str) -> HostPattern:
        text = entry.strip().lower()
        scheme, separator, rest = text.partition("://")
        if not separator:
            scheme, rest = "https", text
        rest = rest.split("/", 1)[0]
        port: int | None = None
        if rest.startswith("["):  # [::1]:8080
            host, _, tail = rest[1:].partition("]")
            if tail.startswith(":") and tail[1:].isdigit():
                port = int(tail[1:])
        else:
            host, colon, digits = rest.rpartition(":")
            if not colon or not digits.isdigit():
                host = rest
            else:
                port = int(digits)
        return cls(scheme=scheme, host=host.rstrip("."), port=port)

    def matches(self, url: httpx.URL) -> bool:
        if url.scheme != self.scheme:
            return False
        if self.port is not None and (url.port or _default_port(url.scheme)) != self.port:
            return False
        host = url.host.rstrip(".")
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host


def _default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


@dataclass(frozen=True, slots=True)
class HostAllowList:
    """decrypt-media's rule: only these hosts (`SENDMAKO_MEDIA_HOSTS`), plus whole-URL
    prefixes that are always allowed (the server's own sandbox media URL)."""

    patterns: tuple[HostPattern, ...]
    prefixes: tuple[str, ...] = ()

    @classmethod
    def parse(cls, entries: Iterable[str], *, prefixes: Iterable[str] = ()) -> HostAllowList:
        return cls(
            patterns=tuple(HostPattern.parse(e) for e in entries if e.strip()),
            prefixes=tuple(prefixes),
        )

    def allows(self, url: httpx.URL) -> bool:
        return any(under_prefix(url, prefix) for prefix in self.prefixes) or any(
            pattern.matches(url) for pattern in self.patterns
        )


def under_prefix(url: httpx.URL, prefix: str) -> bool:
    """Whether `url` is `prefix` or below it (same scheme, host and port)."""
    base = httpx.URL(prefix)
    path = url.raw_path.split(b"?", 1)[0]
    if b"%2e" in path.lower() or b"/../" in path:
        return False  # no escaping the prefix with dot segments, encoded or not
    return (
        url.scheme == base.scheme
        and url.host == base.host
        and (url.port or _default_port(url.scheme)) == (base.port or _default_port(base.scheme))
        and path.startswith(base.raw_path)
    )


def parse_url(url: str) -> httpx.URL:
    """httpx's URL of `url`, with a host that can be read and a port that exists: an
    internationalised name that is not valid IDNA (`https://xn--/`) parses, then raises on
    reading `.host`, and port 99999 parses too. Raises `httpx.InvalidURL` for all."""
    parsed = httpx.URL(url)
    try:
        _ = parsed.host
    except UnicodeError as exc:  # idna.IDNAError
        raise httpx.InvalidURL(f"the host name is not valid: {exc}") from exc
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise httpx.InvalidURL(f"the port {parsed.port} does not exist")
    return parsed
