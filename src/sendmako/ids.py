"""Identifiers: WhatsApp JIDs, phone numbers and session ids. The only place that parses them."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import NewType

import phonenumbers

SessionId = NewType("SessionId", str)

USER_SERVER = "s.whatsapp.net"
GROUP_SERVER = "g.us"
LID_SERVER = "lid"
KNOWN_SERVERS = frozenset({USER_SERVER, GROUP_SERVER, LID_SERVER, "broadcast", "newsletter"})

# The longest text taken for a phone number or a JID. A number has at most 15 digits; its
# spellings add a `+`, spaces, dashes and parentheses. Longer input is refused before it is
# parsed or cached: a number padded with megabytes of spaces must cost nothing to refuse.
MAX_PHONE_TEXT = 64
MAX_JID_TEXT = 128

_SESSION_ID = re.compile(r"^user_(\d+)(?:_(\d+))?$")
_JID = re.compile(r"^(?P<user>[0-9A-Za-z.\-_]+?)(?::(?P<device>\d+))?@(?P<server>[a-z.]+)$")
_SPELLING = re.compile(r"[\s().\-/]")


class InvalidIdentifier(ValueError):
    """Raised with a message fit for the API user."""


@dataclass(frozen=True, slots=True)
class Jid:
    """A WhatsApp address: `user@server`, with an optional device (`user:device@server`)."""

    user: str
    server: str
    device: int = 0

    @classmethod
    def parse(cls, text: str) -> Jid:
        if len(text) > MAX_JID_TEXT:
            raise InvalidIdentifier(f"a JID has at most {MAX_JID_TEXT} characters")
        match = _JID.match(text.strip())
        if not match or match["server"] not in KNOWN_SERVERS:
            raise InvalidIdentifier(f"{text!r} is not a WhatsApp JID")
        return cls(match["user"], match["server"], int(match["device"] or 0))

    @classmethod
    def user_jid(cls, phone: str) -> Jid:
        return cls(phone, USER_SERVER)

    @property
    def is_group(self) -> bool:
        return self.server == GROUP_SERVER

    @property
    def is_lid(self) -> bool:
        return self.server == LID_SERVER

    def without_device(self) -> Jid:
        return Jid(self.user, self.server)

    def __str__(self) -> str:
        if self.device:
            return f"{self.user}:{self.device}@{self.server}"
        return f"{self.user}@{self.server}"


def normalize_phone(raw: str) -> str:
    """An international number in any common spelling, as digits with the country code.

    `+222 41 85 79 75`, `0022241857975` and `22241857975` all give `22241857975`. Numbers
    that cannot exist (unknown country code, wrong length) raise `InvalidIdentifier`, and so
    does text longer than `MAX_PHONE_TEXT`, before anything else is done with it.
    """
    if len(raw) > MAX_PHONE_TEXT:
        raise InvalidIdentifier(
            f"a phone number has at most {MAX_PHONE_TEXT} characters, spaces included"
        )
    text = _SPELLING.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    elif not text.startswith("+"):
        text = "+" + text
    if not text[1:].isdigit():
        raise InvalidIdentifier(f"{raw!r} is not a phone number (digits with the country code)")
    try:
        return _e164(text)
    except InvalidIdentifier as exc:
        raise InvalidIdentifier(f"{raw!r} {exc}") from None


@functools.lru_cache(maxsize=65536)
def _e164(text: str) -> str:
    """`+` and digits (at most MAX_PHONE_TEXT of them) as E.164 digits. Cached on that
    compact form, never on what the caller sent: the cache holds at most 65,536 short keys
    (phonenumbers takes tens of microseconds a number)."""
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException as exc:
        raise InvalidIdentifier("is not an international phone number") from exc
    if not phonenumbers.is_possible_number(number):
        raise InvalidIdentifier(
            "is not a possible phone number: check the country code and the length"
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:]


def recipient_jid(to: str) -> Jid:
    """`to` of a send: a number in any spelling, a user JID or a group JID."""
    if "@" in to:
        jid = Jid.parse(to)
        if jid.server == USER_SERVER:
            return Jid.user_jid(normalize_phone(jid.user))
        return jid.without_device()
    return Jid.user_jid(normalize_phone(to))


def session_id_for(user_id: int, row_id: int, *, first: bool) -> SessionId:
    """`user_<user id>` for a user's first session, `user_<user id>_<id>` for later ones."""
    return SessionId(f"user_{user_id}" if first else f"user_{user_id}_{row_id}")


def is_session_id(text: str) -> bool:
    return _SESSION_ID.match(text) is not None
