"""Presence: showing a chat that this number types or records, being online or offline,
and watching a contact's presence (its changes come as `presence.update` webhooks)."""

from __future__ import annotations

from sendmako.errors import BadRequest
from sendmako.messaging.sender import parse_recipient
from sendmako.model.chats import (
    ChatState,
    Presence,
    SendChatState,
    SetPresence,
    SubscribePresence,
)
from sendmako.sessions.manager import SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage.records import UserRecord

CHAT_STATES = tuple(state.value for state in ChatState)
PRESENCES = tuple(state.value for state in Presence)


class Presences:
    def __init__(self, sessions: SessionManager) -> None:
        self.sessions = sessions

    async def show(
        self, user: UserRecord, to: str | None, state: str, session_id: str | None
    ) -> SessionView:
        """With `to`: typing, recording or paused in that chat. Without: this number online
        or offline."""
        view = self.sessions.pick(user, session_id)
        if to is not None:
            if state not in CHAT_STATES:
                raise BadRequest(
                    f"state: with `to`, one of {', '.join(CHAT_STATES)} (got {state!r})",
                    field="state",
                )
            action = SendChatState(parse_recipient(to), ChatState(state))
            await self.sessions.perform(user, view.session_id, action)
        else:
            if state not in PRESENCES:
                raise BadRequest(
                    f"state: without `to`, one of {', '.join(PRESENCES)} (got {state!r}); "
                    "typing and recording need `to`",
                    field="state",
                )
            await self.sessions.perform(user, view.session_id, SetPresence(Presence(state)))
        return view

    async def watch(self, user: UserRecord, to: str, session_id: str | None) -> SessionView:
        view = self.sessions.pick(user, session_id)
        await self.sessions.perform(user, view.session_id, SubscribePresence(parse_recipient(to)))
        return view
