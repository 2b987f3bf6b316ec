"""Every everyday action, its answer and every event cross the server-worker frame protocol
as themselves (`protocol.pack`/`unpack`): what the server sends is what the worker's
commands get, and what the worker reports is what the server stores."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from typing import Any

import pytest

from sendmako.engines.neonize.actions import WORKER_ACTIONS
from sendmako.engines.neonize.commands import PERFORMERS
from sendmako.engines.neonize.protocol import EventFrame, Reply, Request, pack, unpack
from sendmako.ids import Jid
from sendmako.model.actions import SendResult
from sendmako.model.calls import RejectCall
from sendmako.model.chats import (
    ChatState,
    MarkRead,
    Presence,
    SendChatState,
    SetPresence,
    SubscribePresence,
)
from sendmako.model.directory import CheckNumbers, GetProfilePicture, NumberStatus
from sendmako.model.events import (
    CallReceived,
    GroupChanged,
    GroupParticipantsChanged,
    GroupSettingsChanged,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    PollVoted,
    PresenceChanged,
    ReactionReceived,
    ReceiptReceived,
    Someone,
)
from sendmako.model.messages import (
    EditMessage,
    MessageKey,
    MessageType,
    OutgoingMessage,
    PollSpec,
    PollVote,
    Reaction,
    RevokeMessage,
)
from sendmako.model.profile import GetProfile, Profile, SetProfilePicture, UpdateProfile
from sendmako.model.statuses import MessageStatus

MARIA = Jid.user_jid("5511999998888")
GROUP = Jid("120363025246125244", "g.us")

POLL = MessageKey(GROUP, "3EB0POLL", from_me=False, sender=Jid("123456789012345", "lid"))
ACTIONS: list[Any] = [
    OutgoingMessage(
        to=GROUP,
        type=MessageType.POLL,
        poll=PollSpec("Déjeuner ?", ("Riz", "Thieb"), selectable_count=0),
        quoted_message_id="3EB0Q",
    ),
    Reaction(to=MARIA, target=MessageKey(MARIA, "3EB0A", from_me=True), emoji="👍"),
    Reaction(to=GROUP, target=POLL, emoji=""),
    EditMessage(to=MARIA, target=MessageKey(MARIA, "3EB0A", from_me=True), text="corrigé"),
    RevokeMessage(to=GROUP, target=POLL),
    PollVote(to=GROUP, poll=POLL, options=("Thieb",), poll_options=("Riz", "Thieb")),
    PollVote(to=GROUP, poll=POLL, options=()),
    MarkRead(chat=GROUP, message_ids=("3EB0A", "3EB0B"), sender=Jid("123456789012345", "lid")),
    MarkRead(chat=MARIA, message_ids=("3EB0A",)),
    SendChatState(to=MARIA, state=ChatState.RECORDING),
    SetPresence(Presence.UNAVAILABLE),
    SubscribePresence(to=MARIA),
    RejectCall(call_id="A1B2C3", caller=MARIA),
    CheckNumbers(phones=("5511999998888", "22241857975")),
    GetProfilePicture(jid=MARIA),
    GetProfile(),
    UpdateProfile(name="Boutique Awa"),
    UpdateProfile(about="Ouvert de 8 h à 18 h"),
    SetProfilePicture(jpeg=b"\xff\xd8\xff\xe0\x00\x10JFIF"),
]
ANSWERS: list[Any] = [
    SendResult("3EB0SENT", datetime(2026, 1, 1, 12, 0, tzinfo=UTC)),
    [
        NumberStatus("5511999998888", on_whatsapp=True, jid=Jid("123456789012345", "lid")),
        NumberStatus("22241857975", on_whatsapp=False),
    ],
    Profile(phone="22241857975", name="Awa", about=None, picture_url="https://pps.whatsapp.net/p"),
    "https://pps.whatsapp.net/v/t61/pic.jpg",
    None,
]
MARIA_SOMEONE = Someone(phone="5511999998888", lid="123456789012345")
EVENTS: list[Any] = [
    MessageReceived(
        message_id="3EB0POLL",
        chat="120363025246125244@g.us",
        sender_phone="5511999998888",
        sender_jid="123456789012345@lid",
        sender_name="Maria",
        wa_type="pollCreationMessageV3",
        body="Déjeuner ?",
        timestamp=1767225600,
        is_group=True,
        from_me=True,
        sender_lid="123456789012345",
        poll=PollSpec("Déjeuner ?", ("Riz", "Thieb"), 1),
    ),
    ReceiptReceived(
        ("3EB0A",),
        "120363025246125244@g.us",
        MessageStatus.READ,
        1767225700,
        participant_phone="5511999998888",
        participant_lid="123456789012345",
    ),
    ReactionReceived("5511999998888@s.whatsapp.net", "3EB0A", MARIA_SOMEONE, "👍", 1767225600),
    MessageEdited("5511999998888@s.whatsapp.net", "3EB0A", MARIA_SOMEONE, "corrigé", 1767225600),
    MessageRevoked(
        "120363025246125244@g.us",
        "3EB0B",
        Someone("5511955554444"),
        1767225600,
        by=MARIA_SOMEONE,
        is_group=True,
    ),
    PollVoted(
        "120363025246125244@g.us",
        "3EB0POLL",
        MARIA_SOMEONE,
        (hashlib.sha256(b"Thieb").digest(),),
        1767225600,
        is_group=True,
    ),
    PresenceChanged(MARIA_SOMEONE, "available", last_seen=1767225000),
    PresenceChanged(MARIA_SOMEONE, "recording", chat="120363025246125244@g.us"),
    GroupParticipantsChanged(
        "120363025246125244@g.us", "add", (MARIA_SOMEONE,), Someone("22241857975"), 1767225600
    ),
    GroupSettingsChanged(
        "120363025246125244@g.us", None, 1767225600, subject="Équipe", announce=True
    ),
    GroupChanged("120363025246125244@g.us", left=True),
    CallReceived("A1B2C3", MARIA_SOMEONE, video=True, timestamp=1767225600, is_group=False),
]


def crossed(frame: Any) -> Any:
    body = pack(frame)
    return unpack(body[4:])


def test_the_worker_performs_exactly_the_listed_actions() -> None:
    assert set(PERFORMERS) == WORKER_ACTIONS


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: type(a).__name__)
def test_actions_cross_as_themselves(action: Any) -> None:
    assert type(action) in WORKER_ACTIONS
    request = Request(3, "perform", {"action": action})
    assert crossed(request) == request


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: type(a).__name__)
def test_answers_cross_as_themselves(answer: Any) -> None:
    reply = Reply(3, answer)
    assert crossed(reply) == reply


@pytest.mark.parametrize("event", EVENTS, ids=lambda e: type(e).__name__)
def test_events_cross_as_themselves(event: Any) -> None:
    frame = EventFrame(event)
    assert crossed(frame) == frame
