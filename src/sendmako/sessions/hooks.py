"""What the SessionManager hands the rest of the server: session events to record (the
webhook outbox) and engine events to store (messages, receipts, contacts, groups)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Sequence
from functools import partial
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.concurrency.background import Background
from sendmako.inbound import registry
from sendmako.model.events import SessionEvent, WhatsAppEvent
from sendmako.storage.db import after_commit
from sendmako.storage.records import SessionRecord


class SessionEventRecorder(Protocol):
    """Receives session events (of one user, in order) inside the transaction that records
    the state change. Events that happen together come together: a busy number's incoming
    messages cost a recorder a few statements per batch, not per message."""

    async def record(
        self, tx: AsyncSession, user_id: int, events: Sequence[SessionEvent]
    ) -> None: ...


class MessageEventHandler(Protocol):
    """Stores what an engine reports about messages, contacts and groups.

    Called one event at a time per session, in the order the engine reported them. A
    handler that queues its writes (group commit) returns an awaitable that completes once
    they are durable; it is awaited after the next event may start, so one busy number's
    events share transactions instead of waiting for each other's commits."""

    async def handle(
        self, session: SessionRecord, event: WhatsAppEvent
    ) -> Awaitable[None] | None: ...


class SyncsOnConnect(ABC):
    """A `SessionEventRecorder` that reads something from a session each time it connects
    (its contacts, its groups), in the background once the connection is committed."""

    background: Background

    async def record(self, tx: AsyncSession, user_id: int, events: Sequence[SessionEvent]) -> None:
        for event in events:
            if event.name == registry.SESSION_CONNECTED:
                after_commit(tx, partial(self._start_sync, user_id, event.session_id))

    def _start_sync(self, user_id: int, session_id: str) -> None:
        self.background.spawn(self._sync_connected(user_id, session_id), session_id=session_id)

    @abstractmethod
    async def _sync_connected(self, user_id: int, session_id: str) -> None: ...
