"""One WhatsApp connection inside a worker process: neonize's sync client and its guards.

neonize 0.5.2 aborts the whole process (a Go `fatal error`, uncatchable) in several ways
(`neonize-notes.md`, `neonize-wave2.md`), and this module is where each is avoided:

- Its Go maps are unsynchronised: `connect()` writes them while it starts, and any other
  call racing those writes crashes. So no FFI call is made before the connection is known
  to be past its start (the first QR code, the first event, or `connect()` returning), and
  every FFI call after that holds `lock`. (One session per process: nothing else writes.)
- `get_me`, `contact.*`, `get_pn_from_lid` and revokes dereference a nil device store
  unless the session is logged in. They run only in state CONNECTED, and `is_logged_in`
  is asked first. (`get_me` and revokes are never called at all: `client.me` is filled by
  neonize's first event, and revokes are built in Python, `targets.py`.) So do
  `decrypt_poll_vote`, `set_profile_name` and `get_lid_from_pn`.
- `set_status_message` aborts when the client is not in neonize's Go map (before
  connect, after stop): commands run only in state CONNECTED, and `stop` leaves that state
  under the lock before the client leaves the map. `send_chat_presence` aborts on a
  number outside neonize's enums: only their members are ever passed.
- Resuming a device the store does not hold panics. `open` resumes a JID only when the
  store lists it, and otherwise pairs a new device.

Event callbacks run on the Go thread that pumps events: they convert and forward, and
never take `lock` (a send holding it may be waiting on that very pump), except to resolve
a hidden @lid or decrypt a poll vote, each with a bounded wait (a vote that cannot wait
goes to a thread of its own).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Protocol

from neonize._binder import ProxySettings
from neonize.client import NewClient
from neonize.events import (
    CallOfferEv,
    CallOfferNoticeEv,
    ChatPresenceEv,
    ClientOutdatedEv,
    ConnectedEv,
    ConnectFailureEv,
    DisconnectedEv,
    GroupInfoEv,
    HistorySyncEv,
    JoinedGroupEv,
    KeepAliveRestoredEv,
    KeepAliveTimeoutEv,
    LoggedOutEv,
    MessageEv,
    OfflineSyncCompletedEv,
    PairStatusEv,
    PresenceEv,
    ReceiptEv,
    StreamReplacedEv,
    TemporaryBanEv,
)
from neonize.exc import NeonizeError
from neonize.proto.waCompanionReg.WAWebProtobufsCompanionReg_pb2 import DeviceProps
from neonize.utils.jid import Jid2String

from sendmako import log
from sendmako.engines.neonize import convert, directory, history, notices, patches
from sendmako.engines.neonize.errors import Context, translate
from sendmako.engines.neonize.ffi import Own
from sendmako.engines.neonize.recent import RecentCalls, RecentMessages
from sendmako.engines.neonize.store import StoredDevice, list_devices
from sendmako.errors import OperationFailed, SendmakoError
from sendmako.model.events import (
    ContactsChanged,
    EngineEvent,
    MessageReceived,
    QrCodeChanged,
    StatusChanged,
)
from sendmako.model.statuses import SessionStatus

logger = log.get(__name__)

# whatsmeow's QR codes: the first one is valid 60 s, each next one 20 s.
FIRST_QR_SECONDS = 60.0
NEXT_QR_SECONDS = 20.0
CONTACTS_SYNC_DELAY_SECONDS = 15.0  # app-state sync fills the contact store after connecting
LID_LOOKUP_WAIT_SECONDS = 1.0
# A poll vote is decrypted in Go under the lock, once connected. The event thread waits
# this long for the lock; past that (a long upload holds it), or before the connection is
# up (votes queued while offline), the vote waits on a thread of its own, this long.
VOTE_WAIT_SECONDS = 1.0
LATE_VOTE_WAIT_SECONDS = 300.0
DEVICE_OS = "Sendmako"  # the name the phone shows under "Linked devices"


class State(StrEnum):
    STARTING = "starting"  # connect() is starting: no FFI call is safe yet
    QR = "qr"  # waiting for a QR scan or a pairing code
    LINKED = "linked"  # paired or resuming, not yet connected
    CONNECTED = "connected"  # logged in and online
    DISCONNECTED = "disconnected"  # lost; whatsmeow reconnects by itself
    ENDED = "ended"  # over: the worker exits


class Link(Protocol):
    """How the connection reports to the server."""

    def event(self, event: EngineEvent) -> None: ...

    def ended(self, ending: convert.Ending) -> None: ...


@dataclass(frozen=True, slots=True)
class ConnectionConfig:
    session_id: str
    store: str  # an SQLite file path or a lib/pq URL (neonize tells them apart)
    device_jid: str | None  # the device paired last time, if any
    proxy: str | None
    shared_store: bool  # the store holds other sessions' devices too (PostgreSQL)


# (store, JID protobuf to resume or None, new device?, uuid) -> a neonize client
ClientFactory = Callable[[str, Any, bool, str], Any]
DeviceLister = Callable[[str], list[StoredDevice]]


def neonize_client(store: str, jid: Any, new_device: bool, uuid: str) -> Any:
    patches.apply()  # before any call into neonize: decrypt_poll_vote needs it
    props = DeviceProps(os=DEVICE_OS, platformType=DeviceProps.CHROME)
    return NewClient(store, jid=jid, props=props, uuid=uuid, new_device=new_device)


class Connection:
    def __init__(
        self,
        config: ConnectionConfig,
        link: Link,
        *,
        client_factory: ClientFactory = neonize_client,
        devices: DeviceLister = list_devices,
    ) -> None:
        self.config = config
        self.link = link
        self.lock = threading.Lock()  # around every FFI call but connect()
        self.state = State.STARTING
        self.recent = RecentMessages()
        self.calls = RecentCalls()  # call offers, so a refusal answers their caller
        self.late_votes = ThreadPoolExecutor(1, thread_name_prefix="late-votes")
        self._online = threading.Event()  # state CONNECTED, for what waits for it
        self.device_jid: str | None = None
        self.phone: str | None = None
        self.lid: str | None = None  # this number's hidden id, once connected
        self.push_name: str | None = None
        self._client_factory = client_factory
        self._devices = devices
        self._started = threading.Event()  # connect() is past writing neonize's Go maps
        self._qr_count = 0
        self._ended = False
        self._log = logger.bind(session_id=config.session_id)
        self.client: Any = None

    # -- lifecycle ----------------------------------------------------------------------

    def open(self) -> str | None:
        """Pick the device (resume a stored one, or pair a new one) and build the client.
        Returns the JID of the device resumed, if any. No connection yet."""
        stored = self._devices(self.config.store)
        resume = self._pick(stored)
        if resume is not None:
            self.device_jid = resume.jid
            self.phone = resume.phone
            self.state = State.LINKED
        self.client = self._client_factory(
            self.config.store,
            resume.proto if resume is not None else None,
            resume is None,
            self.config.session_id,
        )
        self._register()
        return resume.jid if resume is not None else None

    def _pick(self, stored: list[StoredDevice]) -> StoredDevice | None:
        wanted = self.config.device_jid
        if wanted is not None:
            for device in stored:
                if device.matches(wanted):
                    return device
            self._log.info("neonize.device_gone", device_jid=wanted)
            return None
        if not self.config.shared_store and len(stored) == 1:
            # This session's own store file: the device is ours even if the pairing's JID
            # never reached the database (a crash right after the scan).
            return stored[0]
        return None

    def run(self) -> None:
        """Connect and block until the connection ends (call on a dedicated thread)."""
        proxy = ProxySettings(proxy_address=self.config.proxy) if self.config.proxy else None
        try:
            self.client.connect(proxy)
        except NeonizeError as exc:
            self._finish(convert.Ending(None, convert.dial_failure(str(exc)), retry=True))
        else:
            # Only stop() ends connect() without an error; the worker is shutting down.
            self._finish(convert.Ending(None, "the connection was stopped", retry=True))
        finally:
            self._started.set()

    def stop(self, timeout: float) -> None:
        """Close the connection if that can be done within `timeout` seconds.

        whatsmeow cannot abort a dial in flight (stop() waits for it, up to a minute): the
        caller exits the process after `timeout` regardless.
        """
        if not self._started.is_set():
            return  # connect() may still be writing its maps: leave it to process exit
        done = threading.Event()

        def stop() -> None:
            if self.lock.acquire(timeout=timeout):
                try:
                    # Before the client leaves neonize's Go map: a command waiting for the
                    # lock must find the session gone, not call into a missing client.
                    self.state = State.ENDED
                    self._online.clear()
                    self.client.stop()
                finally:
                    self.lock.release()
            done.set()

        threading.Thread(target=stop, name="stop", daemon=True).start()
        done.wait(timeout)

    # -- requests (called on request threads) -------------------------------------------

    def ready(self) -> bool:
        return self.state is State.CONNECTED

    @property
    def own(self) -> Own:
        """This number: its phone, its hidden id and its push name, as far as known."""
        return Own(phone=self.phone, lid=self.lid, push_name=self.push_name)

    def pair_code(self, phone: str) -> str:
        if self.state is not State.QR:
            raise OperationFailed(
                f"Cannot ask for a pairing code: session {self.config.session_id} is not "
                "waiting for a QR scan.",
                code="session_state",
            )
        with self.lock:
            try:
                code = str(self.client.PairPhone(phone, True))
            except NeonizeError as exc:
                raise translate(
                    str(exc), session_id=self.config.session_id, context=Context.OTHER
                ) from exc
        return code.replace("-", "")

    def logout(self) -> bool:
        """Unlink the device on WhatsApp's side; False when it cannot be reached now."""
        if self.state is not State.CONNECTED:
            return False
        with self.lock:
            try:
                self.client.logout()
            except NeonizeError as exc:
                self._log.warning("neonize.logout_failed", error=str(exc))
                return False
        return True

    def sync_contacts(self) -> None:
        """Send the whole address book as `ContactsChanged` (on a timer thread)."""
        if not self.ready():
            return
        try:
            with self.lock:
                if not self.client.is_logged_in:  # contact.* crashes the process otherwise
                    return
                found = directory.contacts(self.client.contact.get_all_contacts())
        except NeonizeError as exc:
            self._log.warning("neonize.contacts_failed", error=str(exc))
            return
        self.link.event(ContactsChanged(tuple(found), complete=True))

    # -- events (called on neonize's Go thread) -----------------------------------------

    def _register(self) -> None:
        handlers: dict[type[Any], Callable[[Any], None]] = {
            PairStatusEv: self._on_pair_status,
            ConnectedEv: self._on_connected,
            DisconnectedEv: self._on_disconnected,
            KeepAliveTimeoutEv: self._on_keepalive_timeout,
            KeepAliveRestoredEv: self._on_keepalive_restored,
            LoggedOutEv: lambda ev: self._finish(convert.logged_out(ev)),
            StreamReplacedEv: lambda _ev: self._finish(convert.stream_replaced()),
            TemporaryBanEv: self._on_temporary_ban,
            ClientOutdatedEv: lambda _ev: self._finish(convert.client_outdated()),
            ConnectFailureEv: lambda ev: self._finish(convert.connect_failure(ev)),
            MessageEv: self._on_message,
            ReceiptEv: self._on_receipt,
            JoinedGroupEv: lambda ev: self.link.event(notices.joined_group(ev)),
            GroupInfoEv: self._on_group_info,
            PresenceEv: lambda ev: self.link.event(notices.presence_changed(ev, self._resolve_lid)),
            ChatPresenceEv: self._on_chat_presence,
            CallOfferEv: self._on_call_offer,
            CallOfferNoticeEv: self._on_group_call,
            OfflineSyncCompletedEv: lambda _ev: self._schedule_contacts(0.0),
            HistorySyncEv: self._on_history,
        }
        for event_type, handler in handlers.items():
            self.client.event(event_type)(self._guarded(handler))
        self.client.qr(self._guarded_qr)

    def _guarded(self, handler: Callable[[Any], None]) -> Callable[[Any, Any], None]:
        def run(_client: Any, event: Any) -> None:
            self._started.set()  # events flow only once connect() is past its start
            try:
                handler(event)
            except Exception as exc:  # noqa: BLE001 - ctypes would swallow it silently
                self._log.error(
                    "neonize.handler_failed",
                    handler=getattr(handler, "__name__", "lambda"),
                    error=f"{type(exc).__name__}: {exc}",
                )

        return run

    def _guarded_qr(self, _client: Any, payload: bytes) -> None:
        self._started.set()
        try:
            self._qr_count += 1
            self.state = State.QR
            valid = FIRST_QR_SECONDS if self._qr_count == 1 else NEXT_QR_SECONDS
            self.link.event(QrCodeChanged(payload.decode(), valid))
        except Exception as exc:  # noqa: BLE001 - ctypes would swallow it silently
            self._log.error("neonize.handler_failed", handler="qr", error=repr(exc))

    def _on_pair_status(self, ev: Any) -> None:
        if ev.Status != PairStatusEv.SUCCESS:
            self.link.event(StatusChanged(SessionStatus.QR_READY, f"linking failed: {ev.Error}"))
            return
        self.device_jid = Jid2String(ev.ID)
        self.phone = str(ev.ID.User)
        self.state = State.LINKED
        self._log.info("neonize.paired", platform=ev.Platform)
        # Stored at once, so a crash before CONNECTED still resumes this device.
        self.link.event(
            StatusChanged(
                SessionStatus.CONNECTING,
                "linked to the phone; finishing the login",
                phone_number=self.phone,
                device_jid=self.device_jid,
            )
        )

    def _on_connected(self, _ev: Any) -> None:
        me = getattr(self.client, "me", None)
        if me is not None and me.JID.User:
            self.device_jid = Jid2String(me.JID)
            self.phone = str(me.JID.User)
            self.push_name = str(me.PushName) or None
            self.lid = str(me.LID.User) or None
        self.state = State.CONNECTED
        self._online.set()
        self.link.event(
            StatusChanged(
                SessionStatus.CONNECTED,
                None,
                phone_number=self.phone,
                device_jid=self.device_jid,
                push_name=self.push_name,
            )
        )
        self._schedule_contacts(CONTACTS_SYNC_DELAY_SECONDS)

    def _on_disconnected(self, _ev: Any) -> None:
        if self.state is State.CONNECTED:
            self.state = State.DISCONNECTED
            self._online.clear()
            self.link.event(
                StatusChanged(
                    SessionStatus.DISCONNECTED, "lost the connection to WhatsApp; reconnecting"
                )
            )

    def _on_keepalive_timeout(self, ev: Any) -> None:
        self._log.warning("neonize.keepalive_timeout", errors=ev.ErrorCount)

    def _on_keepalive_restored(self, _ev: Any) -> None:
        self._log.info("neonize.keepalive_restored")

    def _on_message(self, ev: Any) -> None:
        if convert.is_poll_vote(ev):
            self._on_poll_vote(ev)
            return
        converted = convert.message_event(ev, self._resolve_lid)
        if converted is None:
            return
        if isinstance(converted, MessageReceived):
            # As it arrived: a reply quotes it, a vote or a read receipt answers it so.
            self.recent.remember(
                converted.message_id,
                converted.sender_jid,
                ev.Message,
                chat=convert.jid_text(ev.Info.MessageSource.Chat),
                from_me=converted.from_me,
            )
        self.link.event(converted)

    def _on_history(self, ev: Any) -> None:
        """A chunk of the phone's recent history (after linking): stored, not announced."""
        own = convert.jid_proto(self.device_jid or "")
        if own is None:
            self._log.warning("neonize.history_without_device")
            return
        synced = history.history_synced(ev, own, self._resolve_lid)
        if synced is not None:
            self.link.event(synced)

    def _on_poll_vote(self, ev: Any) -> None:
        """Decrypt the vote (a Go call under the lock, once connected): at once when
        connected and the lock is free soon, else on the late-votes thread (in arrival
        order), so the event thread never waits long."""
        if self.state is State.CONNECTED:
            try:
                hashes = self._decrypt_vote(ev, VOTE_WAIT_SECONDS)
            except _LockBusy:
                pass
            else:
                if hashes is not None:
                    self.link.event(convert.poll_voted(ev, hashes, self._resolve_lid))
                return
        self.late_votes.submit(self._late_vote, ev)

    def _late_vote(self, ev: Any) -> None:
        try:
            if not self._online.wait(LATE_VOTE_WAIT_SECONDS):
                self._log.warning("neonize.vote_dropped", message_id=ev.Info.ID, reason="offline")
                return
            hashes = self._decrypt_vote(ev, LATE_VOTE_WAIT_SECONDS)
            if hashes is not None:
                self.link.event(convert.poll_voted(ev, hashes, self._resolve_lid))
        except _LockBusy:
            self._log.warning("neonize.vote_dropped", message_id=ev.Info.ID, reason="busy")
        except Exception as exc:  # noqa: BLE001 - the outermost frame of this thread's task
            self._log.error("neonize.handler_failed", handler="late_vote", error=repr(exc))

    def _decrypt_vote(self, ev: Any, wait: float) -> tuple[bytes, ...] | None:
        """The SHA-256 of each option the vote chose, or None when it cannot be read (a
        poll this device never saw). decrypt_poll_vote dereferences whatsmeow's secrets
        store, nil until paired: called only while logged in."""
        if not self.lock.acquire(timeout=wait):
            raise _LockBusy
        try:
            if self.state is not State.CONNECTED or not self.client.is_logged_in:
                return None
            vote = self.client.decrypt_poll_vote(ev)
        except NeonizeError as exc:
            self._log.warning("neonize.vote_undecryptable", message_id=ev.Info.ID, error=str(exc))
            return None
        finally:
            self.lock.release()
        return tuple(bytes(digest) for digest in vote.selectedOptions)

    def _on_receipt(self, ev: Any) -> None:
        converted = convert.receipt_received(ev, self._resolve_lid)
        if converted is not None:
            self.link.event(converted)

    def _on_group_info(self, ev: Any) -> None:
        for event in notices.group_events(ev, self.own.users, self._resolve_lid):
            self.link.event(event)

    def _on_chat_presence(self, ev: Any) -> None:
        converted = notices.chat_presence_changed(ev, self._resolve_lid)
        if converted is not None:
            self.link.event(converted)

    def _on_call_offer(self, ev: Any) -> None:
        self._remember_caller(ev.basicCallMeta)
        self.link.event(notices.call_received(ev, self._resolve_lid))

    def _on_group_call(self, ev: Any) -> None:
        self._remember_caller(ev.basicCallMeta)
        self.link.event(notices.group_call_received(ev, self._resolve_lid))

    def _remember_caller(self, meta: Any) -> None:
        """The caller exactly as the offer named them: refusing the call answers that."""
        caller = type(meta.callCreator)()
        caller.CopyFrom(meta.callCreator)
        self.calls.remember(str(meta.callID), caller)

    def _resolve_lid(self, jid: Any) -> str | None:
        """The phone number behind a hidden @lid from the device store, if it knows it."""
        if self.lid and self.phone and jid.User == self.lid:
            return self.phone  # our own
        if self.state is not State.CONNECTED:
            return None  # get_pn_from_lid crashes the process unless logged in
        if not self.lock.acquire(timeout=LID_LOOKUP_WAIT_SECONDS):
            return None
        try:
            if not self.client.is_logged_in:
                return None
            found = self.client.get_pn_from_lid(jid)
        except NeonizeError:
            return None
        finally:
            self.lock.release()
        return str(found.User) or None

    def _schedule_contacts(self, delay: float) -> None:
        timer = threading.Timer(delay, self._sync_contacts_quietly)
        timer.daemon = True
        timer.start()

    def _sync_contacts_quietly(self) -> None:
        try:
            self.sync_contacts()
        except (SendmakoError, OSError) as exc:
            self._log.warning("neonize.contacts_failed", error=str(exc))

    def _on_temporary_ban(self, ev: TemporaryBanEv) -> None:
        """Held as the session's restriction (sends refused until it ends, webhooks), then
        the connection ends until the ban lifts."""
        self.link.event(convert.ban_restriction(ev, time.time()))
        self._finish(convert.temporary_ban(ev))

    def _finish(self, ending: convert.Ending) -> None:
        """The connection is over: report it once; the worker exits after this."""
        if self._ended:
            return
        self._ended = True
        self.state = State.ENDED
        self._online.clear()
        if ending.status is not None:
            self.link.event(StatusChanged(ending.status, ending.detail))
        self.link.ended(ending)


class _LockBusy(Exception):
    """The connection's lock stayed taken (a long send) for as long as we could wait."""
