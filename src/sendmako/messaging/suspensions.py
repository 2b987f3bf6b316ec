"""Disabled accounts send nothing: this server's sessions and bulk jobs follow which accounts
are disabled, whoever disabled them.

An account is disabled or enabled by `accounts.set_disabled` alone: from the admin page
(`set_disabled` here, which applies the change at once) or from the CLI, another process,
whose change reaches the server through the credentials epoch (the file the API key cache
watches) within `poll_seconds`. On several nodes, a change made on one node, or by the CLI,
reaches the others at once through the bus (`CREDENTIALS_TOPIC`, which the API key cache
hears too). Applying it: a disabled account's sessions refuse every send
(`SessionManager.suspend`: the messages waiting in their queues fail, never sent) and its
bulk jobs stop, their pending recipients left pending (`BulkSender.pause`); enabled again,
its sessions send again and its asynchronous jobs carry on (`BulkSender.resume_user`). At
start-up, before any job resumes, the accounts disabled while the server was down are.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress

from sendmako import accounts, log
from sendmako.accounts.auth import CREDENTIALS_TOPIC, CredentialsEpoch
from sendmako.cluster import Bus
from sendmako.concurrency.changes import Changes
from sendmako.messaging.bulk import BulkSender
from sendmako.sessions.manager import SessionManager
from sendmako.storage import users
from sendmako.storage.db import Database

logger = log.get(__name__)

POLL_SECONDS = 1.0


class Suspensions:
    def __init__(
        self,
        db: Database,
        sessions: SessionManager,
        bulk: BulkSender,
        epoch: CredentialsEpoch,
        *,
        bus: Bus | None = None,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self.db = db
        self.sessions = sessions
        self.bulk = bulk
        self.epoch = epoch
        self.poll_seconds = poll_seconds
        self.disabled: frozenset[int] = frozenset()  # as applied to this server
        self._seen = epoch.read()
        self._lock = asyncio.Lock()
        self._changes = Changes()
        self._watch: asyncio.Task[None] | None = None
        self._told = asyncio.Event()  # another node said accounts may have changed
        if bus is not None:
            bus.on(CREDENTIALS_TOPIC, lambda _message: self._told.set())
            bus.on_reconnect(self._told.set)

    async def start(self) -> None:
        """Apply the accounts disabled now, then follow changes made by other processes."""
        await self.refresh()
        self._watch = asyncio.create_task(self._watching(), name="suspensions-watch")

    async def stop(self) -> None:
        watch, self._watch = self._watch, None
        if watch is not None:
            watch.cancel()
            with suppress(asyncio.CancelledError):
                await watch

    async def set_disabled(self, user_id: int, *, disabled: bool) -> None:
        """Disable or enable an account, applied to this server at once."""
        await accounts.set_disabled(self.db, self.epoch, user_id, disabled=disabled)
        await self.refresh()

    async def refresh(self) -> None:
        """Read which accounts are disabled and apply what changed."""
        async with self._lock:
            async with self.db.read() as db:
                now = frozenset(await users.disabled_ids(db))
            for user_id in sorted(now - self.disabled):
                self.sessions.suspend(user_id)
                await self.bulk.pause(user_id)
                logger.info("account.suspended", user_id=user_id)
            for user_id in sorted(self.disabled - now):
                self.sessions.reinstate(user_id)
                async with self.db.read() as db:
                    user = await users.get(db, user_id)
                if user is not None:  # else deleted meanwhile: nothing left to resume
                    await self.bulk.resume_user(user)
                logger.info("account.reinstated", user_id=user_id)
            self.disabled = now
        self._changes.notify()

    async def wait_until(self, predicate: Callable[[frozenset[int]], bool], timeout: float) -> None:
        """Wait until the applied set of disabled accounts satisfies `predicate` (tests)."""
        await self._changes.wait_until(lambda: predicate(self.disabled), timeout)

    async def _watching(self) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._told.wait(), self.poll_seconds)
            told, seen = self._told.is_set(), self.epoch.read()
            self._told.clear()
            if seen == self._seen and not told:
                continue
            self._seen = seen
            try:
                await self.refresh()
            except Exception:  # noqa: BLE001 - the watch must outlive a database hiccup
                logger.exception("suspensions.refresh_failed")
                self._seen = -1  # try again on the next turn
