"""Where WhatsApp device keys live, seen from the server: whatsmeow's store in SQLite or
PostgreSQL, and deleting a session's keys.

- SQLite (the default): one file per session under `<data dir>/neonize/`, so a session's
  worker is the only process that ever opens it (whatsmeow sets no busy timeout, and each
  neonize connect opens its own pool).
- PostgreSQL (when Sendmako's database is): whatsmeow's tables in that same database,
  shared by every session. whatsmeow migrates its schema on first open, and concurrent
  first opens break that migration, so the engine migrates it once, alone, before any
  worker starts (`engine.py`).
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from urllib.parse import quote

from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from sendmako.storage.db import Database

STORE_DIR = "neonize"
_LIBPQ_SSLMODES = frozenset({"disable", "require", "verify-ca", "verify-full"})


def sqlite_path(data_dir: Path, session_id: str) -> Path:
    return (data_dir / STORE_DIR / f"{session_id}.db").resolve()


def libpq_url(database_url: str) -> str:
    """Sendmako's SQLAlchemy URL as the lib/pq URL whatsmeow's Go driver understands."""
    url = make_url(database_url)
    query = dict(url.query)
    requested = query.get("sslmode") or query.get("ssl")
    mode = str(requested) if isinstance(requested, str) else None
    if mode is None:
        mode = "disable" if _is_local(url.host) else "require"
    elif mode not in _LIBPQ_SSLMODES:
        # lib/pq knows no "prefer"/"allow": insist on TLS rather than silently drop it.
        mode = "disable" if mode == "disable" else "require"
    credentials = ""
    if url.username:
        credentials = quote(url.username, safe="")
        if url.password:
            credentials += ":" + quote(str(url.password), safe="")
        credentials += "@"
    host = url.host or ""
    if url.port:
        host += f":{url.port}"
    params = f"sslmode={mode}"
    socket_dir = query.get("host")
    if isinstance(socket_dir, str):
        params += f"&host={quote(socket_dir, safe='/')}"
    return f"postgres://{credentials}{host}/{url.database or ''}?{params}"


def _is_local(host: str | None) -> bool:
    if not host or host == "localhost" or host.startswith("/"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def forget_sqlite(path: Path) -> None:
    """Delete a session's store file (and SQLite's side files)."""
    for suffix in ("", "-wal", "-shm", "-journal"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)


async def forget_postgres(db: Database, device_jid: str) -> None:
    """Delete one device from the shared store; its keys go with it (ON DELETE CASCADE)."""
    try:
        async with db.write() as tx:
            await tx.execute(
                text("DELETE FROM whatsmeow_device WHERE jid = :jid"), {"jid": device_jid}
            )
    except SQLAlchemyError as exc:
        # The store was never created (no session ever started): nothing to forget.
        if "whatsmeow_device" not in str(exc):
            raise
