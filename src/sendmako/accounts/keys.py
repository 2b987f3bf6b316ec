"""API keys: making, hashing, finding and revoking them.

A key is `wsa_` and 40 random base62 characters (238 bits). It is shown once; the database
keeps its SHA-256 and its first characters (the prefix shown in listings).
"""

from __future__ import annotations

import hashlib
import re
import secrets
import string
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from sendmako.errors import Forbidden, NotFound
from sendmako.storage import api_keys, users
from sendmako.storage.records import ApiKeyRecord
from sendmako.storage.tables import utcnow

KEY_PREFIX = "wsa_"
KEY_RANDOM_LENGTH = 40
PREFIX_LENGTH = 12  # "wsa_" and 8 random characters: enough to tell keys apart
KEY_SHAPE = re.compile(rf"^{KEY_PREFIX}[A-Za-z0-9]{{32,128}}$")
_ALPHABET = string.ascii_letters + string.digits
# Active (unrevoked) keys a user may hold: plenty for every service and environment, and a
# bound on what one account can make the server store and check.
MAX_ACTIVE_KEYS = 50


@dataclass(frozen=True, slots=True)
class NewKey:
    """A key just made: `secret` is the only copy of the key there will ever be."""

    record: ApiKeyRecord
    secret: str


def generate_key() -> str:
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_RANDOM_LENGTH))


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_key(tx: AsyncSession, user_id: int, *, name: str | None) -> NewKey:
    """A new key, or 403 `key_limit` when the user holds `MAX_ACTIVE_KEYS` active ones."""
    await users.lock(tx, user_id)  # two creations at once cannot both take the last place
    if await api_keys.count_active(tx, user_id) >= MAX_ACTIVE_KEYS:
        raise Forbidden(
            f"API key limit reached: a user may hold {MAX_ACTIVE_KEYS} active keys. Revoke a "
            "key you no longer use (DELETE /api/keys/{id}, the dashboard's API keys page or "
            "`sendmako keys revoke`), then create this one.",
            code="key_limit",
        )
    secret = generate_key()
    record = await api_keys.create(
        tx, user_id, prefix=secret[:PREFIX_LENGTH], key_hash=hash_key(secret), name=name
    )
    return NewKey(record, secret)


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
