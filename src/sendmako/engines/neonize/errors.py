"""whatsmeow's errors, as our errors (`sendmako.errors`), and their trip across the pipe.

neonize raises one exception class per call (`SendMessageError`, `GetGroupInfoError`...)
whose text is whatsmeow's error string; what it means lives in that text, so this module
reads it. It never imports neonize: the worker passes the text, the server rebuilds the
error from its wire form.
"""

from __future__ import annotations

import re
from enum import StrEnum

from sendmako.engines.neonize.protocol import WireError
from sendmako.errors import (
    BadRequest,
    NotFound,
    OperationFailed,
    SendmakoError,
    TooManyRequests,
    Unavailable,
)
from sendmako.model.restrictions import NEW_CONTACTS_REFUSED


class Context(StrEnum):
    """What was being done: the same whatsmeow error means different things per action."""

    SEND = "send"
    GROUP = "group"
    INVITE = "invite"
    OTHER = "other"


# Said when the websocket is down or the device is not (yet) logged in.
_OFFLINE = (
    "websocket not connected",
    "client is nil",
    "not connected",
    "doesn't contain a device jid",
    "not logged in",
    "info query timed out",
    "context deadline exceeded",
    "failed to refresh media connections",
    "client not found",  # neonize's own word for a session missing from its Go map
)
_IQ_STATUS = re.compile(r"(?:status|error) (\d{3})")
RATE_LIMIT_RETRY_SECONDS = 60.0

# What whatsmeow says, read the same in every context: (markers, our code, what it means).
_REFUSALS: tuple[tuple[tuple[str, ...], str, str], ...] = (
    # WhatsApp refuses to let this number write to someone new for now (a "reach-out
    # timelock", often after spam reports): a restriction on the number, not the chat.
    (
        ("server returned error 463",),
        NEW_CONTACTS_REFUSED,  # the sender holds it as the session's restriction
        "WhatsApp refuses to let this number contact a new number for now",
    ),
    # whatsmeow readdresses every message to a number to its LID first; a number without
    # WhatsApp has none, so sending to it fails with one of these (not with a 404).
    (
        ("no lid found for", "to fill lid cache"),
        "not_on_whatsapp",
        "The recipient is not on WhatsApp",
    ),
    # A vote needs the poll's key, which whatsmeow keeps for polls this device sent or saw.
    (
        ("message secret key not found",),
        "poll_not_found",
        "This device never saw that poll (it was sent before the device was linked?)",
    ),
    (
        ("not a valid image",),
        "invalid_image",
        "WhatsApp did not take that picture (a JPEG is needed)",
    ),
    (
        ("without pushname",),
        "no_profile_name",
        "This number has no profile name yet; set one first",
    ),
)
_MEANINGS = {code: meaning for _markers, code, meaning in _REFUSALS}


def translate(message: str, *, session_id: str, context: Context) -> SendmakoError:
    """The error the API should answer for whatsmeow's `message`."""
    text = message.strip() or "no reason given"
    lower = text.lower()
    if any(marker in lower for marker in _OFFLINE):
        return Unavailable(
            f"Session {session_id} is not connected to WhatsApp ({text}).",
            code="session_not_connected",
        )
    match = _IQ_STATUS.search(lower)
    status = int(match.group(1)) if match else None
    if status == 429 or "rate-overlimit" in lower:
        return TooManyRequests(
            f"WhatsApp is rate-limiting session {session_id}: {text}",
            retry_after=RATE_LIMIT_RETRY_SECONDS,
        )
    code = _code(lower, status, context)
    meaning = _MEANINGS.get(code) if code is not None else None
    if code is not None and meaning is not None:
        return OperationFailed(f"{meaning} ({text}).", code=code)
    return OperationFailed(f"WhatsApp refused: {text}", code=code or "whatsapp_error")


def _code(lower: str, status: int | None, context: Context) -> str | None:
    for markers, code, _meaning in _REFUSALS:
        if any(marker in lower for marker in markers):
            return code
    if context in (Context.GROUP, Context.INVITE):
        return _group_code(lower, status, context)
    if context is Context.SEND and ("not on whatsapp" in lower or status == 404):
        return "not_on_whatsapp"
    return None


def _group_code(lower: str, status: int | None, context: Context) -> str | None:
    if "not participating" in lower or "not-participant" in lower:
        return "not_member"
    if context is Context.INVITE and ("invite link" in lower or status in (400, 404, 406, 410)):
        return "invite_invalid"
    if "group not found" in lower or "item-not-found" in lower or status == 404:
        return "group_not_found"
    if "permission" in lower or status in (401, 403) or "not-authorized" in lower:
        return "not_admin"
    return None


# -- the wire -----------------------------------------------------------------------------

_KINDS: dict[str, type[SendmakoError]] = {
    "unavailable": Unavailable,
    "operation_failed": OperationFailed,
    "bad_request": BadRequest,
    "not_found": NotFound,
    "internal": SendmakoError,
}


def to_wire(exc: SendmakoError) -> WireError:
    if isinstance(exc, TooManyRequests):
        # The delay rides in the code slot: a rate limit has no other code to carry.
        return WireError("rate_limited", exc.message, str(exc.retry_after))
    for kind, cls in _KINDS.items():
        if cls is not SendmakoError and isinstance(exc, cls):
            return WireError(kind, exc.message, exc.code)
    return WireError("internal", exc.message, exc.code)


def from_wire(error: WireError) -> SendmakoError:
    if error.kind == "rate_limited":
        return TooManyRequests(error.message, retry_after=float(error.code or 60))
    cls = _KINDS.get(error.kind, SendmakoError)
    return cls(error.message, code=error.code)
