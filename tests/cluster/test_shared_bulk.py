"""Bulk jobs on several nodes: each is run by one node; one whose node died is taken over by
another, which never sends to a recipient twice and reads the job's media from the
database; a send refused while its session moves is sent once the session runs again."""

from __future__ import annotations

import asyncio
import base64
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import update

from sendmako.model.simulation import ListSent
from sendmako.storage.tables import Node, utcnow
from tests.cluster.nodes import cluster, place
from tests.cluster.shared import linked, services
from tests.harness import Account, Server, connect_sandbox, hold_sends
from tests.media_samples import png

pytestmark = [pytest.mark.redis, pytest.mark.postgres]

RECIPIENTS = ["221781234500", "221781234501", "221781234502"]


async def submit(account: Account, via: Server, session_id: str, **fields: object) -> str:
    body = {"recipients": RECIPIENTS, "session_id": session_id, "async": True, **fields}
    answer = await via.client(account.key).post("/api/send-bulk", json=body)
    assert answer.status_code == 202, answer.text
    job_id: str = answer.json()["job_id"]
    return job_id


async def sent_to(runner: Server, account: Account, session_id: str) -> list[str]:
    """Whom the session put on the (simulated) wire, in order: its sent log."""
    log = await runner.sessions.perform(account.user, session_id, ListSent())
    return [record.to.partition("@")[0] for record in log]


async def lease_runs_out(server: Server, name: str) -> None:
    """The node `name` stopped renewing its lease (it died), which has now run out."""
    async with services(server).db.write() as tx:
        await tx.execute(
            update(Node).where(Node.name == name).values(expires_at=utcnow() - timedelta(seconds=1))
        )


async def test_a_job_runs_on_one_node_only(tmp_path: Path) -> None:
    """A node that starts while another runs a job leaves it alone: every recipient gets
    the message once."""
    async with cluster(tmp_path) as start:
        a = await start("node-a")
        alice = await a.account("alice@example.com")
        session_id = await connect_sandbox(a, alice, "22241861000")
        services(a).bulk.min_gap = 0
        wire = hold_sends(a)
        job_id = await submit(alice, a, session_id, type="text", text="hello")
        async with asyncio.timeout(5):
            await wire.holding.wait()  # the first recipient is with WhatsApp
        b = await start("node-b")
        assert await services(b).bulk.adopt() == []
        wire.release()
        await services(a).bulk.wait(job_id, timeout=10)
        job = await services(b).bulk.status(alice.user, job_id)
        assert [r.status for r in job.results] == ["sent", "sent", "sent"]
        assert sorted(await sent_to(a, alice, session_id)) == RECIPIENTS


async def test_a_dead_nodes_job_is_taken_over_without_sending_twice(tmp_path: Path) -> None:
    """node-a runs an image job for a session of node-b and dies while the first recipient
    is with WhatsApp: node-b takes the job over, reports that one as unknown, and sends the
    others, the image read from the database; node-a sends nothing more."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        session_ids = await linked(a, alice, 2)
        on_b = next(s for s in session_ids if b.sessions.runs_here(s))
        for node in (a, b):
            services(node).bulk.min_gap = 0
        wire = hold_sends(b)
        image = base64.b64encode(png()).decode()
        job_id = await submit(alice, a, on_b, type="image", imageBase64=image, caption="sale")
        async with asyncio.timeout(5):
            await wire.holding.wait()
        await lease_runs_out(b, "node-a")
        assert await services(b).bulk.adopt() == [job_id]
        wire.release()
        await services(b).bulk.wait(job_id, timeout=10)
        await services(a).bulk.wait(job_id, timeout=10)  # it stopped: the job is not its own
        job = await services(b).bulk.status(alice.user, job_id)
        statuses = {r.to: r.status for r in job.results}
        assert statuses[RECIPIENTS[1]] == statuses[RECIPIENTS[2]] == "sent"
        # The first one did go out (node-a was not really dead): reported as it ended.
        assert statuses[RECIPIENTS[0]] in ("unknown", "sent")
        sent = await sent_to(b, alice, on_b)
        assert sorted(sent) == RECIPIENTS  # each once
        log = await b.sessions.perform(alice.user, on_b, ListSent())
        assert {record.type for record in log} == {"image"}


async def test_a_send_refused_while_its_session_moves_is_sent_once_it_runs_again(
    tmp_path: Path,
) -> None:
    """node-b stops; its session is nobody's until node-a takes it: the job's send answered
    session_moving leaves its recipient pending, and it is sent once the session runs."""
    async with cluster(tmp_path) as start:
        a, b = await start("node-a"), await start("node-b")
        alice = await a.account("alice@example.com")
        session_ids = await linked(a, alice, 2)
        on_b = next(s for s in session_ids if b.sessions.runs_here(s))
        bulk = services(a).bulk
        bulk.min_gap = 0
        await b.stop()  # a clean stop: its sessions are released, to be placed again
        job_id = await submit(alice, a, on_b, type="text", text="hello")
        await bulk.changes.wait_until(lambda: job_id in bulk.waiting, timeout=5)
        pending = await bulk.status(alice.user, job_id)
        assert [r.status for r in pending.results] == ["pending"] * 3
        await place(a)  # node-a takes the session over
        await bulk.wait(job_id, timeout=10)
        job = await bulk.status(alice.user, job_id)
        assert [(r.status, r.error) for r in job.results] == [("sent", None)] * 3
        assert sorted(await sent_to(a, alice, on_b)) == RECIPIENTS
