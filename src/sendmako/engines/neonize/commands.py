"""What the worker does for the server: the actions of `actions.py` (sends, contacts,
groups), each one FFI call (or a few) under the connection's lock, refused before touching
neonize when the session is not logged in (`ffi.py`).

Each action has one method, marked `@performs`, in one of the command families this class
puts together; importing this module checks that they are exactly the actions `actions.py`
lists, so a command cannot be forgotten on either side.

`Commands` sees the neonize client only through the methods it calls, so tests drive it
with a fake client and read the protobufs that would have gone on the wire.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from threading import Lock
from typing import Any, TypeVar, cast

from neonize.utils.jid import build_jid

from sendmako.engines.base import performers_of, performs
from sendmako.engines.neonize import outgoing
from sendmako.engines.neonize.actions import WORKER_ACTIONS
from sendmako.engines.neonize.chat_commands import ChatCommands
from sendmako.engines.neonize.directory_commands import DirectoryCommands
from sendmako.engines.neonize.errors import Context
from sendmako.engines.neonize.ffi import Own, timestamp
from sendmako.engines.neonize.profile_commands import ProfileCommands
from sendmako.engines.neonize.protocol import SPOOL_NAME
from sendmako.engines.neonize.recent import RecentCalls, RecentMessages
from sendmako.errors import BadRequest, OperationFailed
from sendmako.ids import USER_SERVER, Jid
from sendmako.model.actions import Action, SendResult
from sendmako.model.messages import OutgoingMessage

R = TypeVar("R")
ON_WHATSAPP_TTL_SECONDS = 3600.0


class Commands(DirectoryCommands, ChatCommands, ProfileCommands):
    def __init__(
        self,
        client: Any,
        *,
        session_id: str,
        lock: Lock,
        ready: Callable[[], bool],
        recent: RecentMessages,
        spool_dir: Path | None,
        own: Callable[[], Own] = Own,
        calls: RecentCalls | None = None,
    ) -> None:
        super().__init__(
            client, session_id=session_id, lock=lock, ready=ready, recent=recent, own=own
        )
        self.spool_dir = spool_dir
        self.calls = calls if calls is not None else RecentCalls()
        self._on_whatsapp: dict[str, tuple[float, Any]] = {}

    def perform(self, action: Action[R], *, spool: str | None = None) -> R:
        """Do `action`; `spool` names the file the server left its media in."""
        if spool is not None and isinstance(action, OutgoingMessage) and action.media:
            media = replace(action.media, data=self._take_spooled(spool))
            action = cast(Action[R], replace(action, media=media))
        name = PERFORMERS.get(type(action))
        if name is None:
            raise BadRequest(f"this worker does not perform {type(action).__name__}")
        result: R = getattr(self, name)(action)
        return result

    # -- messages -----------------------------------------------------------------------

    @performs(OutgoingMessage)
    def send(self, message: OutgoingMessage) -> SendResult:
        data = message.media.data if message.media is not None else None
        self._require_ready()
        to = self._destination(message.to)

        def upload(blob: bytes, kind: Any) -> Any:
            return self._call(Context.SEND, lambda: self.client.upload(blob, kind))

        proto = outgoing.build(message, data, upload, self.recent)
        response = self._call(Context.SEND, lambda: self.client.send_message(to, proto))
        own = self.own().jid
        if own is not None:
            self.recent.remember(response.ID, own, proto)
        return SendResult(message_id=str(response.ID), timestamp=timestamp(response.Timestamp))

    def _destination(self, to: Jid) -> Any:
        """The JID to send to: a number is checked with WhatsApp first (and WhatsApp's own
        JID for it used), so a number without WhatsApp fails instead of vanishing."""
        if to.server != USER_SERVER:
            return build_jid(to.user, to.server)
        cached = self._on_whatsapp.get(to.user)
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        try:
            answers = self._call(Context.SEND, lambda: self.client.is_on_whatsapp("+" + to.user))
        except OperationFailed as exc:
            raise OperationFailed(
                f"+{to.user} is not on WhatsApp ({exc.message}).", code="not_on_whatsapp"
            ) from exc
        found = next((answer for answer in answers if answer.IsIn), None)
        if found is None:
            raise OperationFailed(f"+{to.user} is not on WhatsApp.", code="not_on_whatsapp")
        jid = found.JID if found.JID.User else build_jid(to.user, USER_SERVER)
        self._on_whatsapp[to.user] = (time.monotonic() + ON_WHATSAPP_TTL_SECONDS, jid)
        return jid

    def _take_spooled(self, name: str) -> bytes:
        """The media file the server spooled for this send (read once, then deleted)."""
        if self.spool_dir is None or not SPOOL_NAME.match(name):
            raise BadRequest("media: not a spool file of this server", field="media")
        path = self.spool_dir / name
        try:
            data = path.read_bytes()
        except FileNotFoundError as exc:
            raise BadRequest("media: the spooled file is gone", field="media") from exc
        path.unlink(missing_ok=True)
        return data


PERFORMERS = performers_of(Commands)
if set(PERFORMERS) != WORKER_ACTIONS:  # pragma: no cover - fails at import, on purpose
    raise TypeError(
        "Commands must perform exactly the actions of actions.py: "
        f"missing {sorted(k.__name__ for k in WORKER_ACTIONS - set(PERFORMERS))}, "
        f"extra {sorted(k.__name__ for k in set(PERFORMERS) - WORKER_ACTIONS)}"
    )
