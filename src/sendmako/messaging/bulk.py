"""Bulk sends: one message to 1-100 recipients, one after another, at least 500 ms apart
(and 500 ms after anything else the session sent: two jobs on one session share the gap).

Every job is stored with one row per recipient. A recipient is marked `sending` (committed)
before its message is handed to the engine and `sent` or `failed` after, so a crash can
only leave `sending` behind: whoever takes the job over reports those as `unknown` and
never sends them again. Asynchronous jobs then carry on with the recipients still
`pending`. A send whose session stopped while the engine had it is `unknown` too; one
refused because its session was moving to another node (503 `session_moving`: nothing was
sent) stays `pending`, and is sent once the session runs again.

A job is run by one node: the one it was submitted to, which holds it under its node lease
(its token is stored with the job). A node takes over the jobs no live node holds (`adopt`:
at start-up, its own from before a restart; on several nodes, now and then, a dead node's),
and marks a recipient `sending` only while the job is still its own (the fence): a node
that lost its lease sends nothing more for the job. A job's media is stored with it in the
database, where whichever node runs it reads it.

A job holds room in the daily quota for all of its recipients from the start, so jobs
running side by side cannot together promise more than the plan allows.

Disabling the account stops its jobs (`pause`): the send the engine has finishes, the
recipients still pending stay pending, and an asynchronous job is `paused` until the account
is enabled again (`resume_user`, or the next start), when it carries on with them. A job its
caller waits for ends `interrupted` instead.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from sendmako import log
from sendmako.accounts.usage import DailyUsage, Reservation
from sendmako.concurrency.changes import Changes
from sendmako.errors import (
    AccountDisabled,
    BadRequest,
    NotFound,
    OutcomeUnknown,
    PlanLimitReached,
    SendmakoError,
    Unavailable,
)
from sendmako.messaging import codec as message_codec
from sendmako.messaging.sender import Sender, SendRequest, check, parse_recipient
from sendmako.model.messages import OutgoingMessage
from sendmako.model.statuses import BulkJobStatus, RecipientStatus, SessionStatus
from sendmako.sessions.manager import SessionManager
from sendmako.sessions.state import SessionView
from sendmako.storage import bulk_jobs, users
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord

logger = log.get(__name__)

MAX_RECIPIENTS = 100
MIN_GAP_SECONDS = 0.5
# An asynchronous job whose session drops waits this long for it to come back.
RECONNECT_WAIT_SECONDS = 300.0


class _Paused(Exception):
    """The job's account is disabled: the job stops before its next recipient."""


class _Lost(Exception):
    """Another node holds the job now (this one lost its lease): it stops here at once."""


MOVING = "session_moving"  # the code of a send refused while its session changes nodes


@dataclass(frozen=True, slots=True)
class RecipientView:
    to: str
    status: RecipientStatus
    message_id: str | None
    error: str | None

    @property
    def success(self) -> bool:
        return self.status == RecipientStatus.SENT


@dataclass(frozen=True, slots=True)
class JobView:
    id: str
    session_id: str
    status: BulkJobStatus
    results: list[RecipientView]

    def count(self, *statuses: RecipientStatus) -> int:
        return sum(result.status in statuses for result in self.results)


class BulkSender:
    def __init__(
        self,
        db: Database,
        sender: Sender,
        sessions: SessionManager,
        usage: DailyUsage,
        *,
        node: str,
        node_token: Callable[[], int],
        min_gap: float = MIN_GAP_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.db = db
        self.sender = sender
        self.sessions = sessions
        self.usage = usage
        self.node = node  # this node's name, and the token of its lease: who runs a job
        self.node_token = node_token
        self.min_gap = min_gap
        self.clock = clock
        self.now = now
        self._adopting: asyncio.Task[None] | None = None
        # Jobs waiting for their session to run again on some node (it was moving).
        self.waiting: dict[str, str] = {}
        self.changes = Changes()  # notified when `waiting` changes
        self._running: dict[str, asyncio.Task[None]] = {}
        self._owners: dict[str, int] = {}  # running job -> its user's id
        self._again: dict[str, UserRecord] = {}  # to run again once its ending run is over
        self._stopped: list[asyncio.Task[None]] = []
        self._stopping = False

    async def submit(
        self, user: UserRecord, recipients: list[str], request: SendRequest, *, run_async: bool
    ) -> JobView:
        if not 1 <= len(recipients) <= MAX_RECIPIENTS:
            raise BadRequest(
                f"recipients: give 1 to {MAX_RECIPIENTS} recipients (got {len(recipients)})",
                field="recipients",
            )
        check(request)
        session = self.sender.choose(user, request)
        # A campaign that cannot finish within today's quota (other jobs' reservations
        # counted) is refused before any of it is sent.
        reservation = await self.usage.reserve(user, len(recipients))
        try:
            content = await self.sender.content(request)
            job_id = secrets.token_hex(16)
            frozen, media = message_codec.freeze(content)
            async with self.db.write() as tx:
                await bulk_jobs.create(
                    tx,
                    job_id=job_id,
                    user_id=user.id,
                    session_id=session.session_id,
                    is_async=run_async,
                    request=frozen,
                    recipients=recipients,
                    media=media,
                    owner=self.node,
                    owner_token=self.node_token(),
                )
        except BaseException:
            reservation.release()
            raise
        logger.info("bulk.created", job_id=job_id, recipients=len(recipients), run_async=run_async)
        if run_async:
            self._start(user, job_id, content, reservation)
            return await self._view(job_id)
        await self._run(user, job_id, content, reservation)
        return await self._view(job_id)

    async def status(self, user: UserRecord, job_id: str) -> JobView:
        async with self.db.read() as db:
            job = await bulk_jobs.get(db, job_id)
        if job is None or job.user_id != user.id:
            raise NotFound(f"Bulk job {job_id} not found.", code="bulk_job_not_found")
        return await self._view(job_id)

    async def wait(self, job_id: str, timeout: float) -> None:
        """Until the job's run in this process ends (at once if it is not running)."""
        task = self._running.get(job_id)
        if task is None:
            return
        await asyncio.wait({task}, timeout=timeout)
        if not task.done():
            raise TimeoutError(f"bulk job {job_id} still running after {timeout} s")
        if not task.cancelled():  # cancelled: paused (its account disabled) or stopped
            task.result()  # its failure, if it failed

    async def resume(self) -> None:
        """At start-up: take over the jobs nobody runs (this node's own before a restart)."""
        await self.adopt()

    async def adopt(self) -> list[str]:
        """Take over the unfinished jobs no live node holds: settle what their node left
        unknown, and carry on with the asynchronous ones. Returns the jobs taken."""
        now = self.now()
        async with self.db.read() as db:
            candidates = await bulk_jobs.adoptable(db, now)
        taken = []
        for job in candidates:
            async with self.db.write() as tx:
                if not await bulk_jobs.take(tx, job, self.node, self.node_token(), now):
                    continue  # another node took it first
                unknown = await bulk_jobs.mark_unknown_after_crash(tx, job.id)
                if not job.is_async:  # its caller is gone; never resend behind its back
                    await bulk_jobs.set_status(tx, job.id, BulkJobStatus.INTERRUPTED)
            if unknown:
                logger.warning("bulk.unknown_after_restart", job_id=job.id, count=unknown)
            logger.info("bulk.adopted", job_id=job.id, previous_owner=job.owner)
            taken.append(job.id)
            if not job.is_async:
                continue
            async with self.db.read() as db:
                user = await users.get(db, job.user_id)
            if user is None:
                continue
            if user.disabled:
                await self._set_status(job.id, BulkJobStatus.PAUSED)
                continue
            logger.info("bulk.resumed", job_id=job.id)
            self._start(user, job.id, await self._content(job))
        return taken

    def start_adopting(self, every: float) -> None:
        """Several nodes: take over a dead node's jobs within `every` seconds of its lease
        running out."""
        self._adopting = asyncio.create_task(self._adopt_now_and_then(every), name="bulk-adopt")

    async def _adopt_now_and_then(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                await self.adopt()
            except Exception:  # noqa: BLE001 - the loop outlives a database hiccup
                logger.exception("bulk.adopt_failed")

    async def pause(self, user_id: int) -> None:
        """The user's account is disabled: its jobs stop (the send the engine has finishes;
        its sessions refuse the others, `SessionManager.suspend`). Returns without waiting
        for that send."""
        for job_id in [job for job, owner in self._owners.items() if owner == user_id]:
            self._again.pop(job_id, None)
            self._running[job_id].cancel()
        async with self.db.write() as tx:
            await bulk_jobs.pause_for_user(tx, user_id)
        logger.info("bulk.paused", user_id=user_id)

    async def resume_user(self, user: UserRecord) -> None:
        """The user's account is enabled again: its asynchronous jobs carry on with the
        recipients still pending (a job still ending its paused run, once that is over)."""
        async with self.db.read() as db:
            jobs = [job for job in await bulk_jobs.unfinished(db, user_id=user.id) if job.is_async]
        for job in jobs:
            if job.owner_token != self.node_token():
                # Another node's, or nobody's: run here only what no live node holds.
                async with self.db.write() as tx:
                    if not await bulk_jobs.take(tx, job, self.node, self.node_token(), self.now()):
                        continue
                    await bulk_jobs.mark_unknown_after_crash(tx, job.id)
            if job.id in self._running:
                self._again[job.id] = user
            else:
                logger.info("bulk.resumed", job_id=job.id)
                self._start(user, job.id, await self._content(job))

    async def stop(self, grace: float | None = None) -> None:
        """Stop every running job (it resumes on the next start), letting each finish the
        send in progress for up to `grace` seconds (default: the sessions' close grace). A job
        still waiting on the engine then ends in `stopped()`, once the sessions' queues
        have closed and answered its send."""
        self._stopping = True
        adopting, self._adopting = self._adopting, None
        if adopting is not None:
            adopting.cancel()
            with suppress(asyncio.CancelledError):
                await adopting
        self._stopped = list(self._running.values())
        for task in self._stopped:
            task.cancel()
        if self._stopped:
            await asyncio.wait(
                self._stopped, timeout=self.sessions.close_grace if grace is None else grace
            )

    async def stopped(self) -> None:
        """Wait for the jobs `stop` left behind (call after the sessions have stopped)."""
        await asyncio.gather(*self._stopped, return_exceptions=True)

    # -- running a job ----------------------------------------------------------------------

    def _start(
        self,
        user: UserRecord,
        job_id: str,
        content: OutgoingMessage,
        reservation: Reservation | None = None,
    ) -> None:
        task = asyncio.create_task(
            self._run(user, job_id, content, reservation), name=f"bulk-{job_id}"
        )
        self._running[job_id] = task
        self._owners[job_id] = user.id

        def ended(_task: asyncio.Task[None]) -> None:
            self._running.pop(job_id, None)
            self._owners.pop(job_id, None)
            if reservation is not None:  # also when the task was cancelled before it ran
                reservation.release()
            again = self._again.pop(job_id, None)
            if again is not None and not self._stopping and not self.sessions.suspended(again.id):
                self._start(again, job_id, content)

        task.add_done_callback(ended)

    async def _run(
        self,
        user: UserRecord,
        job_id: str,
        content: OutgoingMessage,
        reservation: Reservation | None,
    ) -> None:
        """Send to the recipients still pending. Without a `reservation` (a job resumed
        after a restart, or after its account was enabled again), room for them is reserved
        now, or, failing that, one by one. The reservation is released however this ends."""
        try:
            async with self.db.write() as tx:
                await bulk_jobs.set_status(tx, job_id, BulkJobStatus.RUNNING)
                job = await bulk_jobs.get(tx, job_id)
                recipients = await bulk_jobs.recipients(tx, job_id)
            assert job is not None
            pending = [r for r in recipients if r.status == RecipientStatus.PENDING]
            if reservation is None:
                reservation = await self._room_for(user, len(pending))
            try:
                await self._send_all(user, job, pending, content, reservation)
            except _Lost:
                logger.warning("bulk.lost", job_id=job_id)
                return
            except _Paused:
                paused = BulkJobStatus.PAUSED if job.is_async else BulkJobStatus.INTERRUPTED
                await self._set_status(job_id, paused)
                logger.info("bulk.stopped_account_disabled", job_id=job_id, status=paused.value)
                return
        finally:
            if reservation is not None:
                reservation.release()
        await self._set_status(job_id, BulkJobStatus.DONE)
        self._discard_spool(job)
        logger.info("bulk.done", job_id=job_id)

    async def _room_for(self, user: UserRecord, count: int) -> Reservation | None:
        """Room in today's quota for `count` sends, or None: each send then asks for its
        own room, and fails naming the limit."""
        with suppress(PlanLimitReached):
            return await self.usage.reserve(user, count)
        return None

    async def _send_all(
        self,
        user: UserRecord,
        job: bulk_jobs.JobRecord,
        pending: list[bulk_jobs.RecipientRecord],
        content: OutgoingMessage,
        reservation: Reservation | None,
    ) -> None:
        last_send: float | None = None
        renewed: Reservation | None = None  # made here after midnight, released here
        try:
            for index, recipient in enumerate(pending):
                if self.sessions.suspended(user.id):
                    raise _Paused
                if reservation is not None and reservation.stale:
                    # Past midnight: what is left must fit in the new day's quota.
                    if renewed is not None:
                        renewed.release()
                    reservation = renewed = await self._room_for(user, len(pending) - index)
                last_send = await self._send_next(
                    user, job, recipient, content, reservation=reservation, last_send=last_send
                )
        finally:
            if renewed is not None:
                renewed.release()

    async def _send_next(
        self,
        user: UserRecord,
        job: bulk_jobs.JobRecord,
        recipient: bulk_jobs.RecipientRecord,
        content: OutgoingMessage,
        *,
        reservation: Reservation | None,
        last_send: float | None,
    ) -> float | None:
        """One recipient of the job, its outcome stored; the time of the last send."""
        job_id, session_id = job.id, job.session_id
        try:
            to = parse_recipient(recipient.recipient, field=f"recipients[{recipient.position}]")
        except BadRequest as exc:
            await self._mark(job_id, recipient.position, RecipientStatus.FAILED, error=exc.message)
            return last_send
        # The queue holds the gap for the session (`min_gap` below); waiting here too keeps
        # the recipient `pending`, not `sending`, while it waits, so a crash meanwhile
        # leaves it to be sent after the restart rather than reported unknown.
        if last_send is not None:
            wait = last_send + self.min_gap - self.clock()
            if wait > 0:
                await asyncio.sleep(wait)
        if job.is_async and not await self._connected(user, session_id):
            await self._mark(
                job_id,
                recipient.position,
                RecipientStatus.FAILED,
                error=f"Session {session_id} is not connected.",
            )
            return last_send
        while True:
            sent_at: list[float] = []
            owner_before = self.sessions.owner_of(session_id)
            # From `sending` on, the send must end with its outcome stored, even if the job
            # is being stopped: it runs in its own task, which a stop waits for.
            send = asyncio.create_task(
                self._send_one(
                    user,
                    job_id,
                    replace(content, to=to),
                    position=recipient.position,
                    session_id=session_id,
                    sent_at=sent_at,
                    reservation=reservation,
                )
            )
            try:
                moved = await asyncio.shield(send)
            except asyncio.CancelledError:
                await send
                raise
            if not moved or self.sessions.suspended(user.id):  # paused: it stays pending
                return sent_at[0] if sent_at else last_send
            # Nothing was sent: the recipient is pending again, for the session's next node.
            self.waiting[job_id] = session_id
            self.changes.notify()
            try:
                back = await self._moved(session_id, owner_before)
            finally:
                del self.waiting[job_id]
                self.changes.notify()
            if not back:
                await self._mark(
                    job_id,
                    recipient.position,
                    RecipientStatus.FAILED,
                    error=f"Session {session_id} did not run again on any node in time.",
                )
                return last_send

    async def _send_one(
        self,
        user: UserRecord,
        job_id: str,
        message: OutgoingMessage,
        *,
        position: int,
        session_id: str,
        sent_at: list[float],
        reservation: Reservation | None,
    ) -> bool:
        """One recipient, on the job's `reservation`, or on one of its own without. True
        when its session was moving (nothing sent, the recipient left pending)."""
        async with self.db.write() as tx:
            ours = await bulk_jobs.start_sending(tx, job_id, position, self.node_token())
        if not ours:
            raise _Lost
        position_status = RecipientStatus.FAILED
        error: str | None = None
        message_id: str | None = None
        own = None
        moving = False
        try:
            if reservation is None:
                reservation = own = await self.usage.reserve(user)
            session = self._session_view(user, session_id)
            sent = await self.sender.deliver(
                user, session, message, reservation, bulk_job_id=job_id, min_gap=self.min_gap
            )
            sent_at.append(self.clock())
            position_status, message_id = RecipientStatus.SENT, sent.message_id
        except OutcomeUnknown as exc:
            position_status, error = RecipientStatus.UNKNOWN, exc.message
        except AccountDisabled:  # refused before the engine had it: still to be sent
            position_status = RecipientStatus.PENDING
        except Unavailable as exc:
            if exc.code == MOVING:
                position_status, moving = RecipientStatus.PENDING, True
            else:
                error = exc.message
        except SendmakoError as exc:
            error = exc.message
        finally:
            if own is not None:
                own.release()
        await self._mark(job_id, position, position_status, message_id=message_id, error=error)
        return moving

    async def _moved(self, session_id: str, owner_before: str | None) -> bool:
        """Wait until the session, which was moving, is connected on a node again."""

        def settled(view: SessionView) -> bool:
            owner = self.sessions.owner_of(session_id)
            moved = self.sessions.runs_here(session_id) or owner not in (None, owner_before)
            return view.status == SessionStatus.CONNECTED and moved

        try:
            await self.sessions.wait_until(session_id, settled, RECONNECT_WAIT_SECONDS)
        except (TimeoutError, NotFound):
            return False
        return True

    def _session_view(self, user: UserRecord, session_id: str) -> SessionView:
        return self.sessions.get(user, session_id)

    async def _connected(self, user: UserRecord, session_id: str) -> bool:
        try:
            view = self.sessions.get(user, session_id)
            if view.status == SessionStatus.CONNECTED:
                return True
            await self.sessions.wait_for(
                session_id, [SessionStatus.CONNECTED], RECONNECT_WAIT_SECONDS
            )
        except (TimeoutError, NotFound, Unavailable):
            return False
        return True

    async def _set_status(self, job_id: str, status: BulkJobStatus) -> None:
        async with self.db.write() as tx:
            await bulk_jobs.set_status(tx, job_id, status)

    async def _mark(
        self,
        job_id: str,
        position: int,
        status: RecipientStatus,
        *,
        message_id: str | None = None,
        error: str | None = None,
    ) -> None:
        async with self.db.write() as tx:
            await bulk_jobs.mark(tx, job_id, position, status, message_id=message_id, error=error)

    async def _view(self, job_id: str) -> JobView:
        async with self.db.read() as db:
            job = await bulk_jobs.get(db, job_id)
            rows = await bulk_jobs.recipients(db, job_id)
        assert job is not None
        return JobView(
            id=job.id,
            session_id=job.session_id,
            status=job.status,
            results=[
                RecipientView(row.recipient, row.status, row.message_id, row.error) for row in rows
            ],
        )

    async def _content(self, job: bulk_jobs.JobRecord) -> OutgoingMessage:
        async with self.db.read() as db:
            media = await bulk_jobs.media(db, job.id)
        return message_codec.thaw(job.request, media)

    @staticmethod
    def _discard_spool(job: bulk_jobs.JobRecord) -> None:
        """A job from before media were stored in the database left its media in a file."""
        media = job.request.get("media")
        if isinstance(media, dict) and isinstance(media.get("path"), str):
            Path(media["path"]).unlink(missing_ok=True)
