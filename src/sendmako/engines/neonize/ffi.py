"""The boundary every command crosses into neonize: one FFI call at a time, under the
connection's lock, refused before touching neonize unless the session is connected, with
whatsmeow's errors as ours.

`FFI` is the base of the command families (`commands.py` puts them together); it sees the
neonize client only through the methods they call, so tests drive them with a fake client.
Two kinds of call:

- `_call`: the session must be CONNECTED (whatsmeow's client is in neonize's Go map,
  so nothing that indexes that map can abort the process);
- `_logged_in_call`: also asks `is_logged_in` first, under the same lock, for the calls
  that dereference a device store which exists only once paired (`contact.*`,
  `set_profile_name`, `get_lid_from_pn`...).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from threading import Lock
from typing import Any, TypeVar

from neonize.exc import NeonizeError
from neonize.utils.jid import build_jid

from sendmako.engines.neonize.errors import Context, translate
from sendmako.engines.neonize.recent import RecentMessages
from sendmako.errors import BadRequest, OperationFailed, Unavailable
from sendmako.ids import GROUP_SERVER, LID_SERVER, USER_SERVER, Jid

T = TypeVar("T")
# whatsmeow's words for "no picture to show": none set, or hidden from this number.
NO_PICTURE = (
    "does not have a profile picture",
    "no profile picture",
    "item-not-found",
    "hidden their profile picture",
)


@dataclass(frozen=True, slots=True)
class Own:
    """This number as its connection knows it: WhatsApp names it by its phone number or,
    more and more, by its hidden id (LID)."""

    phone: str | None = None  # digits with the country code
    lid: str | None = None  # digits before @lid
    push_name: str | None = None

    @property
    def users(self) -> frozenset[str]:
        """The user parts that mean "this number" in a JID."""
        return frozenset(user for user in (self.phone, self.lid) if user)

    @property
    def jid(self) -> str | None:
        """The phone JID, without device: how others' phones name our messages."""
        return f"{self.phone}@{USER_SERVER}" if self.phone else None


class FFI:
    def __init__(
        self,
        client: Any,
        *,
        session_id: str,
        lock: Lock,
        ready: Callable[[], bool],
        recent: RecentMessages,
        own: Callable[[], Own] = Own,
    ) -> None:
        self.client = client
        self.session_id = session_id
        self.lock = lock
        self.ready = ready
        self.recent = recent
        self.own = own

    def _call(self, context: Context, call: Callable[[], T]) -> T:
        """Run one neonize call under the lock, with its errors as ours."""
        with self.lock:
            self._require_ready()
            try:
                return call()
            except NeonizeError as exc:
                raise translate(
                    error_text(exc), session_id=self.session_id, context=context
                ) from exc

    def _logged_in_call(self, context: Context, call: Callable[[], T]) -> T:
        """`_call` for the calls that abort the process unless the device is paired."""

        def guarded() -> T:
            if not self.client.is_logged_in:
                raise Unavailable(
                    f"Session {self.session_id} is not logged in.", code="session_not_connected"
                )
            return call()

        return self._call(context, guarded)

    def _picture_url(self, jid: Jid, context: Context) -> str | None:
        """The URL of a user's or group's picture; None when none is set or it is hidden."""
        target = proto_jid(jid)
        try:
            picture = self._call(context, lambda: self.client.get_profile_picture(target))
        except OperationFailed as exc:
            if any(marker in exc.message.lower() for marker in NO_PICTURE):
                return None
            raise
        return str(picture.URL) or None

    def _require_ready(self) -> None:
        if not self.ready():
            raise Unavailable(
                f"Session {self.session_id} is not connected to WhatsApp.",
                code="session_not_connected",
            )


def proto_jid(jid: Jid) -> Any:
    """A user, hidden-user or group JID as neonize's protobuf (no device)."""
    if jid.server not in (USER_SERVER, GROUP_SERVER, LID_SERVER):
        raise BadRequest(f"{jid} is not a user or group JID", field="jid")
    return build_jid(jid.user, jid.server)


def error_text(exc: NeonizeError) -> str:
    """whatsmeow's error text: GetProfilePictureError wraps the whole answer protobuf, and
    SendPresenceError carries bytes."""
    first = exc.args[0] if exc.args else ""
    error = getattr(first, "Error", None)
    if error:
        return str(error)
    if isinstance(first, bytes):
        return first.decode(errors="replace")
    return str(first or exc)


def timestamp(value: int) -> datetime:
    seconds = value / 1000 if value > 10**11 else value  # whatsmeow gives seconds
    return datetime.fromtimestamp(seconds or time.time(), UTC)
