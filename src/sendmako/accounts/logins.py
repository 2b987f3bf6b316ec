"""Dashboard logins, kept on the server: the session cookie carries a random token, and the
database the token's SHA-256 (a copy of the database opens no session). A login ends when
its row goes: at logout (that login), after a new password (every other login of the
user: the CLI's change too, from another process) and when the account is disabled (all of
them). A login lasts `LOGIN_MAX_AGE` at most, however often it is used."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako import log
from sendmako.storage import dashboard_logins
from sendmako.storage.tables import utcnow

LOGIN_MAX_AGE = timedelta(days=14)

logger = log.get(__name__)


def _id_of(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def open_login(tx: AsyncSession, user_id: int) -> str:
    """A new login of the user: the token for its cookie. Expired logins are cleared on the
    way (there are few: one row per sign-in)."""
    now = utcnow()
    await dashboard_logins.delete_older_than(tx, now - LOGIN_MAX_AGE)
    token = secrets.token_urlsafe(32)
    await dashboard_logins.create(tx, _id_of(token), user_id, now)
    return token


async def login_owner(db: AsyncSession, token: str) -> int | None:
    """The user whose open login `token` is, or None (ended, expired or never opened)."""
    return await dashboard_logins.owner(db, _id_of(token), since=utcnow() - LOGIN_MAX_AGE)


async def close_login(tx: AsyncSession, token: str) -> None:
    await dashboard_logins.delete_one(tx, _id_of(token))


async def end_logins(tx: AsyncSession, user_id: int, *, keep: str | None = None) -> None:
    """End every dashboard login of the user, but the one whose token is `keep`."""
    ended = await dashboard_logins.delete_for_user(
        tx, user_id, keep=_id_of(keep) if keep is not None else None
    )
    if ended:
        logger.info("user.logins_ended", user_id=user_id, count=ended)
