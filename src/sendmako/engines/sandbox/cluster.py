"""The simulated network across several nodes, on the cluster's Redis (the contracts are in
exchange.py and sent.py).

- **Who is linked where**: `<prefix>:sandbox:number:<phone>`, a hash of the session ids
  reached by a message to the number, each with the node it last connected on. A session
  enters it when it connects, and leaves it when it is unlinked or loses its connection;
  a session that stops to move stays in it (it is only between nodes), and the node it
  connects on next writes its name.
- **Mailboxes**: each session has a stream, `<prefix>:sandbox:mail:<session id>`. An event
  for a session is added to its stream (in order: one writer per node, batched), then the
  node running it is woken through the bus (`sandbox.mail`). The node reads the stream,
  hands each event to the session, and deletes an entry only once its event is stored.
  A session that moves finds on its new node what its old node had not stored yet.
- **Nothing twice**: a session that starts on a node first checks the messages in its
  mailbox against the stored messages (by message id): what a node that died had stored
  but not yet deleted is not delivered again. Receipts and the like carry no id of their
  own; delivered twice they change nothing stored (a status only moves forward).
- **Sent log**: `<prefix>:sandbox:sent:<session id>`, a list capped at SENT_LOG_SIZE.
- **Presence**: `<prefix>:sandbox:presence` (a hash: phone, state) and who watches whom
  (`<prefix>:sandbox:watchers:<phone>`, `<prefix>:sandbox:watching:<session id>`).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, cast

from redis.asyncio import Redis
from redis.exceptions import RedisError

from sendmako import log
from sendmako.cluster.bus import Bus, Message
from sendmako.concurrency.background import Background
from sendmako.engines.sandbox.exchange import Exchange
from sendmako.engines.sandbox.sent import SENT_LOG_SIZE, SentLog
from sendmako.errors import Unavailable
from sendmako.model.events import MessageReceived, WhatsAppEvent
from sendmako.model.simulation import SentRecord
from sendmako.model.wire import WireCodec
from sendmako.storage import messages
from sendmako.storage.db import Database

if TYPE_CHECKING:
    from sendmako.engines.sandbox.engine import SandboxSession

logger = log.get(__name__)

MAIL_TOPIC = "sandbox.mail"  # {"sessions": [...]}: their mailboxes have something new
STORED_TOPIC = "sandbox.stored"  # {"acks": [...]}: events posted with `stored` are stored
# A mailbox nobody reads (its session never runs again) goes after a day without mail.
MAILBOX_KEEP_SECONDS = 24 * 3600
MAILBOX_MAX = 10_000  # entries: a session away for long gets the newest ones
READ_BATCH = 500
# How long `post(..., stored=True)` waits for a session that is not running anywhere now.
STORED_WAIT_SECONDS = 5.0

_CODEC = WireCodec([WhatsAppEvent])


def _unreachable(exc: RedisError) -> Unavailable:
    return Unavailable(
        f"The sandbox network is unreachable (Redis: {exc}); retry in a few seconds.",
        code="sandbox_network_unreachable",
    )


@dataclass
class _Post:
    session_ids: list[str]
    event: str  # encoded
    durable: asyncio.Future[None]
    ack: str | None = None  # "<node>:<id>" when the poster waits for it to be stored


@dataclass
class _Waiting:
    """A post whose poster waits until every session stored it."""

    future: asyncio.Future[None]
    left: int
    timer: asyncio.TimerHandle | None = None


class RedisExchange(Exchange):
    def __init__(
        self,
        redis: Redis,
        prefix: str,
        bus: Bus,
        db: Database,
        *,
        stored_wait: float = STORED_WAIT_SECONDS,
    ) -> None:
        """`stored_wait`: how long `post(..., stored=True)` waits for a session that does
        not run anywhere now (it gets the event once it does)."""
        self.stored_wait = stored_wait
        self.redis = redis
        self.prefix = f"{prefix}:sandbox"
        self.bus = bus
        self.db = db
        self.node = bus.node
        self._sessions: dict[str, SandboxSession] = {}  # running here
        self._phones: dict[str, str] = {}  # session id -> the number it connected as
        self._readers: dict[str, _Reader] = {}
        self._posts: list[_Post] = []
        self._writing: asyncio.Task[None] | None = None
        self._waiting: dict[str, _Waiting] = {}
        self._background = Background("sandbox-exchange")

    # -- keys -------------------------------------------------------------------------------

    def number_key(self, phone: str) -> str:
        return f"{self.prefix}:number:{phone}"

    def mailbox_key(self, session_id: str) -> str:
        return f"{self.prefix}:mail:{session_id}"

    def _watchers_key(self, phone: str) -> str:
        return f"{self.prefix}:watchers:{phone}"

    def _watching_key(self, session_id: str) -> str:
        return f"{self.prefix}:watching:{session_id}"

    @property
    def _presence_key(self) -> str:
        return f"{self.prefix}:presence"

    # -- lifetime ---------------------------------------------------------------------------

    async def start(self) -> None:
        self.bus.on(MAIL_TOPIC, self._heard_mail)
        self.bus.on(STORED_TOPIC, self._heard_stored)
        # Wake-ups may have been missed: every mailbox read here is read again.
        self.bus.on_reconnect(self._wake_all)

    def _wake_all(self) -> None:
        for reader in self._readers.values():
            reader.wake()

    async def close(self) -> None:
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        for reader in list(self._readers.values()):
            await reader.close()
        self._readers.clear()
        await self._background.close()
        for waiting in self._waiting.values():
            if not waiting.future.done():
                waiting.future.set_result(None)

    # -- who is where -----------------------------------------------------------------------

    async def online(self, session: SandboxSession, phone: str) -> None:
        session_id = session.spec.session_id
        self._sessions[session_id] = session
        self._phones[session_id] = phone
        try:
            # Registered before its mailbox is read: a sender that added to the mailbox
            # after this read either finds it here and wakes it, or was read by it.
            await self.redis.hset(self.number_key(phone), session_id, self.node)
        except RedisError as exc:
            raise _unreachable(exc) from exc
        reader = self._readers.get(session_id)
        if reader is None:
            reader = self._readers[session_id] = _Reader(self, session)
        reader.wake()

    async def unreachable(self, session: SandboxSession) -> None:
        session_id = session.spec.session_id
        phone = self._phones.pop(session_id, None)
        try:
            watched = await self.redis.smembers(self._watching_key(session_id))
            async with self.redis.pipeline(transaction=False) as pipe:
                if phone is not None:
                    pipe.hdel(self.number_key(phone), session_id)
                for other in watched:
                    pipe.srem(self._watchers_key(str(other)), session_id)
                pipe.delete(self._watching_key(session_id))
                await pipe.execute()
        except RedisError as exc:
            raise _unreachable(exc) from exc

    async def stopped(self, session: SandboxSession) -> None:
        session_id = session.spec.session_id
        if self._sessions.get(session_id) is session:
            del self._sessions[session_id]
        self._phones.pop(session_id, None)
        reader = self._readers.pop(session_id, None)
        if reader is not None:
            await reader.close()

    async def sessions_of(self, phones: Sequence[str]) -> dict[str, list[str]]:
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for phone in phones:
                    pipe.hkeys(self.number_key(phone))
                found = await pipe.execute()
        except RedisError as exc:
            raise _unreachable(exc) from exc
        return {phone: sorted(ids) for phone, ids in zip(phones, found, strict=True)}

    async def where(self, phone: str) -> dict[str, str]:
        """The sessions linked to `phone`, each with the node it last connected on."""
        found = await self.redis.hgetall(self.number_key(phone))
        return {str(session_id): str(node) for session_id, node in found.items()}

    async def forget(self, session_id: str, phone: str | None) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            if phone is not None:
                pipe.hdel(self.number_key(phone), session_id)
            pipe.delete(self.mailbox_key(session_id), self._watching_key(session_id))
            await pipe.execute()

    # -- posting ----------------------------------------------------------------------------

    def post(
        self,
        session_ids: Sequence[str],
        event: WhatsAppEvent,
        *,
        stored: bool = False,
        volatile: bool = False,
    ) -> asyncio.Future[None]:
        if volatile:
            # Handed straight to the sessions running here (no round trip); one that stops
            # before storing it gets it through its mailbox.
            here = [s for s in session_ids if (live := self._sessions.get(s)) and not live.stopped]
            for session_id in here:
                handled = self._sessions[session_id].deliver(event)
                handled.add_done_callback(partial(self._missed, session_id, event))
            session_ids = [s for s in session_ids if s not in here]
        loop = asyncio.get_running_loop()
        durable: asyncio.Future[None] = loop.create_future()
        if not session_ids:
            durable.set_result(None)
            return durable
        ack = None
        if stored:
            ack_id = uuid.uuid4().hex
            ack = f"{self.node}:{ack_id}"
            waiting = self._waiting[ack_id] = _Waiting(loop.create_future(), len(session_ids))
            waiting.timer = loop.call_later(self.stored_wait, self._resolve, ack_id)
        encoded = json.dumps(_CODEC.encode(event))
        self._posts.append(_Post(list(session_ids), encoded, durable, ack))
        if self._writing is None or self._writing.done():
            self._writing = asyncio.ensure_future(self._write())
        if ack is None:
            return durable
        waited = self._waiting[ack.partition(":")[2]].future
        # A post that could not be written fails its waiter too.
        durable.add_done_callback(partial(_fail_with, waited))
        return waited

    def _missed(self, session_id: str, event: WhatsAppEvent, handled: asyncio.Future[None]) -> None:
        if handled.cancelled():
            self.post([session_id], event).add_done_callback(_log_failure)

    async def _write(self) -> None:
        """The one writer of this node: posts reach the mailboxes in the order they were
        made, many at once in one round trip."""
        while self._posts:
            batch, self._posts = self._posts, []
            woken: set[str] = set()
            try:
                async with self.redis.pipeline(transaction=False) as pipe:
                    for post in batch:
                        fields = (
                            {"e": post.event}
                            if post.ack is None
                            else {"e": post.event, "a": post.ack}
                        )
                        for session_id in post.session_ids:
                            key = self.mailbox_key(session_id)
                            pipe.xadd(key, fields, maxlen=MAILBOX_MAX, approximate=True)  # type: ignore[arg-type]
                            pipe.expire(key, MAILBOX_KEEP_SECONDS)
                            woken.add(session_id)
                    await pipe.execute()
            except RedisError as exc:
                for post in batch:
                    if not post.durable.done():
                        post.durable.set_exception(_unreachable(exc))
                continue
            for post in batch:
                if not post.durable.done():
                    post.durable.set_result(None)
            self._wake(woken)

    def _wake(self, session_ids: set[str]) -> None:
        elsewhere = []
        for session_id in session_ids:
            reader = self._readers.get(session_id)
            if reader is not None:
                reader.wake()
            else:
                elsewhere.append(session_id)
        if elsewhere:
            # To every node: the one running each session (if any) reads its mailbox.
            self._background.spawn(self._publish(MAIL_TOPIC, {"sessions": sorted(elsewhere)}))

    async def _publish(self, topic: str, message: Message) -> None:
        try:
            await self.bus.publish(topic, message)
        except RedisError as exc:  # what is in the mailboxes is read at the next wake-up
            logger.warning("sandbox.publish_failed", topic=topic, error=str(exc))

    def _heard_mail(self, message: Message) -> None:
        for session_id in message.get("sessions") or ():
            reader = self._readers.get(str(session_id))
            if reader is not None:
                reader.wake()

    def stored(self, acks: list[str]) -> None:
        """Events posted with `stored` were stored by a session running here."""
        elsewhere = []
        for ack in acks:
            node, _, ack_id = ack.partition(":")
            if node == self.node:
                self._count_down(ack_id)
            else:
                elsewhere.append(ack)
        if elsewhere:
            self._background.spawn(self._publish(STORED_TOPIC, {"acks": elsewhere}))

    def _heard_stored(self, message: Message) -> None:
        for ack in message.get("acks") or ():
            node, _, ack_id = str(ack).partition(":")
            if node == self.node:
                self._count_down(ack_id)

    def _count_down(self, ack_id: str) -> None:
        waiting = self._waiting.get(ack_id)
        if waiting is not None:
            waiting.left -= 1
            if waiting.left <= 0:
                self._resolve(ack_id)

    def _resolve(self, ack_id: str) -> None:
        waiting = self._waiting.pop(ack_id, None)
        if waiting is None:
            return
        if waiting.timer is not None:
            waiting.timer.cancel()
        if not waiting.future.done():
            waiting.future.set_result(None)

    # -- presence ---------------------------------------------------------------------------

    async def watch(self, session: SandboxSession, phone: str) -> None:
        session_id = session.spec.session_id
        async with self.redis.pipeline(transaction=False) as pipe:
            pipe.sadd(self._watchers_key(phone), session_id)
            pipe.sadd(self._watching_key(session_id), phone)
            await pipe.execute()

    async def watchers(self, phone: str) -> list[str]:
        return sorted(str(s) for s in await self.redis.smembers(self._watchers_key(phone)))

    async def set_presence(self, phone: str, state: str) -> None:
        await self.redis.hset(self._presence_key, phone, state)

    async def presence(self, phone: str) -> str | None:
        found = await self.redis.hget(self._presence_key, phone)
        return None if found is None else str(found)


def _log_failure(posted: asyncio.Future[None]) -> None:
    if not posted.cancelled() and (error := posted.exception()) is not None:
        logger.warning("sandbox.event_lost", error=str(error))


def _fail_with(waited: asyncio.Future[None], durable: asyncio.Future[None]) -> None:
    if durable.exception() is not None and not waited.done():
        waited.set_exception(durable.exception())  # type: ignore[arg-type]


class _Reader:
    """Reads one running session's mailbox and hands its events over in order; deletes an
    entry once its event is stored."""

    def __init__(self, exchange: RedisExchange, session: SandboxSession) -> None:
        self.exchange = exchange
        self.session = session
        self.key = exchange.mailbox_key(session.spec.session_id)
        self._last = "-"  # the last entry handed over; "-": none yet
        self._check_stored = True  # the first read: a node that died may have stored some
        self._wanted = asyncio.Event()
        self._done: list[tuple[str, str | None]] = []  # stored: (entry id, ack)
        self._deleting: asyncio.Task[None] | None = None
        self._task = asyncio.ensure_future(self._run())

    def wake(self) -> None:
        self._wanted.set()

    async def close(self) -> None:
        """Read no more; delete the entries whose events were stored."""
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        while self._deleting is not None and not self._deleting.done():
            await asyncio.gather(self._deleting, return_exceptions=True)
        if self._done:
            await self._delete()

    async def _run(self) -> None:
        while True:
            await self._wanted.wait()
            self._wanted.clear()
            try:
                while await self._read_some():
                    pass
            except RedisError as exc:  # read again at the next wake-up
                logger.warning(
                    "sandbox.mailbox_unreadable",
                    session_id=self.session.spec.session_id,
                    error=str(exc),
                )
            except Exception:  # noqa: BLE001 - the session must go on hearing its mail
                logger.exception("sandbox.mailbox_failed", session_id=self.session.spec.session_id)

    async def _read_some(self) -> bool:
        start = "-" if self._last == "-" else f"({self._last}"
        entries = cast(
            "list[tuple[str, dict[str, str]]]",
            await self.exchange.redis.xrange(self.key, min=start, count=READ_BATCH),
        )
        if not entries:
            self._check_stored = False
            return False
        decoded = [
            (entry_id, _CODEC.decode(json.loads(f["e"])), f.get("a")) for entry_id, f in entries
        ]
        if self._check_stored:
            decoded = await self._not_stored(decoded)
        self._last = entries[-1][0]  # read: from here on, only what comes after
        for entry_id, event, ack in decoded:
            if self.session.stopped:
                return False  # the rest stays for where it runs next
            handled = self.session.deliver(event)
            handled.add_done_callback(partial(self._handled, entry_id, ack))
        return len(entries) == READ_BATCH

    async def _not_stored(
        self, decoded: list[tuple[str, Any, str | None]]
    ) -> list[tuple[str, Any, str | None]]:
        """Those not stored already; those that are count as delivered."""
        session_id = self.session.spec.session_id
        pairs = [
            (session_id, e.message_id) for _, e, _ in decoded if isinstance(e, MessageReceived)
        ]
        if not pairs:
            return decoded
        async with self.exchange.db.read() as db:
            found = await messages.find_any(db, pairs)
        fresh = []
        for entry_id, event, ack in decoded:
            if isinstance(event, MessageReceived) and (session_id, event.message_id) in found:
                logger.info("sandbox.already_delivered", session_id=session_id)
                self._stored(entry_id, ack)
            else:
                fresh.append((entry_id, event, ack))
        return fresh

    def _handled(self, entry_id: str, ack: str | None, handled: asyncio.Future[None]) -> None:
        if handled.cancelled() or handled.exception() is not None:
            return  # not stored: it stays in the mailbox
        self._stored(entry_id, ack)

    def _stored(self, entry_id: str, ack: str | None) -> None:
        self._done.append((entry_id, ack))
        if self._deleting is None or self._deleting.done():
            self._deleting = asyncio.ensure_future(self._delete())

    async def _delete(self) -> None:
        while self._done:
            done, self._done = self._done, []
            try:
                await self.exchange.redis.xdel(self.key, *(entry_id for entry_id, _ in done))
            except RedisError as exc:
                logger.warning("sandbox.mailbox_not_emptied", error=str(exc))
            acks = [ack for _, ack in done if ack is not None]
            if acks:
                self.exchange.stored(acks)


class RedisSentLog(SentLog):
    def __init__(self, redis: Redis, prefix: str) -> None:
        super().__init__()
        self.redis = redis
        self.prefix = f"{prefix}:sandbox:sent"

    async def _append(self, session_id: str, record: SentRecord) -> None:
        key = f"{self.prefix}:{session_id}"
        line = json.dumps(
            [
                record.message_id,
                record.to,
                record.type,
                record.text,
                record.sent_at,
                record.monotonic,
            ]
        )
        try:
            async with self.redis.pipeline(transaction=True) as pipe:
                pipe.rpush(key, line)
                pipe.ltrim(key, -SENT_LOG_SIZE, -1)
                await pipe.execute()
        except RedisError as exc:
            raise _unreachable(exc) from exc

    async def of(self, session_id: str) -> list[SentRecord]:
        lines = await self.redis.lrange(f"{self.prefix}:{session_id}", 0, -1)
        return [SentRecord(*json.loads(line)) for line in lines]

    async def _drop(self, session_id: str) -> None:
        await self.redis.delete(f"{self.prefix}:{session_id}")
