"""What engines report about messages becomes stored rows and webhook events, in one
transaction, for every kind the registry declares (inbound/registry.py): incoming messages
(`message.received`), receipts (`message.status`), and whatever kinds come next.

Events are group-committed: those that arrive together (from every session) are written in
one transaction, and each caller returns once its event is committed. A session's events
still land in the order it reported them (each waits for its own commit before the next).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako import log
from sendmako.inbound import registry
from sendmako.inbound.stores import Arrived
from sendmako.messaging.sent_log import SentLog
from sendmako.model.events import SessionEvent, WhatsAppEvent
from sendmako.sessions.hooks import SessionEventRecorder
from sendmako.storage.batching import BatchWriter
from sendmako.storage.db import Database
from sendmako.storage.records import SessionRecord

logger = log.get(__name__)


class Inbox:
    def __init__(
        self, db: Database, sent_log: SentLog, recorders: Sequence[SessionEventRecorder]
    ) -> None:
        self.db = db
        self.sent_log = sent_log
        # The manager's own list: recorders added later (webhooks) are seen here too.
        self.recorders = recorders
        self._batches: BatchWriter[Arrived[Any]] = BatchWriter(db, self._write)

    async def handle(self, session: SessionRecord, event: WhatsAppEvent) -> Awaitable[None] | None:
        """Queues the event's writes in order; the result completes once they commit.
        Events of kinds the registry does not declare are someone else's (contacts, groups)."""
        kind = registry.BY_EVENT.get(type(event))
        if kind is None:
            return None
        if kind.after_sends:
            await self.sent_log.flush()
        return self._batches.add_nowait(Arrived(session, event))

    async def close(self) -> None:
        await self._batches.close()

    async def _write(self, tx: AsyncSession, items: Sequence[Arrived[Any]]) -> None:
        # Kind by kind, in the registry's order: a batch costs a few statements whatever its
        # size. No kind refers to another's events of the same batch (receipts are about
        # messages we sent, never incoming ones), so each session's outcome is the one its
        # events taken one by one would have.
        by_kind: dict[type[Any], list[Arrived[Any]]] = defaultdict(list)
        for item in items:
            by_kind[type(item.event)].append(item)
        events: dict[int, list[SessionEvent]] = defaultdict(list)
        for kind in registry.KINDS:
            arrived = by_kind.get(kind.event)
            if not arrived:
                continue
            for item, stored in await kind.store(tx, arrived):
                session = item.session
                data = kind.payload(item.event, stored)
                events[session.user_id].append(
                    SessionEvent(kind.webhook(item.event), session.session_id, data)
                )
        for user_id, of_user in sorted(events.items()):  # one lock order (stream counters)
            for recorder in self.recorders:
                await recorder.record(tx, user_id, of_user)
