"""Both engines behind one test-facing face, for the engine contract suite
(test_engine_contract.py): perform an action, set up the world the same way on both, make
WhatsApp's side do something, and read what the engine reported.

- The sandbox is the real engine on a real in-process server: actions go to its
  `EngineSession`, and its events are taken where they reach the session manager.
- neonize is the real engine code on both sides of its worker socket, with only the neonize
  client faked (nothing is ever sent to WhatsApp): each action crosses as a protocol frame
  to `Commands` and its answer or error crosses back, rebuilt as the server rebuilds it;
  WhatsApp's events are neonize protobufs, fired on the fake client and converted by
  `Connection`, and what it reports crosses the protocol too.

The same people on both: this session's number (`ME`), Bob and Carol (on WhatsApp), and a
number without WhatsApp (the sandbox's rule: it ends with 0000).
"""

from __future__ import annotations

import asyncio
import itertools
import secrets
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from neonize.events import ConnectedEv, DisconnectedEv, ReceiptEv
from neonize.proto import Neonize_pb2 as npb

from sendmako.engines.base import EngineSession, SessionSpec
from sendmako.engines.neonize import errors as wire_errors
from sendmako.engines.neonize import protocol
from sendmako.engines.neonize.commands import Commands
from sendmako.engines.neonize.connection import Connection, ConnectionConfig
from sendmako.engines.neonize.engine import NeonizeEngine
from sendmako.engines.neonize.store import StoredDevice
from sendmako.engines.sandbox import SandboxEngine, SandboxSession
from sendmako.engines.sandbox.store import groups as sandbox_groups
from sendmako.errors import SendmakoError
from sendmako.ids import GROUP_SERVER, Jid, SessionId
from sendmako.model.actions import Action, RequestPairCode
from sendmako.model.directory import ParticipantRole
from sendmako.model.events import EngineEvent, MessageReceived, ReceiptReceived
from sendmako.model.messages import MessageType, OutgoingMessage
from sendmako.model.simulation import (
    AddressBookEntry,
    Arrival,
    Arrive,
    ChangeAddressBook,
    Disconnect,
    DisconnectReason,
)
from sendmako.settings import Settings
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord
from tests.engines.neonize.fakes import FakeClient, group_info
from tests.engines.neonize.protobufs import EMPTY, ME, jid, message_event, text
from tests.engines.neonize.recording import RecordingLink
from tests.harness import Server, connect_sandbox, running

R = TypeVar("R")
E = TypeVar("E")

# What each engine declares it performs (`Engine.capabilities`), known before any is built.
DECLARED = {
    SandboxEngine.name: SandboxEngine.session_class.capabilities(),
    NeonizeEngine.name: NeonizeEngine.session_class.capabilities(),
}
ENGINES = tuple(DECLARED)

BOB, CAROL = "221781234567", "33612345678"
# Their hidden ids (LIDs), where WhatsApp addresses people by LID (neonize only).
LIDS = {BOB: "187654321098765", CAROL: "176543210987654"}
NOT_ON_WHATSAPP = "22241850000"
GROUP = Jid("120363025246125244", GROUP_SERVER)
EVENT_TIMEOUT = 5.0


class EngineUnderTest(ABC):
    """One connected session of one engine, its number `ME`, in a world of its own."""

    name: str
    capabilities: frozenset[type[Action[Any]]]

    @abstractmethod
    async def perform(self, action: Action[R]) -> R:
        """What `EngineSession.perform` answers or raises for `action`."""

    # -- the world ----------------------------------------------------------------------

    @abstractmethod
    async def without_whatsapp(self, phone: str) -> None:
        """`phone` has no WhatsApp account."""

    @abstractmethod
    async def group(self, subject: str, members: Sequence[str]) -> Jid:
        """`GROUP` exists: created by this session's number (its superadmin), with `members`."""

    @abstractmethod
    async def address_book(self, entries: dict[str, str]) -> None:
        """The phone's address book holds these numbers, with these names."""

    @abstractmethod
    async def lose_connection(self) -> None:
        """The connection to WhatsApp drops (and does not come back during the test)."""

    # -- WhatsApp's side ----------------------------------------------------------------

    @abstractmethod
    async def text_arrives(
        self, sender: str, body: str, *, name: str, group: Jid | None = None
    ) -> MessageReceived:
        """`sender` sends a text to this number (inside `group` when given): what the
        engine reports."""

    @abstractmethod
    async def receipt_of(self, message_id: str, recipient: str) -> ReceiptReceived:
        """The phone of `recipient` acknowledges our message: the first receipt the engine
        reports for it."""


# -- the sandbox ------------------------------------------------------------------------


class Reported:
    """What a sandbox session reported, taken where it reaches the session manager (its
    handlers of message events), with a way to wait for one without sleeping."""

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.events: list[EngineEvent] = []
        self._changed = asyncio.Condition()

    async def handle(self, session: SessionRecord, event: EngineEvent) -> None:
        if session.session_id == self.session_id:
            self.events.append(event)
            async with self._changed:
                self._changed.notify_all()

    async def first(self, kind: type[E], where: Callable[[E], bool]) -> E:
        def found() -> list[E]:
            return [e for e in self.events if isinstance(e, kind) and where(e)]

        async with asyncio.timeout(EVENT_TIMEOUT), self._changed:
            await self._changed.wait_for(lambda: bool(found()))
        return found()[0]


class SandboxUnderTest(EngineUnderTest):
    name = SandboxEngine.name

    def __init__(self, server: Server, session: EngineSession, reported: Reported) -> None:
        assert server.app is not None
        self.server = server
        self.session = session
        self.reported = reported
        self.engine: SandboxEngine = server.app.state.services.engines[self.name]
        self.capabilities = self.engine.capabilities

    @classmethod
    async def connect(cls, server: Server) -> SandboxUnderTest:
        account = await server.account("contract@example.com")
        session_id = await connect_sandbox(server, account, ME, "Contract")
        session = server.sessions.engine_session(session_id)
        assert isinstance(session, SandboxSession)
        reported = Reported(session_id)
        server.sessions.handlers.append(reported)
        return cls(server, session, reported)

    async def perform(self, action: Action[R]) -> R:
        return await self.session.perform(action)

    async def without_whatsapp(self, phone: str) -> None:
        # The simulated network decides by the number alone (SandboxSettings).
        assert not self.engine.network.on_whatsapp(phone)

    async def group(self, subject: str, members: Sequence[str]) -> Jid:
        db: Database = self.engine.db
        async with db.write() as tx:
            await sandbox_groups.create(
                tx, str(GROUP), subject=subject, owner_phone=ME, creation=int(time.time())
            )
            await sandbox_groups.add_member(tx, str(GROUP), ME, ParticipantRole.SUPERADMIN)
            for member in members:
                await sandbox_groups.add_member(tx, str(GROUP), member, ParticipantRole.MEMBER)
        return GROUP

    async def address_book(self, entries: dict[str, str]) -> None:
        book = tuple(AddressBookEntry(phone, name) for phone, name in entries.items())
        await self.perform(ChangeAddressBook(book))

    async def lose_connection(self) -> None:
        await self.perform(Disconnect(DisconnectReason.CONNECTION_LOST, reconnect_after=3600))

    async def text_arrives(
        self, sender: str, body: str, *, name: str, group: Jid | None = None
    ) -> MessageReceived:
        message = OutgoingMessage(to=Jid.user_jid(ME), type=MessageType.TEXT, text=body)
        arrival = Arrival(message, sender, name, str(group) if group else None)
        (message_id,) = await self.perform(Arrive((arrival,)))
        return await self.reported.first(MessageReceived, lambda e: e.message_id == message_id)

    async def receipt_of(self, message_id: str, recipient: str) -> ReceiptReceived:
        # The simulated phone acknowledges by itself, after the configured delays (none).
        return await self.reported.first(ReceiptReceived, lambda e: message_id in e.message_ids)


# -- neonize ----------------------------------------------------------------------------

SESSION_ID = SessionId("user_1")
DEVICE = f"{ME}:7@s.whatsapp.net"
ME_LID = "99887766554433"
Crossing = Callable[[str, dict[str, Any]], Awaitable[Any]]


class ServerSide(EngineSession):
    """The server's half of a neonize session, without its worker process: it performs what
    `NeonizeSession` declares (anything else is refused by `EngineSession.perform`, as for
    every session) by sending the action across, as `NeonizeSession` does. Its own early
    refusal of a session not connected is left out: the worker refuses it the same way."""

    def __init__(self, cross: Crossing) -> None:
        super().__init__(SessionSpec(SESSION_ID, 1, 1, ME, DEVICE), self._no_sink)
        self.cross = cross

    async def over_the_wire(self, action: Action[Any]) -> Any:
        if isinstance(action, RequestPairCode):
            return await self.cross("pair_code", {"phone": action.phone_number})
        return await self.cross("perform", {"action": action})

    async def start(self) -> None:
        """Not part of this contract (the worker's lifecycle has tests of its own)."""

    async def stop(self) -> None:
        """Not part of this contract."""

    async def logout(self) -> None:
        """Not part of this contract."""

    @staticmethod
    async def _no_sink(_event: EngineEvent) -> None:
        return None


ServerSide.performers = dict.fromkeys(NeonizeEngine.session_class.capabilities(), "over_the_wire")


def across(frame: protocol.Frame) -> protocol.Frame:
    """`frame` as the other end of the worker socket reads it."""
    return protocol.unpack(protocol.pack(frame)[protocol.HEADER_SIZE :])


def from_go(event: Any) -> Any:
    """A neonize event as its Go core hands it over: serialised (every required field set)."""
    return type(event).FromString(event.SerializeToString())


class NeonizeUnderTest(EngineUnderTest):
    name = NeonizeEngine.name

    def __init__(self) -> None:
        self.capabilities = NeonizeEngine.session_class.capabilities()
        self.client = FakeClient(server_time=None)
        self.link = RecordingLink()
        self.connection = Connection(
            ConnectionConfig(SESSION_ID, "/nowhere/user_1.db", DEVICE, None, False),
            self.link,
            client_factory=lambda *_args: self.client,
            devices=lambda _store: [StoredDevice(DEVICE, jid(ME, device=7))],
        )
        self.connection.open()
        # What the worker's `start` builds beside the connection (worker.py).
        self.commands = Commands(
            self.client,
            session_id=SESSION_ID,
            lock=self.connection.lock,
            ready=self.connection.ready,
            recent=self.connection.recent,
            spool_dir=None,
            own=lambda: self.connection.own,
            calls=self.connection.calls,
        )
        self.server_side = ServerSide(self._cross)
        self._ids = itertools.count(1)
        self.client.me = npb.Device(JID=jid(ME, device=7), LID=jid(ME_LID, "lid"), PushName="Me")
        self.client.fire(from_go(ConnectedEv(status=True)))

    async def perform(self, action: Action[R]) -> R:
        return await self.server_side.perform(action)

    async def _cross(self, op: str, args: dict[str, Any]) -> Any:
        """One request to the worker and its reply, each across the socket's encoding."""
        request = across(protocol.Request(next(self._ids), op, args))
        assert isinstance(request, protocol.Request)
        try:
            result = await asyncio.to_thread(self._in_worker, request)
            reply = protocol.Reply(request.id, result)
        except SendmakoError as exc:
            reply = protocol.Reply(request.id, error=wire_errors.to_wire(exc))
        answer = across(reply)
        assert isinstance(answer, protocol.Reply)
        if answer.error is not None:
            raise wire_errors.from_wire(answer.error)  # as the server's WorkerProcess does
        return answer.result

    def _in_worker(self, request: protocol.Request) -> Any:
        """What the worker does with a request (worker.py, `Worker._handle`)."""
        if request.op == "pair_code":
            return self.connection.pair_code(request.args["phone"])
        return self.commands.perform(request.args["action"], spool=request.args.get("spool"))

    def reported(self) -> list[EngineEvent]:
        """What the connection reported, as the server receives it."""
        crossed = [across(protocol.EventFrame(event)) for event in self.link.events]
        return [frame.event for frame in crossed if isinstance(frame, protocol.EventFrame)]

    def first(self, kind: type[E], where: Callable[[E], bool]) -> E:
        found = [e for e in self.reported() if isinstance(e, kind) and where(e)]
        assert found, f"no {kind.__name__} among {self.reported()}"
        return found[0]

    async def without_whatsapp(self, phone: str) -> None:
        self.client.not_on_whatsapp.add(phone)
        self.client.participant_errors[phone] = 404  # WhatsApp's answer to adding it

    async def group(self, subject: str, members: Sequence[str]) -> Jid:
        self.client.groups[GROUP.user] = group_info(GROUP.user, subject, list(members))
        return GROUP

    async def address_book(self, entries: dict[str, str]) -> None:
        # whatsmeow's contact store keys a contact by its phone JID, and by its hidden
        # LID too once WhatsApp shared it.
        self.client.contact.contacts = [
            npb.Contact(JID=who, Info=npb.ContactInfo(Found=True, FullName=name))
            for phone, name in entries.items()
            for who in (jid(phone), jid(LIDS[phone], "lid"))
        ]

    async def lose_connection(self) -> None:
        self.client.fire(from_go(DisconnectedEv(status=True)))

    async def text_arrives(
        self, sender: str, body: str, *, name: str, group: Jid | None = None
    ) -> MessageReceived:
        message_id = "3EB0" + secrets.token_hex(9).upper()
        if group is None:
            event = message_event(
                text(body), sender=jid(sender), message_id=message_id, push_name=name
            )
        else:
            # Groups address their members by LID, with the phone number beside it.
            event = message_event(
                text(body),
                chat=jid(group.user, group.server),
                sender=jid(LIDS[sender], "lid"),
                sender_alt=jid(sender),
                is_group=True,
                message_id=message_id,
                push_name=name,
            )
        # neonize's Go core fills it with `Timestamp.UnixMilli()` (EncodeMessageInfo).
        event.Info.Timestamp = int(time.time() * 1000)
        self.client.fire(from_go(event))
        return self.first(MessageReceived, lambda e: e.message_id == message_id)

    async def receipt_of(self, message_id: str, recipient: str) -> ReceiptReceived:
        source = npb.MessageSource(
            Chat=jid(recipient),
            Sender=jid(recipient),
            SenderAlt=EMPTY,
            IsFromMe=False,
            IsGroup=False,
            AddressingMode=npb.PN,
            RecipientAlt=EMPTY,
            BroadcastListOwner=EMPTY,
        )
        # neonize's Go core fills it with `Timestamp.Unix()` (EncodeReceipts).
        receipt = ReceiptEv(
            MessageSource=source,
            MessageIDs=[message_id],
            Timestamp=int(time.time()),
            Type=ReceiptEv.DELIVERED,
        )
        self.client.fire(from_go(receipt))
        return self.first(ReceiptReceived, lambda e: message_id in e.message_ids)


@asynccontextmanager
async def engine_under_test(name: str, settings: Settings) -> AsyncIterator[EngineUnderTest]:
    """A connected session of engine `name`, this session's number being `ME`."""
    if name == SandboxEngine.name:
        async with running(settings) as server:
            yield await SandboxUnderTest.connect(server)
    else:
        yield NeonizeUnderTest()
