"""Webhooks never lose an event, even when the server is killed while delivering."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.contract.live import LiveServer, serve
from tests.receiver import Received, receiver

pytestmark = pytest.mark.slow

EVENTS = 1000
INJECTORS = 4  # several clients at once, as a busy number receives from many people


def api(live: LiveServer, method: str, path: str, **kwargs: object) -> requests.Response:
    return requests.request(
        method,
        live.url + path,
        headers={"Authorization": f"Bearer {live.admin_key}"},
        timeout=30,
        **kwargs,  # type: ignore[arg-type]
    )


@pytest.fixture
def hook() -> Iterator[tuple[str, Received]]:
    with receiver() as started:
        yield started


def test_sigkill_twice_while_delivering_loses_nothing(
    tmp_path: Path, hook: tuple[str, Received]
) -> None:
    """1,000 events injected through the sandbox; the server is killed with SIGKILL twice
    while delivering and restarted: every event arrives at least once, and every
    duplicate carries the same delivery id."""
    url, received = hook
    env = {"SENDMAKO_ALLOW_PRIVATE_HOSTS": "127.0.0.1", "SENDMAKO_LOG_LEVEL": "warning"}
    server = serve(tmp_path, **env)
    live = server.__enter__()
    port = live.url.rsplit(":", 1)[1]
    try:
        session_id = api(
            live, "POST", "/api/whatsapp/sessions/", json={"session_name": "x"}
        ).json()["session_id"]
        api(live, "GET", f"/api/whatsapp/sessions/{session_id}?wait_for=qr_ready&timeout=10")
        api(
            live,
            "POST",
            f"/api/sandbox/sessions/{session_id}/scan",
            json={"phone_number": "22241857975"},
        )
        api(live, "POST", "/api/webhooks", json={"url": url, "events": ["message.received"]})

        injected: list[str] = []
        current = {"live": live}

        def inject(quota: int, sender: str) -> None:
            mine = 0
            with requests.Session() as http:
                while mine < quota:
                    target = current["live"]
                    try:
                        answer = http.post(
                            f"{target.url}/api/sandbox/sessions/{session_id}/inbound",
                            headers={"Authorization": f"Bearer {target.admin_key}"},
                            json={"from": sender, "type": "text", "text": str(mine)},
                            timeout=10,
                        )
                    except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
                        # The server is down, or was killed mid-answer (that event may be
                        # stored without our knowing its id: one more is sent, never fewer).
                        continue
                    if answer.status_code == 200:
                        injected.append(answer.json()["message_id"])
                        mine += 1

        injectors = [
            # Each injector writes from its own number: four chats, each delivered in order.
            threading.Thread(
                target=inject, args=(EVENTS // INJECTORS, f"22178123456{index}"), daemon=True
            )
            for index in range(INJECTORS)
        ]
        for injector in injectors:
            injector.start()
        for threshold in (150, 500):
            received.wait_until(lambda r, n=threshold: r.count() >= n, timeout=60)
            os.kill(current["live"].process.pid, signal.SIGKILL)
            current["live"].process.wait()
            server.__exit__(None, None, None)
            server = serve(tmp_path, SENDMAKO_PORT=port, **env)
            current["live"] = server.__enter__()
        for injector in injectors:
            injector.join(timeout=120)
        assert len(injected) == EVENTS, "injection did not finish"
        wanted = set(injected)
        received.wait_until(
            lambda r: wanted <= {d.body["data"]["message_id"] for d in r.deliveries},  # type: ignore[index]
            timeout=120,
        )
    finally:
        server.__exit__(None, None, None)

    by_event: dict[str, set[str]] = {}
    for delivery in received.deliveries:
        assert delivery.delivery_header == delivery.event_id
        by_event.setdefault(str(delivery.body["data"]["message_id"]), set()).add(delivery.event_id)  # type: ignore[index]
    assert len(injected) == EVENTS
    assert wanted <= set(by_event), "no event is lost"
    assert all(len(ids) == 1 for ids in by_event.values()), "a duplicate keeps its delivery id"
    duplicates = len(received.deliveries) - len(by_event)
    total = len(received.deliveries)
    print(f"{total} deliveries for {len(by_event)} events ({duplicates} duplicates)")
