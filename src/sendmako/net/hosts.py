"""URLs given by users, parsed once: the `yarl.URL` that is checked (scheme, host, port,
allow-list) is the very object the client sends, so no second parser can read the URL
differently from the check. Also decrypt-media's host allow-list: `SENDMAKO_MEDIA_HOSTS`
patterns (WhatsApp's media hosts by default, https only) and whole-URL prefixes that are
always allowed (the server's own sandbox media URL), checked on the first URL and on every
redirect."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass

from yarl import URL

# What a host name may hold once in its ASCII (IDNA) form. yarl accepts more (a NUL byte,
# spaces): such a name could never be resolved, and must not reach a resolver.
_HOST_NAME = re.compile(r"[A-Za-z0-9._-]+")


class InvalidURL(ValueError):
    """Not a URL this server can request."""


def parse_url(text: str) -> URL:
    """The URL of `text`, with a host that is a valid name or address and a port that
    exists. Raises `InvalidURL` for anything else (`http://[/`, an internationalised name
    that is not valid IDNA, port 99999). A URL without a host parses: callers refuse it."""
    try:
        url = URL(text)
        # An ASCII name that is not valid IDNA (`xn--`) parses, then fails to decode.
        _ = url.host
    except (ValueError, TypeError) as exc:  # UnicodeError (IDNA) is a ValueError
        raise InvalidURL(str(exc) or "not a URL") from exc
    host = url.raw_host
    if host is not None and not _valid_host(host):
        raise InvalidURL(f"the host name {host!r} is not valid")
    port = url.explicit_port
    if port is not None and not 0 < port < 65536:
        raise InvalidURL(f"the port {port} does not exist")
    return url


def _valid_host(host: str) -> bool:
    if ":" in host:  # an IPv6 address (yarl keeps the brackets off)
        try:
            ipaddress.IPv6Address(host.split("%", 1)[0])
        except ValueError:
            return False
        return True
    return _HOST_NAME.fullmatch(host) is not None


def default_port(scheme: str) -> int:
    return 443 if scheme == "https" else 80


def port_of(url: URL) -> int:
    return url.explicit_port or default_port(url.scheme)


@dataclass(frozen=True, slots=True)
class HostPattern:
    """`mmg.whatsapp.net`, `*.whatsapp.net` (any subdomain), optionally with a scheme
    (`http://127.0.0.1`, default https) and a port."""

    scheme: str
    host: str
    port: int | None = None
    scheme_written: bool = True  # False: the entry said no scheme, so https

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
        return cls(scheme=scheme, host=host.rstrip("."), port=port, scheme_written=bool(separator))

    def matches(self, url: URL) -> bool:
        return url.scheme == self.scheme and self.matches_host(url)

    def matches_host(self, url: URL) -> bool:
        """The host and port match, whatever the scheme."""
        if self.port is not None and port_of(url) != self.port:
            return False
        host = (url.host or "").rstrip(".")
        if self.host.startswith("*."):
            return host.endswith(self.host[1:])
        return host == self.host

    @property
    def place(self) -> str:
        """The host and port, as written in a URL."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"

    def __str__(self) -> str:
        return f"{self.scheme}://{self.place}" if self.scheme_written else self.place


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

    def allows(self, url: URL) -> bool:
        return any(under_prefix(url, prefix) for prefix in self.prefixes) or any(
            pattern.matches(url) for pattern in self.patterns
        )

    def other_scheme(self, url: URL) -> HostPattern | None:
        """The entry that allows this host over another scheme only (an entry written
        without a scheme allows https only), to say so when `url` is refused."""
        return next((p for p in self.patterns if p.matches_host(url)), None)


def under_prefix(url: URL, prefix: str) -> bool:
    """Whether `url` is `prefix` or below it (same scheme, host and port)."""
    base = URL(prefix)
    path = url.raw_path
    if "%2e" in path.lower() or "/../" in path:
        return False  # no escaping the prefix with dot segments, encoded or not
    return (
        url.scheme == base.scheme
        and url.host == base.host
        and port_of(url) == port_of(base)
        and path.startswith(base.raw_path)
    )
