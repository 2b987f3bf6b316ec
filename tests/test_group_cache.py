"""The group cache serves reads without asking the engine, is refreshed on demand and by
group events, and is read whole when a session connects."""

from __future__ import annotations

import pytest

from sendmako.directory.group_cache import GroupCache
from sendmako.engines.sandbox import SandboxSession
from sendmako.engines.sandbox.store import groups as sandbox_groups
from sendmako.model.events import (
    GroupChanged,
)
from sendmako.model.statuses import SessionStatus
from sendmako.storage import groups, session_syncs
from sendmako.storage.db import Database
from tests.harness import Server
from tests.people import People, meet


@pytest.fixture
async def people(server: Server) -> People:
    return await meet(server)


def db_of(server: Server) -> Database:
    assert server.app is not None
    db: Database = server.app.state.services.db
    return db


def cache_of(server: Server) -> GroupCache:
    assert server.app is not None
    cache: GroupCache = server.app.state.services.groups.cache
    return cache


async def rename_behind_the_back(server: Server, group: str, subject: str) -> None:
    """Change the simulated group without any event: only asking the engine shows it."""
    async with db_of(server).write() as tx:
        await sandbox_groups.change(tx, group, subject=subject)


async def test_reads_come_from_the_cache_until_refreshed(server: Server, people: People) -> None:
    alice = people.alice
    group = await alice.create_group("Famille", people.bob)
    assert (await alice.metadata(group))["subject"] == "Famille"
    await rename_behind_the_back(server, group, "Cousins")

    assert (await alice.metadata(group))["subject"] == "Famille"
    listed = await alice.call("GET", "/api/groups")
    assert [g["subject"] for g in listed["groups"]] == ["Famille"]

    assert (await alice.metadata(group, refresh="true"))["subject"] == "Cousins"
    await rename_behind_the_back(server, group, "Oncles")
    listed = await alice.call("GET", "/api/groups", params={"refresh": "true"})
    assert [g["subject"] for g in listed["groups"]] == ["Oncles"]


async def test_a_group_event_refreshes_the_cache_by_itself(server: Server, people: People) -> None:
    """WhatsApp says the group changed: the cached row is refreshed in the background,
    before anyone reads it."""
    bob = people.bob
    group = await people.alice.create_group("Famille", bob)
    await bob.metadata(group)
    await rename_behind_the_back(server, group, "Cousins")
    handle = server.sessions.engine_session(bob.session_id)
    assert isinstance(handle, SandboxSession)
    await handle.deliver(GroupChanged(group_jid=group))
    await cache_of(server).background.idle()
    pk = server.sessions.get(bob.account.user, bob.session_id).id
    async with db_of(server).read() as db:
        cached = await groups.get(db, pk, group)
    assert cached is not None
    assert (cached.info.subject, cached.stale) == ("Cousins", False)


async def test_the_group_list_is_read_when_a_session_connects(
    server: Server, people: People
) -> None:
    bob = people.bob
    group = await people.alice.create_group("Famille", bob)
    pk = server.sessions.get(bob.account.user, bob.session_id).id
    async with db_of(server).write() as tx:
        await groups.forget(tx, pk, group)
        await session_syncs.forget(tx, pk, "groups")
    await bob.call(
        "POST",
        f"/api/sandbox/sessions/{bob.session_id}/disconnect",
        json={"reason": "connection_lost", "reconnect_after": 0},
    )
    await server.sessions.wait_until(
        bob.session_id, lambda view: view.status is SessionStatus.CONNECTED, 5
    )
    await cache_of(server).background.idle()
    async with db_of(server).read() as db:
        assert await session_syncs.synced_at(db, pk, "groups") is not None
        assert [c.info.subject for c in await groups.list_for(db, pk)] == ["Famille"]
