"""Contacts and groups through `Commands`, with a fake client: neonize's answers become our
types, WhatsApp's per-participant codes become reasons, refusals become our errors."""

from __future__ import annotations

import threading

import pytest
from neonize.proto import Neonize_pb2 as npb

from sendmako.engines.neonize.commands import Commands
from sendmako.engines.neonize.recent import RecentMessages
from sendmako.errors import OperationFailed, Unavailable
from sendmako.ids import Jid
from sendmako.model.directory import (
    Contact,
    CreateGroup,
    GetGroup,
    GetGroupPicture,
    GetInviteCode,
    GetInviteInfo,
    GroupParticipant,
    GroupSettingsChange,
    JoinGroup,
    LeaveGroup,
    ListContacts,
    ListGroups,
    ParticipantAction,
    ParticipantResult,
    ParticipantRole,
    UpdateGroupSettings,
    UpdateParticipants,
)
from tests.engines.neonize.fakes import FakeClient, group_info
from tests.engines.neonize.protobufs import ME, jid

GROUP = Jid("120363025246125244", "g.us")
AWA, BOB, CARL = "22241857975", "5511911112222", "33612345678"


def commands(client: FakeClient, *, ready: bool = True) -> Commands:
    return Commands(
        client,
        session_id="user_1",
        lock=threading.Lock(),
        ready=lambda: ready,
        recent=RecentMessages(),
        spool_dir=None,
    )


def with_group(*, admins: tuple[str, ...] = ()) -> FakeClient:
    client = FakeClient()
    client.groups[GROUP.user] = group_info(GROUP.user, "Équipe", [AWA, BOB], admins=admins)
    return client


def test_group_info_is_our_type_with_roles() -> None:
    info = commands(with_group(admins=(AWA,))).perform(GetGroup(GROUP))
    assert (info.jid, info.subject, info.description, info.created_at) == (
        GROUP,
        "Équipe",
        None,
        1767225600,
    )
    assert info.owner == Jid.user_jid(ME)
    assert (info.announce, info.restrict) == (False, False)
    assert info.participants == (
        GroupParticipant(Jid.user_jid(ME), ME, ParticipantRole.SUPERADMIN),
        GroupParticipant(Jid.user_jid(AWA), AWA, ParticipantRole.ADMIN),
        GroupParticipant(Jid.user_jid(BOB), BOB, ParticipantRole.MEMBER),
    )


def test_lid_members_are_named_by_their_phone_number_when_known() -> None:
    client = with_group()
    client.groups[GROUP.user].Participants.append(
        npb.GroupParticipant(JID=jid("987654321", "lid"), PhoneNumber=jid(CARL))
    )
    client.groups[GROUP.user].Participants.append(npb.GroupParticipant(JID=jid("111222333", "lid")))
    *_, known, hidden = commands(client).perform(GetGroup(GROUP)).participants
    assert (known.jid, known.phone) == (Jid.user_jid(CARL), CARL)
    assert (hidden.jid, hidden.phone) == (Jid("111222333", "lid"), None)


def test_groups_lists_joined_groups() -> None:
    assert [g.subject for g in commands(with_group()).perform(ListGroups())] == ["Équipe"]


def test_unknown_group_is_group_not_found() -> None:
    with pytest.raises(OperationFailed) as caught:
        commands(FakeClient()).perform(GetGroup(GROUP))
    assert caught.value.code == "group_not_found"


def test_create_group_returns_who_is_in() -> None:
    info = commands(FakeClient()).perform(CreateGroup("Nouveau", (Jid.user_jid(AWA),)))
    assert info.subject == "Nouveau"
    assert [p.phone for p in info.participants] == [ME, AWA]


def test_participant_results_keep_the_order_asked_and_whatsapps_reasons() -> None:
    client = with_group()
    client.participant_errors = {BOB: 403, CARL: 409}
    asked = [Jid.user_jid(AWA), Jid.user_jid(BOB), Jid.user_jid(CARL)]
    results = commands(client).perform(
        UpdateParticipants(GROUP, tuple(asked), ParticipantAction.ADD)
    )
    assert results == [
        ParticipantResult(Jid.user_jid(AWA), ok=True),
        ParticipantResult(Jid.user_jid(BOB), ok=False, reason="invite_required", code=403),
        ParticipantResult(Jid.user_jid(CARL), ok=False, reason="already_member", code=409),
    ]
    assert ("update_group_participants", (GROUP.user, "add")) in client.calls


def test_settings_change_only_what_is_given() -> None:
    client = with_group()
    info = commands(client).perform(
        UpdateGroupSettings(
            GROUP, GroupSettingsChange(description="Horaires : 8 h - 17 h", announce=True)
        )
    )
    assert (info.description, info.announce, info.restrict) == (
        "Horaires : 8 h - 17 h",
        True,
        False,
    )
    names = [name for name, _ in client.calls]
    assert names == ["set_group_topic", "set_group_announce"]
    assert ("set_group_topic", (GROUP.user, "", "", "Horaires : 8 h - 17 h")) in client.calls


def test_invite_code_is_the_code_not_the_link() -> None:
    client = with_group()
    assert commands(client).perform(GetInviteCode(GROUP)) == "INVITECODE"
    assert commands(client).perform(GetInviteCode(GROUP, reset=True)) == "NEWCODE"


def test_join_invite_info_picture_and_leave() -> None:
    client = with_group()
    cmds = commands(client)
    assert cmds.perform(JoinGroup("INVITECODE")) == Jid("120363000000000009", "g.us")
    assert cmds.perform(GetInviteInfo("INVITECODE")).subject == "Équipe"
    assert cmds.perform(GetGroupPicture(GROUP)) == "https://pps.whatsapp.net/v/t61/pic.jpg"
    cmds.perform(LeaveGroup(GROUP))
    assert ("leave_group", (GROUP.user,)) in client.calls


def test_contacts_are_our_type_and_hidden_ids_are_left_out() -> None:
    client = FakeClient()
    client.contact.contacts = [
        npb.Contact(
            JID=jid(AWA),
            Info=npb.ContactInfo(Found=True, FirstName="Awa", FullName="Awa Diop", PushName="awa"),
        ),
        npb.Contact(JID=jid(BOB), Info=npb.ContactInfo(Found=True, PushName="Bob")),
        npb.Contact(JID=jid("987654321", "lid"), Info=npb.ContactInfo(PushName="?")),
    ]
    assert commands(client).perform(ListContacts()) == [
        Contact(Jid.user_jid(AWA), AWA, saved_name="Awa Diop", push_name="awa"),
        Contact(Jid.user_jid(BOB), BOB, push_name="Bob"),
    ]


def test_contacts_are_never_read_unless_logged_in() -> None:
    """contact.* aborts the whole process on a session that is not logged in."""
    client = FakeClient(is_logged_in=False)
    with pytest.raises(Unavailable):
        commands(client).perform(ListContacts())
    with pytest.raises(Unavailable):
        commands(FakeClient(), ready=False).perform(ListContacts())
    assert client.contact.calls == 0
