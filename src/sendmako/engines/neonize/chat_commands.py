"""Commands about a chat rather than one message: read receipts, typing, this number's
presence and watching someone else's, and refusing a call."""

from __future__ import annotations

from typing import Any

from neonize.utils.enum import ChatPresence, ChatPresenceMedia, ReceiptType
from neonize.utils.enum import Presence as NeonizePresence

from sendmako.engines.base import performs
from sendmako.engines.neonize.errors import Context
from sendmako.engines.neonize.ffi import FFI, proto_jid
from sendmako.engines.neonize.recent import RecentCalls
from sendmako.errors import BadRequest
from sendmako.ids import InvalidIdentifier, Jid
from sendmako.model.calls import RejectCall
from sendmako.model.chats import (
    ChatState,
    MarkRead,
    Presence,
    SendChatState,
    SetPresence,
    SubscribePresence,
)

# Only neonize's own enum members ever reach send_chat_presence: Go indexes a slice with
# the raw number, and anything out of range aborts the process.
_CHAT_STATES: dict[ChatState, tuple[ChatPresence, ChatPresenceMedia]] = {
    ChatState.COMPOSING: (
        ChatPresence.CHAT_PRESENCE_COMPOSING,
        ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT,
    ),
    ChatState.RECORDING: (
        ChatPresence.CHAT_PRESENCE_COMPOSING,
        ChatPresenceMedia.CHAT_PRESENCE_MEDIA_AUDIO,
    ),
    ChatState.PAUSED: (
        ChatPresence.CHAT_PRESENCE_PAUSED,
        ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT,
    ),
}
_PRESENCES = {
    Presence.AVAILABLE: NeonizePresence.AVAILABLE,
    Presence.UNAVAILABLE: NeonizePresence.UNAVAILABLE,
}


class ChatCommands(FFI):
    calls: RecentCalls

    @performs(MarkRead)
    def mark_read(self, action: MarkRead) -> None:
        """Blue ticks. The receipt goes to the chat and, in a group, names the messages'
        author exactly as their message named them (a hidden @lid when it was one)."""
        ids = action.message_ids
        if not ids:
            raise BadRequest("message_ids: at least one message id", field="message_ids")
        chat, sender = self._read_addresses(action)
        self._call(
            Context.OTHER,
            lambda: self.client.mark_read(*ids, chat=chat, sender=sender, receipt=ReceiptType.READ),
        )

    def _read_addresses(self, action: MarkRead) -> tuple[Any, Any]:
        remembered = self.recent.get(action.message_ids[0])
        if remembered is not None and remembered.chat and not remembered.from_me:
            try:
                return proto_jid(Jid.parse(remembered.chat)), proto_jid(
                    Jid.parse(remembered.sender)
                )
            except InvalidIdentifier:
                pass  # not a JID we can name: fall back on what the caller said
        chat = proto_jid(action.chat)
        if action.sender is not None:
            return chat, proto_jid(action.sender.without_device())
        if action.chat.is_group:
            raise BadRequest(
                "sender: required in a group (the author of the messages)", field="sender"
            )
        return chat, chat

    @performs(SendChatState)
    def chat_state(self, action: SendChatState) -> None:
        to = proto_jid(action.to)
        state, media = _CHAT_STATES[action.state]
        self._call(Context.OTHER, lambda: self.client.send_chat_presence(to, state, media))

    @performs(SetPresence)
    def presence(self, action: SetPresence) -> None:
        presence = _PRESENCES[action.state]
        self._call(Context.OTHER, lambda: self.client.send_presence(presence))

    @performs(SubscribePresence)
    def subscribe_presence(self, action: SubscribePresence) -> None:
        to = proto_jid(action.to)
        self._call(Context.OTHER, lambda: self.client.subscribe_presence(to))

    @performs(RejectCall)
    def reject_call(self, action: RejectCall) -> None:
        """Refuse a call, answering its caller as the offer named them (WhatsApp ignores a
        refusal addressed to the caller's phone number when the offer came from their LID)."""
        caller = self.calls.get(action.call_id)
        if caller is None:
            caller = proto_jid(action.caller.without_device())
        call_id = action.call_id
        self._call(Context.OTHER, lambda: self.client.reject_call(caller, call_id))
