"""The running server's parts, built once at start-up, and their start and stop order.

Routes and dashboard pages reach everything through `Services`. Test seams are explicit
arguments (STYLE.md 7): the network under the private-address guard (the resolver, and what
makes the sockets), and the webhook dispatcher's HTTP client, clock, retry policy,
randomness, and whether it delivers in the background.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from starlette.types import ASGIApp

from sendmako import __version__, accounts, log
from sendmako.accounts.usage import DailyUsage, MemoryUsage, SharedUsage
from sendmako.cluster import Bus, LocalBus
from sendmako.cluster.redis_bus import RedisBus
from sendmako.concurrency.clock import Clock
from sendmako.directory.contacts import ContactBook
from sendmako.directory.group_cache import GroupCache
from sendmako.directory.groups import Groups
from sendmako.directory.numbers import NumberChecks
from sendmako.directory.profiles import Profiles
from sendmako.engines.base import Engine
from sendmako.engines.registry import build_engines
from sendmako.inbound import registry
from sendmako.media.decrypt import MediaDecryptor
from sendmako.media.fetch import MEDIA_CONNECTIONS, Fetcher, TrustedPrefix, sandbox_media_prefix
from sendmako.messaging.actions import MessageActions
from sendmako.messaging.bulk import BulkSender
from sendmako.messaging.calls import CallGuard
from sendmako.messaging.chats import Chats
from sendmako.messaging.inbox import Inbox
from sendmako.messaging.presence import Presences
from sendmako.messaging.retention import Retention
from sendmako.messaging.send_policy import Governor
from sendmako.messaging.sender import Sender
from sendmako.messaging.sent_log import SentLog
from sendmako.messaging.suspensions import Suspensions
from sendmako.model.send_policy import PolicyInvalid, SendPolicy, changed
from sendmako.net.addresses import AddressPolicy
from sendmako.net.client import HttpClient
from sendmako.net.guard import Resolver, Sockets, check_destination, plain_socket, system_resolver
from sendmako.net.guarded import build_client
from sendmako.net.hosts import HostAllowList
from sendmako.net.inprocess import AppClient
from sendmako.sessions.lease import LeaseTimings, NodeIdentity, NodeLease
from sendmako.sessions.manager import SessionManager
from sendmako.sessions.nodes import Nodes
from sendmako.sessions.placement import Placement
from sendmako.sessions.watchdog import WatchdogTimings
from sendmako.settings import Settings
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord
from sendmako.webhooks.dispatcher import TIMEOUT_SECONDS, Dispatcher, Limits
from sendmako.webhooks.endpoints import Endpoints
from sendmako.webhooks.outbox import EndpointCache, WebhookOutbox
from sendmako.webhooks.retry import RetryPolicy
from sendmako.webhooks.stream import StreamHub, StreamLog

logger = log.get(__name__)

# Called with the first admin, its API key and its dashboard password (shown only once).
FirstAdminHook = Callable[[UserRecord, str, str], None]


@dataclass(frozen=True)
class WebhookSeams:
    """What tests replace in the webhook dispatcher: the HTTP client (a receiver that is a
    plain function, net/mock.py), the clock, the retry policy, the randomness, the time an
    attempt may take, and whether it delivers in the background or only when `run_once()`
    is called. Without a client, deliveries go through the guarded one."""

    client: HttpClient | None = None
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    rng: random.Random | None = None
    attempt_timeout: float = TIMEOUT_SECONDS
    background: bool = True


@dataclass(frozen=True)
class NetworkSeams:
    """How the server reaches the outside world: the name resolver behind the
    private-address guard (tests give one that never asks a DNS server) and what makes a
    socket for each connection attempt the guard let through (tests record every attempt,
    and refuse any that is not to loopback)."""

    resolver: Resolver = system_resolver
    sockets: Sockets = plain_socket


@dataclass
class Services:
    """Everything a request may need."""

    settings: Settings
    db: Database
    auth: accounts.Authenticator
    passwords: accounts.Passwords  # argon2 on its own threads: every password check and hash
    engines: dict[str, Engine]
    sessions: SessionManager
    sender: Sender
    bulk: BulkSender
    suspensions: Suspensions  # disabled accounts send nothing: the one way to disable one
    webhooks: Endpoints
    dispatcher: Dispatcher
    usage: DailyUsage
    sent_log: SentLog
    inbox: Inbox
    http: HttpClient  # guarded (net/guarded.py): media URLs a user gave us
    webhook_http: HttpClient  # guarded, its own pool: webhook deliveries
    own: HttpClient  # this very app, in-process: its own sandbox media
    fetcher: Fetcher  # media downloads on the guarded client: size caps, redirects, errors
    media: MediaDecryptor  # decrypt-media
    contacts: ContactBook  # each session's contact list
    groups: Groups  # group operations, over the group cache
    actions: MessageActions  # react, vote, edit, delete, mark read
    chats: Chats  # stored conversations, a page at a time
    retention: Retention  # old messages deleted in small batches
    presence: Presences  # typing, online, watching a contact
    numbers: NumberChecks  # who has WhatsApp, kept a day
    profiles: Profiles  # contacts' pictures, the account's own profile
    calls: CallGuard  # refuses calls for the sessions set to (reject_calls)
    bus: Bus  # the other nodes (several nodes), or nobody (LocalBus)
    nodes: Nodes  # the nodes sharing the database, for admins
    events: StreamLog  # GET /api/events: every event, kept to resume from
    lease: NodeLease = field(init=False)  # this node's hold on the database (set by `start`)


def node_name(settings: Settings) -> str:
    """Stable across restarts of the same server (so it can take back what it held before
    it stopped), distinct between servers."""
    if settings.cluster.node_name:
        return settings.cluster.node_name
    digest = hashlib.sha256(str(settings.data_dir.resolve()).encode()).hexdigest()[:8]
    return f"{socket.gethostname()}:{digest}"


def credentials_epoch(settings: Settings) -> Path:
    """Touched by the CLI when it changes keys, users or plans behind the server's back."""
    return settings.data_dir / "credentials.epoch"


async def start(
    settings: Settings,
    app: ASGIApp,
    *,
    on_first_admin: FirstAdminHook,
    webhook_seams: WebhookSeams | None = None,
    network: NetworkSeams | None = None,
) -> Services:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db = Database(settings.effective_database_url)
    await db.migrate()
    # Before anything else runs: beside another live node, this one must not start at all
    # (NodeRefused says which node, and what to do).
    node = NodeIdentity.of_this_process(
        node_name(settings), settings.data_dir, settings.effective_public_url
    )
    timings = (
        LeaseTimings(
            heartbeat=settings.cluster.placement_seconds,
            expires_after=settings.cluster.session_lease_seconds,
        )
        if settings.clustered
        else None
    )
    try:
        lease = await NodeLease.acquire(db, node, shared=settings.clustered, timings=timings)
    except BaseException:
        await db.close()
        raise
    # Heartbeats from now on; once the sessions run, a lease about to run out stops them.
    expiring: list[Callable[[], None]] = []

    def on_expiring() -> None:
        for stop in expiring:
            stop()

    lease.start(on_lost=_stop_this_process, on_expiring=on_expiring)
    passwords = accounts.Passwords(db)
    bus = build_bus(settings, node.name)
    try:
        await bus.start()
        first = await accounts.bootstrap_admin(db, settings.admin_email, passwords)
        if first is not None:
            on_first_admin(first.user, first.key.secret, first.password)
        engines = build_engines(settings, db, bus)
        for engine in engines.values():
            await engine.start()
        seams = webhook_seams or WebhookSeams()
        services = _assemble(
            settings,
            db,
            engines,
            app,
            passwords=passwords,
            bus=bus,
            seams=seams,
            network=network or NetworkSeams(),
            node_token=lambda: lease.token,
        )
        services.lease = lease
        if settings.clustered:
            # Alone on its database a node keeps its sessions through an outage: no other
            # node may start while its lease lives, and one that starts after stops this one.
            expiring.append(services.sessions.fence)
        await services.dispatcher.start(background=seams.background)
        services.events.start()
        await services.sessions.start()
        await services.suspensions.start()  # before jobs resume: a disabled account's wait
        await services.bulk.resume()
        if bus.clustered:  # a dead node's jobs, taken over as its sessions are
            services.bulk.start_adopting(settings.cluster.placement_seconds)
        services.retention.start()
    except BaseException:
        passwords.close()
        await bus.stop()
        await lease.release()  # a node that did not start holds nothing
        raise
    logger.info(
        "sendmako.started",
        version=__version__,
        engines=list(engines),
        node=services.sessions.node_id,
    )
    return services


async def stop(services: Services) -> None:
    """The reverse of `start`: nothing stops before what depends on it."""
    await services.retention.stop()
    await services.suspensions.stop()
    await services.bulk.stop()
    await services.contacts.background.close()  # syncs need the sessions: stop them first
    await services.groups.cache.background.close()
    await services.calls.background.close()
    await services.sessions.stop()
    await services.bulk.stopped()  # a job whose send outlived the grace has its answer now
    await services.usage.close()  # what the sends turned into is counted
    await services.bus.stop()  # the calls it took are answered: their sessions stopped
    for engine in services.engines.values():
        await engine.stop()
    await services.inbox.close()
    await services.sent_log.close()
    await services.dispatcher.stop()
    await services.events.stop()
    await services.http.close()
    await services.webhook_http.close()
    await services.own.close()
    services.passwords.close()
    await services.lease.release()  # last: the next node may start once nothing of this one runs
    await services.db.close()
    logger.info("sendmako.stopped")


def default_send_policy(settings: Settings) -> SendPolicy:
    """The careful default send policy, with the operator's changes (refused at start-up
    when one cannot be, naming it)."""
    try:
        return changed(SendPolicy(), settings.send_policy)
    except PolicyInvalid as exc:
        raise ValueError(f"SENDMAKO_SEND_POLICY: {exc}") from exc


def build_bus(settings: Settings, node: str) -> Bus:
    if not settings.clustered:
        return LocalBus(node)
    assert settings.redis_url is not None
    return RedisBus(
        settings.redis_url.get_secret_value(), node, prefix=settings.cluster.redis_prefix
    )


def _stop_this_process() -> None:
    """Another node took the database while this one was stalled past its lease (a paused
    VM, say): running on would run each WhatsApp number twice. Stop as `kill` would."""
    os.kill(os.getpid(), signal.SIGTERM)


def _room(engines: dict[str, Engine]) -> int | None:
    """The fewest more sessions any engine of this node takes (None: no limit known)."""
    rooms = [room for engine in engines.values() if (room := engine.room()) is not None]
    return min(rooms, default=None)


def _assemble(
    settings: Settings,
    db: Database,
    engines: dict[str, Engine],
    app: ASGIApp,
    *,
    passwords: accounts.Passwords,
    bus: Bus,
    seams: WebhookSeams,
    network: NetworkSeams,
    node_token: Callable[[], int],
) -> Services:
    node_id = node_name(settings)
    send_clock = Clock()
    sessions = SessionManager(
        db,
        engines,
        default_engine=settings.default_engine,
        node_id=node_id,
        close_grace=settings.send_close_grace_seconds,
        bus=bus,
        placement=Placement(db, node_id, room=lambda: _room(engines)) if bus.clustered else None,
        placement_seconds=settings.cluster.placement_seconds,
        default_policy=default_send_policy(settings),
        send_clock=send_clock,
        watchdog=WatchdogTimings(
            silence_seconds=settings.watchdog_silence_seconds,
            max_reconnects_per_hour=settings.watchdog_max_reconnects_per_hour,
        ),
    )
    policy = AddressPolicy.allowing(settings.allow_private_hosts)
    # Two pools: slow downloads filling the media one leave webhook deliveries theirs.
    http = build_client(
        policy, resolver=network.resolver, sockets=network.sockets, connections=MEDIA_CONNECTIONS
    )
    limits = Limits()
    webhook_http = build_client(
        policy, resolver=network.resolver, sockets=network.sockets, connections=limits.connections
    )
    # The server's own sandbox media is served by this very app: fetch it in-process (the
    # public URL is often loopback, which the guard refuses, or not reachable from here).
    own = AppClient(app)
    sandbox_media = sandbox_media_prefix(settings.effective_public_url)
    fetcher = Fetcher(http, trusted=TrustedPrefix(sandbox_media, own))
    decryptor = MediaDecryptor(
        fetcher,
        allow=HostAllowList.parse(settings.media_hosts, prefixes=[sandbox_media]),
        spool_dir=settings.data_dir / "spool",
    )
    dispatcher = Dispatcher(
        db,
        seams.client or webhook_http,
        limits=limits,
        node=node_id,
        policy=seams.policy,
        clock=seams.clock,
        rng=seams.rng,
        timeout=seams.attempt_timeout,
    )
    endpoint_cache = EndpointCache(bus)
    sessions.recorders.append(WebhookOutbox(endpoint_cache, dispatcher.wake, seams.clock))
    stream = StreamLog(
        db,
        StreamHub(bus),
        retention=timedelta(hours=settings.events.retention_hours),
        clock=seams.clock,
    )
    sessions.recorders.append(stream)
    sent_log = SentLog(db)
    inbox = Inbox(db, sent_log, sessions.recorders)
    sessions.handlers.append(inbox)
    # Contacts and the group cache follow engine events and sync when a session connects.
    contacts, group_cache = ContactBook(db, sessions), GroupCache(db, sessions)
    sessions.handlers.extend([contacts, group_cache])
    sessions.recorders.extend([contacts, group_cache])
    # One node counts in memory; several share the count in the database (accounts/usage.py).
    usage: DailyUsage = SharedUsage(db, node_token) if bus.clustered else MemoryUsage(db)
    sender = Sender(sessions, usage, sent_log, fetcher, Governor(db, clock=send_clock.now))
    calls = CallGuard(db, sender)
    sessions.handlers.append(calls)
    bulk = BulkSender(db, sender, sessions, usage, node=node_id, node_token=node_token)
    epoch = accounts.CredentialsEpoch(credentials_epoch(settings))
    return Services(
        settings=settings,
        db=db,
        auth=accounts.Authenticator(db, epoch, bus=bus),
        passwords=passwords,
        engines=engines,
        sessions=sessions,
        sender=sender,
        bulk=bulk,
        suspensions=Suspensions(db, sessions, bulk, epoch, bus=bus),
        webhooks=Endpoints(
            db,
            endpoint_cache,
            dispatcher,
            guard=lambda url: check_destination(url, policy, network.resolver, field="url"),
            events=registry.WEBHOOKS,
            clock=seams.clock,
        ),
        dispatcher=dispatcher,
        usage=usage,
        sent_log=sent_log,
        inbox=inbox,
        http=http,
        webhook_http=webhook_http,
        own=own,
        fetcher=fetcher,
        media=decryptor,
        contacts=contacts,
        groups=Groups(sessions, group_cache),
        actions=MessageActions(db, sessions, sender, group_cache),
        chats=Chats(db, sessions),
        retention=Retention(db, settings.message_retention_days),
        presence=Presences(sessions),
        numbers=NumberChecks(db, sessions),
        profiles=Profiles(sessions, fetcher),
        calls=calls,
        bus=bus,
        nodes=Nodes(db),
        events=stream,
    )
