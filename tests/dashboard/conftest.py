"""Browser fixtures: a real `sendmako serve` on a free loopback port and Debian's Chromium
driven by Playwright (recipe: shared/reference/browser-tests.md; never a browser download).

Set SENDMAKO_SCREENSHOTS=docs/screenshots (`make screenshots`) to have the page tests
write PNGs of the main pages at desktop and phone widths.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

from tests.contract.live import LiveServer, serve

CHROMIUM = Path("/usr/bin/chromium")
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    # Stops Chromium's background lookups of Google hosts: only loopback is reachable.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]
ADMIN_EMAIL = "admin@localhost"
ADMIN_PASSWORD = "a long demo password"
QR_ROTATE_SECONDS = "1.5"  # fast enough for a test to see the QR change on the page


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.skip(
            f"Chromium not found at {CHROMIUM}: `apt-get install -y chromium` "
            "(.ci/run installs it, so CI never skips these tests)"
        )
    return CHROMIUM


@pytest.fixture(scope="session")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    data_dir = tmp_path_factory.mktemp("dashboard")
    env = {
        "SENDMAKO_SANDBOX__QR_ROTATE_SECONDS": QR_ROTATE_SECONDS,
        # Webhooks go to a receiver in the test (tests/receiver.py), on loopback.
        "SENDMAKO_ALLOW_PRIVATE_HOSTS": "127.0.0.1",
    }
    with serve(data_dir, **env) as server:
        # The first start printed a generated password; set a known one the way an
        # operator would, through the CLI on the same data directory.
        done = subprocess.run(
            [sys.executable, "-m", "sendmako", "users", "passwd", ADMIN_EMAIL, "--password-stdin"],
            input=ADMIN_PASSWORD + "\n",
            env={**os.environ, "SENDMAKO_DATA_DIR": str(data_dir)},
            cwd=data_dir,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stdout + done.stderr
        yield server


# Module scope, not session: while Playwright's sync API is open, its event loop counts as
# running in this thread, and the async tests of later modules could not start theirs.
@pytest.fixture(scope="module")
def browser(chromium: Path) -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(chromium), headless=True, args=LAUNCH_ARGS
        )
        try:
            yield launched
        finally:
            launched.close()


def screenshots_dir() -> Path | None:
    target = os.environ.get("SENDMAKO_SCREENSHOTS")
    if not target:
        return None
    path = Path(target)
    path.mkdir(parents=True, exist_ok=True)
    return path
