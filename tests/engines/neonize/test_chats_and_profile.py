"""Read receipts, typing, presence, number checks, pictures, this number's profile and
refusing calls through `Commands`, with a fake client: what each asks neonize for, and the
guards that keep the calls that abort the process from ever running in the wrong state."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from neonize.events import ConnectedEv
from neonize.proto import Neonize_pb2 as npb
from neonize.utils.enum import ChatPresence, ChatPresenceMedia, ReceiptType
from neonize.utils.enum import Presence as NeonizePresence

from sendmako.engines.neonize.commands import Commands
from sendmako.engines.neonize.connection import Connection, ConnectionConfig
from sendmako.engines.neonize.ffi import Own
from sendmako.engines.neonize.recent import RecentCalls, RecentMessages
from sendmako.engines.neonize.store import StoredDevice
from sendmako.errors import BadRequest, OperationFailed, Unavailable
from sendmako.ids import Jid
from sendmako.model.actions import Action
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
from sendmako.model.profile import GetProfile, Profile, SetProfilePicture, UpdateProfile
from tests.engines.neonize.fakes import FakeClient
from tests.engines.neonize.protobufs import GROUP, MARIA, MARIA_LID, ME, ME_LID, jid
from tests.engines.neonize.recording import RecordingLink

MARIA_JID = Jid.user_jid(MARIA)
GROUP_JID = Jid(GROUP, "g.us")
JPEG = b"\xff\xd8\xff\xe0" + bytes(64)


def commands(
    client: FakeClient,
    *,
    ready: bool = True,
    recent: RecentMessages | None = None,
    calls: RecentCalls | None = None,
) -> Commands:
    return Commands(
        client,
        session_id="user_1",
        lock=threading.Lock(),
        ready=lambda: ready,
        recent=recent or RecentMessages(),
        spool_dir=None,
        own=lambda: Own(phone=ME, lid=ME_LID, push_name="Awa"),
        calls=calls,
    )


def called(client: FakeClient, name: str) -> list[tuple[Any, ...]]:
    return [args for called_name, args in client.calls if called_name == name]


# -- read receipts ----------------------------------------------------------------------


def test_mark_read_in_a_direct_chat_names_the_chat_as_sender() -> None:
    client = FakeClient()
    commands(client).perform(MarkRead(chat=MARIA_JID, message_ids=("3EB0A", "3EB0B")))
    assert called(client, "mark_read") == [
        (("3EB0A", "3EB0B"), f"{MARIA}@s.whatsapp.net", f"{MARIA}@s.whatsapp.net", ReceiptType.READ)
    ]


def test_mark_read_in_a_group_needs_the_author() -> None:
    client = FakeClient()
    with pytest.raises(BadRequest) as caught:
        commands(client).perform(MarkRead(chat=GROUP_JID, message_ids=("3EB0A",)))
    assert caught.value.field == "sender"
    commands(client).perform(
        MarkRead(chat=GROUP_JID, message_ids=("3EB0A",), sender=Jid(MARIA, "s.whatsapp.net", 3))
    )
    assert called(client, "mark_read")[0][1:3] == (f"{GROUP}@g.us", f"{MARIA}@s.whatsapp.net")


def test_mark_read_answers_a_remembered_message_as_it_arrived() -> None:
    """A group message from a hidden @lid is read back to that @lid, whatever the caller
    named the author (its phone number, from the webhook)."""
    client, recent = FakeClient(), RecentMessages()
    recent.remember("3EB0A", f"{MARIA_LID}@lid", object(), chat=f"{GROUP}@g.us", from_me=False)
    commands(client, recent=recent).perform(
        MarkRead(chat=GROUP_JID, message_ids=("3EB0A",), sender=MARIA_JID)
    )
    assert called(client, "mark_read")[0][1:3] == (f"{GROUP}@g.us", f"{MARIA_LID}@lid")


def test_mark_read_needs_message_ids() -> None:
    with pytest.raises(BadRequest):
        commands(FakeClient()).perform(MarkRead(chat=MARIA_JID, message_ids=()))


# -- typing and presence ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (
            ChatState.COMPOSING,
            (ChatPresence.CHAT_PRESENCE_COMPOSING, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT),
        ),
        (
            ChatState.RECORDING,
            (ChatPresence.CHAT_PRESENCE_COMPOSING, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_AUDIO),
        ),
        (
            ChatState.PAUSED,
            (ChatPresence.CHAT_PRESENCE_PAUSED, ChatPresenceMedia.CHAT_PRESENCE_MEDIA_TEXT),
        ),
    ],
)
def test_chat_states_are_only_ever_neonizes_own_enum_members(
    state: ChatState, expected: tuple[Any, Any]
) -> None:
    """send_chat_presence indexes a Go slice with the raw number: out of range aborts."""
    client = FakeClient()
    commands(client).perform(SendChatState(to=GROUP_JID, state=state))
    ((to, *sent),) = called(client, "send_chat_presence")
    assert (to, *sent) == (f"{GROUP}@g.us", *expected)
    assert all(type(value) in (ChatPresence, ChatPresenceMedia) for value in sent)


def test_presence_and_subscribing_to_someones() -> None:
    client = FakeClient()
    cmds = commands(client)
    cmds.perform(SetPresence(Presence.AVAILABLE))
    cmds.perform(SetPresence(Presence.UNAVAILABLE))
    cmds.perform(SubscribePresence(to=MARIA_JID))
    assert called(client, "send_presence") == [
        (NeonizePresence.AVAILABLE,),
        (NeonizePresence.UNAVAILABLE,),
    ]
    assert called(client, "subscribe_presence") == [(f"{MARIA}@s.whatsapp.net",)]


def test_presence_without_a_push_name_says_so() -> None:
    client = FakeClient(fail={"send_presence": "can't send presence without PushName set"})
    with pytest.raises(OperationFailed) as caught:
        commands(client).perform(SetPresence(Presence.AVAILABLE))
    assert caught.value.code == "no_profile_name"


# -- numbers and pictures ---------------------------------------------------------------


def test_check_numbers_answers_each_number_asked_in_order_even_behind_a_lid() -> None:
    client = FakeClient(not_on_whatsapp={"33612345678"}, lids={MARIA: MARIA_LID})
    answer = commands(client).perform(CheckNumbers(phones=("33612345678", MARIA, ME, MARIA)))
    assert answer == [
        NumberStatus("33612345678", on_whatsapp=False),
        NumberStatus(MARIA, on_whatsapp=True, jid=Jid(MARIA_LID, "lid")),
        NumberStatus(ME, on_whatsapp=True, jid=Jid.user_jid(ME)),
        NumberStatus(MARIA, on_whatsapp=True, jid=Jid(MARIA_LID, "lid")),
    ]
    # one question for all of them, each number once, in WhatsApp's `+` form
    assert called(client, "is_on_whatsapp") == [("+33612345678", f"+{MARIA}", f"+{ME}")]


def test_check_numbers_refuses_what_is_not_digits() -> None:
    with pytest.raises(BadRequest):
        commands(FakeClient()).perform(CheckNumbers(phones=("+5511",)))
    assert commands(FakeClient()).perform(CheckNumbers(phones=())) == []


@pytest.mark.parametrize(
    "error",
    [
        "that user or group does not have a profile picture",
        "the user has hidden their profile picture from you",
    ],
)
def test_no_picture_or_a_hidden_one_is_none(error: str) -> None:
    client = FakeClient(pictures={MARIA: error})
    assert commands(client).perform(GetProfilePicture(jid=MARIA_JID)) is None


def test_a_contacts_picture_url() -> None:
    client = FakeClient(pictures={MARIA: "https://pps.whatsapp.net/v/t61/maria.jpg"})
    url = commands(client).perform(GetProfilePicture(jid=Jid(MARIA, "s.whatsapp.net", 2)))
    assert url == "https://pps.whatsapp.net/v/t61/maria.jpg"
    assert called(client, "get_profile_picture") == [(MARIA, "s.whatsapp.net")]


# -- this number's profile --------------------------------------------------------------


def test_profile_is_the_own_number_its_name_about_and_picture() -> None:
    client = FakeClient(about="Open 8 to 18")
    assert commands(client).perform(GetProfile()) == Profile(
        phone=ME,
        name="Awa",
        about="Open 8 to 18",
        picture_url="https://pps.whatsapp.net/v/t61/pic.jpg",
    )
    assert called(client, "get_user_info") == [(f"{ME}@s.whatsapp.net",)]


def test_update_profile_changes_only_what_is_given_and_the_new_name_shows() -> None:
    client = FakeClient()
    cmds = commands(client)
    cmds.perform(UpdateProfile(name="Boutique Awa"))
    assert called(client, "set_profile_name") == [("Boutique Awa",)]
    assert called(client, "set_status_message") == []
    cmds.perform(UpdateProfile(about=""))
    assert called(client, "set_status_message") == [("",)]
    assert cmds.perform(GetProfile()).name == "Boutique Awa"


@pytest.mark.parametrize(
    "change",
    [UpdateProfile(name="  "), UpdateProfile(name="x" * 26), UpdateProfile(about="x" * 140)],
)
def test_update_profile_refuses_what_whatsapp_would(change: UpdateProfile) -> None:
    client = FakeClient()
    with pytest.raises(BadRequest):
        commands(client).perform(change)
    assert client.calls == []


def test_profile_name_is_never_set_on_a_device_not_logged_in() -> None:
    """set_profile_name dereferences whatsmeow's app-state store, nil until paired."""
    client = FakeClient(is_logged_in=False)
    with pytest.raises(Unavailable):
        commands(client).perform(UpdateProfile(name="Awa"))
    assert called(client, "set_profile_name") == []


def test_profile_picture_is_sent_as_bytes_and_must_be_a_jpeg() -> None:
    client = FakeClient()
    with pytest.raises(BadRequest):
        commands(client).perform(SetProfilePicture(jpeg=b"\x89PNG\r\n"))
    commands(client).perform(SetProfilePicture(jpeg=JPEG))
    assert called(client, "set_profile_photo") == [(len(JPEG),)]


def test_a_picture_whatsapp_refuses_is_invalid_image() -> None:
    client = FakeClient(fail={"set_profile_photo": "the given data is not a valid image"})
    with pytest.raises(OperationFailed) as caught:
        commands(client).perform(SetProfilePicture(jpeg=JPEG))
    assert caught.value.code == "invalid_image"


# -- calls ------------------------------------------------------------------------------


def test_reject_call_answers_the_caller_as_the_offer_named_them() -> None:
    client, calls = FakeClient(), RecentCalls()
    calls.remember("CALL1", jid(MARIA_LID, "lid"))
    cmds = commands(client, calls=calls)
    cmds.perform(RejectCall(call_id="CALL1", caller=MARIA_JID))
    cmds.perform(RejectCall(call_id="CALL2", caller=MARIA_JID))
    assert called(client, "reject_call") == [
        (f"{MARIA_LID}@lid", "CALL1"),
        (f"{MARIA}@s.whatsapp.net", "CALL2"),
    ]


# -- guards -----------------------------------------------------------------------------

EVERY_ACTION: list[Action[Any]] = [
    MarkRead(chat=MARIA_JID, message_ids=("3EB0A",)),
    SendChatState(to=MARIA_JID, state=ChatState.COMPOSING),
    SetPresence(Presence.AVAILABLE),
    SubscribePresence(to=MARIA_JID),
    RejectCall(call_id="CALL1", caller=MARIA_JID),
    CheckNumbers(phones=(MARIA,)),
    GetProfilePicture(jid=MARIA_JID),
    GetProfile(),
    UpdateProfile(name="Awa", about="hello"),
    SetProfilePicture(jpeg=JPEG),
]


@pytest.mark.parametrize("action", EVERY_ACTION, ids=lambda a: type(a).__name__)
def test_nothing_reaches_neonize_unless_connected(action: Action[Any]) -> None:
    """Refused before any FFI call: a client missing from neonize's Go map aborts the
    process on set_status_message (and on others in other states)."""
    client = FakeClient(in_go_map=False)
    with pytest.raises(Unavailable) as caught:
        commands(client, ready=False).perform(action)
    assert caught.value.code == "session_not_connected"
    assert client.calls == []


def test_about_is_never_set_once_the_connection_stopped() -> None:
    """stop() takes the client out of neonize's map: set_status_message would abort."""
    link = RecordingLink()
    device = f"{ME}:7@s.whatsapp.net"
    client = FakeClient()
    connection = Connection(
        ConnectionConfig("user_1", "/data/user_1.db", device, None, shared_store=False),
        link,
        client_factory=lambda *_args: client,
        devices=lambda _store: [StoredDevice(jid=device, proto=jid(ME, device=7))],
    )
    connection.open()
    client.me = npb.Device(JID=jid(ME, device=7), LID=jid(ME_LID, "lid"), PushName="Awa")
    client.fire(ConnectedEv(status=True))
    cmds = Commands(
        client,
        session_id="user_1",
        lock=connection.lock,
        ready=connection.ready,
        recent=connection.recent,
        spool_dir=None,
        own=lambda: connection.own,
    )
    cmds.perform(UpdateProfile(about="ouvert"))
    connection.stop(1.0)
    client.in_go_map = False
    with pytest.raises(Unavailable):
        cmds.perform(UpdateProfile(about="fermé"))
    assert called(client, "set_status_message") == [("ouvert",)]
    assert connection.own == Own(phone=ME, lid=ME_LID, push_name="Awa")
