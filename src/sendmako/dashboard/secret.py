"""The key that signs the dashboard's cookies: `SENDMAKO_SECRET_KEY`, or one generated into
the data directory on the first start. Never a built-in default: a default known to
everyone who read the source would let anyone forge a login."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from sendmako import log
from sendmako.settings import Settings

logger = log.get(__name__)

SECRET_FILE = "secret_key"  # noqa: S105 - the file's name, not its content


def secret_file(settings: Settings) -> Path:
    return settings.data_dir / SECRET_FILE


def load_secret(settings: Settings) -> str:
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value()
    path = secret_file(settings)
    try:
        existing = path.read_text().strip()
    except FileNotFoundError:
        existing = ""
    if existing:
        return existing
    return _generate(path)


def _generate(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    # O_EXCL: when two processes start on one data directory, one writes and both read it.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    logger.info("dashboard.secret_generated", path=str(path))
    return secret
