"""The first start: an admin account, its first key and a generated dashboard password."""

from __future__ import annotations

from dataclasses import dataclass, replace

from sendmako.accounts.keys import NewKey
from sendmako.accounts.passwords import Passwords, generate_password
from sendmako.accounts.users import create_user
from sendmako.storage import users
from sendmako.storage.db import Database
from sendmako.storage.records import UserRecord


@dataclass(frozen=True, slots=True)
class FirstAdmin:
    """The account made on the first start, with the only copies of its key and password."""

    user: UserRecord
    key: NewKey
    password: str


async def bootstrap_admin(db: Database, email: str, passwords: Passwords) -> FirstAdmin | None:
    """On the first start with an empty database, make an admin, its first key and a
    generated dashboard password."""
    async with db.read() as session:
        if await users.count(session) > 0:
            return None
    password = generate_password()
    hashed = await passwords.hash(password, generated=True)
    async with db.write() as tx:
        if await users.count(tx) > 0:  # another process won the race
            return None
        user, key = await create_user(tx, email, plan="unlimited", is_admin=True)
        await users.update(tx, user.id, password_hash=hashed)
    return FirstAdmin(user=replace(user, has_password=True), key=key, password=password)
