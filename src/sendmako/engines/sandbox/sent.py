"""The sandbox's sent log: what each simulated session put on the simulated wire, its last
`SENT_LOG_SIZE` sends. Demos show it, and tests prove with it that nothing was sent twice.

`MemorySentLog` keeps it in this process (one node); `RedisSentLog` (`cluster.py`) where
every node reads it, so it survives the node that sent."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import deque

from sendmako.concurrency.changes import Changes
from sendmako.model.simulation import SentRecord

SENT_LOG_SIZE = 1000


class SentLog(ABC):
    def __init__(self) -> None:
        self._changed = Changes()
        self._counts: dict[str, int] = {}  # what this process knows each session sent

    @abstractmethod
    async def _append(self, session_id: str, record: SentRecord) -> None: ...

    @abstractmethod
    async def of(self, session_id: str) -> list[SentRecord]:
        """What `session_id` sent, oldest first (its last SENT_LOG_SIZE sends), whichever
        node sent them."""

    @abstractmethod
    async def _drop(self, session_id: str) -> None: ...

    async def add(self, session_id: str, record: SentRecord) -> None:
        """Logged before the send is answered: a send the log does not show never
        happened."""
        await self._append(session_id, record)
        self._counts[session_id] = self._counts.get(session_id, 0) + 1
        self._changed.notify()

    async def wait(self, session_id: str, count: int, timeout: float) -> list[SentRecord]:
        """Wait until `session_id` has sent at least `count` messages through this node
        (a live view for tests and demos), and answer its log."""
        await self._changed.wait_until(lambda: self._counts.get(session_id, 0) >= count, timeout)
        return await self.of(session_id)

    async def forget(self, session_id: str) -> None:
        self._counts.pop(session_id, None)
        await self._drop(session_id)


class MemorySentLog(SentLog):
    def __init__(self) -> None:
        super().__init__()
        self._sent: dict[str, deque[SentRecord]] = {}

    async def _append(self, session_id: str, record: SentRecord) -> None:
        self._sent.setdefault(session_id, deque(maxlen=SENT_LOG_SIZE)).append(record)

    async def of(self, session_id: str) -> list[SentRecord]:
        return list(self._sent.get(session_id, ()))

    async def _drop(self, session_id: str) -> None:
        self._sent.pop(session_id, None)
