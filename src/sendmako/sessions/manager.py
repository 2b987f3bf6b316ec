"""`SessionManager`: owns every engine session of this node, keeps their status, emits
session events, and is the only way the API reaches a WhatsApp session.

Status changes are applied one at a time per session (a lock per session), persisted, and
handed to the event recorders in the same transaction, so a webhook row exists exactly when
the state change it describes does.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from datetime import timedelta
from typing import Any, Protocol, TypeVar

from sqlalchemy import select

from sendmako import log
from sendmako.accounts import plans
from sendmako.engines.base import Engine, EngineSession, SessionSpec, not_supported
from sendmako.errors import (
    AccountDisabled,
    BadRequest,
    NotFound,
    OperationFailed,
    Unavailable,
)
from sendmako.ids import InvalidIdentifier, normalize_phone
from sendmako.inbound import registry
from sendmako.model.actions import Action, RequestPairCode, Send, SendResult
from sendmako.model.events import (
    EngineEvent,
    PairCodeIssued,
    QrCodeChanged,
    SessionEvent,
    StatusChanged,
)
from sendmako.model.statuses import SessionStatus
from sendmako.sessions.hooks import MessageEventHandler, SessionEventRecorder
from sendmako.sessions.qr import png_data_url
from sendmako.sessions.queue import (
    CLOSE_GRACE_SECONDS,
    DEFAULT_CAPACITY,
    SendQueue,
    SentHook,
)
from sendmako.sessions.state import LiveSession, SessionChange, SessionView
from sendmako.storage import messages, wa_sessions
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord, UserRecord
from sendmako.storage.tables import User, utcnow

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
    ) -> None:
        """`close_grace`: how long a stopping session waits for a message already with the
        engine before its caller is told the outcome is unknown."""
        self.db = db
        self.engines = engines
        self.default_engine = default_engine
        self.node_id = node_id
        self.recorders = list(recorders)
        self.handlers = list(handlers)
        self.clock = clock
        self.queue_capacity = queue_capacity
        self.close_grace = close_grace
        self._live: dict[str, LiveSession] = {}
        self._suspended: set[int] = set()  # users whose account is disabled
        self._changed = asyncio.Condition()

    # -- process lifetime -----------------------------------------------------------------

    async def start(self) -> None:
        """Restore every stored session: linked devices reconnect without a new scan."""
        # All of them: the node's lease on the database (sessions/lease.py) keeps any other
        # node from starting beside this one.
        async with self.db.read() as db:
            records = await wa_sessions.list_all(db)
        for record in records:
            live = LiveSession(record=record, engine=self.engines.get(record.engine))
            live.phone_number = record.phone_number
            self._live[record.session_id] = live
            if live.engine is None:
                live.status = SessionStatus.DISCONNECTED
                live.detail = f"the {record.engine} engine is not enabled on this server"
                continue
            await self._open(live)
        logger.info("sessions.restored", count=len(records))

    async def stop(self) -> None:
        # Every queue at once: each may wait for a send in progress.
        await asyncio.gather(
            *(live.queue.close() for live in self._live.values() if live.queue is not None)
        )
        handles = [live.handle for live in self._live.values() if live.handle is not None]
        for live in self._live.values():
            live.handle = None
        results = await asyncio.gather(
            *(asyncio.wait_for(handle.stop(), STOP_TIMEOUT_SECONDS) for handle in handles),
            return_exceptions=True,
        )
        for result in results:
            if isinstance(result, BaseException):
                logger.warning("sessions.stop_failed", error=repr(result))
        self._live.clear()

    # -- the API's operations (all scoped to a user) --------------------------------------

    async def create(
        self, user: UserRecord, *, session_name: str | None, engine: str | None
    ) -> SessionView:
        engine_name = engine or self.default_engine
        if engine_name not in self.engines:
            enabled = ", ".join(sorted(self.engines))
            raise BadRequest(
                f"engine: {engine_name!r} is not enabled on this server (enabled: {enabled})",
                field="engine",
            )
        async with self.db.write() as tx:
            # Serialise creations of one user (PostgreSQL) so two requests can't both pass
            # the plan's session limit; SQLite writes are serialised already.
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
                owner=self.node_id,
            )
            if session_name is None:
                record = replace(record, session_name=f"Session {record.id}")
                await wa_sessions.rename(tx, record.session_id, record.session_name)
        live = LiveSession(record=record, engine=self.engines[engine_name])
        self._live[record.session_id] = live
        logger.info("session.created", session_id=record.session_id, engine=engine_name)
        await self._open(live)
        return live.view()

    def list_for(self, user: UserRecord) -> list[SessionView]:
        owned = [live for live in self._live.values() if live.record.user_id == user.id]
        return [live.view() for live in sorted(owned, key=lambda live: live.record.id)]

    def get(self, user: UserRecord, session_id: str) -> SessionView:
        return self._owned(user, session_id).view()

    async def update(self, user: UserRecord, session_id: str, change: SessionChange) -> SessionView:
        """Change the session's settings (its name, pacing, calls)."""
        live = self._owned(user, session_id)
        values = change.values()
        async with self.db.write() as tx:
            await wa_sessions.change(tx, live.record.session_id, values)
        live.record = replace(live.record, **values)  # type: ignore[arg-type]
        if change.pacing_ms is not None and live.queue is not None:
            live.queue.pacing_seconds = change.pacing_ms / 1000
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
        return await self._handle(self._owned(user, session_id), type(action)).perform(action)

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
        live = self._owned(user, session_id)
        if user.id in self._suspended:
            raise _account_disabled()
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

    async def _send_now(self, live: LiveSession, action: Send) -> SendResult:
        handle = live.handle
        if handle is None or live.status != SessionStatus.CONNECTED:
            raise Unavailable(
                f"Session {live.record.session_id} is not connected (status: {live.status}).",
                code="session_not_connected",
            )
        return await handle.perform(action)

    async def delete(self, user: UserRecord, session_id: str) -> None:
        """Stop the session's sends (the one the engine has may finish), log the device out
        of WhatsApp, then delete the session and its stored keys."""
        live = self._owned(user, session_id)
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
                await wa_sessions.delete_one(tx, live.record.session_id)
            self._live.pop(live.record.session_id, None)
        logger.info("session.deleted", session_id=session_id)
        await self._notify()

    async def restart(self, user: UserRecord, session_id: str) -> SessionView:
        """Reconnect from scratch; from `logged_out` this starts a new QR login."""
        live = self._owned(user, session_id)
        if live.engine is None:
            raise Unavailable(f"Session {session_id}: {live.detail}", code="engine_disabled")
        async with live.control_lock:
            await self._stop_handle(live)
            async with self.db.read() as db:
                record = await wa_sessions.get(db, live.record.session_id)
            if record is not None:
                live.record = record
            await self._open(live)
        return live.view()

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
            else:
                for handler in self.handlers:
                    queued = await handler.handle(live.record, event)
                    if queued is not None:
                        pending.append(queued)
        for queued in pending:
            await queued
        await self._notify()

    async def _qr_changed(self, live: LiveSession, event: QrCodeChanged) -> None:
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
        previous = live.status
        emitted = [*live.apply(event), *also]
        if previous != event.status:
            logger.info(
                "session.status",
                session_id=live.record.session_id,
                status=event.status.value,
                previous=previous.value,
                detail=event.detail,
            )
        async with self.db.write() as tx:
            await wa_sessions.set_state(
                tx,
                live.record.session_id,
                status=event.status.value,
                detail=event.detail,
                phone_number=event.phone_number,
                device_jid=event.device_jid,
            )
            if emitted:
                for recorder in self.recorders:
                    await recorder.record(tx, live.record.user_id, emitted)

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- helpers --------------------------------------------------------------------------

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


def _account_disabled() -> AccountDisabled:
    return AccountDisabled("This account is disabled: its sessions send nothing.")
