"""A worker's connection with a fake client: which device it resumes, what each connection
event reports, and the guards that keep neonize from aborting the process."""

from __future__ import annotations

import time
from typing import Any

import pytest
from neonize.events import (
    ConnectedEv,
    DisconnectedEv,
    LoggedOutEv,
    MessageEv,
    PairStatusEv,
    TemporaryBanEv,
)
from neonize.proto import Neonize_pb2 as npb

from sendmako.engines.neonize.connection import (
    FIRST_QR_SECONDS,
    NEXT_QR_SECONDS,
    Connection,
    ConnectionConfig,
    State,
)
from sendmako.engines.neonize.store import StoredDevice
from sendmako.errors import OperationFailed
from sendmako.model.events import (
    ContactsChanged,
    QrCodeChanged,
    StatusChanged,
    TemporaryBanned,
)
from sendmako.model.statuses import SessionStatus
from tests.engines.neonize.fakes import FakeClient
from tests.engines.neonize.protobufs import GROUP, MARIA_LID, ME, jid, message_event, text
from tests.engines.neonize.recording import RecordingLink

DEVICE = f"{ME}:7@s.whatsapp.net"


def stored(jid_text: str) -> StoredDevice:
    user, _, server = jid_text.partition("@")
    return StoredDevice(jid=jid_text, proto=jid(user, server))


class Built:
    """What the connection asked the client factory for."""

    def __init__(self) -> None:
        self.client = FakeClient()
        self.args: tuple[Any, ...] = ()

    def __call__(self, store: str, resume: Any, new_device: bool, uuid: str) -> FakeClient:
        self.args = (store, resume.User if resume is not None else None, new_device, uuid)
        return self.client


def connection(
    *,
    device_jid: str | None = None,
    devices: list[StoredDevice] | None = None,
    shared: bool = False,
    proxy: str | None = None,
) -> tuple[Connection, Built, RecordingLink]:
    built, link = Built(), RecordingLink()
    config = ConnectionConfig("user_1", "/data/neonize/user_1.db", device_jid, proxy, shared)
    conn = Connection(config, link, client_factory=built, devices=lambda _store: devices or [])
    conn.open()
    return conn, built, link


def test_a_known_device_in_the_store_is_resumed() -> None:
    conn, built, _ = connection(device_jid=DEVICE, devices=[stored(DEVICE)])
    assert built.args == ("/data/neonize/user_1.db", f"{ME}:7", False, "user_1")
    assert (conn.device_jid, conn.phone, conn.state) == (DEVICE, ME, State.LINKED)


def test_a_device_missing_from_the_store_is_never_resumed() -> None:
    """Resuming a JID the store does not list aborts the process: pair anew instead."""
    _, built, _ = connection(device_jid=DEVICE, devices=[stored("5511999990001:3@s.whatsapp.net")])
    assert built.args[1:3] == (None, True)


def test_own_store_file_with_one_device_is_resumed_even_without_a_mapping() -> None:
    _, built, _ = connection(devices=[stored(DEVICE)])
    assert built.args[1:3] == (f"{ME}:7", False)


def test_a_shared_store_never_resumes_someone_elses_device() -> None:
    _, built, _ = connection(devices=[stored(DEVICE)], shared=True)
    assert built.args[1:3] == (None, True)


def test_qr_codes_are_reported_with_whatsapps_validity() -> None:
    conn, built, link = connection()
    assert built.client.qr_handler is not None
    built.client.qr_handler(built.client, b"2@first,abc")
    built.client.qr_handler(built.client, b"2@second,def")
    assert link.events == [
        QrCodeChanged("2@first,abc", FIRST_QR_SECONDS),
        QrCodeChanged("2@second,def", NEXT_QR_SECONDS),
    ]
    assert conn.state is State.QR


def test_pairing_code_only_while_a_qr_waits() -> None:
    conn, built, _ = connection()
    with pytest.raises(OperationFailed) as caught:
        conn.pair_code(ME)
    assert caught.value.code == "session_state"
    assert built.client.qr_handler is not None
    built.client.qr_handler(built.client, b"2@first")
    assert conn.pair_code(ME) == "ABCDEFGH"
    assert ("PairPhone", (ME, True)) in built.client.calls


def test_pairing_reports_the_device_jid_at_once_then_connected() -> None:
    conn, built, link = connection()
    built.client.fire(
        PairStatusEv(
            ID=jid(ME, device=7), BusinessName="", Platform="android", Status=PairStatusEv.SUCCESS
        )
    )
    built.client.me = npb.Device(JID=jid(ME, device=7), LID=jid("99887766", "lid"), PushName="Awa")
    built.client.fire(ConnectedEv(status=True))
    linked, connected = link.events
    assert linked == StatusChanged(
        SessionStatus.CONNECTING,
        "linked to the phone; finishing the login",
        phone_number=ME,
        device_jid=DEVICE,
    )
    assert connected == StatusChanged(
        SessionStatus.CONNECTED, None, phone_number=ME, device_jid=DEVICE, push_name="Awa"
    )
    assert conn.ready()


def test_a_drop_after_connecting_is_disconnected_and_whatsmeow_reconnects() -> None:
    conn, built, link = connection(device_jid=DEVICE, devices=[stored(DEVICE)])
    built.client.fire(ConnectedEv(status=True))
    built.client.fire(DisconnectedEv(status=True))
    assert link.events[-1] == StatusChanged(
        SessionStatus.DISCONNECTED, "lost the connection to WhatsApp; reconnecting"
    )
    assert link.endings == []  # not the worker's end: whatsmeow reconnects in place
    assert not conn.ready()


def test_logout_from_the_phone_ends_the_worker_once() -> None:
    conn, built, link = connection(device_jid=DEVICE, devices=[stored(DEVICE)])
    built.client.fire(LoggedOutEv(OnConnect=False, Reason=npb.LOGGED_OUT))
    built.client.fire(LoggedOutEv(OnConnect=False, Reason=npb.LOGGED_OUT))
    assert [e.status for e in link.events if isinstance(e, StatusChanged)] == [
        SessionStatus.LOGGED_OUT
    ]
    assert [(e.retry, e.retry_after) for e in link.endings] == [(False, None)]
    assert conn.state is State.ENDED


def test_a_temporary_ban_ends_the_worker_until_it_lifts() -> None:
    _, built, link = connection(device_jid=DEVICE, devices=[stored(DEVICE)])
    before = time.time()
    built.client.fire(TemporaryBanEv(Code=TemporaryBanEv.BLOCKED_BY_USERS, Expire=600))
    assert link.endings[0].retry_after == 600.0
    # First the restriction the session holds (its code is WhatsApp's own, 101-106) ...
    ban = link.events[0]
    assert isinstance(ban, TemporaryBanned)
    assert ban.code == 102  # whatsmeow's TempBanBlockedByUsers
    assert ban.until is not None
    assert before + 600 <= ban.until <= time.time() + 600
    # ... then the connection's end, until the ban lifts.
    assert "BLOCKED_BY_USERS" in link.events[1].detail  # type: ignore[union-attr]


def test_hidden_senders_are_looked_up_only_once_logged_in() -> None:
    """get_pn_from_lid aborts the process on a session that is not logged in."""
    _, built, link = connection(device_jid=DEVICE, devices=[stored(DEVICE)])
    event = message_event(
        text("hi"), chat=jid(GROUP, "g.us"), sender=jid(MARIA_LID, "lid"), is_group=True
    )
    built.client.fire(event)
    assert not any(name == "get_pn_from_lid" for name, _ in built.client.calls)
    built.client.fire(ConnectedEv(status=True))
    built.client.fire(event)
    assert ("get_pn_from_lid", (MARIA_LID,)) in built.client.calls
    assert link.events[-1].sender_phone == "5511999998888"  # type: ignore[union-attr]
    assert MessageEv in built.client.handlers


def test_contacts_sync_only_when_logged_in() -> None:
    conn, built, link = connection(device_jid=DEVICE, devices=[stored(DEVICE)])
    conn.sync_contacts()
    assert built.client.contact.calls == 0
    built.client.fire(ConnectedEv(status=True))
    built.client.is_logged_in = False
    conn.sync_contacts()
    assert built.client.contact.calls == 0
    built.client.is_logged_in = True
    conn.sync_contacts()
    assert built.client.contact.calls == 1
    assert link.events[-1] == ContactsChanged((), complete=True)


def test_an_unreachable_whatsapp_ends_the_worker_for_a_retry() -> None:
    conn, built, link = connection(proxy="http://127.0.0.1:9")
    built.client.connect_error = (
        'failed to dial whatsapp web websocket: Get "https://web.whatsapp.com/ws/chat": '
        "proxyconnect tcp: dial tcp 127.0.0.1:9: connect: connection refused"
    )
    conn.run()
    assert built.client.calls[0] == ("connect", ("http://127.0.0.1:9",))
    (ending,) = link.endings
    assert ending.retry
    assert ending.detail.startswith("cannot reach WhatsApp: proxyconnect tcp")


def test_stop_before_the_connection_started_makes_no_ffi_call() -> None:
    """connect() writes neonize's Go maps while it starts: a stop racing it would crash."""
    conn, built, _ = connection()
    conn.stop(0.1)
    assert ("stop", ()) not in built.client.calls
    built.client.qr_handler(built.client, b"2@x")  # type: ignore[misc]
    conn.stop(1.0)
    assert ("stop", ()) in built.client.calls


def test_a_stopped_connection_refuses_commands_before_its_client_leaves_neonize() -> None:
    """A command waiting for the lock while stop() runs must not call a client that is no
    longer in neonize's Go map (set_status_message, get_me... abort the process there)."""
    conn, built, _ = connection(device_jid=DEVICE, devices=[stored(DEVICE)])
    built.client.fire(ConnectedEv(status=True))
    assert conn.ready()
    conn.stop(1.0)
    assert ("stop", ()) in built.client.calls
    assert conn.state is State.ENDED
    assert not conn.ready()
