"""Caches on several nodes: a change made through one node (or the CLI) is seen by every
other node as soon as the bus brings it, never after a cache's expiry."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import func, select

from sendmako.cli import main
from sendmako.storage.tables import WebhookDelivery
from tests.cluster.nodes import cluster
from tests.cluster.shared import linked, services
from tests.harness import Server

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

SESSIONS = "/api/whatsapp/sessions"


async def heard_credentials(server: Server, before: int) -> None:
    """Until `server`'s key cache has forgotten something since `before`."""
    auth = services(server).auth
    await auth.changes.wait_until(lambda: auth.generation > before, timeout=5)


async def test_a_key_revoked_through_one_node_is_refused_by_the_others(tmp_path: Path) -> None:
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        via_b = b.client(alice.key)
        assert (await via_b.get(SESSIONS)).status_code == 200  # node-b caches the key
        before = services(b).auth.generation
        (key,) = (await alice.client.get("/api/keys")).json()["keys"]
        revoked = await alice.client.delete(f"/api/keys/{key['id']}")
        assert revoked.status_code == 200, revoked.text
        await heard_credentials(b, before)
        refused = await via_b.get(SESSIONS)
        assert (refused.status_code, refused.json()["code"]) == (401, "revoked_key")


async def test_an_account_disabled_through_one_node_is_stopped_on_every_node(
    tmp_path: Path,
) -> None:
    """Disabling (the admin page's service) on node-a: node-b refuses the account's key and
    suspends its sessions there."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        via_b = b.client(alice.key)
        assert (await via_b.get(SESSIONS)).status_code == 200
        await services(a).suspensions.set_disabled(alice.user.id, disabled=True)
        await services(a).auth.forget_user(alice.user.id)
        await services(b).suspensions.wait_until(lambda off: alice.user.id in off, timeout=5)
        assert services(b).sessions.suspended(alice.user.id)
        refused = await via_b.get(SESSIONS)
        assert (refused.status_code, refused.json()["code"]) == (403, "account_disabled")


async def test_the_cli_tells_every_node(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sendmako users disable` is another process with a data directory of its own: the
    nodes hear it through the bus."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        via_b = b.client(alice.key)
        assert (await via_b.get(SESSIONS)).status_code == 200
        settings = a.settings
        assert settings.database_url is not None
        assert settings.redis_url is not None
        monkeypatch.setenv("SENDMAKO_DATA_DIR", str(tmp_path / "cli"))
        monkeypatch.setenv("SENDMAKO_DATABASE_URL", settings.database_url)
        monkeypatch.setenv("SENDMAKO_REDIS_URL", settings.redis_url.get_secret_value())
        monkeypatch.setenv("SENDMAKO_CLUSTER__REDIS_PREFIX", settings.cluster.redis_prefix)
        monkeypatch.setenv("SENDMAKO_ENGINES", "sandbox")
        monkeypatch.setenv("SENDMAKO_DEFAULT_ENGINE", "sandbox")
        code = await asyncio.to_thread(main, ["users", "disable", "alice@example.com"])
        assert code == 0, capsys.readouterr()
        for node in (a, b):
            await services(node).suspensions.wait_until(lambda off: alice.user.id in off, timeout=5)
        refused = await via_b.get(SESSIONS)
        assert (refused.status_code, refused.json()["code"]) == (403, "account_disabled")


async def test_a_webhook_added_through_one_node_receives_events_of_every_node(
    tmp_path: Path,
) -> None:
    """node-b already knows alice has no endpoint; one added through node-a gets the next
    message arriving on node-b's session."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        session_ids = await linked(a, alice, 2)
        on_b = next(s for s in session_ids if b.sessions.runs_here(s))
        via_b = b.client(alice.key)
        inbound = f"/api/sandbox/sessions/{on_b}/inbound"
        message = {"from": "221781234567", "type": "text", "text": "Salut"}
        assert (await via_b.post(inbound, json=message)).status_code == 200
        cache = services(b).webhooks.cache
        before = cache.generation
        # A closed loopback port: deliveries fail, and nothing leaves the machine.
        created = await alice.client.post("/api/webhooks", json={"url": "http://127.0.0.1:9/h"})
        assert created.status_code == 201, created.text
        endpoint_id = created.json()["webhook"]["id"]
        await cache.changes.wait_until(lambda: cache.generation > before, timeout=5)
        assert (await via_b.post(inbound, json=message)).status_code == 200
        async with services(b).db.read() as db:
            deliveries = await db.scalar(
                select(func.count()).where(WebhookDelivery.endpoint_id == endpoint_id)
            )
        assert deliveries == 1
