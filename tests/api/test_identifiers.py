"""Identifiers in paths and queries never reach the database unchecked: absurd values are
a 400 naming the field (or a 404), never a 500."""

from __future__ import annotations

import pytest

from tests.harness import Account

HUGE = str(2**64)


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", f"/api/webhooks/{HUGE}"),
        ("PATCH", f"/api/webhooks/{HUGE}"),
        ("DELETE", f"/api/webhooks/{HUGE}"),
        ("POST", f"/api/webhooks/{HUGE}/test"),
        ("GET", f"/api/webhooks/{HUGE}/deliveries"),
        ("GET", "/api/webhooks/1/deliveries?page=99999999999"),
        ("POST", f"/api/webhooks/deliveries/{HUGE}/redeliver"),
        ("DELETE", f"/api/keys/{HUGE}"),
        ("DELETE", "/api/keys/-1"),
        ("GET", f"/api/send-bulk/{HUGE}"),
        ("GET", f"/api/whatsapp/sessions/user_{HUGE}"),
        ("GET", f"/api/groups/{HUGE}@g.us/metadata"),
    ],
)
async def test_absurd_identifiers_are_4xx(alice: Account, method: str, path: str) -> None:
    body = {} if method in ("PATCH", "POST") else None
    answer = await alice.client.request(method, path, json=body)
    assert answer.status_code in (400, 404), answer.text
    assert answer.json()["success"] is False
