"""Checking a request's API key, with a cache that forgets changed keys at once, on every
node: a change made here is published on the bus (`CREDENTIALS_TOPIC`), and one made by the
CLI, another process, is published by it (several nodes) and bumps the credentials epoch
(a file of the data directory, one node)."""

from __future__ import annotations

import hmac
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from sendmako.accounts.keys import KEY_SHAPE, hash_key
from sendmako.cluster import Bus, Message
from sendmako.concurrency.changes import Changes
from sendmako.errors import AccountDisabled, Unauthorized
from sendmako.storage import api_keys
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord
from sendmako.storage.tables import utcnow

# Writing last_used_at on every request would make every read a write; once a minute is
# precise enough for "last used".
TOUCH_INTERVAL = timedelta(seconds=60)
# Keys, users (disabled or not) or plans changed: {"user_id": the user, or None: anyone}.
CREDENTIALS_TOPIC = "credentials"


class CredentialsEpoch:
    """A file whose change tells every server process that keys, users or plans changed
    elsewhere (the CLI is another process): a `stat` per request, no database round trip."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def read(self) -> int:
        try:
            return self.path.stat().st_mtime_ns
        except FileNotFoundError:
            return 0

    def bump(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(f"{time.time_ns()}\n")
        # Some filesystems keep coarse mtimes; make sure the value moves.
        stamp = time.time_ns()
        os.utime(self.path, ns=(stamp, stamp))


class Authenticator:
    """Checks API keys. Known keys are cached in memory so a request costs no database
    round trip; the cache forgets a key at once when this process changes it
    (`forget_user`), when another node tells it so through the bus, when another process
    bumps the epoch, and after `ttl` at the latest."""

    def __init__(
        self,
        db: Database,
        epoch: CredentialsEpoch,
        *,
        bus: Bus | None = None,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.epoch = epoch
        self.bus = bus
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[api_keys.KeyOwner, float]] = {}
        self._seen_epoch = epoch.read()
        # Bumped whenever something is forgotten: a lookup begun before is not kept.
        self.generation = 0
        self.changes = Changes()  # notified at each `generation`
        if bus is not None:
            bus.on(CREDENTIALS_TOPIC, self._heard)
            bus.on_reconnect(self._forget_all_here)

    async def authenticate(self, authorization: str | None) -> UserRecord:
        """The user whose key is in `Authorization: Bearer wsa_...`, or `Unauthorized`."""
        digest = _digest_of(authorization)
        owner = self._cached(digest)
        generation = self.generation
        if owner is None:
            async with self.db.read() as session:
                owner = await api_keys.owner_of(session, digest)
            # The lookup is by an index on the hash; comparing again in constant time costs
            # nothing and keeps the check independent of how the database compares strings.
            if owner is None or not hmac.compare_digest(owner.key_hash, digest):
                raise Unauthorized("Invalid API key.", code="invalid_key")
            if generation == self.generation:
                self._cache[digest] = (owner, self.clock() + self.ttl)
        if owner.revoked:
            raise Unauthorized("This API key has been revoked.", code="revoked_key")
        if owner.user.disabled:
            raise AccountDisabled("This account is disabled.")
        now = utcnow()
        if owner.last_used_at is None or now - owner.last_used_at > TOUCH_INTERVAL:
            async with self.db.write() as tx:
                await api_keys.touch(tx, owner.key_id, now)
            if generation == self.generation:
                self._cache[digest] = (replace(owner, last_used_at=now), self.clock() + self.ttl)
        return owner.user

    async def forget_user(self, user_id: int) -> None:
        """Call after changing a user's keys, plan or status (committed): forgotten here and
        on every node."""
        self._forget_user_here(user_id)
        await self._publish({"user_id": user_id})

    async def forget_all(self) -> None:
        """Call after changing what every user may carry (a plan)."""
        self._forget_all_here()
        await self._publish({"user_id": None})

    async def _publish(self, message: Message) -> None:
        if self.bus is not None:
            await self.bus.publish(CREDENTIALS_TOPIC, message)

    def _heard(self, message: Message) -> None:
        user_id = message.get("user_id")
        if user_id is None:
            self._forget_all_here()
        else:
            self._forget_user_here(int(user_id))

    def _forget_user_here(self, user_id: int) -> None:
        for digest in [d for d, (owner, _) in self._cache.items() if owner.user.id == user_id]:
            del self._cache[digest]
        self._forgot()

    def _forget_all_here(self) -> None:
        self._cache.clear()
        self._forgot()

    def _forgot(self) -> None:
        self.generation += 1
        self.changes.notify()

    def _cached(self, digest: str) -> api_keys.KeyOwner | None:
        epoch = self.epoch.read()
        if epoch != self._seen_epoch:
            self._seen_epoch = epoch
            self._forget_all_here()
            return None
        entry = self._cache.get(digest)
        if entry is None:
            return None
        owner, expires = entry
        if self.clock() >= expires:
            del self._cache[digest]
            return None
        return owner


def _digest_of(authorization: str | None) -> str:
    if not authorization:
        raise Unauthorized(
            "Missing API key: send the header `Authorization: Bearer wsa_...`.",
            code="missing_key",
        )
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "bearer" or not KEY_SHAPE.match(key):
        raise Unauthorized(
            "Malformed Authorization header: expected `Bearer wsa_...`.", code="malformed_key"
        )
    return hash_key(key)
