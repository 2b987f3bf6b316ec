"""neonize's events for the everyday (reactions, edits, deletes, polls and votes, our own
messages from the phone, presence and typing, group changes, calls, group receipts), built
with neonize's own protobuf classes, become our events; people are named by phone number
with their hidden id (LID) beside it."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from neonize.events import (
    CallOfferEv,
    CallOfferNoticeEv,
    ChatPresenceEv,
    ConnectedEv,
    GroupInfoEv,
    PresenceEv,
    ReceiptEv,
)
from neonize.proto import Neonize_pb2 as npb
from neonize.proto.waCommon.WACommon_pb2 import MessageKey
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    EncReactionMessage,
    ExtendedTextMessage,
    FutureProofMessage,
    ImageMessage,
    Message,
    MessageContextInfo,
    PollCreationMessage,
    ProtocolMessage,
    ReactionMessage,
)

from sendmako.engines.neonize import convert, notices, patches
from sendmako.engines.neonize.connection import Connection, ConnectionConfig, neonize_client
from sendmako.engines.neonize.store import StoredDevice
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
    StatusChanged,
)
from sendmako.model.messages import PollSpec
from tests.engines.neonize.fakes import FakeClient
from tests.engines.neonize.protobufs import (
    EMPTY,
    GROUP,
    MARIA,
    MARIA_LID,
    ME,
    ME_LID,
    dispatch,
    jid,
    message_event,
    poll_vote_event,
    receipt_event,
)
from tests.engines.neonize.recording import RecordingLink
from tests.engines.neonize.workers import closed_port_proxy

ROOT = Path(__file__).resolve().parents[3]

MARIA_SOMEONE = Someone(phone=MARIA, lid=MARIA_LID)
BOB, BOB_LID = "5511955554444", "777666555444333"
IN_GROUP: dict[str, Any] = {
    "chat": jid(GROUP, "g.us"),
    "sender": jid(MARIA_LID, "lid", device=2),
    "sender_alt": jid(MARIA),
    "is_group": True,
}


def resolve(lid: Any) -> str | None:
    """The device store's LID map, as the connection asks it."""
    return {BOB_LID: BOB, ME_LID: ME}.get(lid.User)


def event(message: Message, **source: Any) -> Any:
    converted = convert.message_event(message_event(message, **source), resolve)
    assert converted is not None
    return converted


# -- reactions --------------------------------------------------------------------------


def test_a_reaction_in_a_group_names_the_reactor_by_phone_and_lid() -> None:
    reaction = ReactionMessage(
        key=MessageKey(
            remoteJID=f"{GROUP}@g.us", fromMe=False, ID="3EB0BOB", participant=f"{BOB_LID}@lid"
        ),
        text="👍",
        senderTimestampMS=1767225600999,
    )
    assert event(Message(reactionMessage=reaction), **IN_GROUP) == ReactionReceived(
        chat=f"{GROUP}@g.us",
        message_id="3EB0BOB",
        sender=MARIA_SOMEONE,
        emoji="👍",
        timestamp=1767225600,
        is_group=True,
    )


def test_a_reaction_taken_back_is_empty_and_our_own_from_the_phone_is_from_me() -> None:
    reaction = ReactionMessage(
        key=MessageKey(remoteJID=f"{MARIA}@s.whatsapp.net", fromMe=False, ID="3EB0M"), text=""
    )
    converted = event(
        Message(reactionMessage=reaction),
        chat=jid(MARIA_LID, "lid"),
        sender=jid(ME_LID, "lid"),
        recipient_alt=jid(MARIA),
        from_me=True,
    )
    assert isinstance(converted, ReactionReceived)
    assert (converted.emoji, converted.from_me, converted.chat) == (
        "",
        True,
        f"{MARIA}@s.whatsapp.net",
    )
    assert converted.sender == Someone(phone=ME, lid=ME_LID)


def test_reactions_neonize_cannot_decrypt_are_dropped() -> None:
    encrypted = Message(encReactionMessage=EncReactionMessage(encPayload=b"x", encIV=b"y"))
    assert convert.message_event(message_event(encrypted)) is None


def test_whose_message_a_key_points_at_reads_like_whatsmeow() -> None:
    """getOrigSenderFromKey: fromMe means the event's sender; else the chat in a direct
    chat, the participant in a group."""
    mine = message_event(Message(conversation="x"), sender=jid(MARIA))
    assert convert.key_author(mine, MessageKey(fromMe=True), resolve) == Someone(MARIA)
    direct = MessageKey(remoteJID=f"{ME}@s.whatsapp.net", fromMe=False)
    assert convert.key_author(mine, direct, resolve) == Someone(ME)
    group = message_event(Message(conversation="x"), **IN_GROUP)
    bob = MessageKey(remoteJID=f"{GROUP}@g.us", fromMe=False, participant=f"{BOB_LID}:4@lid")
    assert convert.key_author(group, bob, resolve) == Someone(BOB, lid=BOB_LID)


# -- edits and deletes ------------------------------------------------------------------


def edit_of(original_id: str, content: Message) -> Message:
    return Message(
        protocolMessage=ProtocolMessage(
            key=MessageKey(remoteJID=f"{ME}@s.whatsapp.net", fromMe=True, ID=original_id),
            type=ProtocolMessage.MESSAGE_EDIT,
            editedMessage=content,
            timestampMS=1767225660000,
        )
    )


@pytest.mark.parametrize(
    ("content", "body"),
    [
        (Message(conversation="fixed text"), "fixed text"),
        (Message(extendedTextMessage=ExtendedTextMessage(text="fixed link")), "fixed link"),
        (Message(imageMessage=ImageMessage(caption="new caption")), "new caption"),
    ],
)
def test_an_edit_gives_the_new_text_or_caption(content: Message, body: str) -> None:
    converted = event(edit_of("3EB0ORIG", content), edit="1")
    assert converted == MessageEdited(
        chat=f"{MARIA}@s.whatsapp.net",
        message_id="3EB0ORIG",
        sender=Someone(MARIA),
        body=body,
        timestamp=1767225600,
    )


def test_an_edit_still_in_its_wrapper_is_read_too() -> None:
    wrapped = Message(
        editedMessage=FutureProofMessage(message=edit_of("3EB0ORIG", Message(conversation="v2")))
    )
    converted = event(wrapped, edit="1")
    assert isinstance(converted, MessageEdited)
    assert converted.body == "v2"


def test_a_delete_by_its_author() -> None:
    revoke = ProtocolMessage(
        key=MessageKey(remoteJID=f"{ME}@s.whatsapp.net", fromMe=True, ID="3EB0ORIG"),
        type=ProtocolMessage.REVOKE,
    )
    assert event(Message(protocolMessage=revoke), edit="7") == MessageRevoked(
        chat=f"{MARIA}@s.whatsapp.net",
        message_id="3EB0ORIG",
        sender=Someone(MARIA),
        timestamp=1767225600,
    )


def test_an_admin_deleting_someone_elses_message_by_phone_numbers_is_by() -> None:
    revoke = ProtocolMessage(
        key=MessageKey(
            remoteJID=f"{GROUP}@g.us",
            fromMe=False,
            ID="3EB0BOB",
            participant=f"{BOB}@s.whatsapp.net",
        ),
        type=ProtocolMessage.REVOKE,
    )
    converted = event(
        Message(protocolMessage=revoke), chat=jid(GROUP, "g.us"), sender=jid(MARIA), is_group=True
    )
    assert isinstance(converted, MessageRevoked)
    assert (converted.sender, converted.by) == (Someone(BOB), Someone(MARIA))


def test_an_admin_deleting_someone_elses_message_is_by() -> None:
    revoke = ProtocolMessage(
        key=MessageKey(
            remoteJID=f"{GROUP}@g.us", fromMe=False, ID="3EB0BOB", participant=f"{BOB_LID}@lid"
        ),
        type=ProtocolMessage.REVOKE,
    )
    converted = event(Message(protocolMessage=revoke), edit="8", **IN_GROUP)
    assert converted == MessageRevoked(
        chat=f"{GROUP}@g.us",
        message_id="3EB0BOB",
        sender=Someone(BOB, lid=BOB_LID),
        timestamp=1767225600,
        by=MARIA_SOMEONE,
        is_group=True,
    )


@pytest.mark.parametrize(
    "protocol",
    [
        ProtocolMessage(type=ProtocolMessage.EPHEMERAL_SETTING, ephemeralExpiration=86400),
        ProtocolMessage(type=ProtocolMessage.HISTORY_SYNC_NOTIFICATION),
        ProtocolMessage(type=ProtocolMessage.REVOKE),  # no key: nothing to delete
    ],
)
def test_other_protocol_messages_stay_plumbing(protocol: ProtocolMessage) -> None:
    assert convert.message_event(message_event(Message(protocolMessage=protocol))) is None


# -- polls and votes --------------------------------------------------------------------


@pytest.mark.parametrize("field", convert.POLL_KINDS)
def test_a_poll_received_carries_its_question_and_options(field: str) -> None:
    poll = PollCreationMessage(
        name="Déjeuner ?",
        options=[PollCreationMessage.Option(optionName=o) for o in ("Riz", "Thieb")],
        selectableOptionsCount=1,
    )
    message = Message(
        **{field: poll}, messageContextInfo=MessageContextInfo(messageSecret=bytes(32))
    )
    converted = event(message, **IN_GROUP)
    assert isinstance(converted, MessageReceived)
    assert (converted.wa_type, converted.body, converted.poll) == (
        field,
        "Déjeuner ?",
        PollSpec("Déjeuner ?", ("Riz", "Thieb"), 1),
    )
    assert (converted.sender_phone, converted.sender_lid) == (MARIA, MARIA_LID)


def test_a_vote_once_decrypted_gives_the_hashes_of_the_options_chosen() -> None:
    vote = poll_vote_event(**IN_GROUP)
    assert convert.is_poll_vote(vote)
    assert convert.message_event(vote) is None  # never mistaken for a message
    chosen = (hashlib.sha256(b"Thieb").digest(),)
    assert convert.poll_voted(vote, chosen, resolve) == PollVoted(
        chat=f"{GROUP}@g.us",
        poll_message_id="3EB0POLL",
        voter=MARIA_SOMEONE,
        option_hashes=chosen,
        timestamp=1767225600,
        is_group=True,
    )


# -- our own messages from the phone ----------------------------------------------------


def test_a_message_we_sent_from_the_phone_is_from_me_in_the_recipients_chat() -> None:
    converted = event(
        Message(conversation="envoyé du téléphone"),
        chat=jid(MARIA_LID, "lid"),
        sender=jid(ME_LID, "lid", device=0),
        recipient_alt=jid(MARIA),
        from_me=True,
    )
    assert isinstance(converted, MessageReceived)
    assert (converted.chat, converted.from_me, converted.sender_phone, converted.sender_lid) == (
        f"{MARIA}@s.whatsapp.net",
        True,
        ME,
        ME_LID,
    )


def test_a_lid_chat_without_its_number_is_named_by_the_lid_map() -> None:
    converted = event(
        Message(conversation="hi"), chat=jid(BOB_LID, "lid"), sender=jid(ME, device=3), from_me=True
    )
    assert converted.chat == f"{BOB}@s.whatsapp.net"


# -- receipts in groups -----------------------------------------------------------------


def test_a_group_receipt_names_the_reader_by_phone_and_lid() -> None:
    read = convert.receipt_received(receipt_event(ReceiptEv.READ, group=True), resolve)
    assert read == ReceiptReceived(
        message_ids=("3EB0AA",),
        chat=f"{GROUP}@g.us",
        status="read",
        timestamp=1767225700,
        participant_phone=MARIA,
        participant_lid=MARIA_LID,
    )


# -- presence ---------------------------------------------------------------------------


def test_presence_online_and_offline_with_last_seen() -> None:
    online = notices.presence_changed(PresenceEv(From=jid(MARIA), Unavailable=False, LastSeen=0))
    assert online == PresenceChanged(person=Someone(MARIA), state="available")
    offline = notices.presence_changed(
        PresenceEv(From=jid(BOB_LID, "lid"), Unavailable=True, LastSeen=1767225000), resolve
    )
    assert offline == PresenceChanged(
        person=Someone(BOB, lid=BOB_LID), state="unavailable", last_seen=1767225000
    )
    hidden = notices.presence_changed(
        PresenceEv(From=jid(MARIA), Unavailable=True, LastSeen=-62135596800)
    )
    assert hidden.last_seen is None


@pytest.mark.parametrize(
    ("state", "media", "expected"),
    [
        (ChatPresenceEv.COMPOSING, ChatPresenceEv.TEXT, "composing"),
        (ChatPresenceEv.COMPOSING, ChatPresenceEv.AUDIO, "recording"),
        (ChatPresenceEv.PAUSED, ChatPresenceEv.TEXT, "paused"),
    ],
)
def test_typing_recording_and_stopping_in_a_chat(state: int, media: int, expected: str) -> None:
    source = npb.MessageSource(
        Chat=jid(GROUP, "g.us"),
        Sender=jid(MARIA_LID, "lid"),
        SenderAlt=jid(MARIA),
        IsFromMe=False,
        IsGroup=True,
        RecipientAlt=EMPTY,
        BroadcastListOwner=EMPTY,
    )
    converted = notices.chat_presence_changed(
        ChatPresenceEv(MessageSource=source, State=state, Media=media)
    )
    assert converted == PresenceChanged(person=MARIA_SOMEONE, state=expected, chat=f"{GROUP}@g.us")


# -- groups -----------------------------------------------------------------------------


def group_event(**changes: Any) -> GroupInfoEv:
    required: dict[str, Any] = {
        "JID": jid(GROUP, "g.us"),
        "Notify": "",
        "Timestamp": 1767225600,
        "PrevParticipantsVersionID": "",
        "ParticipantVersionID": "",
        "JoinReason": "",
    }
    return GroupInfoEv(**{**required, **changes})


def test_members_added_removed_promoted_by_an_admin() -> None:
    admin = jid(MARIA_LID, "lid")
    events = notices.group_events(
        group_event(
            Sender=admin,
            Join=[jid(BOB_LID, "lid")],
            Leave=[jid("55119000", "s.whatsapp.net")],
            Promote=[jid(BOB_LID, "lid")],
        ),
        frozenset({ME, ME_LID}),
        resolve,
    )
    by = Someone(MARIA_LID, lid=MARIA_LID)  # no number known for the admin's LID here
    assert events == [
        GroupParticipantsChanged(
            f"{GROUP}@g.us", "add", (Someone(BOB, lid=BOB_LID),), by, 1767225600
        ),
        GroupParticipantsChanged(f"{GROUP}@g.us", "remove", (Someone("55119000"),), by, 1767225600),
        GroupParticipantsChanged(
            f"{GROUP}@g.us", "promote", (Someone(BOB, lid=BOB_LID),), by, 1767225600
        ),
        GroupChanged(f"{GROUP}@g.us"),
    ]


def test_members_joining_and_leaving_themselves_and_this_number_leaving() -> None:
    events = notices.group_events(
        group_event(JoinReason="invite", Join=[jid(MARIA)]), frozenset({ME, ME_LID}), resolve
    )
    assert events[0] == GroupParticipantsChanged(
        f"{GROUP}@g.us", "join", (Someone(MARIA),), None, 1767225600
    )
    left = notices.group_events(
        group_event(Sender=jid(ME), Leave=[jid(ME_LID, "lid")]),  # named both ways
        frozenset({ME, ME_LID}),
        resolve,
    )
    assert left == [
        GroupParticipantsChanged(
            f"{GROUP}@g.us", "leave", (Someone(ME, lid=ME_LID),), None, 1767225600
        ),
        GroupChanged(f"{GROUP}@g.us", left=True),
    ]


def test_subject_description_and_settings_changes() -> None:
    events = notices.group_events(
        group_event(
            Name=npb.GroupName(Name="Nouveau nom", NameSetAt=1767225600, NameSetBy=jid(MARIA)),
            Topic=npb.GroupTopic(
                Topic="", TopicID="x", TopicSetAt=1, TopicSetBy=jid(MARIA), TopicDeleted=True
            ),
            Announce=npb.GroupAnnounce(IsAnnounce=True, AnnounceVersionID="v"),
            Locked=npb.GroupLocked(isLocked=False),
        ),
        frozenset({ME}),
    )
    assert events == [
        GroupSettingsChanged(
            f"{GROUP}@g.us",
            by=Someone(MARIA),
            timestamp=1767225600,
            subject="Nouveau nom",
            description="",
            announce=True,
            restrict=False,
        ),
        GroupChanged(f"{GROUP}@g.us"),
    ]


def test_other_group_changes_only_refresh_the_cache() -> None:
    ephemeral = group_event(Ephemeral=npb.GroupEphemeral(IsEphemeral=True, DisappearingTimer=86400))
    assert notices.group_events(ephemeral, frozenset({ME})) == [GroupChanged(f"{GROUP}@g.us")]
    elsewhere = GroupInfoEv(
        JID=jid(MARIA),
        Notify="",
        Timestamp=1,
        PrevParticipantsVersionID="",
        ParticipantVersionID="",
        JoinReason="",
    )
    assert notices.group_events(elsewhere, frozenset({ME})) == []


# -- calls ------------------------------------------------------------------------------


def call_offer(*children: str) -> CallOfferEv:
    return CallOfferEv(
        basicCallMeta=npb.BasicCallMeta(
            **{"from": jid(MARIA_LID, "lid", device=1)},
            timestamp=1767225600,
            callCreator=jid(MARIA_LID, "lid"),
            callCreatorAlt=jid(MARIA),
            callID="A1B2C3D4E5F6",
        ),
        callRemoteMeta=npb.CallRemoteMeta(remotePlatform="android", remoteVersion="2.26.1.1"),
        data=npb.Node(
            Tag="offer",
            Attrs=[npb.NodeAttrs(name="call-id", text="A1B2C3D4E5F6")],
            Nodes=[npb.Node(Tag=tag) for tag in children],
        ),
    )


@pytest.mark.parametrize(("children", "video"), [(("audio",), False), (("audio", "video"), True)])
def test_a_call_offer_says_whether_it_is_video(children: tuple[str, ...], video: bool) -> None:
    assert notices.call_received(call_offer(*children)) == CallReceived(
        call_id="A1B2C3D4E5F6", caller=MARIA_SOMEONE, video=video, timestamp=1767225600
    )


def test_a_group_call_notice() -> None:
    offer = call_offer()
    notice = CallOfferNoticeEv(
        basicCallMeta=offer.basicCallMeta, media="video", type="group", data=offer.data
    )
    assert notices.group_call_received(notice) == CallReceived(
        call_id="A1B2C3D4E5F6",
        caller=MARIA_SOMEONE,
        video=True,
        timestamp=1767225600,
        is_group=True,
    )


# -- through the connection -------------------------------------------------------------

DEVICE = f"{ME}:7@s.whatsapp.net"


def connected(client: FakeClient | None = None) -> tuple[Connection, FakeClient, RecordingLink]:
    fake = client or FakeClient()
    link = RecordingLink()
    conn = Connection(
        ConnectionConfig("user_1", "/data/user_1.db", DEVICE, None, shared_store=False),
        link,
        client_factory=lambda *_args: fake,
        devices=lambda _store: [StoredDevice(jid=DEVICE, proto=jid(ME, device=7))],
    )
    conn.open()
    fake.me = npb.Device(JID=jid(ME, device=7), LID=jid(ME_LID, "lid"), PushName="Awa")
    fake.fire(ConnectedEv(status=True))
    link.events.clear()
    return conn, fake, link


def test_the_connection_listens_to_every_event_it_converts() -> None:
    _, client, _ = connected()
    for event_type in (PresenceEv, ChatPresenceEv, CallOfferEv, CallOfferNoticeEv, GroupInfoEv):
        assert event_type in client.handlers


def test_a_vote_is_decrypted_only_once_logged_in_and_reported() -> None:
    chosen = [hashlib.sha256(b"Thieb").digest()]
    conn, client, link = connected(FakeClient(vote_hashes=chosen))
    client.fire(poll_vote_event(**IN_GROUP))
    (voted,) = link.events
    assert isinstance(voted, PollVoted)
    assert voted.option_hashes == tuple(chosen)
    assert [args for name, args in client.calls if name == "decrypt_poll_vote"] == [("3EB0VOTE",)]
    client.is_logged_in = False  # whatsmeow's secrets store is nil: the call would abort
    client.fire(poll_vote_event(**IN_GROUP))
    assert len(link.events) == 1
    assert conn.ready()


def test_a_vote_for_a_poll_this_device_never_saw_is_dropped() -> None:
    _, client, link = connected(FakeClient(vote_hashes=None))
    client.fire(poll_vote_event(**IN_GROUP))
    assert link.events == []


def test_a_vote_waits_on_its_own_thread_while_a_long_send_holds_the_lock() -> None:
    conn, client, link = connected(FakeClient(vote_hashes=[b"h" * 32]))
    conn.lock.acquire()
    started = time.monotonic()
    client.fire(poll_vote_event(**IN_GROUP))  # returns after VOTE_WAIT_SECONDS, vote deferred
    assert time.monotonic() - started < 5
    assert link.events == []
    conn.lock.release()
    conn.late_votes.shutdown(wait=True)
    assert [type(e) for e in link.events] == [PollVoted]


def test_a_vote_that_arrives_before_the_connection_is_up_waits_for_it() -> None:
    """Votes queued while offline may come before ConnectedEv: decrypt_poll_vote would
    abort the process on a device not logged in, so they wait, in order, not dropped."""
    client = FakeClient(vote_hashes=[b"h" * 32])
    link = RecordingLink()
    conn = Connection(
        ConnectionConfig("user_1", "/data/user_1.db", DEVICE, None, shared_store=False),
        link,
        client_factory=lambda *_args: client,
        devices=lambda _store: [StoredDevice(jid=DEVICE, proto=jid(ME, device=7))],
    )
    conn.open()
    client.is_logged_in = False
    client.fire(poll_vote_event(**IN_GROUP))
    assert link.events == []
    client.is_logged_in = True
    client.fire(ConnectedEv(status=True))
    conn.late_votes.shutdown(wait=True)
    assert [type(e) for e in link.events] == [StatusChanged, PollVoted]


def test_messages_are_remembered_as_they_arrived_and_calls_by_their_caller() -> None:
    conn, client, link = connected()
    client.fire(message_event(Message(conversation="salut"), message_id="3EB0G", **IN_GROUP))
    remembered = conn.recent.get("3EB0G")
    assert remembered is not None
    assert (remembered.sender, remembered.chat, remembered.from_me) == (
        f"{MARIA_LID}@lid",
        f"{GROUP}@g.us",
        False,
    )
    client.fire(call_offer("audio"))
    caller = conn.calls.get("A1B2C3D4E5F6")
    assert (caller.User, caller.Server) == (MARIA_LID, "lid")
    assert [type(e) for e in link.events] == [MessageReceived, CallReceived]


def test_our_own_lid_is_our_number_without_asking_the_store() -> None:
    conn, client, link = connected()
    client.fire(
        message_event(
            Message(conversation="note"),
            chat=jid(GROUP, "g.us"),
            sender=jid(ME_LID, "lid"),
            is_group=True,
            from_me=True,
        )
    )
    (message,) = link.events
    assert isinstance(message, MessageReceived)
    assert (message.sender_phone, message.from_me) == (ME, True)
    assert not any(name == "get_pn_from_lid" for name, _ in client.calls)
    assert conn.own.users == frozenset({ME, ME_LID})


def test_group_changes_reach_the_link_in_order_with_the_cache_refresh_last() -> None:
    _, client, link = connected()
    client.fire(group_event(Sender=jid(MARIA), Promote=[jid(BOB)]))
    assert [type(e) for e in link.events] == [GroupParticipantsChanged, GroupChanged]


# -- with neonize's own dispatcher and Go core ------------------------------------------


def test_new_events_reach_our_handlers_through_neonizes_real_dispatcher() -> None:
    """Handlers registered on a real (never connected) NewClient receive each new event
    type exactly as Go delivers it: serialised, through the ctypes callback."""
    link = RecordingLink()
    config = ConnectionConfig("user_1", "/nonexistent/store.db", None, None, shared_store=False)
    connection = Connection(config, link, client_factory=neonize_client, devices=lambda _s: [])
    connection.open()
    reaction = ReactionMessage(
        key=MessageKey(remoteJID=f"{ME}@s.whatsapp.net", fromMe=False, ID="3EB0M"), text="🙏"
    )
    for incoming in (
        message_event(Message(reactionMessage=reaction)),
        PresenceEv(From=jid(MARIA), Unavailable=False, LastSeen=0),
        call_offer("audio", "video"),
        group_event(Sender=jid(MARIA), Promote=[jid(BOB)]),
    ):
        dispatch(connection.client, incoming)
    assert [type(e) for e in link.events] == [
        ReactionReceived,
        PresenceChanged,
        CallReceived,
        GroupParticipantsChanged,
        GroupChanged,
    ]
    assert patches.applied()


FIX_PROBE = """
import logging, sys
logging.disable(logging.CRITICAL)
from sendmako.engines.neonize import blocked
blocked.block()
from neonize.client import NewClient
from sendmako.engines.neonize import patches
from tests.engines.neonize.protobufs import poll_vote_event
if sys.argv[1] == "fixed":
    patches.apply()
client = NewClient("/nonexistent/never-opened.db", uuid="probe")  # never connected
try:
    client.decrypt_poll_vote(poll_vote_event())
except Exception as exc:
    print(type(exc).__name__, exc)
"""


@pytest.mark.parametrize(
    ("mode", "expected"),
    [
        ("fixed", "DecryptPollVoteError failed to decrypt poll vote: client is nil"),
        ("as_shipped", "TypeError"),
    ],
)
def test_decrypt_poll_vote_answers_only_once_patched(
    mode: str, expected: str, tmp_path: Path
) -> None:
    """neonize 0.5.2 hands decrypt_poll_vote a raw pointer (TypeError, whatever the
    state); patched, it answers whatsmeow's error. In a child process, on a client that
    never connected (whatsmeow's nil client answers cleanly), WhatsApp out of reach."""
    env = {**os.environ, "SENDMAKO_NEONIZE__PROXY": closed_port_proxy()}
    done = subprocess.run(
        [sys.executable, "-c", FIX_PROBE, mode],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env=env,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1].startswith(expected)
