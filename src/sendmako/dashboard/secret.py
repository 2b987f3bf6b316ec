"""The key that signs the dashboard's cookies: `SENDMAKO_SECRET_KEY`, or one generated on
the first start and stored in the database, so that every node signs and reads the same
cookies (a login works on any node). Never a built-in default: a default known to everyone
who read the source would let anyone forge a login.

A data directory from before the key moved to the database keeps its key (`secret_key`
there): the first start stores it, and the logins of that server stay valid."""

from __future__ import annotations

import secrets

from sendmako import log
from sendmako.settings import Settings
from sendmako.storage import secrets as stored
from sendmako.storage.db import Database

logger = log.get(__name__)

SECRET_FILE = "secret_key"  # noqa: S105 - the file's name, not its content
SECRET_NAME = "dashboard_cookies"  # noqa: S105 - its row's name in server_secrets


async def load_secret(settings: Settings, db: Database) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    async with db.read() as session:
        found = await stored.get(session, SECRET_NAME)
    if found:
        return found
    try:
        candidate = (settings.data_dir / SECRET_FILE).read_text().strip()
    except FileNotFoundError:
        candidate = ""
    candidate = candidate or secrets.token_urlsafe(48)
    # Two nodes starting at once: both propose, one is kept, both use it.
    async with db.write() as tx:
        kept = await stored.keep_first(tx, SECRET_NAME, candidate)
    if kept == candidate:
        logger.info("dashboard.secret_stored")
    return kept
