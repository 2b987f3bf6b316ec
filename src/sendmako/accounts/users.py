"""Users: their email addresses, creating them, disabling and enabling them."""

from __future__ import annotations

import re

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.accounts.auth import CredentialsEpoch
from sendmako.accounts.keys import NewKey, create_key
from sendmako.accounts.logins import end_logins
from sendmako.errors import BadRequest, NotFound
from sendmako.storage import plans, users
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+$")


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


async def set_disabled(
    db: Database, epoch: CredentialsEpoch, user_id: int, *, disabled: bool
) -> UserRecord:
    """Disable or enable an account: the one way to, for the dashboard and the CLI alike.

    Disabling ends the user's dashboard logins. The epoch tells every server process (this
    one too): their API key caches forget the account's keys, and they stop the account's
    sends and bulk jobs, or resume the jobs when it is enabled again
    (`messaging/suspensions.py`)."""
    async with db.write() as tx:
        user = await users.get(tx, user_id)
        if user is None:
            raise NotFound(f"User {user_id} not found.", code="user_not_found")
        await users.update(tx, user_id, disabled=disabled)
        if disabled:
            await end_logins(tx, user_id)
    epoch.bump()
    return user
