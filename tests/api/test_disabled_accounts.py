"""A disabled account sends nothing: its bulk jobs stop (and resume, without duplicates,
once it is enabled again) and the messages waiting in its sessions' queues are refused."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from sendmako.messaging.bulk import JobView
from sendmako.model.simulation import ListSent
from sendmako.storage.tables import Message
from tests.dashboard.client import Dashboard, member
from tests.harness import Account, Server, connect_sandbox, hold_sends

BULK = "/api/send-bulk"
RECIPIENTS = ["221781234500", "221781234501", "221781234502", "221781234503", "221781234504"]


async def job_of(server: Server, account: Account, job_id: str) -> JobView:
    assert server.app is not None
    return await server.app.state.services.bulk.status(account.user, job_id)


async def sent_by_job(server: Server, job_id: str) -> list[str]:
    """The recipients of the job's stored sent messages (one row per message sent)."""
    assert server.app is not None
    async with server.app.state.services.db.read() as db:
        rows = await db.scalars(select(Message.peer).where(Message.bulk_job_id == job_id))
        return sorted(rows.all())


async def set_status(admin: Dashboard, account: Account, action: str) -> None:
    page = await admin.post(f"/dashboard/admin/users/{account.user.id}/status", {"action": action})
    assert page.status == 303, page.text[:500]


async def test_disabling_stops_a_job_and_enabling_resumes_it_without_duplicates(
    server: Server, alice: Account, backend: str
) -> None:
    """Disabled while its first message is with WhatsApp: that one goes out, the others stay
    pending, also across a restart; enabled again, the job sends each of them exactly once
    (SQLite and PostgreSQL)."""
    await connect_sandbox(server, alice, "22241857975")
    _, admin = await member(server, "root@example.com", admin=True)
    assert server.app is not None
    server.app.state.services.bulk.min_gap = 0  # the 500 ms gap is tested elsewhere
    wire = hold_sends(server)
    answer = await alice.client.post(
        BULK, json={"recipients": RECIPIENTS, "type": "text", "text": "x", "async": True}
    )
    job_id = answer.json()["job_id"]
    async with asyncio.timeout(5):
        await wire.holding.wait()

    await set_status(admin, alice, "disable")
    wire.release()
    await server.app.state.services.bulk.wait(job_id, timeout=5)
    job = await job_of(server, alice, job_id)
    assert job.status == "paused"
    assert [r.status for r in job.results] == ["sent"] + ["pending"] * 4
    assert await sent_by_job(server, job_id) == RECIPIENTS[:1]

    await server.restart()  # a disabled account's job does not resume at start-up
    services = server.app.state.services
    services.bulk.min_gap = 0
    await services.bulk.wait(job_id, timeout=5)
    assert (await job_of(server, alice, job_id)).status == "paused"

    await set_status(admin, alice, "enable")
    await services.bulk.wait(job_id, timeout=10)
    job = await job_of(server, alice, job_id)
    assert job.status == "done"
    assert [r.status for r in job.results] == ["sent"] * 5
    assert await sent_by_job(server, job_id) == RECIPIENTS


async def test_messages_waiting_in_a_queue_are_refused_when_the_account_is_disabled(
    server: Server, alice: Account
) -> None:
    """The message with WhatsApp finishes; the one waiting behind it is refused (403
    account_disabled), never sent; a sync bulk job ends `interrupted`, its rest pending."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    _, admin = await member(server, "root@example.com", admin=True)
    assert server.app is not None
    services = server.app.state.services
    services.bulk.min_gap = 0
    wire = hold_sends(server)
    first = asyncio.create_task(
        alice.client.post(
            "/api/send-message", json={"to": RECIPIENTS[0], "type": "text", "text": "x"}
        )
    )
    async with asyncio.timeout(5):
        await wire.holding.wait()
    waiting = asyncio.create_task(
        alice.client.post(BULK, json={"recipients": RECIPIENTS[1:], "type": "text", "text": "x"})
    )
    await services.sessions.wait_queue(session_id, lambda count: count == 1, timeout=5)

    await set_status(admin, alice, "disable")
    wire.release()
    assert (await first).status_code == 200
    answer = (await waiting).json()
    assert [r["status"] for r in answer["results"]] == ["pending"] * 4
    assert (await job_of(server, alice, answer["job_id"])).status == "interrupted"
    sent = await services.sessions.perform(alice.user, session_id, ListSent())
    assert [record.to.split("@")[0] for record in sent] == RECIPIENTS[:1]
