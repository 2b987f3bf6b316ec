"""`SessionManager`: runs this node's engine sessions, keeps their status, emits session
events, and is the only way the API reaches a WhatsApp session, wherever it runs.

Status changes are applied one at a time per session (a lock per session), persisted, and
handed to the event recorders in the same transaction, so a webhook row exists exactly when
the state change it describes does.

With several nodes (sessions/placement.py), each node runs the sessions it holds and keeps
a copy of every other one's stored state, refreshed the moment it changes (the bus) and
from the database now and then. Reads are answered from that copy; a command for a session
another node runs is carried to that node (sessions/routing.py) and answered as it would
answer it.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from sendmako import log, metrics
from sendmako.accounts import plans
from sendmako.cluster import Bus, LocalBus, Message
from sendmako.concurrency.background import Background
from sendmako.concurrency.clock import Clock
from sendmako.engines.base import Engine, EngineSession, SessionSpec, not_supported
from sendmako.errors import (
    AccountDisabled,
    BadRequest,
    NotFound,
    OperationFailed,
    SendmakoError,
    Unavailable,
)
from sendmako.ids import InvalidIdentifier, normalize_phone
from sendmako.inbound import registry
from sendmako.model.actions import Action, RequestPairCode, Send, SendResult
from sendmako.model.chats import ChatState, SendChatState
from sendmako.model.directory import CheckNumbers
from sendmako.model.events import (
    EngineEvent,
    PairCodeIssued,
    QrCodeChanged,
    SessionEvent,
    StatusChanged,
    TemporaryBanned,
)
from sendmako.model.messages import MessageType, OutgoingMessage
from sendmako.model.restrictions import Restriction
from sendmako.model.send_policy import PolicyInvalid, SendPolicy, changed
from sendmako.model.statuses import SessionStatus
from sendmako.sessions import routing, watchdog
from sendmako.sessions.hooks import MessageEventHandler, SessionEventRecorder
from sendmako.sessions.placement import Placement
from sendmako.sessions.qr import png_data_url
from sendmako.sessions.queue import (
    CLOSE_GRACE_SECONDS,
    DEFAULT_CAPACITY,
    SendQueue,
    SentHook,
)
from sendmako.sessions.state import LiveSession, SessionChange, SessionView
from sendmako.sessions.watchdog import WatchdogTimings
from sendmako.storage import messages, wa_sessions
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord, UserRecord
from sendmako.storage.tables import User, utcnow
from sendmako.storage.wa_sessions import Hold

logger = log.get(__name__)
R = TypeVar("R")

# Two messages a second at most by default: enough for a bot, slow enough not to look like
# a spammer to WhatsApp. Each session can change it (`pacing_ms`).
DEFAULT_PACING_MS = 500
# A queue's first send looks this far back for the session's last one (at least its
# pacing): enough for any gap a caller asks for (bulk sends: 500 ms).
PACING_LOOKBACK_MS = 60_000
TIMESTAMP_GRAIN_SECONDS = 1.0
STOP_TIMEOUT_SECONDS = 10.0
# Several nodes: each node's copy of the sessions is read again from the database this
# often (every change reaches it at once through the bus; this is for the ones missed).
RESYNC_SECONDS = 30.0
SESSION_TOPIC = "session"  # a session's row changed: {"session_id": ...}


class Performer(Protocol):
    """Performs actions on one session for its owner (`SessionManager.performer`)."""

    def __call__(self, action: Action[R], /) -> Awaitable[R]: ...


class SessionManager:
    def __init__(
        self,
        db: Database,
        engines: dict[str, Engine],
        *,
        default_engine: str,
        node_id: str,
        recorders: Iterable[SessionEventRecorder] = (),
        handlers: Iterable[MessageEventHandler] = (),
        clock: Callable[[], float] = time.time,
        queue_capacity: int = DEFAULT_CAPACITY,
        close_grace: float = CLOSE_GRACE_SECONDS,
        bus: Bus | None = None,
        placement: Placement | None = None,
        placement_seconds: float = 3.0,
        default_policy: SendPolicy | None = None,
        send_clock: Clock | None = None,
        rng: random.Random | None = None,
        watchdog: WatchdogTimings | None = None,
    ) -> None:
        """`close_grace`: how long a stopping session waits for a message already with the
        engine before its caller is told the outcome is unknown. `placement` (several
        nodes, with a clustered `bus`) decides which sessions this node runs, every
        `placement_seconds`; without it this node runs them all. `default_policy`: the send
        policy of sessions that have not set their own; `send_clock` paces their sends
        (delays, typing) and times their restrictions; `rng` draws the random delays.
        `watchdog`: how deaf sessions are found and reconnected (None: not watched)."""
        self.db = db
        self.engines = engines
        self.default_engine = default_engine
        self.node_id = node_id
        self.recorders = list(recorders)
        self.handlers = list(handlers)
        self.clock = clock
        self.queue_capacity = queue_capacity
        self.close_grace = close_grace
        self.bus = bus or LocalBus(node_id)
        self.placement = placement
        self.placement_seconds = placement_seconds
        self.default_policy = default_policy or SendPolicy()
        self.send_clock = send_clock or Clock()
        self.rng = rng or random.Random()  # noqa: S311 - delays that look human, not secrets
        self.watchdog = watchdog
        self._live: dict[str, LiveSession] = {}
        self._suspended: set[int] = set()  # users whose account is disabled
        self._changed = asyncio.Condition()
        self._placing = asyncio.Lock()  # a placement round, or a creation
        self._background = Background("sessions")

    # -- process lifetime -----------------------------------------------------------------

    async def start(self) -> None:
        """Run the sessions this node holds: all of them on a single node (the node lease
        keeps any other node away), its share with several. Linked devices reconnect
        without a new scan."""
        if self.watchdog is not None:
            self._background.spawn(self._watch_loop(self.watchdog, self.send_clock))
        if self.placement is None:
            async with self.db.write() as tx:
                records = await wa_sessions.take_all(tx, self.node_id)
            for record in records:
                await self._run_here(record)
            logger.info("sessions.restored", count=len(records))
            return
        self._serve()
        self.bus.on(SESSION_TOPIC, self._heard)
        self.bus.on_reconnect(lambda: self._background.spawn(self._resync()))
        await self._resync()
        await self.place()
        self._background.spawn(self._placement_loop())

    async def stop(self) -> None:
        await self._background.close()
        running = [live for live in self._live.values() if live.here]
        # Every queue at once: each may wait for a send in progress.
        await asyncio.gather(*(live.queue.close() for live in running if live.queue is not None))
        handles = [live.handle for live in running if live.handle is not None]
        for live in running:
            live.handle = None
        results = await asyncio.gather(
            *(asyncio.wait_for(handle.stop(), STOP_TIMEOUT_SECONDS) for handle in handles),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.warning("sessions.stop_failed", error=repr(result))
        if self.placement is not None:
            # Stopped here: the other nodes may take them at once, not after the lease.
            await self._release([live for live in running if live.hold is not None])
        self._live.clear()

    # -- placement (several nodes) ------------------------------------------------------

    async def place(self) -> None:
        """One placement round: claim this node's share, hand over its surplus, and run
        exactly the sessions it holds."""
        assert self.placement is not None
        async with self._placing:
            decided = await self.placement.round()
            held = {record.session_id: record for record in decided.held}
            for live in [live for live in self._live.values() if live.here]:
                record = held.get(live.record.session_id)
                if record is None or live.hold != Hold(self.node_id, record.lease_token):
                    # Another node holds it now (this one was stalled past its lease): stop
                    # acting for it, and write nothing more for it.
                    logger.warning("session.hold_lost", session_id=live.record.session_id)
                    await self._stop_here(live)
            for record in decided.held:
                if not self.runs_here(record.session_id):
                    await self._run_here(record)
            surplus = [self._live[record.session_id] for record in decided.surplus]
            await asyncio.gather(*(self._stop_here(live, moving=True) for live in surplus))
            await self._release(surplus)
            for record in decided.claimed:
                await self._tell(record.session_id)
        if decided.claimed or surplus:
            logger.info(
                "sessions.placed",
                node=self.node_id,
                held=len(decided.held) - len(surplus),
                claimed=len(decided.claimed),
                handed_over=len(surplus),
            )

    def fence(self) -> None:
        """This node's lease is about to run out (its database unreachable): stop running
        every session now, before another node takes them. They start again here if the
        lease outlives the outage."""
        for live in self._live.values():
            if live.here:
                self._background.spawn(self._stop_here(live, moving=True))

    async def _placement_loop(self) -> None:
        rounds_per_resync = max(1, round(RESYNC_SECONDS / self.placement_seconds))
        count = 0
        while True:
            await asyncio.sleep(self.placement_seconds)
            count += 1
            try:
                await self.place()
                if count % rounds_per_resync == 0:
                    await self._resync()
            except Exception:  # noqa: BLE001 - the next round tries again
                logger.exception("sessions.placement_failed", node=self.node_id)

    async def _run_here(self, record: SessionRecord) -> None:
        """Start running a session this node holds (`record.owner` is this node)."""
        live = self._live.get(record.session_id)
        if live is None:
            live = self._new_live(record)
        live.record = record
        live.version = max(live.version, record.version)
        live.hold = Hold(self.node_id, record.lease_token)
        live.phone_number = record.phone_number
        live.status = SessionStatus(record.status)
        live.qr_code = live.qr_data_url = live.qr_expires_at = None
        if live.engine is None:
            live.status = SessionStatus.DISCONNECTED
            live.detail = f"the {record.engine} engine is not enabled on this server"
            return
        restriction = live.restriction
        if restriction is not None and restriction.until is not None:
            # Restricted before a restart, or on the node that ran it: it lifts from here.
            self._background.spawn(
                self._lift_when_over(live, restriction), session_id=record.session_id
            )
        await self._open(live)

    async def _stop_here(self, live: LiveSession, *, moving: bool = False) -> None:
        """Stop running the session on this node (it keeps being known, as a copy). With
        `moving`, messages waiting to be sent are answered 503 `session_moving` (never
        sent) and may be sent again once it runs elsewhere."""
        async with live.control_lock:
            if live.queue is not None:
                if moving:
                    session_id = live.record.session_id
                    live.queue.refuse(lambda: routing.moving(session_id))
                await live.queue.close()
                live.queue = None
            await self._stop_handle(live)
            live.hold = None

    async def _release(self, stopped: list[LiveSession]) -> None:
        """Give up the holds of sessions stopped here: any node may take them now."""
        for live in stopped:
            hold = live.hold or Hold(self.node_id, live.record.lease_token)
            async with self.db.write() as tx:
                await wa_sessions.release(tx, live.record.session_id, hold)
            live.hold = None
            await self._tell(live.record.session_id)

    async def _tell(self, session_id: str) -> None:
        """The session's row changed: every other node reads it again."""
        await self.bus.publish(SESSION_TOPIC, {"session_id": session_id})

    def _heard(self, message: Message) -> None:
        session_id = str(message.get("session_id", ""))
        self._background.spawn(self._refresh([session_id]), session_id=session_id)

    async def _resync(self) -> None:
        """Read every session again (a bus reconnection, or now and then)."""
        async with self.db.read() as db:
            records = await wa_sessions.list_all(db)
        stored = {record.session_id for record in records}
        for session_id in [sid for sid, live in self._live.items() if not live.here]:
            if session_id not in stored:
                self._live.pop(session_id, None)
        for record in records:
            self._follow(record)
        await self._notify()

    async def _refresh(self, session_ids: Iterable[str]) -> None:
        async with self.db.read() as db:
            for session_id in session_ids:
                record = await wa_sessions.get(db, session_id)
                if record is None:
                    live = self._live.get(session_id)
                    if live is not None and not live.here:
                        self._live.pop(session_id, None)
                else:
                    self._follow(record)
        await self._notify()

    def _follow(self, record: SessionRecord) -> None:
        live = self._live.get(record.session_id)
        if live is None:
            live = self._new_live(record)
        elif record.version < live.version:
            return  # an older read than one already applied
        live.version = record.version
        live.follow(record)
        if live.here and live.queue is not None:
            live.queue.pacing_seconds = record.pacing_ms / 1000

    # -- commands from other nodes ---------------------------------------------------------

    def _serve(self) -> None:
        self.bus.serve("session.perform", self._perform_for_node)
        self.bus.serve("session.restart", self._restart_for_node)
        self.bus.serve("session.delete", self._delete_for_node)
        self.bus.serve("session.adopt", self._adopt_for_node)

    def _running(self, payload: Message) -> LiveSession:
        session_id = str(payload["session_id"])
        live = self._live.get(session_id)
        if live is None or not live.here:
            raise routing.moving(session_id)
        return live

    async def _perform_for_node(self, payload: Message) -> Message:
        live = self._running(payload)
        action = routing.codec().decode(payload["action"])
        result = await self._handle(live, type(action)).perform(action)
        return {"result": routing.codec().encode(result)}

    async def _restart_for_node(self, payload: Message) -> Message:
        await self._restart_here(self._running(payload))
        return {}

    async def _delete_for_node(self, payload: Message) -> Message:
        await self._delete_here(self._running(payload))
        return {}

    async def _adopt_for_node(self, payload: Message) -> Message:
        """A session created for this node by another: run it now, not at the next round."""
        async with self.db.read() as db:
            record = await wa_sessions.get(db, str(payload["session_id"]))
        if record is not None and record.owner == self.node_id:
            async with self._placing:
                live = self._live.get(record.session_id)
                if live is None or not live.here:
                    await self._run_here(record)
        return {}

    async def call_owner(
        self, user: UserRecord, session_id: str, method: str, payload: Message
    ) -> Message:
        """`method` (served on the bus) performed by the node that runs the user's session,
        or a 503 while it moves."""
        return await self._on_owner(self._owned(user, session_id), method, payload)

    async def _on_owner(self, live: LiveSession, method: str, payload: Message) -> Message:
        """`method` performed by the node that runs `live`, or a 503 while it moves."""
        session_id = live.record.session_id
        owner = live.record.owner
        if owner is None or owner == self.node_id or not await self.bus.alive(owner):
            raise routing.moving(session_id)
        try:
            return await self.bus.call(owner, method, {"session_id": session_id, **payload})
        except SendmakoError as exc:
            raise routing.translated(session_id, exc) from exc

    # -- the API's operations (all scoped to a user) --------------------------------------

    async def create(
        self, user: UserRecord, *, session_name: str | None, engine: str | None
    ) -> SessionView:
        """A new session, run by the least loaded node (this one, alone)."""
        engine_name = engine or self.default_engine
        if engine_name not in self.engines:
            enabled = ", ".join(sorted(self.engines))
            raise BadRequest(
                f"engine: {engine_name!r} is not enabled on this server (enabled: {enabled})",
                field="engine",
            )
        async with self._placing:
            owner = self.node_id if self.placement is None else await self.placement.least_loaded()
            if owner == self.node_id:  # before anything is stored
                self.engines[engine_name].refuse_if_full()
            async with self.db.write() as tx:
                # Serialise creations of one user (PostgreSQL) so two requests can't both
                # pass the plan's session limit; SQLite writes are serialised already.
                await tx.execute(select(User.id).where(User.id == user.id).with_for_update())
                count = await wa_sessions.count_for_user(tx, user.id)
                plans.ensure_session_slot(user.plan, count)
                record = await wa_sessions.create(
                    tx,
                    user.id,
                    session_name=session_name or "WhatsApp",
                    engine=engine_name,
                    status=SessionStatus.CONNECTING,
                    pacing_ms=DEFAULT_PACING_MS,
                    owner=owner,
                )
                if session_name is None:
                    await wa_sessions.rename(tx, record.session_id, f"Session {record.id}")
                    record = await wa_sessions.get(tx, record.session_id) or record
            logger.info(
                "session.created", session_id=record.session_id, engine=engine_name, node=owner
            )
            if owner == self.node_id:
                await self._run_here(record)
                live = self._live[record.session_id]
            else:
                live = self._new_live(record)
                live.version = record.version
        await self._tell(record.session_id)
        if owner != self.node_id:
            try:
                await self.bus.call(owner, "session.adopt", {"session_id": record.session_id})
            except SendmakoError as exc:  # its next placement round starts it
                logger.warning("session.adopt_failed", session_id=record.session_id, error=str(exc))
        return live.view()

    def list_for(self, user: UserRecord) -> list[SessionView]:
        owned = [live for live in self._live.values() if live.record.user_id == user.id]
        return [live.view() for live in sorted(owned, key=lambda live: live.record.id)]

    async def know(self, session_id: str) -> None:
        """Read a session this node has not heard of yet (created a moment ago through
        another node) from the database; a known one costs nothing."""
        if session_id not in self._live and len(session_id) <= MAX_SESSION_ID:
            await self._refresh([session_id])

    def get(self, user: UserRecord, session_id: str) -> SessionView:
        return self._owned(user, session_id).view()

    async def update(self, user: UserRecord, session_id: str, change: SessionChange) -> SessionView:
        """Change the session's settings (its name, pacing, calls, send policy: only the
        policy's fields given change; 400 naming the field, and nothing stored, if one
        cannot be)."""
        live = self._owned(user, session_id)
        if change.send_policy is not None:
            try:
                policy = changed(live.send_policy, change.send_policy)
            except PolicyInvalid as exc:
                raise BadRequest(str(exc), field=exc.field) from exc
            change = replace(change, send_policy=policy.to_stored())
        values = change.values()
        async with self.db.write() as tx:
            await wa_sessions.change(tx, live.record.session_id, values)
        live.record = replace(live.record, **values)  # type: ignore[arg-type]
        if change.pacing_ms is not None and live.queue is not None:
            live.queue.pacing_seconds = change.pacing_ms / 1000
        await self._tell(session_id)  # its node paces by it, every node shows it
        return live.view()

    # -- sending ----------------------------------------------------------------------------

    def pick(self, user: UserRecord, session_id: str | None) -> SessionView:
        """The session a send uses: the one named, else the user's oldest connected one.

        404 when the user has no session at all (or not the one named), 503 naming the
        session and its status when it is not connected.
        """
        if session_id is not None:
            live = self._owned(user, session_id)
            if live.status != SessionStatus.CONNECTED:
                raise Unavailable(
                    f"Session {session_id} is not connected (status: {live.status}).",
                    code="session_not_connected",
                )
            return live.view()
        owned = sorted(
            (live for live in self._live.values() if live.record.user_id == user.id),
            key=lambda live: live.record.id,
        )
        if not owned:
            raise NotFound("No WhatsApp session found. Connect a number first.", code="no_session")
        for live in owned:
            if live.status == SessionStatus.CONNECTED:
                return live.view()
        states = ", ".join(f"{live.record.session_id} is {live.status}" for live in owned)
        raise Unavailable(f"No connected WhatsApp session: {states}.", code="session_not_connected")

    def supports(self, session_id: str, kind: type[Action[Any]]) -> bool:
        """Whether the session's engine performs actions of `kind` (no I/O)."""
        live = self._live.get(session_id)
        return live is not None and live.engine is not None and kind in live.engine.capabilities

    def require(self, user: UserRecord, session_id: str, kind: type[Action[Any]]) -> SessionView:
        """The user's session, refused (501) if its engine does not perform `kind`: for
        checks that must come before any work (a media download, say)."""
        live = self._owned(user, session_id)
        if live.engine is not None and kind not in live.engine.capabilities:
            raise not_supported(kind, session_id, live.engine.name)
        return live.view()

    async def perform(self, user: UserRecord, session_id: str, action: Action[R]) -> R:
        """Have the user's session do `action` now (sends go through `submit` instead, to
        keep their pace): 404 for another user's session, 501 when its engine does not
        perform this kind of action, 503 when it is not running."""
        assert not isinstance(action, Send), "sends are paced: submit them"
        live = self._owned(user, session_id)
        if live.here:
            return await self._handle(live, type(action)).perform(action)
        if live.engine is not None and type(action) not in live.engine.capabilities:
            raise not_supported(type(action), session_id, live.engine.name)
        answer = await self._on_owner(
            live, "session.perform", {"action": routing.codec().encode(action)}
        )
        # What it changed is read back before answering: the caller's next read here sees it.
        await self._refresh([session_id])
        result: R = routing.codec().decode(answer["result"])
        return result

    def local_view(self, session_id: str) -> SessionView | None:
        """The session as this node knows it, whoever owns it: for this node's own
        services (the send policy), never for answering a user."""
        live = self._live.get(session_id)
        return live.view() if live is not None else None

    def runs_here(self, session_id: str) -> bool:
        """Whether this node runs the session (sends to it are queued here)."""
        live = self._live.get(session_id)
        return live is not None and live.here

    def owner_of(self, session_id: str) -> str | None:
        """The node that runs the session (None: nobody, while it moves)."""
        live = self._live.get(session_id)
        if live is None:
            return None
        return self.node_id if live.here else live.record.owner

    def engine_session(self, session_id: str) -> EngineSession | None:
        """The engine session running `session_id` now, if any: for tests and diagnostics.
        Routes and services never hold one; they go through `perform` and `submit`."""
        live = self._live.get(session_id)
        return live.handle if live is not None else None

    def performer(self, user: UserRecord, session_id: str) -> Performer:
        """`perform` bound to one of the user's sessions (404 at once if it is not one),
        for services that do several things with it."""
        self._owned(user, session_id)

        async def perform(action: Action[R]) -> R:
            return await self.perform(user, session_id, action)

        return perform

    def submit(
        self,
        user: UserRecord,
        session_id: str,
        action: Send,
        on_sent: SentHook | None = None,
        *,
        min_gap: float = 0,
    ) -> asyncio.Future[SendResult]:
        """Queue `action` on the session's paced queue (429 when the queue is full), at
        least `min_gap` seconds after the session's previous send; 403 when the account is
        disabled (`suspend`)."""
        return self._submit(user.id, self._owned(user, session_id), action, on_sent, min_gap)

    def submit_for(
        self,
        user_id: int,
        session_id: str,
        action: Send,
        on_sent: SentHook | None = None,
        *,
        min_gap: float = 0,
    ) -> asyncio.Future[SendResult]:
        """`submit`, for a send another node checked and carried here."""
        live = self._live.get(session_id)
        if live is None or live.record.user_id != user_id:
            raise NotFound(f"Session {session_id} not found.", code="session_not_found")
        return self._submit(user_id, live, action, on_sent, min_gap)

    def _submit(
        self,
        user_id: int,
        live: LiveSession,
        action: Send,
        on_sent: SentHook | None,
        min_gap: float,
    ) -> asyncio.Future[SendResult]:
        session_id = live.record.session_id
        if user_id in self._suspended:
            raise _account_disabled()
        if not live.here:  # the sender carries a send to its node (messaging/sender.py)
            raise routing.moving(session_id)
        if live.engine is not None and type(action) not in live.engine.capabilities:
            raise not_supported(type(action), session_id, live.engine.name)
        if live.queue is None:
            live.queue = SendQueue(
                live.record.session_id,
                lambda queued: self._send_now(live, queued),
                pacing_seconds=live.record.pacing_ms / 1000,
                capacity=self.queue_capacity,
                last_send=lambda: self._seconds_since_last_send(live),
                close_grace=self.close_grace,
                delay=lambda: self._policy_delay(live),
                clock=self.send_clock.now,
                sleep=self.send_clock.sleep,
            )
        return live.queue.submit(action, on_sent, min_gap=min_gap)

    def suspend(self, user_id: int) -> None:
        """The user's account is disabled: its sessions send nothing more. Messages waiting
        in their queues fail with 403 `account_disabled` (never sent), so does any new one;
        a message the engine has already finishes. The sessions stay linked and keep
        receiving."""
        self._suspended.add(user_id)
        for live in self._live.values():
            if live.record.user_id == user_id and live.queue is not None:
                live.queue.refuse(_account_disabled)

    def reinstate(self, user_id: int) -> None:
        """The user's account is enabled again: its sessions send again."""
        self._suspended.discard(user_id)
        for live in self._live.values():
            if live.record.user_id == user_id and live.queue is not None:
                live.queue.admit()

    def suspended(self, user_id: int) -> bool:
        return user_id in self._suspended

    def queue_waiting(self, session_id: str) -> int:
        """Messages waiting in the session's queue (not counting the one being sent)."""
        live = self._live.get(session_id)
        return live.queue.waiting if live and live.queue else 0

    def running_here(self) -> list[tuple[SessionView, int]]:
        """The sessions this node runs, each with the messages waiting in its queue. No I/O
        (Prometheus scrapes read it)."""
        return [
            (live.view(), live.queue.waiting if live.queue else 0)
            for live in self._live.values()
            if live.here
        ]

    async def wait_queue(
        self, session_id: str, predicate: Callable[[int], bool], timeout: float
    ) -> None:
        """Wait until the number of waiting messages satisfies `predicate`."""
        live = self._live.get(session_id)
        if live is None or live.queue is None:
            raise NotFound(f"Session {session_id} has no send queue.", code="session_not_found")
        await live.queue.wait_until(predicate, timeout)

    async def wait_queue_closing(self, session_id: str, timeout: float) -> None:
        """Wait until the session's queue begins closing (its session stopping)."""
        live = self._live.get(session_id)
        if live is None or live.queue is None:
            raise NotFound(f"Session {session_id} has no send queue.", code="session_not_found")
        await live.queue.wait_closing(timeout)

    async def _seconds_since_last_send(self, live: LiveSession) -> float | None:
        """How long ago the session last sent (before a restart, say), if recently."""
        now = utcnow()
        window = timedelta(milliseconds=max(live.record.pacing_ms, PACING_LOOKBACK_MS))
        async with self.db.read() as db:
            last = await messages.last_sent_at(
                db, live.record.user_id, live.record.session_id, now - window
            )
        if last is None:
            return None
        # The stored time is the engine's: WhatsApp's clock, in whole seconds, so up to a
        # second before the send really ended. Counting from a second later errs on the
        # slow side.
        return max(0.0, (now - last).total_seconds() - TIMESTAMP_GRAIN_SECONDS)

    def _policy_delay(self, live: LiveSession) -> float:
        """The send policy's random delay before the session's next send, in seconds."""
        policy = live.send_policy
        return self.rng.uniform(policy.min_delay_ms, policy.max_delay_ms) / 1000

    async def _send_now(self, live: LiveSession, action: Send) -> SendResult:
        handle = live.handle
        if handle is None or live.status != SessionStatus.CONNECTED:
            raise Unavailable(
                f"Session {live.record.session_id} is not connected (status: {live.status}).",
                code="session_not_connected",
            )
        await self._type(live, handle, action)
        result = await handle.perform(action)
        live.last_outbound_at = live.last_heard_at = self.send_clock.now()
        return result

    async def _type(self, live: LiveSession, handle: EngineSession, action: Send) -> None:
        """Show `composing` before a text, as a person would, for a time that grows with
        its length (the send policy's `typing`)."""
        if not isinstance(action, OutgoingMessage) or action.type != MessageType.TEXT:
            return
        typing_ms = live.send_policy.typing_ms(action.text or "")
        if typing_ms <= 0 or live.engine is None:
            return
        if SendChatState not in live.engine.capabilities:
            return
        try:
            await handle.perform(SendChatState(action.to, ChatState.COMPOSING))
        except SendmakoError as exc:  # typing is a courtesy: the message still goes
            logger.info("session.typing_failed", session_id=live.record.session_id, error=str(exc))
            return
        await self.send_clock.sleep(typing_ms / 1000)

    async def delete(self, user: UserRecord, session_id: str) -> None:
        """Stop the session's sends (the one the engine has may finish), log the device out
        of WhatsApp, then delete the session and its stored keys: on the node that runs
        it."""
        live = self._owned(user, session_id)
        if live.here:
            await self._delete_here(live)
        else:
            await self._on_owner(live, "session.delete", {})
            self._live.pop(session_id, None)
            await self._notify()

    async def _delete_here(self, live: LiveSession) -> None:
        session_id = live.record.session_id
        async with live.control_lock:
            if live.queue is not None:
                # Nothing more goes out; a message the engine already has finishes first.
                await live.queue.close()
            handle = live.handle
            if handle is not None:
                try:
                    await asyncio.wait_for(handle.logout(), STOP_TIMEOUT_SECONDS)
                except (TimeoutError, OperationFailed, Unavailable) as exc:
                    # WhatsApp unreachable: the phone will drop the stale device on its own;
                    # deleting our keys below still makes the link unusable.
                    logger.warning("session.logout_failed", session_id=session_id, error=str(exc))
                await self._stop_handle(live)
            live.deleted = True
            if live.engine is not None:
                await live.engine.forget(self._spec(live.record))
            async with self.db.write() as tx:
                await wa_sessions.delete_one(tx, session_id)
            self._live.pop(session_id, None)
            live.hold = None
        logger.info("session.deleted", session_id=session_id)
        metrics.forget_session(session_id)
        await self._tell(session_id)
        await self._notify()

    async def restart(self, user: UserRecord, session_id: str) -> SessionView:
        """Reconnect from scratch; from `logged_out` this starts a new QR login."""
        live = self._owned(user, session_id)
        if live.engine is None:
            raise Unavailable(f"Session {session_id}: {live.detail}", code="engine_disabled")
        if not live.here:
            await self._on_owner(live, "session.restart", {})
            await self._refresh([session_id])
            return live.view()
        await self._restart_here(live)
        return live.view()

    async def _restart_here(self, live: LiveSession) -> None:
        async with live.control_lock:
            await self._stop_handle(live)
            async with self.db.read() as db:
                record = await wa_sessions.get(db, live.record.session_id)
            if record is not None:
                live.record = record
            await self._open(live)

    async def pair_code(self, user: UserRecord, session_id: str, phone_number: str) -> str:
        try:
            phone = normalize_phone(phone_number)
        except InvalidIdentifier as exc:
            raise BadRequest(f"phone_number: {exc}", field="phone_number") from exc
        return await self.perform(user, session_id, RequestPairCode(phone))

    def _handle(self, live: LiveSession, kind: type[Action[Any]]) -> EngineSession:
        """The engine session that performs `kind` for `live`, refused when its engine does
        not perform it (501) or it is not running (503)."""
        if live.engine is not None and kind not in live.engine.capabilities:
            raise not_supported(kind, live.record.session_id, live.engine.name)
        if live.engine is None or live.handle is None:
            raise Unavailable(
                f"Session {live.record.session_id} is not running ({live.detail or live.status}).",
                code="session_not_running",
            )
        return live.handle

    async def wait_for(
        self, session_id: str, statuses: Iterable[SessionStatus], timeout: float
    ) -> SessionView:
        """Wait until the session reaches one of `statuses` (TimeoutError otherwise)."""
        wanted = set(statuses)
        return await self.wait_until(session_id, lambda view: view.status in wanted, timeout)

    async def wait_until(
        self, session_id: str, predicate: Callable[[SessionView], bool], timeout: float
    ) -> SessionView:
        """Wait until the session's view satisfies `predicate` (TimeoutError otherwise).
        For long-polling clients and tests: no polling, woken by each change."""

        def reached() -> bool:
            live = self._live.get(session_id)
            return live is None or predicate(live.view())

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(reached)
        live = self._live.get(session_id)
        if live is None:
            raise NotFound(f"Session {session_id} not found.", code="session_not_found")
        return live.view()

    # -- engine events --------------------------------------------------------------------

    async def _open(self, live: LiveSession) -> None:
        assert live.engine is not None
        spec = self._spec(live.record)
        holder: list[EngineSession] = []

        async def sink(event: EngineEvent) -> None:
            # Events of a handle that was replaced (restart) or stopped are stale.
            if holder and live.handle is holder[0]:
                await self._apply(live, event)

        handle = live.engine.open_session(spec, sink)
        holder.append(handle)
        live.handle = handle
        live.status = SessionStatus.CONNECTING
        live.detail = None
        await handle.start()

    async def _stop_handle(self, live: LiveSession) -> None:
        handle, live.handle = live.handle, None
        if handle is None:
            return
        try:
            await asyncio.wait_for(handle.stop(), STOP_TIMEOUT_SECONDS)
        except TimeoutError:
            logger.warning("session.stop_timeout", session_id=live.record.session_id)

    async def _apply(self, live: LiveSession, event: EngineEvent) -> None:
        pending: list[Awaitable[None]] = []
        async with live.events_lock:
            if live.deleted:
                return
            if isinstance(event, QrCodeChanged):
                await self._qr_changed(live, event)
            elif isinstance(event, StatusChanged):
                await self._status_changed(live, event)
            elif isinstance(event, PairCodeIssued):
                logger.info("session.pair_code_issued", session_id=live.record.session_id)
            elif isinstance(event, TemporaryBanned):
                until = datetime.fromtimestamp(event.until, UTC) if event.until else None
                await self._set_restriction(live, Restriction.ban(event.code, until))
            else:
                live.last_inbound_at = live.last_heard_at = self.send_clock.now()
                for handler in self.handlers:
                    queued = await handler.handle(live.record, event)
                    if queued is not None:
                        pending.append(queued)
        for queued in pending:
            await queued
        await self._notify()

    async def _qr_changed(self, live: LiveSession, event: QrCodeChanged) -> None:
        live.qr_code = event.payload
        live.qr_data_url = png_data_url(event.payload)
        live.qr_expires_at = self.clock() + event.valid_seconds
        data: dict[str, object] = {"qr": live.qr_data_url, "expires_in": event.valid_seconds}
        # A QR to show means the status is qr_ready: both land in one transaction.
        await self._status_changed(
            live,
            StatusChanged(
                SessionStatus.QR_READY,
                live.detail if live.status == SessionStatus.QR_READY else None,
            ),
            also=[live.event(registry.SESSION_QR_READY, data)],
        )

    async def _status_changed(
        self, live: LiveSession, event: StatusChanged, also: Iterable[SessionEvent] = ()
    ) -> None:
        hold = live.hold
        if hold is None:
            return  # stopped here meanwhile: the node that runs it now reports its state
        previous = live.status
        emitted = [*live.apply(event), *also]
        if event.status == SessionStatus.CONNECTED and previous != SessionStatus.CONNECTED:
            live.last_heard_at = self.send_clock.now()
        if previous != event.status:
            logger.info(
                "session.status",
                session_id=live.record.session_id,
                status=event.status.value,
                previous=previous.value,
                detail=event.detail,
            )
        qr_expires_at = (
            datetime.fromtimestamp(live.qr_expires_at, UTC)
            if live.qr_code is not None and live.qr_expires_at is not None
            else None
        )
        async with self.db.write() as tx:
            held = await wa_sessions.set_state(
                tx,
                live.record.session_id,
                hold,
                status=event.status.value,
                detail=event.detail,
                phone_number=event.phone_number,
                device_jid=event.device_jid,
                qr_code=live.qr_code,
                qr_expires_at=qr_expires_at,
            )
            if held and emitted:
                for recorder in self.recorders:
                    await recorder.record(tx, live.record.user_id, emitted)
        if not held:
            # Another node holds the session now: this one must stop acting for it.
            logger.warning("session.hold_lost", session_id=live.record.session_id)
            self._background.spawn(self._stop_here(live))
            return
        await self._tell(live.record.session_id)

    # -- the watchdog (sessions/watchdog.py) ----------------------------------------------

    async def _watch_loop(self, timings: WatchdogTimings, clock: Clock) -> None:
        while True:
            await clock.sleep(timings.check_seconds)
            try:
                await self.watch_once()
            except Exception:  # noqa: BLE001 - the next round tries again
                logger.exception("sessions.watchdog_failed", node=self.node_id)

    async def watch_once(self) -> None:
        """One round: every connected session this node runs that has heard nothing from
        WhatsApp for too long is probed; one that gets no answer is reconnected, with the
        `session.disconnected` (connection_lost) and `session.connected` webhooks."""
        timings = self.watchdog or WatchdogTimings()
        now = self.send_clock.now()
        silent = []
        for live in self._live.values():
            live.reconnects[:] = [at for at in live.reconnects if at > now - 86_400]
            connected = live.handle is not None and live.status == SessionStatus.CONNECTED
            if (
                live.here
                and connected
                and watchdog.due(now, live.last_heard_at, live.reconnects, timings)
            ):
                silent.append(live)
        await asyncio.gather(*(self._probe(live, timings, now) for live in silent))

    async def _probe(self, live: LiveSession, timings: WatchdogTimings, now: float) -> None:
        session_id = live.record.session_id
        handle, phone = live.handle, live.phone_number
        if handle is None or phone is None:
            return
        try:
            # A question only WhatsApp's servers answer: a deaf connection gets nothing.
            async with asyncio.timeout(timings.probe_timeout_seconds):
                await handle.perform(CheckNumbers((phone,)))
        except (SendmakoError, TimeoutError) as exc:
            failure = str(exc) or "no answer"
        else:
            live.last_heard_at = self.send_clock.now()
            logger.info("session.probe_answered", session_id=session_id)
            return
        if not watchdog.may_reconnect(now, live.reconnects, timings):
            live.last_heard_at = now  # asked again after the next silence, not at once
            logger.warning(
                "session.deaf_left_alone",
                session_id=session_id,
                reconnects_last_hour=len(live.reconnects),
                error=failure,
            )
            return
        live.reconnects.append(now)
        logger.warning("session.deaf_reconnecting", session_id=session_id, error=failure)
        async with live.events_lock:
            await self._status_changed(
                live,
                StatusChanged(
                    SessionStatus.DISCONNECTED, "WhatsApp stopped answering: reconnecting"
                ),
            )
        await self._restart_here(live)
        await self._notify()

    # -- WhatsApp's restrictions -----------------------------------------------------------

    def restriction(self, session_id: str) -> Restriction | None:
        """WhatsApp's restriction on the session now (None once it ended: it lifts itself)."""
        live = self._live.get(session_id)
        if live is None:
            return None
        restriction = live.restriction
        if restriction is None or restriction.over(self._now()):
            return None
        return restriction

    async def restrict(self, session_id: str, restriction: Restriction) -> None:
        """WhatsApp restricted the number of a session this node runs (a 463 answer):
        kept as its state, announced, lifted by itself when it ends."""
        live = self._live.get(session_id)
        if live is not None and live.here:
            await self._set_restriction(live, restriction)

    async def lift(self, session_id: str) -> None:
        """The restriction ended (or the sandbox lifts it): sends it held go again."""
        live = self._live.get(session_id)
        if live is not None and live.here:
            await self._set_restriction(live, None)

    async def _set_restriction(self, live: LiveSession, restriction: Restriction | None) -> None:
        previous = live.restriction
        if previous == restriction:
            return
        if (
            previous is not None
            and restriction is not None
            and previous.kind == restriction.kind
            and not previous.over(self._now())
        ):
            return  # the same restriction, heard again (another refused send)
        stored = restriction.to_stored() if restriction is not None else None
        live.record = replace(live.record, restriction=stored)
        session_id = live.record.session_id
        if restriction is not None:
            event = live.event(registry.SESSION_RESTRICTED, dict(stored or {}))
            logger.warning("session.restricted", session_id=session_id, **(stored or {}))
        else:
            assert previous is not None
            event = live.event(
                registry.SESSION_UNRESTRICTED,
                {"kind": previous.kind.value, "code": previous.code},
            )
            logger.info("session.unrestricted", session_id=session_id, kind=previous.kind.value)
        async with self.db.write() as tx:
            await wa_sessions.change(tx, session_id, {"restriction": stored})
            for recorder in self.recorders:
                await recorder.record(tx, live.record.user_id, [event])
        await self._tell(session_id)
        await self._notify()
        if restriction is not None and restriction.until is not None:
            self._background.spawn(self._lift_when_over(live, restriction), session_id=session_id)

    async def _lift_when_over(self, live: LiveSession, restriction: Restriction) -> None:
        assert restriction.until is not None
        await self.send_clock.sleep(max(0.0, restriction.until.timestamp() - self.send_clock.now()))
        if live.restriction == restriction and live.here and not live.deleted:
            await self._set_restriction(live, None)

    def _now(self) -> datetime:
        return datetime.fromtimestamp(self.send_clock.now(), UTC)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- helpers --------------------------------------------------------------------------

    def _new_live(self, record: SessionRecord) -> LiveSession:
        live = LiveSession(
            record=record,
            engine=self.engines.get(record.engine),
            default_policy=self.default_policy,
        )
        self._live[record.session_id] = live
        return live

    def _owned(self, user: UserRecord, session_id: str) -> LiveSession:
        live = self._live.get(session_id)
        # Another user's session answers exactly like a missing one.
        if live is None or live.record.user_id != user.id:
            raise NotFound(f"Session {session_id} not found.", code="session_not_found")
        return live

    @staticmethod
    def _spec(record: SessionRecord) -> SessionSpec:
        return SessionSpec(
            session_id=record.session_id,
            user_id=record.user_id,
            row_id=record.id,
            phone_number=record.phone_number,
            device_jid=record.device_jid,
        )


MAX_SESSION_ID = 64  # `user_<id>_<id>`: a longer one names nothing, and is not looked up


def _account_disabled() -> AccountDisabled:
    return AccountDisabled("This account is disabled: its sessions send nothing.")
