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

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from threading import Lock
from typing import Any, TypeVar, cast

from sendmako.engines.base import performers_of
from sendmako.engines.neonize.actions import WORKER_ACTIONS
from sendmako.engines.neonize.chat_commands import ChatCommands
from sendmako.engines.neonize.directory_commands import DirectoryCommands
from sendmako.engines.neonize.ffi import Own
from sendmako.engines.neonize.message_commands import MessageCommands
from sendmako.engines.neonize.profile_commands import ProfileCommands
from sendmako.engines.neonize.protocol import SPOOL_NAME
from sendmako.engines.neonize.recent import RecentCalls, RecentMessages
from sendmako.errors import BadRequest
from sendmako.model.actions import Action
from sendmako.model.messages import OutgoingMessage

R = TypeVar("R")


class Commands(MessageCommands, ChatCommands, DirectoryCommands, ProfileCommands):
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
