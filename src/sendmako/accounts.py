"""Users and API keys: creating them, checking a request's key, revoking.

A key is `wsa_` and 40 random base62 characters (238 bits). It is shown once; the database
keeps its SHA-256 and its first characters (the prefix shown in listings).
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako import log
from sendmako.errors import BadRequest, Forbidden, NotFound, Unauthorized
from sendmako.storage import api_keys, plans, users
from sendmako.storage.db import Database
from sendmako.storage.records import ApiKeyRecord, UserRecord
from sendmako.storage.tables import utcnow

KEY_PREFIX = "wsa_"
KEY_RANDOM_LENGTH = 40
PREFIX_LENGTH = 12  # "wsa_" and 8 random characters: enough to tell keys apart
_ALPHABET = string.ascii_letters + string.digits
_KEY_SHAPE = re.compile(rf"^{KEY_PREFIX}[A-Za-z0-9]{{32,128}}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")
# Writing last_used_at on every request would make every read a write; once a minute is
# precise enough for "last used".
TOUCH_INTERVAL = timedelta(seconds=60)

logger = log.get(__name__)


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: `secret` is the only copy of the key there will ever be."""

    record: ApiKeyRecord
    secret: str


def generate_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_RANDOM_LENGTH))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    if not _EMAIL.match(email) or len(email) > 320:
        raise BadRequest(f"email: {email!r} is not an email address", field="email")
    return email


async def create_user(
    tx: AsyncSession, email: str, *, plan: str, is_admin: bool = False
) -> tuple[UserRecord, NewKey]:
    email = normalize_email(email)
    if await plans.get(tx, plan) is None:
        known = ", ".join(p.name for p in await plans.list_all(tx))
        raise BadRequest(f"plan: no plan named {plan!r} (plans: {known})", field="plan")
    if await users.by_email(tx, email) is not None:
        raise BadRequest(f"email: a user with the email {email} already exists", field="email")
    try:
        user = await users.create(tx, email, plan=plan, is_admin=is_admin)
    except IntegrityError as exc:  # a concurrent creation of the same email
        raise BadRequest(
            f"email: a user with the email {email} already exists", field="email"
        ) from exc
    key = await create_key(tx, user.id, name="first key")
    return user, key


async def create_key(tx: AsyncSession, user_id: int, *, name: str | None) -> NewKey:
    secret = generate_key()
    record = await api_keys.create(
        tx, user_id, prefix=secret[:PREFIX_LENGTH], key_hash=hash_key(secret), name=name
    )
    return NewKey(record, secret)


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
    (`forget_user`), when another process bumps the epoch, and after `ttl` at the latest."""

    def __init__(
        self,
        db: Database,
        epoch: CredentialsEpoch,
        *,
        ttl: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.epoch = epoch
        self.ttl = ttl
        self.clock = clock
        self._cache: dict[str, tuple[api_keys.KeyOwner, float]] = {}
        self._seen_epoch = epoch.read()

    async def authenticate(self, authorization: str | None) -> UserRecord:
        """The user whose key is in `Authorization: Bearer wsa_...`, or `Unauthorized`."""
        digest = _digest_of(authorization)
        owner = self._cached(digest)
        if owner is None:
            async with self.db.read() as session:
                owner = await api_keys.owner_of(session, digest)
            # The lookup is by an index on the hash; comparing again in constant time costs
            # nothing and keeps the check independent of how the database compares strings.
            if owner is None or not hmac.compare_digest(owner.key_hash, digest):
                raise Unauthorized("Invalid API key.", code="invalid_key")
            self._cache[digest] = (owner, self.clock() + self.ttl)
        if owner.revoked:
            raise Unauthorized("This API key has been revoked.", code="revoked_key")
        if owner.user.disabled:
            raise Forbidden("This account is disabled.", code="account_disabled")
        now = utcnow()
        if owner.last_used_at is None or now - owner.last_used_at > TOUCH_INTERVAL:
            async with self.db.write() as tx:
                await api_keys.touch(tx, owner.key_id, now)
            self._cache[digest] = (replace(owner, last_used_at=now), self.clock() + self.ttl)
        return owner.user

    def forget_user(self, user_id: int) -> None:
        """Call after changing a user's keys, plan or status in this process."""
        for digest in [d for d, (owner, _) in self._cache.items() if owner.user.id == user_id]:
            del self._cache[digest]

    def forget_all(self) -> None:
        self._cache.clear()

    def _cached(self, digest: str) -> api_keys.KeyOwner | None:
        epoch = self.epoch.read()
        if epoch != self._seen_epoch:
            self._seen_epoch = epoch
            self._cache.clear()
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
    if scheme.lower() != "bearer" or not _KEY_SHAPE.match(key):
        raise Unauthorized(
            "Malformed Authorization header: expected `Bearer wsa_...`.", code="malformed_key"
        )
    return hash_key(key)


async def revoke_key(tx: AsyncSession, user_id: int, key_id: int) -> ApiKeyRecord:
    record = await api_keys.get(tx, key_id)
    if record is None or record.user_id != user_id:
        raise NotFound(f"API key {key_id} not found.", code="key_not_found")
    await api_keys.revoke(tx, key_id, utcnow())
    revoked = await api_keys.get(tx, key_id)
    assert revoked is not None
    return revoked


async def bootstrap_admin(db: Database, email: str) -> tuple[UserRecord, NewKey] | None:
    """On the first start with an empty database, make an admin and its first key."""
    async with db.write() as tx:
        if await users.count(tx) > 0:
            return None
        return await create_user(tx, email, plan="unlimited", is_admin=True)
