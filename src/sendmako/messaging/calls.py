"""Refusing calls: a session set to `reject_calls` refuses each call as it rings, then
sends the caller its `reject_calls_message` when it has one (paced and counted like any
message). The `call.received` webhook says whether it was refused (inbound/stores.py)."""

from __future__ import annotations

from collections.abc import Awaitable

from sendmako import log
from sendmako.concurrency.background import Background
from sendmako.errors import SendmakoError
from sendmako.ids import Jid
from sendmako.messaging.sender import Sender
from sendmako.model.calls import RejectCall
from sendmako.model.events import CallReceived, WhatsAppEvent
from sendmako.model.messages import MessageType, OutgoingMessage
from sendmako.storage import users
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord

logger = log.get(__name__)


class CallGuard:
    """A `MessageEventHandler` (sessions/hooks.py)."""

    def __init__(self, db: Database, sender: Sender) -> None:
        self.db = db
        self.sender = sender
        self.background = Background("calls.reject")

    async def handle(self, session: SessionRecord, event: WhatsAppEvent) -> Awaitable[None] | None:
        if isinstance(event, CallReceived) and session.reject_calls:
            # Not in the event's path: refusing waits for the engine.
            self.background.spawn(
                self._refuse(session, event), session_id=session.session_id, call=event.call_id
            )
        return None

    async def _refuse(self, session: SessionRecord, call: CallReceived) -> None:
        async with self.db.read() as db:
            user = await users.get(db, session.user_id)
        if user is None:
            return
        sessions = self.sender.sessions
        caller = Jid.user_jid(call.caller.phone)
        try:
            await sessions.perform(user, session.session_id, RejectCall(call.call_id, caller))
            logger.info("call.rejected", session_id=session.session_id, call=call.call_id)
            if session.reject_calls_message:
                view = sessions.get(user, session.session_id)
                message = OutgoingMessage(caller, MessageType.TEXT, session.reject_calls_message)
                reservation = await self.sender.usage.reserve(user)
                try:
                    await self.sender.deliver(user, view, message, reservation)
                finally:
                    reservation.release()
        except SendmakoError as exc:
            logger.warning("call.reject_failed", session_id=session.session_id, error=exc.message)
