"""The server-worker protocol: our values survive the trip, frames are bounded, and only
the protocol's own classes can be named by a frame."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from sendmako.engines.neonize import errors
from sendmako.engines.neonize.errors import Context, translate
from sendmako.engines.neonize.protocol import (
    Ended,
    EventFrame,
    FrameSocket,
    LogFrame,
    ProtocolError,
    Reply,
    Request,
    WireError,
    decode,
    encode,
    pack,
    unpack,
)
from sendmako.errors import (
    NotFound,
    OperationFailed,
    SendmakoError,
    TooManyRequests,
    Unavailable,
)
from sendmako.ids import Jid
from sendmako.model.actions import SendResult
from sendmako.model.directory import GroupInfo, GroupParticipant, ParticipantAction, ParticipantRole
from sendmako.model.events import (
    IncomingMedia,
    MessageReceived,
    StatusChanged,
)
from sendmako.model.messages import (
    ContactCard,
    MediaPayload,
    MessageType,
    OutgoingMessage,
)
from sendmako.model.restrictions import NEW_CONTACTS_REFUSED
from sendmako.model.statuses import SessionStatus

VALUES = [
    StatusChanged(
        SessionStatus.CONNECTED, None, phone_number="22241857975", device_jid="x:1@s.whatsapp.net"
    ),
    MessageReceived(
        message_id="ID",
        chat="120363@g.us",
        sender_phone="22241857975",
        sender_jid="1234@lid",
        sender_name="Awa",
        wa_type="imageMessage",
        body="légende",
        timestamp=1767225600,
        is_group=True,
        media=IncomingMedia(
            "image", "https://m", "/p", b"\x00\xff" * 16, b"e", b"s", 10, "image/jpeg"
        ),
        mentions=("5511",),
    ),
    OutgoingMessage(
        to=Jid("120363", "g.us"),
        type=MessageType.CONTACT,
        contact=ContactCard("Awa", "22241857975"),
        mentions=(Jid.user_jid("5511"),),
    ),
    OutgoingMessage(
        to=Jid.user_jid("5511"),
        type=MessageType.AUDIO,
        voice_note=True,
        media=MediaPayload(b"", "audio/ogg", seconds=3, waveform=bytes(64)),
    ),
    GroupInfo(
        Jid("120363", "g.us"),
        "Équipe",
        None,
        None,
        1,
        announce=True,
        restrict=False,
        participants=(GroupParticipant(Jid.user_jid("1"), "1", ParticipantRole.ADMIN),),
    ),
    SendResult("3EB0", datetime(2026, 1, 1, tzinfo=UTC)),
    [Jid.user_jid("1"), ParticipantAction.DEMOTE, None, 1.5, {"k": b"v"}],
]


@pytest.mark.parametrize("value", VALUES, ids=lambda v: type(v).__name__)
def test_values_survive_the_trip(value: object) -> None:
    assert decode(encode(value)) == value


@pytest.mark.parametrize(
    "frame",
    [
        Request(7, "send", {"message": VALUES[2], "spool": None}),
        Reply(7, VALUES[5]),
        Reply(8, error=WireError("unavailable", "Session user_1 is not connected", "x")),
        EventFrame(VALUES[1]),
        Ended("cannot reach WhatsApp", retry=True, retry_after=None),
        LogFrame("warning", "neonize.keepalive_timeout", {"errors": 2}),
    ],
    ids=lambda f: type(f).__name__,
)
def test_frames_survive_the_socket(frame: object) -> None:
    ours, theirs = socket.socketpair()
    with ours, theirs:
        FrameSocket(ours).send(frame)  # type: ignore[arg-type]
        assert FrameSocket(theirs).receive() == frame


def test_a_closed_socket_reads_as_the_end() -> None:
    ours, theirs = socket.socketpair()
    ours.close()
    with theirs:
        assert FrameSocket(theirs).receive() is None


def test_frames_cannot_name_arbitrary_classes() -> None:
    with pytest.raises(ProtocolError):
        decode({"$t": "Popen", "args": ["sh"]})
    with pytest.raises(ProtocolError):
        unpack(b'{"k":"evt","event":{"$e":"Signals","v":9}}')
    with pytest.raises(ProtocolError):
        unpack(b"not json")
    with pytest.raises(TypeError):
        encode(object())


def test_oversized_frames_are_refused() -> None:
    with pytest.raises(ProtocolError):
        pack(Request(1, "send", {"blob": b"x" * (25 * 1024 * 1024)}))


@pytest.mark.parametrize(
    ("text", "context", "expected", "code"),
    [
        ("websocket not connected", Context.SEND, Unavailable, "session_not_connected"),
        ("client is nil", Context.GROUP, Unavailable, "session_not_connected"),
        (
            "info query returned status 429: rate-overlimit",
            Context.SEND,
            TooManyRequests,
            "rate_limited",
        ),
        ("info query returned status 403: forbidden", Context.GROUP, OperationFailed, "not_admin"),
        ("you're not participating in that group", Context.GROUP, OperationFailed, "not_member"),
        (
            "info query returned status 404: item-not-found",
            Context.GROUP,
            OperationFailed,
            "group_not_found",
        ),
        ("that group invite link is not valid", Context.INVITE, OperationFailed, "invite_invalid"),
        ("server returned error 479", Context.SEND, OperationFailed, "whatsapp_error"),
        (
            "no LID found for 5511999998888@s.whatsapp.net from server",
            Context.SEND,
            OperationFailed,
            "not_on_whatsapp",
        ),
        (
            "failed to get user info for 5511999998888@s.whatsapp.net to fill LID cache: "
            "user not found",
            Context.SEND,
            OperationFailed,
            "not_on_whatsapp",
        ),
        (
            "failed to get user info for 5511999998888@s.whatsapp.net to fill LID cache: "
            "websocket not connected",
            Context.SEND,
            Unavailable,
            "session_not_connected",
        ),
        ("server returned error 463", Context.SEND, OperationFailed, NEW_CONTACTS_REFUSED),
        (
            "failed to encrypt poll vote: original message secret key not found",
            Context.SEND,
            OperationFailed,
            "poll_not_found",
        ),
        (
            "can't send presence without PushName set",
            Context.OTHER,
            OperationFailed,
            "no_profile_name",
        ),
        ("client not found", Context.OTHER, Unavailable, "session_not_connected"),
    ],
)
def test_whatsmeow_errors_become_ours(
    text: str, context: Context, expected: type[SendmakoError], code: str
) -> None:
    error = translate(text, session_id="user_1", context=context)
    assert type(error) is expected
    assert error.code == code


@pytest.mark.parametrize(
    "error",
    [
        Unavailable("Session user_1 is not connected", code="session_not_connected"),
        OperationFailed("nope", code="not_on_whatsapp"),
        NotFound("gone"),
        TooManyRequests("slow down", retry_after=30.0),
        SendmakoError("boom"),
    ],
    ids=lambda e: type(e).__name__,
)
def test_errors_cross_the_pipe_as_themselves(error: SendmakoError) -> None:
    back = errors.from_wire(errors.to_wire(error))
    assert (type(back), back.message, back.code, back.status) == (
        type(error),
        error.message,
        error.code,
        error.status,
    )
