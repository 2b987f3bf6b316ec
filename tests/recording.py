"""Captures the events the server records (what webhooks will deliver), and lets a test
wait for one without sleeping."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.model.events import SessionEvent


@dataclass
class EventLog:
    events: list[tuple[int, SessionEvent]] = field(default_factory=list)
    _changed: asyncio.Condition = field(default_factory=asyncio.Condition)

    async def record(self, tx: AsyncSession, user_id: int, events: Sequence[SessionEvent]) -> None:
        self.events.extend((user_id, event) for event in events)
        async with self._changed:
            self._changed.notify_all()

    def named(self, name: str, session_id: str | None = None) -> list[SessionEvent]:
        return [
            event
            for _, event in self.events
            if event.name == name and (session_id is None or event.session_id == session_id)
        ]

    async def wait_for(self, predicate: Callable[[EventLog], bool], timeout: float = 5) -> None:
        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: predicate(self))
