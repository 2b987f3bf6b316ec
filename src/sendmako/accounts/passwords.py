"""Dashboard passwords: rules, argon2id hashing (on its own threads, never on the event
loop) and the login check, which takes as long for an unknown email as for a wrong password."""

from __future__ import annotations

import asyncio
import functools
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from sendmako import log
from sendmako.accounts import logins
from sendmako.accounts.users import normalize_email
from sendmako.errors import BadRequest, NotFound
from sendmako.storage import users
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord

T = TypeVar("T")

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
# Threads for argon2: two checks at once (~45 ms each) is over 40 logins a second, and
# leaves a core of a small server to everything else.
HASHING_THREADS = 2

logger = log.get(__name__)


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


class Passwords:
    """Dashboard passwords for one process: hashing, setting and the login check.

    argon2 is CPU work that releases the GIL: it runs on a thread pool of its own, bounded
    (`threads`), so that a login never waits behind the default executor's other work
    (media conversion, say) and a flood of logins cannot take every thread of the process.
    Made and closed with the app (`wiring.py`), or by a CLI command for its own use.

    `hasher` checks and hashes full-cost passwords (tests count its work)."""

    def __init__(
        self,
        db: Database,
        *,
        threads: int = HASHING_THREADS,
        hasher: PasswordHasher = PASSWORD_HASHER,
    ) -> None:
        self.db = db
        self.hasher = hasher
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="argon2")

    def close(self) -> None:
        """Refuse new work; a hash under way finishes in its thread."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def hash(self, password: str, *, generated: bool = False) -> str:
        """The argon2id hash to store. `generated`: a password from `generate_password`."""
        if not generated:
            check_password_rules(password)
        hasher = _GENERATED_HASHER if generated else self.hasher
        return await self._run(hasher.hash, password)

    async def set(
        self,
        user_id: int,
        password: str,
        *,
        generated: bool = False,
        keep_login: str | None = None,
    ) -> None:
        """Replace a user's password, which ends the user's dashboard logins but
        `keep_login` (the token of the one making the change, if it is theirs). Hashed before
        the transaction opens: no lock is held while argon2 works."""
        hashed = await self.hash(password, generated=generated)
        await _store_hash(self.db, user_id, hashed, end_logins=True, keep_login=keep_login)

    async def check_login(self, email: str, password: str) -> UserRecord | None:
        """The user whose email and password these are, or None. Disabled users are
        returned too (the caller says so only to someone who knew the password).

        An unknown email costs the same argon2 work as a wrong password, so response times
        do not tell which emails have accounts."""
        hasher = self.hasher
        try:
            email = normalize_email(email)
        except BadRequest:
            email = ""
        async with self.db.read() as session:
            user = await users.by_email(session, email) if email else None
            stored = await users.password_hash(session, user.id) if user else None
        if len(password) > MAX_PASSWORD_LENGTH:
            return None
        if user is None or stored is None:
            await self._run(_verify_unknown, hasher, password)
            return None
        if not await self._run(_verify, hasher, stored, password):
            if _cheap(hasher, stored):
                # A generated password's cheap hash fails fast: spend the usual cost too, or
                # the time would tell that this account exists and has never logged in.
                await self._run(_verify_unknown, hasher, password)
            return None
        if hasher.check_needs_rehash(stored):
            # A generated password's cheap hash, or parameters raised since: upgrade it now
            # that the password is at hand.
            await _store_hash(self.db, user.id, await self._run(hasher.hash, password))
        return user

    async def _run(self, work: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._pool, work, *args)


async def _store_hash(
    db: Database,
    user_id: int,
    hashed: str,
    *,
    end_logins: bool = False,
    keep_login: str | None = None,
) -> None:
    async with db.write() as tx:
        if await users.get(tx, user_id) is None:
            raise NotFound(f"User {user_id} not found.", code="user_not_found")
        await users.update(tx, user_id, password_hash=hashed)
        if end_logins:
            await logins.end_logins(tx, user_id, keep=keep_login)
    logger.info("user.password_set", user_id=user_id)


def _verify(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def _cheap(hasher: PasswordHasher, stored: str) -> bool:
    """Hashed with other parameters than `hasher`'s (or not an argon2 hash at all)."""
    try:
        return hasher.check_needs_rehash(stored)
    except InvalidHashError:
        return True


def _verify_unknown(hasher: PasswordHasher, password: str) -> None:
    _verify(hasher, _dummy_hash(hasher), password)


@functools.cache
def _dummy_hash(hasher: PasswordHasher) -> str:
    # A full-cost hash of nothing anyone knows; computed once, on the first unknown email.
    return hasher.hash(secrets.token_urlsafe(16))
