"""Sandbox engine and sessions: QR login, pairing codes, simulated disconnections; contacts
and groups live in `contacts.py` and `groups.py`."""

from __future__ import annotations

import asyncio
import hashlib
import secrets
import string
import time
from contextlib import suppress
from functools import partial
from pathlib import Path
from typing import ClassVar

from sendmako import log
from sendmako.engines.base import Engine, EngineSession, EventSink, SessionSpec, performs
from sendmako.engines.sandbox.contacts import SandboxAddressBooks
from sendmako.engines.sandbox.exchange import Exchange
from sendmako.engines.sandbox.groups import SandboxGroups
from sendmako.engines.sandbox.media import SandboxMediaStore
from sendmako.engines.sandbox.network import SandboxNetwork, new_message_id
from sendmako.engines.sandbox.sent import SentLog
from sendmako.engines.sandbox.store import devices as sandbox_devices
from sendmako.engines.sandbox.store import profiles as sandbox_profiles
from sendmako.engines.sandbox.store import tables as store_tables
from sendmako.errors import OperationFailed, Unavailable
from sendmako.ids import Jid
from sendmako.model.actions import RequestPairCode, SendResult
from sendmako.model.calls import RejectCall
from sendmako.model.chats import MarkRead, SendChatState, SetPresence, SubscribePresence
from sendmako.model.directory import (
    CheckNumbers,
    Contact,
    CreateGroup,
    GetGroup,
    GetGroupPicture,
    GetInviteCode,
    GetInviteInfo,
    GetProfilePicture,
    GroupInfo,
    JoinGroup,
    LeaveGroup,
    ListContacts,
    ListGroups,
    NumberStatus,
    ParticipantResult,
    UpdateGroupSettings,
    UpdateParticipants,
)
from sendmako.model.events import (
    EngineEvent,
    MessageEdited,
    MessageReceived,
    MessageRevoked,
    PairCodeIssued,
    PollVoted,
    PresenceChanged,
    QrCodeChanged,
    ReactionReceived,
    ReceiptReceived,
    Someone,
    StatusChanged,
    TemporaryBanned,
    WhatsAppEvent,
)
from sendmako.model.messages import (
    EditMessage,
    OutgoingMessage,
    PollVote,
    Reaction,
    RevokeMessage,
)
from sendmako.model.profile import GetProfile, Profile, SetProfilePicture, UpdateProfile
from sendmako.model.restrictions import NEW_CONTACTS_REFUSED, RestrictionKind
from sendmako.model.simulation import (
    Arrival,
    Arrive,
    ChangeAddressBook,
    Deafen,
    Disconnect,
    DisconnectReason,
    EnterPairCode,
    Happen,
    KnownContact,
    ListSent,
    Restrict,
    Scan,
    SentRecord,
)
from sendmako.model.statuses import MessageStatus, SessionStatus
from sendmako.settings import SandboxSettings
from sendmako.storage.db import Database

_PAIR_ALPHABET = "".join(c for c in string.ascii_uppercase + string.digits if c not in "0O1I")

logger = log.get(__name__)

# What the simulated network hands a session, to pass on to the manager in order.
Delivery = WhatsAppEvent


class SandboxSession(EngineSession):
    """A simulated number: it performs every action a real one does, and the simulator's
    controls (model/simulation.py) besides."""

    def __init__(self, spec: SessionSpec, sink: EventSink, engine: SandboxEngine) -> None:
        super().__init__(spec, sink)
        self.engine = engine
        self.status = SessionStatus.CONNECTING
        self.phone_number: str | None = None
        self.push_name: str | None = None
        # Incoming messages and receipts reach the manager one at a time, in order.
        self._inbox: asyncio.Queue[tuple[Delivery, asyncio.Future[None]]] = asyncio.Queue()
        self._inbox_worker: asyncio.Task[None] | None = None
        self._handing: set[asyncio.Future[None]] = set()
        self._qr_payload: str | None = None
        self._pair_code: tuple[str, str] | None = None  # (code, phone number)
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._stopped = False
        self._log = logger.bind(session_id=spec.session_id, engine="sandbox")
        # WhatsApp's restrictions, as the simulator's controls set them (`Restrict`).
        self._refuse_new_until = 0.0
        self._talked: set[str] = set()  # chats it exchanged a message with while online
        self._deaf = spec.session_id in engine.deaf_for_good  # `Deafen`: hears nothing

    # -- lifecycle (EngineSession) ------------------------------------------------------

    async def start(self) -> None:
        async with self._lock:
            self._stopped = False
            await self._connect()

    async def stop(self) -> None:
        async with self._lock:
            self._stopped = True
            await self._cancel_task()
            worker, self._inbox_worker = self._inbox_worker, None
            if worker is not None:
                worker.cancel()
                with suppress(asyncio.CancelledError):
                    await worker
            while not self._inbox.empty():  # never handed over: never stored here
                _, handled = self._inbox.get_nowait()
                handled.cancel()
            # Events already handed over finish storing: nothing half-way.
            await asyncio.gather(*self._handing, return_exceptions=True)
            await self.engine.network.stopped(self)

    async def logout(self) -> None:
        async with self._lock:
            await self._cancel_task()
            async with self.engine.db.write() as tx:
                await sandbox_devices.unlink(tx, self.spec.session_id)
            self.phone_number = None
            await self.engine.network.unreachable(self)
            await self._set(SessionStatus.LOGGED_OUT, "logged out by the API")
            self._stopped = True

    @performs(RequestPairCode)
    async def request_pair_code(self, action: RequestPairCode) -> str:
        phone_number = action.phone_number
        async with self._lock:
            self._require(SessionStatus.QR_READY, "ask for a pairing code")
            code = "".join(secrets.choice(_PAIR_ALPHABET) for _ in range(8))
            self._pair_code = (code, phone_number)
            await self.sink(PairCodeIssued(code))
            return code

    # -- messages -----------------------------------------------------------------------

    @performs(OutgoingMessage)
    async def send(self, message: OutgoingMessage) -> SendResult:
        phone = self._connected_phone()
        chat = str(message.to)
        if time.time() < self._refuse_new_until and chat not in self._talked:
            raise OperationFailed(
                f"WhatsApp refused the message to {message.to.user}, a new contact (463).",
                code=NEW_CONTACTS_REFUSED,
            )
        self._talked.add(chat)
        if message.to.is_group:
            audience = await self.engine.groups.audience(phone, message.to)
            return await self.engine.network.send_to_group(self, phone, message, audience)
        return await self.engine.network.send(self, phone, message)

    @property
    def stopped(self) -> bool:
        """Stopped on this node: what it is handed now is not stored."""
        return self._stopped

    def deliver(self, event: Delivery) -> asyncio.Future[None]:
        """Called by the network: queue an incoming message, receipt, contact or group
        change for the manager. The future resolves once the manager has stored it."""
        handled: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if isinstance(event, MessageReceived):
            self._talked.add(event.chat)
        if self._stopped or self._deaf:
            handled.set_result(None)
            return handled
        self._inbox.put_nowait((event, handled))
        if self._inbox_worker is None:
            self._inbox_worker = asyncio.create_task(self._drain_inbox())
        return handled

    @performs(Arrive)
    async def arrive(self, action: Arrive) -> list[str]:
        """Messages from the outside world (people, or people inside a group) arrive on
        this session, in order, all or none: each is prepared first (its media put on the
        sandbox's CDN), then all arrive with no await in between (the session cannot change
        state halfway). Answers their message ids once they are stored (and their
        message.received events recorded)."""
        self._require_connected()
        prepared = [await self._prepare(arrival) for arrival in action.arrivals]
        self._require_connected()
        await asyncio.gather(*(self.deliver(event) for event in prepared))
        return [event.message_id for event in prepared]

    async def _prepare(self, arrival: Arrival) -> MessageReceived:
        """What the session will see when `arrival` arrives; nothing has arrived yet."""
        return await self.engine.network.incoming(
            arrival.message,
            message_id=new_message_id(),
            sender_phone=arrival.sender_phone,
            sender_name=arrival.sender_name,
            chat=arrival.group or str(Jid.user_jid(arrival.sender_phone)),
            timestamp=int(time.time()),
            is_group=arrival.group is not None,
        )

    def _require_connected(self) -> None:
        if self.status != SessionStatus.CONNECTED:
            raise Unavailable(
                f"Session {self.spec.session_id} is not connected (status: {self.status}).",
                code="session_not_connected",
            )

    # -- contacts and groups (contacts.py, groups.py) ------------------------------------

    @performs(ListContacts)
    async def contacts(self, _: ListContacts) -> list[Contact]:
        self._connected_phone()
        return await self.engine.address_books.contacts(self.spec.row_id)

    @performs(ListGroups)
    async def groups(self, _: ListGroups) -> list[GroupInfo]:
        return await self.engine.groups.groups_of(self._connected_phone())

    @performs(GetGroup)
    async def group_info(self, action: GetGroup) -> GroupInfo:
        return await self.engine.groups.info(self._connected_phone(), action.group)

    @performs(CreateGroup)
    async def create_group(self, action: CreateGroup) -> GroupInfo:
        phone = self._connected_phone()
        return await self.engine.groups.create(phone, action.subject, list(action.participants))

    @performs(UpdateParticipants)
    async def update_participants(self, action: UpdateParticipants) -> list[ParticipantResult]:
        return await self.engine.groups.update_participants(
            self._connected_phone(), action.group, list(action.participants), action.action
        )

    @performs(UpdateGroupSettings)
    async def update_group_settings(self, action: UpdateGroupSettings) -> GroupInfo:
        phone = self._connected_phone()
        return await self.engine.groups.update_settings(phone, action.group, action.change)

    @performs(GetInviteCode)
    async def invite_code(self, action: GetInviteCode) -> str:
        phone = self._connected_phone()
        return await self.engine.groups.invite_code(phone, action.group, reset=action.reset)

    @performs(GetInviteInfo)
    async def invite_info(self, action: GetInviteInfo) -> GroupInfo:
        self._connected_phone()
        return await self.engine.groups.invite_info(action.code)

    @performs(JoinGroup)
    async def join_with_invite(self, action: JoinGroup) -> Jid:
        return await self.engine.groups.join(self._connected_phone(), action.code)

    @performs(GetGroupPicture)
    async def group_picture_url(self, action: GetGroupPicture) -> str | None:
        return await self.engine.groups.picture_url(self._connected_phone(), action.group)

    @performs(LeaveGroup)
    async def leave_group(self, action: LeaveGroup) -> None:
        await self.engine.groups.leave(self._connected_phone(), action.group)

    # -- acting on messages, chats and the profile ----------------------------------------

    @performs(Reaction, EditMessage, RevokeMessage, PollVote)
    async def relay(self, action: Reaction | EditMessage | RevokeMessage | PollVote) -> SendResult:
        """Sends that are not messages: each reaches the chat's other side as its event."""
        phone = self._connected_phone()
        to = action.to
        target = action.poll if isinstance(action, PollVote) else action.target
        if isinstance(action, EditMessage) and not target.from_me:
            raise OperationFailed("Only your own messages can be edited.", code="not_own_message")
        foreign = isinstance(action, RevokeMessage) and not target.from_me
        if foreign and not to.is_group:
            raise OperationFailed(
                "Only your own messages can be deleted for everyone outside a group.",
                code="not_own_message",
            )
        if to.is_group:
            audience = await self.engine.groups.others(phone, to, as_admin=foreign)
        elif self.engine.network.on_whatsapp(to.user):
            audience = [to.user]
        else:
            raise OperationFailed(
                f"The number {to.user} is not on WhatsApp.", code="not_on_whatsapp"
            )
        me, now = Someone(phone), int(time.time())
        author = me if target.from_me else Someone((target.sender or target.chat).user)

        def event(chat: str, from_me: bool) -> WhatsAppEvent:
            group = to.is_group
            if isinstance(action, Reaction):
                return ReactionReceived(
                    chat, target.message_id, me, action.emoji, now, group, from_me
                )
            if isinstance(action, EditMessage):
                return MessageEdited(chat, target.message_id, me, action.text, now, group, from_me)
            if isinstance(action, RevokeMessage):
                by = me if foreign else None
                return MessageRevoked(chat, target.message_id, author, now, by, group, from_me)
            hashes = tuple(hashlib.sha256(name.encode()).digest() for name in action.options)
            return PollVoted(chat, target.message_id, me, hashes, now, group, from_me)

        kind, text = _relayed(action)
        return await self.engine.network.relay(
            self, phone, to, audience, event, kind=kind, text=text
        )

    @performs(MarkRead)
    async def mark_read(self, action: MarkRead) -> None:
        """The authors of the messages get a read receipt."""
        phone = self._connected_phone()
        group = action.chat.is_group
        author = (action.sender or action.chat).user
        receipt = ReceiptReceived(
            message_ids=action.message_ids,
            chat=str(action.chat) if group else str(Jid.user_jid(phone)),
            status=MessageStatus.READ,
            timestamp=int(time.time()),
            participant_phone=phone if group else None,
        )
        await self.engine.network.tell(author, receipt, but=self)

    @performs(SendChatState)
    async def chat_state(self, action: SendChatState) -> None:
        phone = self._connected_phone()
        to = action.to
        if to.is_group:
            audience = await self.engine.groups.others(phone, to)
        else:
            audience = [to.user]
        chat = str(to) if to.is_group else str(Jid.user_jid(phone))
        for number in audience:
            await self.engine.network.tell(
                number, PresenceChanged(Someone(phone), action.state.value, chat=chat), but=self
            )

    @performs(SetPresence)
    async def set_presence(self, action: SetPresence) -> None:
        await self.engine.network.set_presence(self._connected_phone(), action.state.value)

    @performs(SubscribePresence)
    async def subscribe_presence(self, action: SubscribePresence) -> None:
        """Watch `to`'s presence: its current state comes at once, each change after."""
        self._connected_phone()
        network, phone = self.engine.network, action.to.user
        await network.subscribe(self, phone)
        self.deliver(PresenceChanged(Someone(phone), await network.presence_of(phone)))

    @performs(CheckNumbers)
    async def check_numbers(self, action: CheckNumbers) -> list[NumberStatus]:
        self._connected_phone()
        if self._deaf:
            raise Unavailable(
                f"Session {self.spec.session_id}: WhatsApp did not answer (a deaf connection).",
                code="no_answer",
            )
        on = self.engine.network.on_whatsapp
        return [
            NumberStatus(phone, on(phone), Jid.user_jid(phone) if on(phone) else None)
            for phone in action.phones
        ]

    @performs(GetProfilePicture)
    async def profile_picture(self, action: GetProfilePicture) -> str | None:
        self._connected_phone()
        if action.jid.is_group:
            return await self.engine.groups.picture_url(self._connected_phone(), action.jid)
        async with self.engine.db.read() as db:
            token = (await sandbox_profiles.get(db, action.jid.user)).picture_token
        return self.engine.media.url_of(token) if token else None

    @performs(GetProfile)
    async def profile(self, _: GetProfile) -> Profile:
        phone = self._connected_phone()
        async with self.engine.db.read() as db:
            stored = await sandbox_profiles.get(db, phone)
        picture = self.engine.media.url_of(stored.picture_token) if stored.picture_token else None
        return Profile(phone=phone, name=self.push_name, about=stored.about, picture_url=picture)

    @performs(UpdateProfile)
    async def update_profile(self, action: UpdateProfile) -> None:
        phone = self._connected_phone()
        async with self.engine.db.write() as tx:
            if action.name is not None:
                await sandbox_profiles.rename(tx, self.spec.session_id, action.name)
            if action.about is not None:
                await sandbox_profiles.set_fields(tx, phone, about=action.about)
        if action.name is not None:
            self.push_name = action.name

    @performs(SetProfilePicture)
    async def set_profile_picture(self, action: SetProfilePicture) -> None:
        phone = self._connected_phone()
        token = await self.engine.media.publish(action.jpeg)
        async with self.engine.db.write() as tx:
            await sandbox_profiles.set_fields(tx, phone, picture_token=token)

    @performs(RejectCall)
    async def reject_call(self, action: RejectCall) -> None:
        self._connected_phone()
        self.engine.network.rejected_calls.append(action.call_id)

    @performs(ListSent)
    async def sent_log(self, _: ListSent) -> list[SentRecord]:
        return await self.engine.network.sent_by(self.spec.session_id)

    async def _drain_inbox(self) -> None:
        """Hands events to the manager in order without waiting for each one's commit (the
        manager keeps their order; their writes then share transactions)."""
        while True:
            event, handled = await self._inbox.get()
            task = asyncio.ensure_future(self.sink(event))
            self._handing.add(task)
            task.add_done_callback(partial(self._handed, event, handled))

    def _handed(
        self, event: EngineEvent, handled: asyncio.Future[None], task: asyncio.Future[None]
    ) -> None:
        self._handing.discard(task)
        if handled.done():
            return
        if task.cancelled():
            handled.cancel()
        elif (error := task.exception()) is not None:
            self._log.error(
                "sandbox.inbox_event_failed", kind=type(event).__name__, error=repr(error)
            )
            handled.set_exception(error)
        else:
            handled.set_result(None)

    # -- simulator controls (model/simulation.py) ---------------------------------------

    @property
    def qr_payload(self) -> str | None:
        return self._qr_payload

    @performs(Scan)
    async def scan(self, action: Scan) -> None:
        """The phone scans the QR shown now (or the `qr` payload it read, checked)."""
        async with self._lock:
            self._require(SessionStatus.QR_READY, "scan a QR code")
            # Compared as bytes: compare_digest refuses str that are not ASCII (a 500).
            if action.qr is not None and not secrets.compare_digest(
                action.qr.encode(), (self._qr_payload or "").encode()
            ):
                raise OperationFailed(
                    "This QR code has expired: scan the one shown now.", code="qr_expired"
                )
            await self._link(action.phone_number, action.push_name)

    @performs(EnterPairCode)
    async def enter_pair_code(self, action: EnterPairCode) -> None:
        """The phone owner types the linking code given by `RequestPairCode`."""
        async with self._lock:
            self._require(SessionStatus.QR_READY, "enter a pairing code")
            expected = self._pair_code
            if expected is None or not secrets.compare_digest(
                action.code.replace("-", "").upper().encode(), expected[0].encode()
            ):
                raise OperationFailed("Wrong or expired pairing code.", code="pair_code_invalid")
            await self._link(expected[1], action.push_name)

    @performs(Happen)
    async def happen(self, action: Happen) -> None:
        """Something the outside world does reaches this session, and is stored."""
        self._require_connected()
        await self.deliver(action.event)

    @performs(Disconnect)
    async def disconnect(self, action: Disconnect) -> None:
        """`logged_out`: unlinked from the phone. `connection_lost`: comes back by itself."""
        async with self._lock:
            if action.reason is DisconnectReason.LOGGED_OUT:
                await self._cancel_task()
                async with self.engine.db.write() as tx:
                    await sandbox_devices.unlink(tx, self.spec.session_id)
                self.phone_number = None
                await self.engine.network.unreachable(self)
                await self._set(SessionStatus.LOGGED_OUT, "unlinked from the phone")
                return
            self._require(SessionStatus.CONNECTED, "lose the connection")
            await self.engine.network.unreachable(self)
            await self._set(SessionStatus.DISCONNECTED, "connection lost (simulated)")
            delay = (
                self.engine.settings.reconnect_seconds
                if action.reconnect_after is None
                else action.reconnect_after
            )
            self._task = asyncio.create_task(self._reconnect_after(delay))

    @performs(Restrict)
    async def restrict(self, action: Restrict) -> None:
        self._require_connected()
        until = time.time() + action.seconds
        if action.kind is RestrictionKind.NEW_CONTACTS:
            self._refuse_new_until = until
            return
        await self.sink(TemporaryBanned(action.code, until))

    @performs(Deafen)
    async def deafen(self, action: Deafen) -> None:
        self._require_connected()
        self._deaf = True
        if action.for_good:
            self.engine.deaf_for_good.add(self.spec.session_id)

    @performs(ChangeAddressBook)
    async def change_address_book(self, action: ChangeAddressBook) -> list[KnownContact]:
        books = self.engine.address_books
        if action.replace:
            await books.replace(self, action.entries)
        else:
            await books.add(self, action.entries)
        return await books.entries(self.spec.row_id)

    # -- internals ------------------------------------------------------------------------

    def _connected_phone(self) -> str:
        phone = self.phone_number
        if self.status != SessionStatus.CONNECTED or phone is None:
            raise Unavailable(
                f"Session {self.spec.session_id} is not connected (status: {self.status}).",
                code="session_not_connected",
            )
        return phone

    def _require(self, status: SessionStatus, action: str) -> None:
        if self.status != status:
            raise OperationFailed(
                f"Cannot {action}: session {self.spec.session_id} is {self.status}, not {status}.",
                code="session_state",
            )

    async def _connect(self) -> None:
        await self._cancel_task()
        await self._set(SessionStatus.CONNECTING, None)
        async with self.engine.db.read() as db:
            device = await sandbox_devices.get(db, self.spec.session_id)
        if device is not None:
            self.phone_number = device.phone_number
            self.push_name = device.push_name
            await self.engine.network.online(self, device.phone_number)
            await self._set(SessionStatus.CONNECTED, None, push_name=device.push_name)
        else:
            self._task = asyncio.create_task(self._rotate_qr())

    async def _link(self, phone_number: str, push_name: str | None) -> None:
        async with self.engine.db.write() as tx:
            # A number is one person's phone: linking another account's number would show
            # this account that person's messages and groups.
            if await sandbox_devices.held_by_another_user(tx, phone_number, self.spec.user_id):
                # Says no more than the refusal must: not whose it is, nor anything of theirs.
                raise OperationFailed(
                    f"The sandbox number {phone_number} is not available to this account: "
                    "use another number.",
                    code="sandbox_number_taken",
                )
            await sandbox_devices.link(tx, self.spec.session_id, phone_number, push_name)
        await self._cancel_task()
        self.phone_number = phone_number
        self.push_name = push_name
        self._qr_payload = None
        self._pair_code = None
        await self.engine.network.online(self, phone_number)
        self._log.info("sandbox.linked")
        await self._set(SessionStatus.CONNECTED, None, push_name=push_name)

    async def _rotate_qr(self) -> None:
        interval = self.engine.settings.qr_rotate_seconds
        while True:
            async with self._lock:
                if self._stopped:
                    return
                self._qr_payload = (
                    f"sendmako-sandbox:{self.spec.session_id}:{secrets.token_urlsafe(24)}"
                )
                await self.sink(QrCodeChanged(self._qr_payload, interval))
                if self.status != SessionStatus.QR_READY:
                    await self._set(SessionStatus.QR_READY, None)
            await asyncio.sleep(interval)

    async def _reconnect_after(self, delay: float) -> None:
        await asyncio.sleep(delay)
        async with self._lock:
            if self._stopped or self.status != SessionStatus.DISCONNECTED:
                return
            self._task = None
            await self._connect()

    async def _cancel_task(self) -> None:
        task, self._task = self._task, None
        if task is not None and task is not asyncio.current_task():
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task

    async def _set(
        self, status: SessionStatus, detail: str | None, *, push_name: str | None = None
    ) -> None:
        self.status = status
        if status != SessionStatus.QR_READY:
            self._qr_payload = None
        phone = self.phone_number if status == SessionStatus.CONNECTED else None
        await self.sink(StatusChanged(status, detail, phone_number=phone, push_name=push_name))


class SandboxEngine(Engine):
    name: ClassVar[str] = "sandbox"
    session_class: ClassVar[type[EngineSession]] = SandboxSession

    def __init__(
        self,
        db: Database,
        settings: SandboxSettings,
        media: SandboxMediaStore,
        *,
        exchange: Exchange | None = None,
        sent: SentLog | None = None,
    ) -> None:
        """`exchange` and `sent`: what the simulated network shares with other nodes (its
        sessions and its sent log, cluster.py); by default this node is alone."""
        self.db = db
        self.settings = settings
        self.media = media
        self.network = SandboxNetwork(settings, media, exchange=exchange, sent=sent)
        self.groups = SandboxGroups(db, settings, self.network)
        self.address_books = SandboxAddressBooks(db, self.network)
        self.deaf_for_good: set[str] = set()  # sessions `Deafen`ed even across reconnections

    def open_session(self, spec: SessionSpec, sink: EventSink) -> SandboxSession:
        return SandboxSession(spec, sink, self)

    async def start(self) -> None:
        await self.db.create_missing(store_tables.TABLES)
        await self.network.start()

    async def served_file(self, token: str) -> Path | None:
        return await self.media.path_of(token)

    async def stop(self) -> None:
        await self.network.close()

    async def forget(self, spec: SessionSpec) -> None:
        async with self.db.read() as db:
            device = await sandbox_devices.get(db, spec.session_id)
        await self.network.forget(spec.session_id, device.phone_number if device else None)
        async with self.db.write() as tx:
            await sandbox_devices.unlink(tx, spec.session_id)


def _relayed(action: Reaction | EditMessage | RevokeMessage | PollVote) -> tuple[str, str | None]:
    """How the sent log shows a send that is not a message: its kind and its text."""
    if isinstance(action, Reaction):
        return "reaction", action.emoji
    if isinstance(action, EditMessage):
        return "edit", action.text
    if isinstance(action, RevokeMessage):
        return "revoke", None
    return "poll_vote", ", ".join(action.options)
