"""Actions about a chat rather than one message: read receipts, typing, presence."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from sendmako.ids import Jid
from sendmako.model.actions import Action


@dataclass(frozen=True, slots=True)
class MarkRead(Action[None]):
    """Tell the senders their messages were read (blue ticks). In a group, every message
    of one `MarkRead` is from the same `sender`."""

    chat: Jid
    message_ids: tuple[str, ...]
    sender: Jid | None = None  # the messages' author in a group


class ChatState(StrEnum):
    COMPOSING = "composing"  # typing
    RECORDING = "recording"  # recording a voice note
    PAUSED = "paused"  # stopped typing or recording


@dataclass(frozen=True, slots=True)
class SendChatState(Action[None]):
    """Show `to` that this number is typing, recording, or has stopped."""

    to: Jid
    state: ChatState


class Presence(StrEnum):
    AVAILABLE = "available"  # online
    UNAVAILABLE = "unavailable"  # offline


@dataclass(frozen=True, slots=True)
class SetPresence(Action[None]):
    """This number's own presence, as its contacts see it."""

    state: Presence


@dataclass(frozen=True, slots=True)
class SubscribePresence(Action[None]):
    """Ask WhatsApp for `to`'s presence: `PresenceChanged` events follow."""

    to: Jid
