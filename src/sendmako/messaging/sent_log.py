"""Every sent message is stored (session, recipient, type, WhatsApp id, status `sent`,
timestamps) so receipts can move it to delivered and read. Rows are group-committed."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako import metrics
from sendmako.model.actions import SendResult
from sendmako.model.messages import OutgoingMessage
from sendmako.model.statuses import MessageStatus
from sendmako.storage import messages
from sendmako.storage.batching import BatchWriter
from sendmako.storage.db import Database


class SentLog:
    def __init__(self, db: Database) -> None:
        self._writer: BatchWriter[messages.NewMessage] = BatchWriter(db, self._write)

    def record_sent(
        self,
        *,
        user_id: int,
        session_id: str,
        message: OutgoingMessage,
        result: SendResult,
        bulk_job_id: str | None = None,
    ) -> asyncio.Future[None]:
        """Register a sent message now; the future resolves once it is committed."""
        metrics.message_sent(session_id)
        return self._writer.add_nowait(
            messages.NewMessage(
                user_id=user_id,
                session_id=session_id,
                direction="out",
                wa_message_id=result.message_id,
                chat=str(message.to),
                peer=message.to.user if not message.to.is_group else str(message.to),
                type=message.type.value,
                status=MessageStatus.SENT,
                created_at=result.timestamp,
                bulk_job_id=bulk_job_id,
                body=message.text,
                media=_media(message),
                quoted_id=message.quoted_message_id,
                poll=messages.poll_data(message.poll) if message.poll is not None else None,
            )
        )

    async def flush(self) -> None:
        """Wait until every message registered so far is stored."""
        await self._writer.flush()

    async def close(self) -> None:
        await self._writer.close()

    @staticmethod
    async def _write(tx: AsyncSession, rows: Sequence[messages.NewMessage]) -> None:
        await messages.add_many(tx, rows)


def _media(message: OutgoingMessage) -> dict[str, object] | None:
    """What is kept of a sent file: what it was, never its bytes."""
    media = message.media
    if media is None:
        return None
    return {
        "mediaType": message.type.value,
        "mimetype": media.mimetype,
        "fileSize": str(len(media.data)),
        "fileName": media.filename,
        "width": media.width,
        "height": media.height,
        "duration": media.seconds,
        "voiceNote": message.voice_note,
    }
