"""The dashboard's session cookie: who is logged in, the CSRF token, pending flash messages.

The cookie is signed (itsdangerous). Who is logged in is also kept on the server
(`accounts/logins.py`): the cookie carries the login's random token, valid only while the
login's row exists, so logging out, a new password or disabling the account ends the
session even for a copy of the cookie taken before.

A second cookie, the device cookie, is left by each successful login: it names the account
(by a keyed hash of its email) and a random device id, so that the login throttle can tell
the account's own browsers from an attacker's (`throttle.py`).
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
DEVICE_COOKIE = "sendmako_device"
COOKIE_PATH = "/"
SESSION_MAX_AGE = 14 * 24 * 3600  # seconds since the cookie was last written
LANG_MAX_AGE = 365 * 24 * 3600
DEVICE_MAX_AGE = 180 * 24 * 3600
MAX_FLASHES = 5


@dataclass
class SessionCookie:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    user_id: int | None = None
    login: str | None = None  # the token of the user's login (accounts/logins.py)
    flashes: list[tuple[str, str]] = field(default_factory=list)  # (kind, text)

    def to_payload(self) -> dict[str, Any]:
        return {"c": self.csrf, "u": self.user_id, "l": self.login, "f": self.flashes}

    @classmethod
    def from_payload(cls, payload: object) -> SessionCookie | None:
        if not isinstance(payload, dict):
            return None
        csrf, user_id, login = payload.get("c"), payload.get("u"), payload.get("l")
        flashes = payload.get("f") or []
        if not isinstance(csrf, str) or not isinstance(flashes, list):
            return None
        if user_id is not None and not isinstance(user_id, int):
            return None
        return cls(
            csrf=csrf,
            user_id=user_id,
            login=login if isinstance(login, str) else None,
            flashes=[(str(kind), str(text)) for kind, text in flashes[:MAX_FLASHES]],
        )


class CookieCodec:
    """Signs and reads session cookies with the server's secret key."""

    def __init__(self, secret: str) -> None:
        self._secret = secret.encode()
        self._serializer = URLSafeTimedSerializer(secret, salt="sendmako.dashboard.session")
        self._devices = URLSafeTimedSerializer(secret, salt="sendmako.dashboard.device")

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

    def dump_device(self, email: str) -> str:
        """A new device cookie for a browser that just logged in to `email`."""
        return self._devices.dumps({"e": self._email_tag(email), "d": secrets.token_urlsafe(16)})

    def device_for(self, raw: str | None, email: str) -> str | None:
        """The device id in the cookie `raw` if it was left by a login to `email`."""
        if not raw:
            return None
        try:
            payload = self._devices.loads(raw, max_age=DEVICE_MAX_AGE)
        except BadSignature:
            return None
        if not isinstance(payload, dict):
            return None
        tag, device = payload.get("e"), payload.get("d")
        if not isinstance(tag, str) or not isinstance(device, str):
            return None
        return device if hmac.compare_digest(tag, self._email_tag(email)) else None

    def _email_tag(self, email: str) -> str:
        """Names the account without putting its email in the cookie."""
        return hmac.new(self._secret, email.encode(), hashlib.sha256).hexdigest()[:32]
