"""Polls, reactions, edits, deletes for everyone and poll votes through `Commands`, with a
fake client: the exact protobufs that would go on the wire, how the target message is
named (our own by phone number or LID, someone else's as WhatsApp named them), and what is
refused before anything is sent."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from neonize.proto import Neonize_pb2 as npb
from neonize.proto.waE2E.WAWebProtobufsE2E_pb2 import (
    ImageMessage,
    Message,
    PollCreationMessage,
    ProtocolMessage,
)

from sendmako.engines.neonize.commands import Commands
from sendmako.engines.neonize.ffi import Own
from sendmako.engines.neonize.message_commands import EDIT_WINDOW_SECONDS
from sendmako.engines.neonize.outgoing import POLL_SECRET_BYTES
from sendmako.engines.neonize.recent import RecentMessages
from sendmako.errors import BadRequest, OperationFailed, Unavailable
from sendmako.ids import Jid
from sendmako.model.actions import Action
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
from tests.engines.neonize.fakes import FakeClient, group_info
from tests.engines.neonize.protobufs import GROUP, MARIA, MARIA_LID, ME, ME_LID, jid

MARIA_JID = Jid.user_jid(MARIA)
GROUP_JID = Jid(GROUP, "g.us")
BOB = "5511955554444"
BOB_LID = "777666555444333"


def commands(
    client: FakeClient, *, ready: bool = True, recent: RecentMessages | None = None
) -> Commands:
    return Commands(
        client,
        session_id="user_1",
        lock=threading.Lock(),
        ready=lambda: ready,
        recent=recent if recent is not None else RecentMessages(),
        spool_dir=None,
        own=lambda: Own(phone=ME, lid=ME_LID, push_name="Awa"),
    )


def sent(client: FakeClient) -> tuple[str, Message]:
    to, message = client.sent[-1]
    return f"{to.User}@{to.Server}", message


def called(client: FakeClient, name: str) -> list[tuple[Any, ...]]:
    return [args for called_name, args in client.calls if called_name == name]


def lid_group(*, me_admin: bool) -> Any:
    """A group addressed by hidden ids: members are LIDs, their numbers beside them."""
    return npb.GroupInfo(
        JID=jid(GROUP, "g.us"),
        GroupName=npb.GroupName(Name="Équipe"),
        Participants=[
            npb.GroupParticipant(JID=jid(ME_LID, "lid"), PhoneNumber=jid(ME), IsAdmin=me_admin),
            npb.GroupParticipant(JID=jid(BOB_LID, "lid"), PhoneNumber=jid(BOB)),
        ],
    )


def key(**values: Any) -> MessageKey:
    defaults: dict[str, Any] = {"chat": MARIA_JID, "message_id": "3EB0TARGET", "from_me": False}
    return MessageKey(**{**defaults, **values})


# -- polls ------------------------------------------------------------------------------


def test_a_poll_carries_its_question_options_count_and_a_fresh_secret() -> None:
    client = FakeClient()
    cmds = commands(client)
    spec = PollSpec("Déjeuner ?", ("Riz", "Thieb", "Mafé"), selectable_count=1)
    result = cmds.perform(OutgoingMessage(to=GROUP_JID, type=MessageType.POLL, poll=spec))
    to, message = sent(client)
    assert to == f"{GROUP}@g.us"
    assert sorted(f.name for f, _ in message.ListFields()) == [
        "messageContextInfo",
        "pollCreationMessage",
    ]
    poll = message.pollCreationMessage
    assert (poll.name, [o.optionName for o in poll.options], poll.selectableOptionsCount) == (
        "Déjeuner ?",
        ["Riz", "Thieb", "Mafé"],
        1,
    )
    secret = message.messageContextInfo.messageSecret
    assert len(secret) == POLL_SECRET_BYTES
    cmds.perform(OutgoingMessage(to=GROUP_JID, type=MessageType.POLL, poll=spec))
    assert sent(client)[1].messageContextInfo.messageSecret != secret
    # remembered as ours, so a vote on it knows its options
    remembered = cmds.recent.get(result.message_id)
    assert remembered is not None
    assert (remembered.from_me, remembered.chat) == (True, f"{GROUP}@g.us")


@pytest.mark.parametrize(
    "spec",
    [
        PollSpec("Q", ("Only one",)),
        PollSpec("Q", ("Same", "Same")),
        PollSpec("Q", tuple(str(n) for n in range(13))),
        PollSpec(" ", ("A", "B")),
        PollSpec("Q", ("A", " ")),
        PollSpec("Q", ("A", "B"), selectable_count=3),
    ],
)
def test_polls_whatsapp_would_refuse_are_refused_first(spec: PollSpec) -> None:
    client = FakeClient()
    with pytest.raises(BadRequest):
        commands(client).perform(OutgoingMessage(to=GROUP_JID, type=MessageType.POLL, poll=spec))
    assert client.sent == []


# -- reactions --------------------------------------------------------------------------


def test_a_reaction_to_someone_elses_message_in_a_group_names_its_author() -> None:
    client = FakeClient()
    commands(client).perform(
        Reaction(
            to=GROUP_JID,
            target=key(chat=GROUP_JID, sender=Jid(MARIA_LID, "lid", 3)),
            emoji="👍",
        )
    )
    to, message = sent(client)
    reaction = message.reactionMessage
    assert to == f"{GROUP}@g.us"
    assert (reaction.key.remoteJID, reaction.key.fromMe, reaction.key.ID) == (
        f"{GROUP}@g.us",
        False,
        "3EB0TARGET",
    )
    assert reaction.key.participant == f"{MARIA_LID}@lid"  # without the device
    assert reaction.text == "👍"
    assert abs(reaction.senderTimestampMS / 1000 - time.time()) < 5


@pytest.mark.parametrize("sender", [Jid.user_jid(ME), Jid(ME_LID, "lid")], ids=["phone", "lid"])
def test_a_reaction_to_our_own_message_is_from_me_whether_named_by_phone_or_lid(
    sender: Jid,
) -> None:
    """In a group addressed by LIDs our own messages carry our LID, not our number."""
    client = FakeClient()
    commands(client).perform(
        Reaction(to=GROUP_JID, target=key(chat=GROUP_JID, sender=sender), emoji="❤️")
    )
    reaction = sent(client)[1].reactionMessage
    assert reaction.key.fromMe
    assert not reaction.key.HasField("participant")


def test_a_reaction_in_a_direct_chat_never_names_a_participant_and_empty_takes_it_back() -> None:
    client = FakeClient()
    commands(client).perform(Reaction(to=MARIA_JID, target=key(), emoji=""))
    reaction = sent(client)[1].reactionMessage
    assert (reaction.key.remoteJID, reaction.key.fromMe, reaction.text) == (
        f"{MARIA}@s.whatsapp.net",
        False,
        "",
    )
    assert not reaction.key.HasField("participant")
    assert not called(client, "is_on_whatsapp")  # the chat exists: no number check


def test_a_reaction_names_a_remembered_author_as_the_message_arrived() -> None:
    client, recent = FakeClient(), RecentMessages()
    recent.remember("3EB0TARGET", f"{MARIA_LID}@lid", Message(conversation="hi"))
    commands(client, recent=recent).perform(
        Reaction(to=GROUP_JID, target=key(chat=GROUP_JID, sender=MARIA_JID), emoji="🙏")
    )
    assert sent(client)[1].reactionMessage.key.participant == f"{MARIA_LID}@lid"


def test_a_reaction_in_a_group_needs_the_author() -> None:
    client = FakeClient()
    with pytest.raises(BadRequest):
        commands(client).perform(Reaction(to=GROUP_JID, target=key(chat=GROUP_JID), emoji="👍"))
    assert client.sent == []


# -- edits ------------------------------------------------------------------------------


def test_an_edit_replaces_our_own_text() -> None:
    client = FakeClient()
    cmds = commands(client)
    original = cmds.perform(OutgoingMessage(to=MARIA_JID, type=MessageType.TEXT, text="Prxi"))
    cmds.perform(
        EditMessage(
            to=MARIA_JID,
            target=key(message_id=original.message_id, from_me=True),
            text="Prix",
        )
    )
    to, message = sent(client)
    protocol = message.editedMessage.message.protocolMessage
    assert to == f"{MARIA}@s.whatsapp.net"
    assert protocol.type == ProtocolMessage.MESSAGE_EDIT
    assert (protocol.key.remoteJID, protocol.key.fromMe, protocol.key.ID) == (
        f"{MARIA}@s.whatsapp.net",
        True,
        original.message_id,
    )
    assert protocol.editedMessage == Message(conversation="Prix")
    assert protocol.timestampMS > 0
    # a reply now quotes the new text
    remembered = cmds.recent.get(original.message_id)
    assert remembered is not None
    assert remembered.message.conversation == "Prix"


def test_an_edit_of_a_remembered_picture_changes_its_caption() -> None:
    client, recent = FakeClient(), RecentMessages()
    picture = Message(imageMessage=ImageMessage(URL="https://mmg/x", caption="old", width=9))
    recent.remember("3EB0PIC", f"{ME}@s.whatsapp.net", picture, from_me=True)
    commands(client, recent=recent).perform(
        EditMessage(to=MARIA_JID, target=key(message_id="3EB0PIC", from_me=True), text="new")
    )
    edited = sent(client)[1].editedMessage.message.protocolMessage.editedMessage
    assert (edited.imageMessage.caption, edited.imageMessage.URL) == ("new", "https://mmg/x")


def test_only_our_own_messages_can_be_edited() -> None:
    client = FakeClient()
    with pytest.raises(OperationFailed) as caught:
        commands(client).perform(EditMessage(to=MARIA_JID, target=key(), text="hack"))
    assert caught.value.code == "not_own_message"
    assert client.sent == []


def test_an_edit_past_whatsapps_window_is_refused() -> None:
    client, recent = FakeClient(), RecentMessages()
    old = time.time() - EDIT_WINDOW_SECONDS - 60
    recent.remember(
        "3EB0OLD", f"{ME}@s.whatsapp.net", Message(conversation="x"), from_me=True, at=old
    )
    with pytest.raises(OperationFailed) as caught:
        commands(client, recent=recent).perform(
            EditMessage(to=MARIA_JID, target=key(message_id="3EB0OLD", from_me=True), text="y")
        )
    assert caught.value.code == "edit_window_passed"
    assert client.sent == []


# -- deletes for everyone ---------------------------------------------------------------


@pytest.mark.parametrize("sender", [None, Jid(ME_LID, "lid")], ids=["from_me", "own_lid"])
def test_revoking_our_own_message_in_a_lid_group_is_a_sender_revoke(sender: Jid | None) -> None:
    """neonize's builder.build_revoke would make this an admin revoke of our own message."""
    client = FakeClient()
    commands(client).perform(
        RevokeMessage(
            to=GROUP_JID, target=key(chat=GROUP_JID, sender=sender, from_me=sender is None)
        )
    )
    protocol = sent(client)[1].protocolMessage
    assert protocol.type == ProtocolMessage.REVOKE
    assert (protocol.key.remoteJID, protocol.key.fromMe, protocol.key.ID) == (
        f"{GROUP}@g.us",
        True,
        "3EB0TARGET",
    )
    assert not protocol.key.HasField("participant")
    assert not called(client, "get_group_info")


def test_an_admin_revokes_a_members_message_named_as_the_group_names_them() -> None:
    client = FakeClient()
    client.groups[GROUP] = lid_group(me_admin=True)
    commands(client).perform(
        RevokeMessage(to=GROUP_JID, target=key(chat=GROUP_JID, sender=Jid.user_jid(BOB)))
    )
    protocol = sent(client)[1].protocolMessage
    assert (protocol.key.fromMe, protocol.key.participant) == (False, f"{BOB_LID}@lid")


def test_someone_elses_message_is_refused_unless_admin_and_never_in_a_direct_chat() -> None:
    client = FakeClient()
    client.groups[GROUP] = lid_group(me_admin=False)
    with pytest.raises(OperationFailed) as caught:
        commands(client).perform(
            RevokeMessage(to=GROUP_JID, target=key(chat=GROUP_JID, sender=Jid.user_jid(BOB)))
        )
    assert caught.value.code == "not_admin"
    with pytest.raises(OperationFailed) as caught:
        commands(client).perform(RevokeMessage(to=MARIA_JID, target=key()))
    assert caught.value.code == "not_own_message"
    client.groups[GROUP] = group_info(GROUP, "Autre", [MARIA])
    client.groups[GROUP].Participants.pop(0)  # this number left
    with pytest.raises(OperationFailed) as caught:
        commands(client).perform(
            RevokeMessage(to=GROUP_JID, target=key(chat=GROUP_JID, sender=MARIA_JID))
        )
    assert caught.value.code == "not_member"
    assert client.sent == []


def test_revoke_never_uses_neonizes_revoke_helpers() -> None:
    """revoke_message and build_revoke call get_me, which aborts a session not logged in."""
    client = FakeClient()
    commands(client).perform(RevokeMessage(to=MARIA_JID, target=key(from_me=True)))
    assert len(client.sent) == 1  # the fake's revoke helpers raise ProcessAborted


# -- votes ------------------------------------------------------------------------------


def test_a_vote_on_a_remembered_poll_uses_its_author_as_it_arrived() -> None:
    client, recent = FakeClient(), RecentMessages()
    poll = Message(pollCreationMessage=npb_poll("Déjeuner ?", ["Riz", "Thieb"], selectable=1))
    recent.remember("3EB0POLL", f"{BOB_LID}@lid", poll, chat=f"{GROUP}@g.us")
    result = commands(client, recent=recent).perform(
        PollVote(
            to=GROUP_JID,
            poll=key(chat=GROUP_JID, message_id="3EB0POLL", sender=Jid.user_jid(BOB)),
            options=("Thieb",),
        )
    )
    assert called(client, "build_poll_vote") == [
        (f"{GROUP}@g.us", f"{BOB_LID}@lid", False, True, "3EB0POLL", ("Thieb",))
    ]
    to, message = sent(client)
    assert to == f"{GROUP}@g.us"
    assert message.pollUpdateMessage.vote.encPayload == b"sealed"
    assert result.message_id.startswith("3EB0SENT")
    assert not called(client, "get_group_info")


def test_a_vote_is_checked_against_the_polls_options() -> None:
    client, recent = FakeClient(), RecentMessages()
    recent.remember(
        "3EB0POLL", f"{BOB_LID}@lid", Message(pollCreationMessage=npb_poll("Q", ["A", "B"], 1))
    )
    cmds = commands(client, recent=recent)
    target = key(chat=GROUP_JID, message_id="3EB0POLL")
    with pytest.raises(BadRequest):
        cmds.perform(PollVote(to=GROUP_JID, poll=target, options=("C",)))
    with pytest.raises(BadRequest):
        cmds.perform(PollVote(to=GROUP_JID, poll=target, options=("A", "B")))
    with pytest.raises(BadRequest):
        commands(client).perform(
            PollVote(to=MARIA_JID, poll=key(), options=("Z",), poll_options=("A", "B"))
        )
    assert client.sent == []


def test_a_vote_in_a_direct_chat_names_the_author_by_lid() -> None:
    """whatsmeow sends to a number's LID and picks our own id by the author's server: a
    vote naming the author by phone number would not decrypt on their phone."""
    client = FakeClient(lids={MARIA: MARIA_LID})
    commands(client).perform(PollVote(to=MARIA_JID, poll=key(), options=()))
    assert called(client, "get_lid_from_pn") == [(MARIA,)]
    assert called(client, "build_poll_vote")[0][:4] == (
        f"{MARIA}@s.whatsapp.net",
        f"{MARIA_LID}@lid",
        False,
        False,
    )


def test_a_vote_on_our_own_poll_names_us_as_the_group_knows_us() -> None:
    client = FakeClient()
    client.groups[GROUP] = lid_group(me_admin=False)
    commands(client).perform(
        PollVote(to=GROUP_JID, poll=key(chat=GROUP_JID, from_me=True), options=("A",))
    )
    assert called(client, "build_poll_vote")[0][1:4] == (f"{ME_LID}@lid", True, True)
    client = FakeClient()
    commands(client).perform(PollVote(to=MARIA_JID, poll=key(from_me=True), options=("A",)))
    assert called(client, "build_poll_vote")[0][1] == f"{ME_LID}@lid"


def test_a_vote_on_a_poll_this_device_never_saw_is_poll_not_found() -> None:
    client = FakeClient(
        fail={
            "build_poll_vote": "failed to encrypt poll vote: original message secret key not found"
        }
    )
    with pytest.raises(OperationFailed) as caught:
        commands(client).perform(
            PollVote(to=MARIA_JID, poll=key(sender=Jid(MARIA_LID, "lid")), options=("A",))
        )
    assert caught.value.code == "poll_not_found"


def test_a_vote_is_never_built_on_a_device_not_logged_in() -> None:
    client = FakeClient(is_logged_in=False)
    with pytest.raises(Unavailable):
        commands(client).perform(
            PollVote(to=MARIA_JID, poll=key(sender=Jid(MARIA_LID, "lid")), options=("A",))
        )
    assert called(client, "build_poll_vote") == []


# -- guards -----------------------------------------------------------------------------

EVERY_ACTION: list[Action[Any]] = [
    OutgoingMessage(to=GROUP_JID, type=MessageType.POLL, poll=PollSpec("Q", ("A", "B"))),
    Reaction(to=MARIA_JID, target=key(), emoji="👍"),
    EditMessage(to=MARIA_JID, target=key(from_me=True), text="x"),
    RevokeMessage(to=GROUP_JID, target=key(chat=GROUP_JID, sender=MARIA_JID)),
    PollVote(to=MARIA_JID, poll=key(), options=("A",)),
]


@pytest.mark.parametrize("action", EVERY_ACTION, ids=lambda a: type(a).__name__)
def test_nothing_reaches_neonize_unless_connected(action: Action[Any]) -> None:
    client = FakeClient(in_go_map=False)
    with pytest.raises(Unavailable) as caught:
        commands(client, ready=False).perform(action)
    assert caught.value.code == "session_not_connected"
    assert client.calls == []
    assert client.sent == []


def npb_poll(name: str, options: list[str], selectable: int) -> Any:
    return PollCreationMessage(
        name=name,
        options=[PollCreationMessage.Option(optionName=o) for o in options],
        selectableOptionsCount=selectable,
    )
