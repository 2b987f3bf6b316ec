"""Writes `sendmako/client/_sync.py` from `_async.py`: the same client without `async`.

Run `python -m tests.client.unasync` after changing `_async.py`; `test_unasync.py` fails
while the two differ. Plain token substitutions, in the spirit of httpcore's unasync.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SOURCE = Path(__file__).parents[2] / "src" / "sendmako" / "client" / "_async.py"
TARGET = SOURCE.with_name("_sync.py")

# Whole words, applied in this order.
SUBSTITUTIONS = (
    ("AsyncClient", "Client"),
    ("AsyncIterator", "Iterator"),
    ("aconnect_sse", "connect_sse"),
    ("aiter_sse", "iter_sse"),
    ("__aenter__", "__enter__"),
    ("__aexit__", "__exit__"),
    ("aclose", "close"),
    ("aread", "read"),
    ("asyncio", "time"),
    ("async def", "def"),
    ("async for", "for"),
    ("async with", "with"),
    ("await ", ""),
)

HEADER = (
    '"""`Client`: every operation of the Sendmako API, on httpx, blocking.\n\n'
    "Written by `python -m tests.client.unasync` from `_async.py`: edit that file, not this\n"
    'one.\n"""\n'
)


def unasync(text: str) -> str:
    body = text.split('"""\n', 1)[1]  # past the module docstring
    for old, new in SUBSTITUTIONS:
        end = r"(?!\w)" if old[-1].isalnum() or old[-1] == "_" else ""
        body = re.sub(rf"(?<!\w){re.escape(old)}{end}", new, body)
    return _formatted(HEADER + body)


def _formatted(source: str) -> str:
    """As `ruff format` (the project's settings) writes it: lines shorten without `async`."""
    done = subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--stdin-filename", str(TARGET), "-"],
        input=source,
        capture_output=True,
        text=True,
        check=True,
        cwd=SOURCE.parents[3],
    )
    return done.stdout


def main() -> None:
    TARGET.write_text(unasync(SOURCE.read_text()))


if __name__ == "__main__":
    main()
