"""The dashboard's session cookie: who is logged in, the CSRF token, pending flash messages.

The cookie is signed (itsdangerous) rather than stored server-side, so no table is needed.
It carries a fingerprint of the user's password hash: changing the password (CLI or
dashboard) ends every session made with the old one.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer

SESSION_COOKIE = "sendmako_session"
LANG_COOKIE = "sendmako_lang"
COOKIE_PATH = "/"
SESSION_MAX_AGE = 14 * 24 * 3600  # seconds since the cookie was last written
LANG_MAX_AGE = 365 * 24 * 3600
MAX_FLASHES = 5


@dataclass
class SessionCookie:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    user_id: int | None = None
    fingerprint: str | None = None
    flashes: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)

    def to_payload(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.user_id, "p": self.fingerprint, "f": self.flashes}

    @classmethod
    def from_payload(cls, payload: object) -> SessionCookie | None:
        if not isinstance(payload, dict):
            return None
        csrf, user_id, fingerprint = payload.get("c"), payload.get("u"), payload.get("p")
        flashes = payload.get("f") or []
        if not isinstance(csrf, str) or not isinstance(flashes, list):
            return None
        if user_id is not None and not isinstance(user_id, int):
            return None
        return cls(
            csrf=csrf,
            user_id=user_id,
            fingerprint=fingerprint if isinstance(fingerprint, str) else None,
            flashes=[(str(kind), str(text)) for kind, text in flashes[:MAX_FLASHES]],
        )


class CookieCodec:
    """Signs and reads session cookies with the server's secret key."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt="sendmako.dashboard.session")

    def dump(self, cookie: SessionCookie) -> str:
        return self._serializer.dumps(cookie.to_payload())

    def load(self, raw: str | None) -> SessionCookie | None:
        """The cookie, or None when absent, forged, expired or malformed."""
        if not raw:
            return None
        try:
            payload = self._serializer.loads(raw, max_age=SESSION_MAX_AGE)
        except BadSignature:  # also SignatureExpired, its subclass
            return None
        return SessionCookie.from_payload(payload)

    def fingerprint(self, password_hash: str) -> str:
        """Ties a session to the password it was opened with, without putting the hash in
        the cookie (keyed, so the cookie tells nothing about the hash)."""
        digest = hmac.new(self._secret, password_hash.encode(), hashlib.sha256).hexdigest()
        return digest[:32]
