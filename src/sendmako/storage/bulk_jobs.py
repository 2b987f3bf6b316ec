"""Queries on bulk jobs, their recipients and their media. A job is run by the node whose
lease token it carries (`owner_token`); another node takes it only once that lease is gone
(`adoptable`, `take`), and a recipient is marked `sending` only under the job's current
token (`start_sending`): a node that lost a job sends nothing more for it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.model.statuses import BulkJobStatus, RecipientStatus
from sendmako.storage.nodes import live_tokens
from sendmako.storage.tables import BulkJob, BulkMedia, BulkRecipient, utcnow


@dataclass(frozen=True, slots=True)
class RecipientRecord:
    position: int
    recipient: str
    status: RecipientStatus
    message_id: str | None
    error: str | None
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class JobRecord:
    id: str
    user_id: int
    session_id: str
    status: BulkJobStatus
    is_async: bool
    request: dict[str, object]
    total: int
    created_at: datetime
    finished_at: datetime | None
    owner: str | None = None
    owner_token: int | None = None


def _job(row: BulkJob) -> JobRecord:
    return JobRecord(
        id=row.id,
        user_id=row.user_id,
        session_id=row.session_id,
        status=BulkJobStatus(row.status),
        is_async=row.is_async,
        request=dict(row.request),
        total=row.total,
        created_at=row.created_at,
        finished_at=row.finished_at,
        owner=row.owner,
        owner_token=row.owner_token,
    )


def _recipient(row: BulkRecipient) -> RecipientRecord:
    return RecipientRecord(
        position=row.position,
        recipient=row.recipient,
        status=RecipientStatus(row.status),
        message_id=row.message_id,
        error=row.error,
        sent_at=row.sent_at,
    )


async def create(
    db: AsyncSession,
    *,
    job_id: str,
    user_id: int,
    session_id: str,
    is_async: bool,
    request: dict[str, object],
    recipients: Sequence[str],
    media: bytes | None = None,
    owner: str | None = None,
    owner_token: int | None = None,
) -> JobRecord:
    row = BulkJob(
        id=job_id,
        user_id=user_id,
        session_id=session_id,
        status=BulkJobStatus.QUEUED,
        is_async=is_async,
        request=request,
        total=len(recipients),
        owner=owner,
        owner_token=owner_token,
    )
    db.add(row)
    if media is not None:
        await db.flush()  # the job's row first: the media's refers to it
        db.add(BulkMedia(job_id=job_id, data=media))
    db.add_all(
        BulkRecipient(
            job_id=job_id, position=index, recipient=recipient, status=RecipientStatus.PENDING
        )
        for index, recipient in enumerate(recipients)
    )
    await db.flush()
    return _job(row)


async def get(db: AsyncSession, job_id: str) -> JobRecord | None:
    row = await db.get(BulkJob, job_id)
    return _job(row) if row else None


async def recipients(db: AsyncSession, job_id: str) -> list[RecipientRecord]:
    rows = await db.scalars(
        select(BulkRecipient).where(BulkRecipient.job_id == job_id).order_by(BulkRecipient.position)
    )
    return [_recipient(row) for row in rows]


_UNFINISHED = (BulkJobStatus.QUEUED, BulkJobStatus.RUNNING, BulkJobStatus.PAUSED)


async def unfinished(db: AsyncSession, *, user_id: int | None = None) -> list[JobRecord]:
    """Jobs not done, oldest first (only the user's, with `user_id`)."""
    query = select(BulkJob).where(BulkJob.status.in_(_UNFINISHED)).order_by(BulkJob.created_at)
    if user_id is not None:
        query = query.where(BulkJob.user_id == user_id)
    return [_job(row) for row in await db.scalars(query)]


async def pause_for_user(db: AsyncSession, user_id: int) -> None:
    """The user's unfinished asynchronous jobs wait for the account to be enabled again."""
    await db.execute(
        update(BulkJob)
        .where(
            BulkJob.user_id == user_id,
            BulkJob.is_async.is_(True),
            BulkJob.status.in_([BulkJobStatus.QUEUED, BulkJobStatus.RUNNING]),
        )
        .values(status=BulkJobStatus.PAUSED)
    )


async def set_status(db: AsyncSession, job_id: str, status: BulkJobStatus) -> None:
    values: dict[str, object] = {"status": status}
    if status in (BulkJobStatus.DONE, BulkJobStatus.INTERRUPTED):
        values["finished_at"] = utcnow()
    await db.execute(update(BulkJob).where(BulkJob.id == job_id).values(values))


async def mark(
    db: AsyncSession,
    job_id: str,
    position: int,
    status: RecipientStatus,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, object] = {"status": status, "message_id": message_id, "error": error}
    if status == RecipientStatus.SENT:
        values["sent_at"] = utcnow()
    await db.execute(
        update(BulkRecipient)
        .where(BulkRecipient.job_id == job_id, BulkRecipient.position == position)
        .values(values)
    )


async def mark_unknown_after_crash(db: AsyncSession, job_id: str) -> int:
    """Recipients caught between "sending" and an outcome when the job's node stopped (or
    died): their send may or may not have happened, so they are reported as unknown and
    never sent again."""
    result = await db.execute(
        update(BulkRecipient)
        .where(BulkRecipient.job_id == job_id, BulkRecipient.status == RecipientStatus.SENDING)
        .values(
            status=RecipientStatus.UNKNOWN,
            error="The server stopped while this message was being sent: it may or may not "
            "have been delivered, so it was not sent again.",
        )
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


async def media(db: AsyncSession, job_id: str) -> bytes | None:
    """The job's media bytes, stored with it (None: none, or a job from before, whose
    media is a file named in its request)."""
    return await db.scalar(select(BulkMedia.data).where(BulkMedia.job_id == job_id))


async def adoptable(
    db: AsyncSession, now: datetime, *, user_id: int | None = None
) -> list[JobRecord]:
    """Unfinished jobs no live node holds, oldest first."""
    query = (
        select(BulkJob)
        .where(
            BulkJob.status.in_(_UNFINISHED),
            or_(BulkJob.owner_token.is_(None), BulkJob.owner_token.not_in(live_tokens(now))),
        )
        .order_by(BulkJob.created_at)
    )
    if user_id is not None:
        query = query.where(BulkJob.user_id == user_id)
    return [_job(row) for row in await db.scalars(query)]


async def take(
    db: AsyncSession, job: JobRecord, owner: str, owner_token: int, now: datetime
) -> bool:
    """Make the job this node's, if it is still held by nobody alive (two nodes adopting it
    at once: one wins)."""
    held_by = (
        BulkJob.owner_token.is_(None)
        if job.owner_token is None
        else BulkJob.owner_token == job.owner_token
    )
    result = await db.execute(
        update(BulkJob)
        .where(
            BulkJob.id == job.id,
            held_by,
            or_(BulkJob.owner_token.is_(None), BulkJob.owner_token.not_in(live_tokens(now))),
        )
        .values(owner=owner, owner_token=owner_token)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


async def start_sending(db: AsyncSession, job_id: str, position: int, owner_token: int) -> bool:
    """Mark a pending recipient `sending`, if the job is still this node's (the fence):
    False means it is not, and the recipient must not be sent from here."""
    still_ours = exists().where(BulkJob.id == job_id, BulkJob.owner_token == owner_token)
    result = await db.execute(
        update(BulkRecipient)
        .where(
            BulkRecipient.job_id == job_id,
            BulkRecipient.position == position,
            BulkRecipient.status == RecipientStatus.PENDING,
            still_ours,
        )
        .values(status=RecipientStatus.SENDING)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]
