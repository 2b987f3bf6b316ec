"""Users, their passwords and API keys: creating them, checking a request's key or a
dashboard login, revoking.

A key is `wsa_` and 40 random base62 characters (238 bits). It is shown once; the database
keeps its SHA-256 and its first characters (the prefix shown in listings).

Passwords (the dashboard's login) are stored as argon2id hashes. Hashing is CPU work of
tens of milliseconds, so it runs in a thread, never on the event loop.
"""

from __future__ import annotations

import asyncio
import functools
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

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
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

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 1024  # argon2 takes any length; this only bounds the work per attempt
# OWASP's argon2id recommendation (19 MiB, 2 passes, 1 lane): ~45 ms on one core. The
# library's default (64 MiB, 3 passes, 4 lanes) costs ~160 ms of both cores of a small server
# per login, which makes the login form a cheap way to load the machine.
PASSWORD_HASHER = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
# Generated passwords carry 120 random bits: stretching adds nothing to that, so they are
# stored with a cheap hash (first start stays instant); the first login rehashes them with
# PASSWORD_HASHER's cost like any other password.
_GENERATED_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

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
        raise BadRequest(
            f"plan: no plan named {plan!r} (plans: {known})", field="plan", code="unknown_plan"
        )
    if await users.by_email(tx, email) is not None:
        raise BadRequest(
            f"email: a user with the email {email} already exists",
            field="email",
            code="email_taken",
        )
    try:
        user = await users.create(tx, email, plan=plan, is_admin=is_admin)
    except IntegrityError as exc:  # a concurrent creation of the same email
        raise BadRequest(
            f"email: a user with the email {email} already exists",
            field="email",
            code="email_taken",
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


async def owned_key(db: AsyncSession, user_id: int, key_id: int) -> ApiKeyRecord:
    """The user's key `key_id`; another user's key is as missing as an unknown one."""
    record = await api_keys.get(db, key_id)
    if record is None or record.user_id != user_id:
        raise NotFound(f"API key {key_id} not found.", code="key_not_found")
    return record


async def revoke_key(tx: AsyncSession, user_id: int, key_id: int) -> ApiKeyRecord:
    await owned_key(tx, user_id, key_id)
    await api_keys.revoke(tx, key_id, utcnow())
    revoked = await api_keys.get(tx, key_id)
    assert revoked is not None
    return revoked


# -- passwords ----------------------------------------------------------------------------


def generate_password() -> str:
    """20 URL-safe characters (120 random bits), for first starts and admin-made accounts."""
    return secrets.token_urlsafe(15)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise BadRequest(
            f"password: use at least {MIN_PASSWORD_LENGTH} characters.",
            field="password",
            code="password_too_short",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise BadRequest(
            f"password: use at most {MAX_PASSWORD_LENGTH} characters.",
            field="password",
            code="password_too_long",
        )


async def hash_password(password: str, *, generated: bool = False) -> str:
    """The argon2id hash to store. `generated`: a password from `generate_password`."""
    if not generated:
        check_password_rules(password)
    hasher = _GENERATED_HASHER if generated else PASSWORD_HASHER
    return await asyncio.to_thread(hasher.hash, password)


async def set_password(
    db: Database, user_id: int, password: str, *, generated: bool = False
) -> None:
    """Replace a user's password. Hashed before the transaction opens: no lock is held
    while argon2 works."""
    await _store_hash(db, user_id, await hash_password(password, generated=generated))


async def _store_hash(db: Database, user_id: int, hashed: str) -> None:
    async with db.write() as tx:
        if await users.get(tx, user_id) is None:
            raise NotFound(f"User {user_id} not found.", code="user_not_found")
        await users.update(tx, user_id, password_hash=hashed)
    logger.info("user.password_set", user_id=user_id)


async def check_login(db: Database, email: str, password: str) -> UserRecord | None:
    """The user whose email and password these are, or None. Disabled users are returned
    too (the caller says so only to someone who knew the password).

    An unknown email costs the same argon2 work as a wrong password, so response times do
    not tell which emails have accounts."""
    try:
        email = normalize_email(email)
    except BadRequest:
        email = ""
    async with db.read() as session:
        user = await users.by_email(session, email) if email else None
        stored = await users.password_hash(session, user.id) if user else None
    if len(password) > MAX_PASSWORD_LENGTH:
        return None
    if user is None or stored is None:
        await asyncio.to_thread(_verify_unknown, password)
        return None
    if not await asyncio.to_thread(_verify, stored, password):
        if _cheap(stored):
            # A generated password's cheap hash fails fast: spend the usual cost too, or the
            # time would tell that this account exists and has never logged in.
            await asyncio.to_thread(_verify_unknown, password)
        return None
    if PASSWORD_HASHER.check_needs_rehash(stored):
        # A generated password's cheap hash, or parameters raised since: upgrade it now that
        # the password is at hand.
        await _store_hash(db, user.id, await asyncio.to_thread(PASSWORD_HASHER.hash, password))
    return user


def _verify(stored: str, password: str) -> bool:
    try:
        return PASSWORD_HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _cheap(stored: str) -> bool:
    """Hashed with other parameters than PASSWORD_HASHER's (or not an argon2 hash at all)."""
    try:
        return PASSWORD_HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_unknown(password: str) -> None:
    _verify(_dummy_hash(), password)


@functools.cache
def _dummy_hash() -> str:
    # A fixed-cost hash of nothing anyone knows; computed once, on the first unknown email.
    return PASSWORD_HASHER.hash(secrets.token_urlsafe(16))


# -- first start --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    """The account made on the first start, with the only copies of its key and password."""

    user: UserRecord
    key: NewKey
    password: str


async def bootstrap_admin(db: Database, email: str) -> FirstAdmin | None:
    """On the first start with an empty database, make an admin, its first key and a
    generated dashboard password."""
    async with db.read() as session:
        if await users.count(session) > 0:
            return None
    password = generate_password()
    hashed = await hash_password(password, generated=True)
    async with db.write() as tx:
        if await users.count(tx) > 0:  # another process won the race
            return None
        user, key = await create_user(tx, email, plan="unlimited", is_admin=True)
        await users.update(tx, user.id, password_hash=hashed)
    return FirstAdmin(user=replace(user, has_password=True), key=key, password=password)
