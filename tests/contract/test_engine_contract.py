"""The engine contract: every operation both engines declare behaves the same at the
engine interface (`EngineSession.perform` and the events a session reports), on the
sandbox and on neonize (STYLE.md 5; the adapters are in engines.py).

Where the engines really differ, a test says so with a strict xfail on that engine only.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from PIL import Image

from sendmako.engines.neonize.actions import WORKER_ACTIONS
from sendmako.errors import NotSupported, OperationFailed, SendmakoError, Unavailable
from sendmako.ids import Jid
from sendmako.model.actions import Action, RequestPairCode, SendResult
from sendmako.model.calls import RejectCall
from sendmako.model.chats import (
    ChatState,
    MarkRead,
    Presence,
    SendChatState,
    SetPresence,
    SubscribePresence,
)
from sendmako.model.directory import (
    CheckNumbers,
    Contact,
    CreateGroup,
    GetGroup,
    GetGroupPicture,
    GetInviteCode,
    GetInviteInfo,
    GetProfilePicture,
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
from sendmako.model.events import MessageReceived, ReactionReceived, Someone
from sendmako.model.messages import (
    EditMessage,
    MessageKey,
    MessageType,
    OutgoingMessage,
    PollVote,
    Reaction,
    RevokeMessage,
)
from sendmako.model.profile import GetProfile, SetProfilePicture, UpdateProfile
from sendmako.model.restrictions import RestrictionKind
from sendmako.model.simulation import (
    AddressBookEntry,
    Arrival,
    Arrive,
    ChangeAddressBook,
    Deafen,
    Disconnect,
    DisconnectReason,
    EnterPairCode,
    Happen,
    ListSent,
    Restrict,
    Scan,
)
from sendmako.model.statuses import MessageStatus
from sendmako.settings import Settings
from tests.contract.engines import (
    BOB,
    CAROL,
    DECLARED,
    ENGINES,
    GROUP,
    NOT_ON_WHATSAPP,
    EngineUnderTest,
    engine_under_test,
)
from tests.engines.neonize.protobufs import ME

DAVE = "237691234567"
SOON = timedelta(seconds=60)  # "now", for clocks of two machines


@pytest.fixture(params=ENGINES)
async def engine(
    request: pytest.FixtureRequest, settings: Settings
) -> AsyncIterator[EngineUnderTest]:
    """A connected session on each engine (its number is `ME`)."""
    async with engine_under_test(request.param, settings) as under_test:
        yield under_test


def to(phone: str) -> Jid:
    return Jid.user_jid(phone)


def text_to(jid: Jid, body: str, **fields: Any) -> OutgoingMessage:
    return OutgoingMessage(to=jid, type=MessageType.TEXT, text=body, **fields)


def jpeg() -> bytes:
    """A small picture, as the API hands engines one (already checked)."""
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (30, 120, 60)).save(out, format="JPEG")
    return out.getvalue()


async def outcome(engine: EngineUnderTest, action: Action[Any]) -> Any:
    """What performing `action` answers, or the error of ours it raises."""
    try:
        return await engine.perform(action)
    except SendmakoError as error:
        return error


# -- capabilities -------------------------------------------------------------------------

# One example of every kind of action either engine declares, performed in a world where a
# group (`GROUP`, with Bob) exists. Keyed by the example's own type: no second list.
SENT = MessageKey(to(BOB), "3EB0C431C26A1916E0F8A1", from_me=True)
EXAMPLES: dict[type[Action[Any]], Action[Any]] = {
    type(example): example
    for example in (
        text_to(to(BOB), "Bonjour"),
        RequestPairCode(ME),
        ListContacts(),
        ListGroups(),
        GetGroup(GROUP),
        CreateGroup("Équipe", (to(BOB),)),
        UpdateParticipants(GROUP, (to(CAROL),), ParticipantAction.ADD),
        UpdateGroupSettings(GROUP, GroupSettingsChange(subject="Cousins")),
        GetInviteCode(GROUP),
        GetInviteInfo("AbCdEfGhIjKlMn"),
        JoinGroup("AbCdEfGhIjKlMn"),
        GetGroupPicture(GROUP),
        LeaveGroup(GROUP),
        Scan(ME),
        EnterPairCode("ABCD2345"),
        Disconnect(DisconnectReason.CONNECTION_LOST, reconnect_after=3600),
        Arrive((Arrival(text_to(to(ME), "Salut"), BOB, "Bob"),)),
        ListSent(),
        ChangeAddressBook((AddressBookEntry(BOB, "Bob"),)),
        Restrict(RestrictionKind.NEW_CONTACTS, 60),
        Deafen(),
        Happen(ReactionReceived(str(to(BOB)), SENT.message_id, Someone(BOB), "❤️", 1767225600)),
        Reaction(to(BOB), SENT, "👍"),
        PollVote(to(BOB), SENT, ("Oui",), poll_options=("Oui", "Non")),
        EditMessage(to(BOB), SENT, "Bonjour !"),
        RevokeMessage(to(BOB), SENT),
        MarkRead(to(BOB), ("3EB0D0D0D0D0D0D0D0D0D0",)),
        SendChatState(to(BOB), ChatState.COMPOSING),
        SetPresence(Presence.AVAILABLE),
        SubscribePresence(to(BOB)),
        CheckNumbers((BOB, NOT_ON_WHATSAPP)),
        GetProfilePicture(to(BOB)),
        GetProfile(),
        UpdateProfile(name="Contract", about="Disponible"),
        SetProfilePicture(jpeg()),
        RejectCall("CALL0123456789", to(BOB)),
    )
}


async def test_every_engine_declares_what_a_neonize_worker_performs(
    engine: EngineUnderTest,
) -> None:
    """Both engines declare at least the shared actions (neonize's WORKER_ACTIONS)."""
    assert engine.capabilities >= WORKER_ACTIONS


async def test_every_declared_action_has_a_contract_example(engine: EngineUnderTest) -> None:
    """A kind of action an engine declares without an example here fails the suite."""
    missing = {kind.__name__ for kind in engine.capabilities - EXAMPLES.keys()}
    assert not missing, f"add an example of {sorted(missing)} to EXAMPLES"


@pytest.mark.parametrize(
    ("engine", "kind"),
    [
        pytest.param(name, kind, id=f"{name}-{kind.__name__}")
        for name in ENGINES
        for kind in sorted(DECLARED[name], key=lambda kind: kind.__name__)
    ],
    indirect=["engine"],
)
async def test_every_declared_action_is_performed(
    engine: EngineUnderTest, kind: type[Action[Any]]
) -> None:
    """A declared action is performed (or refused for a reason of its own), never
    NotSupported, and nothing but our own errors comes out."""
    await engine.group("Famille", [BOB])
    answer = await outcome(engine, EXAMPLES[kind])
    assert not isinstance(answer, NotSupported), answer.message


@dataclass(frozen=True, slots=True)
class Ring(Action[None]):
    """Something no engine does."""

    phone: str


async def test_an_action_no_engine_performs_is_not_supported(engine: EngineUnderTest) -> None:
    """An undeclared action raises NotSupported (501, capability_not_supported)."""
    with pytest.raises(NotSupported) as refused:
        await engine.perform(Ring(BOB))
    assert (refused.value.status, refused.value.code) == (501, "capability_not_supported")


# -- sending ------------------------------------------------------------------------------


async def test_a_text_answers_whatsapps_id_and_time(engine: EngineUnderTest) -> None:
    """A text send answers a SendResult: a non-empty id, an aware UTC time close to now."""
    result = await engine.perform(text_to(to(BOB), "Bonjour depuis Sendmako !"))
    assert isinstance(result, SendResult)
    assert isinstance(result.message_id, str)
    assert result.message_id
    assert result.timestamp.utcoffset() == timedelta(0)
    assert abs(result.timestamp - datetime.now(UTC)) < SOON


async def test_mentions_and_a_quoted_reply_are_accepted(engine: EngineUnderTest) -> None:
    """A text with mentions in a group, and a reply quoting a message received, are sent."""
    await engine.group("Famille", [BOB, CAROL])
    mention = text_to(GROUP, f"@{BOB} @{CAROL} ce soir ?", mentions=(to(BOB), to(CAROL)))
    assert (await engine.perform(mention)).message_id
    received = await engine.text_arrives(BOB, "On se voit ?", name="Bob")
    reply = text_to(to(BOB), "Oui !", quoted_message_id=received.message_id)
    assert (await engine.perform(reply)).message_id


async def test_a_number_not_on_whatsapp_is_refused(engine: EngineUnderTest) -> None:
    """Sending to a number without WhatsApp is OperationFailed not_on_whatsapp (422)."""
    await engine.without_whatsapp(NOT_ON_WHATSAPP)
    with pytest.raises(OperationFailed) as refused:
        await engine.perform(text_to(to(NOT_ON_WHATSAPP), "Allô ?"))
    assert (refused.value.status, refused.value.code) == (422, "not_on_whatsapp")


async def test_a_session_not_connected_is_unavailable(engine: EngineUnderTest) -> None:
    """Once the connection drops, sends and group reads are Unavailable (503)."""
    await engine.group("Famille", [BOB])
    await engine.lose_connection()
    actions: list[Action[Any]] = [text_to(to(BOB), "Bonjour"), GetGroup(GROUP)]
    for action in actions:
        with pytest.raises(Unavailable) as refused:
            await engine.perform(action)
        assert (refused.value.status, refused.value.code) == (503, "session_not_connected")


# -- groups -------------------------------------------------------------------------------


async def test_a_new_group_has_its_creator_as_superadmin(engine: EngineUnderTest) -> None:
    """CreateGroup answers the group: a g.us JID, the subject, the creator as owner and
    superadmin, the members asked for as members."""
    info = await engine.perform(CreateGroup("Équipe Sendmako", (to(BOB), to(CAROL))))
    assert info.jid.is_group
    assert (info.subject, info.owner) == ("Équipe Sendmako", to(ME))
    assert set(info.participants) == {
        GroupParticipant(to(ME), ME, ParticipantRole.SUPERADMIN),
        GroupParticipant(to(BOB), BOB, ParticipantRole.MEMBER),
        GroupParticipant(to(CAROL), CAROL, ParticipantRole.MEMBER),
    }


async def test_an_unknown_group_is_group_not_found(engine: EngineUnderTest) -> None:
    """GetGroup of a group that does not exist is OperationFailed group_not_found."""
    with pytest.raises(OperationFailed) as refused:
        await engine.perform(GetGroup(Jid("120363999999999999", "g.us")))
    assert refused.value.code == "group_not_found"


async def test_participant_results_come_one_each_in_the_order_asked(
    engine: EngineUnderTest,
) -> None:
    """UpdateParticipants answers one result per participant, in the order asked; one
    refusal (a number without WhatsApp) does not stop the others."""
    await engine.group("Famille", [BOB])
    await engine.without_whatsapp(NOT_ON_WHATSAPP)
    asked = (to(DAVE), to(NOT_ON_WHATSAPP), to(CAROL))
    results = await engine.perform(UpdateParticipants(GROUP, asked, ParticipantAction.ADD))
    assert [(r.jid, r.ok, r.reason) for r in results] == [
        (to(DAVE), True, None),
        (to(NOT_ON_WHATSAPP), False, "not_on_whatsapp"),
        (to(CAROL), True, None),
    ]
    assert results[1].code == 404


async def test_a_participant_changed_carries_no_error_code(engine: EngineUnderTest) -> None:
    """A participant added without trouble is `ParticipantResult(jid, ok=True)`, no code."""
    await engine.group("Famille", [BOB])
    results = await engine.perform(UpdateParticipants(GROUP, (to(CAROL),), ParticipantAction.ADD))
    assert results == [ParticipantResult(to(CAROL), ok=True)]


async def test_the_invite_code_is_a_code_not_a_link(engine: EngineUnderTest) -> None:
    """GetInviteCode answers the bare code (no https://chat.whatsapp.com/); reset gives a
    new one."""
    await engine.group("Famille", [BOB])
    code = await engine.perform(GetInviteCode(GROUP))
    assert re.fullmatch(r"[A-Za-z0-9]+", code), code
    renewed = await engine.perform(GetInviteCode(GROUP, reset=True))
    assert re.fullmatch(r"[A-Za-z0-9]+", renewed), renewed
    assert renewed != code


async def test_a_settings_change_answers_the_updated_group(engine: EngineUnderTest) -> None:
    """UpdateGroupSettings answers the group as it is after the change."""
    await engine.group("Famille", [BOB])
    change = GroupSettingsChange(
        subject="Cousins", description="Le week-end", announce=True, restrict=True
    )
    info = await engine.perform(UpdateGroupSettings(GROUP, change))
    assert (info.jid, info.subject, info.description, info.announce, info.restrict) == (
        GROUP,
        "Cousins",
        "Le week-end",
        True,
        True,
    )


async def test_a_group_left_is_no_longer_listed(engine: EngineUnderTest) -> None:
    """LeaveGroup answers None, and the group leaves the session's list of groups."""
    await engine.group("Famille", [BOB])
    assert [info.jid for info in await engine.perform(ListGroups())] == [GROUP]
    assert await outcome(engine, LeaveGroup(GROUP)) is None
    assert await engine.perform(ListGroups()) == []


# -- contacts -----------------------------------------------------------------------------


async def test_contacts_are_named_by_their_phone_number_in_digits(
    engine: EngineUnderTest,
) -> None:
    """ListContacts answers Contacts whose phone is digits only, with the saved name."""
    await engine.address_book({BOB: "Bob", CAROL: "Carol"})
    contacts = await engine.perform(ListContacts())
    assert all(isinstance(contact, Contact) for contact in contacts)
    assert all(contact.phone.isdigit() for contact in contacts), contacts
    assert {(c.jid, c.phone, c.name) for c in contacts} == {
        (to(BOB), BOB, "Bob"),
        (to(CAROL), CAROL, "Carol"),
    }


# -- events -------------------------------------------------------------------------------


async def test_an_incoming_text_is_message_received(engine: EngineUnderTest) -> None:
    """A text from a number is MessageReceived: digits for the sender, the sender's JID as
    chat, wa_type conversation, the body, not from me, not in a group."""
    received = await engine.text_arrives(BOB, "Bonjour !", name="Bob")
    assert isinstance(received, MessageReceived)
    assert received.message_id
    assert (received.sender_phone, received.sender_jid, received.sender_name) == (
        BOB,
        f"{BOB}@s.whatsapp.net",
        "Bob",
    )
    assert (received.chat, received.wa_type, received.body) == (
        f"{BOB}@s.whatsapp.net",
        "conversation",
        "Bonjour !",
    )
    assert (received.from_me, received.is_group) == (False, False)


async def test_an_incoming_message_is_stamped_in_seconds(engine: EngineUnderTest) -> None:
    """MessageReceived.timestamp is an int of unix seconds, close to now (neonize gives a
    message's time in milliseconds: engines.py builds it so)."""
    received = await engine.text_arrives(BOB, "Bonjour !", name="Bob")
    assert isinstance(received.timestamp, int)
    assert abs(received.timestamp - time.time()) < SOON.total_seconds()


async def test_a_message_in_a_group_is_from_the_group(engine: EngineUnderTest) -> None:
    """A text inside a group is MessageReceived with is_group, the group's JID as chat, and
    the sender's phone number in digits."""
    await engine.group("Famille", [BOB])
    received = await engine.text_arrives(BOB, "Coucou tout le monde", name="Bob", group=GROUP)
    assert (received.is_group, received.chat, received.sender_phone) == (True, str(GROUP), BOB)
    assert (received.wa_type, received.body, received.from_me) == (
        "conversation",
        "Coucou tout le monde",
        False,
    )


async def test_a_receipt_is_receipt_received(engine: EngineUnderTest) -> None:
    """The recipient's phone acknowledging a send is ReceiptReceived: the message's id, the
    recipient's JID as chat, a MessageStatus, a time in unix seconds."""
    sent = await engine.perform(text_to(to(BOB), "Bonjour"))
    receipt = await engine.receipt_of(sent.message_id, BOB)
    assert (receipt.message_ids, receipt.chat) == ((sent.message_id,), f"{BOB}@s.whatsapp.net")
    assert isinstance(receipt.status, MessageStatus)
    assert receipt.status in (MessageStatus.DELIVERED, MessageStatus.READ)
    assert abs(receipt.timestamp - time.time()) < SOON.total_seconds()
