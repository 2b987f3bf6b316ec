"""How the simulated network reaches sandbox sessions: which sessions are linked to a
number, and handing an event to a session wherever it runs.

Two implementations of one contract: `LocalExchange` (one node: every session is in this
process, nothing is shared), and `RedisExchange` (several nodes, `cluster.py`).
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

from sendmako.model.events import WhatsAppEvent

if TYPE_CHECKING:
    from sendmako.engines.sandbox.engine import SandboxSession


class Exchange(ABC):
    """Sessions are named by their session id: one may run on another node."""

    async def start(self) -> None:
        """Before any session goes online."""

    async def close(self) -> None:
        """After every session of this node has stopped."""

    @abstractmethod
    async def online(self, session: SandboxSession, phone: str) -> None:
        """`session` is connected as `phone`: what is sent to `phone` reaches it from now
        on (the moment this returns), and what was posted to it while it was away."""

    @abstractmethod
    async def unreachable(self, session: SandboxSession) -> None:
        """`session` is no longer linked to its number, or lost its connection: what is
        sent to the number no longer reaches it. It may still be posted to (receipts)."""

    @abstractmethod
    async def stopped(self, session: SandboxSession) -> None:
        """`session` stopped running on this node, after handing over all it had taken. It
        stays linked: with several nodes it may run elsewhere next, and what is posted to
        it meanwhile waits for it there."""

    @abstractmethod
    async def sessions_of(self, phones: Sequence[str]) -> dict[str, list[str]]:
        """The sessions (ids) reached by a message to each of `phones`: those linked to it
        and connected, or moving between nodes."""

    @abstractmethod
    def post(
        self,
        session_ids: Sequence[str],
        event: WhatsAppEvent,
        *,
        stored: bool = False,
        volatile: bool = False,
    ) -> asyncio.Future[None]:
        """Hand `event` to each session, after everything posted before it. The future
        resolves once the event cannot be lost (and a session that moves gets it where it
        runs next); with `stored`, once every session has stored it (or after a while, for
        one that is not running: it gets it later). Never raises at once.

        `volatile`: an event this node's crash would lose anyway (a receipt scheduled in
        memory), which may skip the order and the safekeeping others get."""

    @abstractmethod
    async def watch(self, session: SandboxSession, phone: str) -> None:
        """`session` hears each presence change of `phone` (until it is unreachable)."""

    @abstractmethod
    async def watchers(self, phone: str) -> list[str]:
        """The sessions watching `phone`'s presence."""

    @abstractmethod
    async def set_presence(self, phone: str, state: str) -> None: ...

    @abstractmethod
    async def presence(self, phone: str) -> str | None:
        """What `phone` last said of its presence, if anything."""

    async def forget(self, session_id: str, phone: str | None) -> None:
        """`session_id` (linked to `phone`, if it is) was deleted: whatever waited for it
        goes."""


class LocalExchange(Exchange):
    """One node: sessions are objects of this process, events are handed over at once."""

    def __init__(self) -> None:
        self._sessions: dict[str, SandboxSession] = {}  # every session online since it started
        self._online: dict[str, set[str]] = {}  # phone -> session ids
        self._watchers: dict[str, set[str]] = {}  # phone -> session ids
        self._presence: dict[str, str] = {}

    async def online(self, session: SandboxSession, phone: str) -> None:
        self._sessions[session.spec.session_id] = session
        self._online.setdefault(phone, set()).add(session.spec.session_id)

    async def unreachable(self, session: SandboxSession) -> None:
        session_id = session.spec.session_id
        for sessions in self._online.values():
            sessions.discard(session_id)
        for watchers in self._watchers.values():
            watchers.discard(session_id)

    async def stopped(self, session: SandboxSession) -> None:
        await self.unreachable(session)
        self._sessions.pop(session.spec.session_id, None)

    async def sessions_of(self, phones: Sequence[str]) -> dict[str, list[str]]:
        return {phone: sorted(self._online.get(phone, ())) for phone in phones}

    def post(
        self,
        session_ids: Sequence[str],
        event: WhatsAppEvent,
        *,
        stored: bool = False,
        volatile: bool = False,
    ) -> asyncio.Future[None]:
        handled = [
            session.deliver(event)
            for session_id in session_ids
            if (session := self._sessions.get(session_id)) is not None
        ]
        if stored:
            return _all_done(handled)
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    async def watch(self, session: SandboxSession, phone: str) -> None:
        self._watchers.setdefault(phone, set()).add(session.spec.session_id)

    async def watchers(self, phone: str) -> list[str]:
        return sorted(self._watchers.get(phone, ()))

    async def set_presence(self, phone: str, state: str) -> None:
        self._presence[phone] = state

    async def presence(self, phone: str) -> str | None:
        return self._presence.get(phone)


def _all_done(futures: list[asyncio.Future[None]]) -> asyncio.Future[None]:
    """Resolves once every one of `futures` is done, whatever its outcome (the first
    failure is its own; a session that stopped before storing it is no failure)."""
    return asyncio.ensure_future(_settle(futures))


async def _settle(futures: list[asyncio.Future[None]]) -> None:
    for outcome in await asyncio.gather(*futures, return_exceptions=True):
        if isinstance(outcome, Exception):
            raise outcome
