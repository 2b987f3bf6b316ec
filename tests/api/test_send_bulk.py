"""POST /api/send-bulk: per-recipient results, spacing, async jobs that survive restarts."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import event, select

from sendmako.engines.sandbox.network import Wire
from sendmako.model.actions import SendResult
from sendmako.model.simulation import ListSent, SentRecord
from sendmako.storage import bulk_jobs, plans
from sendmako.storage.tables import BulkJob, Message
from tests.harness import Account, Server, connect_sandbox, hold_sends

BULK = "/api/send-bulk"


async def sent_log(server: Server, account: Account, session_id: str) -> list[SentRecord]:
    return await server.sessions.perform(account.user, session_id, ListSent())


async def a_job_whose_first_send_never_ends(server: Server, account: Account) -> str:
    """An async job of two recipients, its first message with an engine that will never
    answer, and a 50 ms grace for closing queues: the job's id."""
    wire = hold_sends(server)  # never released
    server.sessions.close_grace = 0.05
    answer = await account.client.post(
        BULK,
        json={
            "recipients": ["221781234567", "237691234567"],
            "type": "text",
            "text": "x",
            "async": True,
        },
    )
    async with asyncio.timeout(5):
        await wire.holding.wait()
    job_id: str = answer.json()["job_id"]
    return job_id


async def test_one_failure_never_stops_the_rest(server: Server, alice: Account) -> None:
    """An impossible number and a number not on WhatsApp fail; the others are sent; the
    results keep the order of the recipients."""
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        BULK,
        json={
            "recipients": ["12", "221781234567", "22241850000", "237691234567"],
            "type": "text",
            "text": "Bonjour à tous !",
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["success"] is True
    assert body["summary"] == {"total": 4, "sent": 2, "failed": 2, "pending": 0, "unknown": 0}
    assert [(r["to"], r["success"]) for r in body["results"]] == [
        ("12", False),
        ("221781234567", True),
        ("22241850000", False),
        ("237691234567", True),
    ]
    assert "recipients[0]" in body["results"][0]["message"]
    assert "not on WhatsApp" in body["results"][2]["message"]
    assert body["results"][1]["message_id"].startswith("3EB0")


async def test_sends_are_at_least_500_ms_apart(server: Server, alice: Account) -> None:
    """Measured from the engine's send times, with the session's own pacing at 0."""
    session_id = await connect_sandbox(server, alice, "22241857975", pacing_ms=0)
    recipients = ["22241857975", "221781234567", "237691234567"]
    answer = await alice.client.post(
        BULK, json={"recipients": recipients, "type": "text", "text": "x"}
    )
    assert answer.json()["summary"]["sent"] == 3
    log = await sent_log(server, alice, session_id)
    assert [record.to.split("@")[0] for record in log] == recipients
    gaps = [later.monotonic - earlier.monotonic for earlier, later in itertools.pairwise(log)]
    assert min(gaps) >= 0.5


@pytest.mark.parametrize("count", [0, 101])
async def test_recipient_count_is_1_to_100(server: Server, alice: Account, count: int) -> None:
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        BULK, json={"recipients": ["221781234567"] * count, "type": "text", "text": "x"}
    )
    assert answer.status_code == 400
    assert answer.json()["message"].startswith("recipients:")


async def test_quota_refuses_a_campaign_that_cannot_finish(server: Server) -> None:
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await plans.upsert(tx, "tiny", max_sessions=1, daily_messages=2)
    carol = await server.account("carol@example.com", plan="tiny")
    await connect_sandbox(server, carol, "22241857975")
    answer = await carol.client.post(
        BULK, json={"recipients": ["221781234567"] * 3, "type": "text", "text": "x"}
    )
    assert answer.status_code == 403
    assert "2 messages per day" in answer.json()["message"]


async def test_async_job_answers_202_and_reports_progress(
    server: Server, alice: Account, bob: Account
) -> None:
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        BULK,
        json={
            "recipients": ["221781234567", "237691234567"],
            "type": "text",
            "text": "x",
            "async": True,
        },
    )
    assert answer.status_code == 202
    job_id = answer.json()["job_id"]
    assert answer.json()["status_url"] == f"/api/send-bulk/{job_id}"
    assert server.app is not None
    await server.app.state.services.bulk.wait(job_id, timeout=10)
    status = (await alice.client.get(f"{BULK}/{job_id}")).json()
    assert status["status"] == "done"
    assert status["summary"]["sent"] == 2
    assert (await bob.client.get(f"{BULK}/{job_id}")).status_code == 404


async def test_async_job_survives_a_restart_without_duplicates(
    server: Server, alice: Account
) -> None:
    """Stopped mid-way, the job resumes where it stopped: every recipient gets exactly one
    message."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    recipients = ["221781234567", "237691234567", "22670123456"]
    answer = await alice.client.post(
        BULK, json={"recipients": recipients, "type": "text", "text": "x", "async": True}
    )
    job_id = answer.json()["job_id"]
    assert server.app is not None
    network = server.app.state.services.engines["sandbox"].network
    await network.wait_sent(session_id, 1, timeout=5)

    await server.restart()

    services = server.app.state.services
    await services.bulk.wait(job_id, timeout=10)
    status = (await alice.client.get(f"{BULK}/{job_id}")).json()
    assert status["status"] == "done"
    assert status["summary"]["sent"] == 3
    async with services.db.read() as db:
        peers = (await db.scalars(select(Message.peer).where(Message.bulk_job_id == job_id))).all()
    assert sorted(peers) == sorted(recipients)


async def test_a_send_left_unknown_by_a_crash_is_reported_not_repeated(
    server: Server, alice: Account
) -> None:
    """A recipient caught between `sending` and its outcome (as a crash leaves it) becomes
    `unknown` at restart, and only the pending ones are sent."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await bulk_jobs.create(
            tx,
            job_id="crashed0000000000000000000000001",
            user_id=alice.user.id,
            session_id=session_id,
            is_async=True,
            request={
                "type": "text",
                "text": "x",
                "voice_note": False,
                "latitude": None,
                "longitude": None,
                "location_name": None,
                "location_address": None,
                "contact_name": None,
                "contact_phone": None,
                "mentions": [],
                "quoted_message_id": None,
                "media": None,
            },
            recipients=["221781234567", "237691234567"],
        )
        await bulk_jobs.mark(tx, "crashed0000000000000000000000001", 0, "sending")

    await server.restart()

    services = server.app.state.services
    await services.bulk.wait("crashed0000000000000000000000001", timeout=10)
    status = (await alice.client.get(f"{BULK}/crashed0000000000000000000000001")).json()
    assert [r["status"] for r in status["results"]] == ["unknown", "sent"]
    assert "may or may not" in status["results"][0]["message"]
    assert [r.to for r in await sent_log(server, alice, session_id)] == [
        "237691234567@s.whatsapp.net"
    ]


async def test_two_jobs_on_one_session_share_the_500_ms_gap(server: Server, alice: Account) -> None:
    """The gap protects the number, not the job: jobs side by side interleave, still
    500 ms apart on the session (measured from the engine's send times)."""
    session_id = await connect_sandbox(server, alice, "22241857975", pacing_ms=0)
    body = {"type": "text", "text": "x", "async": True}
    jobs = [
        (await alice.client.post(BULK, json={**body, "recipients": recipients})).json()["job_id"]
        for recipients in (["221781234567", "237691234567"], ["22670123456", "237691234568"])
    ]
    assert server.app is not None
    for job_id in jobs:
        await server.app.state.services.bulk.wait(job_id, timeout=10)
    log = await sent_log(server, alice, session_id)
    assert len(log) == 4
    gaps = [later.monotonic - earlier.monotonic for earlier, later in itertools.pairwise(log)]
    assert min(gaps) >= 0.5


async def test_jobs_side_by_side_cannot_promise_more_than_the_quota(server: Server) -> None:
    """Each job holds room for all of its recipients from the start: a second job that
    would overshoot is refused with 403 before any of it is sent or stored."""
    assert server.app is not None
    async with server.app.state.services.db.write() as tx:
        await plans.upsert(tx, "three", max_sessions=1, daily_messages=3)
    carol = await server.account("carol@example.com", plan="three")
    await connect_sandbox(server, carol, "22241857975")
    body = {"type": "text", "text": "x", "async": True, "recipients": ["221781234567"] * 2}
    first = await carol.client.post(BULK, json=body)
    second = await carol.client.post(BULK, json=body)
    assert first.status_code == 202
    assert second.status_code == 403
    assert "3 messages per day" in second.json()["message"]
    await server.app.state.services.bulk.wait(first.json()["job_id"], timeout=10)
    async with server.app.state.services.db.read() as db:
        assert len(await bulk_jobs.unfinished(db)) == 0
        jobs = (await db.scalars(select(BulkJob.id))).all()
    assert jobs == [first.json()["job_id"]]
    # What the first job did not use is free again.
    one_more = {"to": "221781234567", "type": "text", "text": "x"}
    assert (await carol.client.post("/api/send-message", json=one_more)).status_code == 200


async def test_a_send_cut_short_by_a_delete_is_reported_unknown(
    server: Server, alice: Account
) -> None:
    """Its session deleted while the engine had the message, and no answer within the
    grace: the recipient is `unknown` (it may have gone out), the next one failed."""
    session_id = await connect_sandbox(server, alice, "22241857975")
    job_id = await a_job_whose_first_send_never_ends(server, alice)
    assert (await alice.client.delete(f"/api/whatsapp/sessions/{session_id}")).status_code == 200
    assert server.app is not None
    await server.app.state.services.bulk.wait(job_id, timeout=5)
    status = (await alice.client.get(f"{BULK}/{job_id}")).json()
    assert [r["status"] for r in status["results"]] == ["unknown", "failed"]
    assert status["summary"]["unknown"] == 1
    assert "unknown" in status["results"][0]["message"]


async def test_a_shutdown_waits_for_a_silent_engine_only_as_long_as_the_grace(
    server: Server, alice: Account
) -> None:
    """WhatsApp never answers the send in progress: the server still stops (its recipient
    `unknown`), and after the restart (a new sandbox network, which answers) the job
    carries on with the next one."""
    await connect_sandbox(server, alice, "22241857975")
    job_id = await a_job_whose_first_send_never_ends(server, alice)
    async with asyncio.timeout(5):  # before, it waited for the engine for ever
        await server.restart()
    assert server.app is not None
    await server.app.state.services.bulk.wait(job_id, timeout=10)
    status = (await alice.client.get(f"{BULK}/{job_id}")).json()
    assert [r["status"] for r in status["results"]] == ["unknown", "sent"]


async def test_a_job_that_fails_before_sending_gives_its_quota_back(server: Server) -> None:
    """The database fails the job's first write after it reserved its room: the room is
    given back."""
    assert server.app is not None
    db = server.app.state.services.db
    async with db.write() as tx:
        await plans.upsert(tx, "three", max_sessions=1, daily_messages=3)
    carol = await server.account("carol@example.com", plan="three")
    await connect_sandbox(server, carol, "22241857975")
    failures = [ConnectionResetError("database connection lost")]

    def fail_once(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        if failures and statement.lstrip().upper().startswith("UPDATE BULK_JOBS"):
            raise failures.pop()

    event.listen(db.engine.sync_engine, "before_cursor_execute", fail_once)
    body = {"type": "text", "text": "x", "recipients": ["221781234567"] * 2}
    try:
        assert (await carol.client.post(BULK, json=body)).status_code == 500
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", fail_once)
    assert not failures
    retried = await carol.client.post(BULK, json=body)
    assert retried.status_code == 200, retried.text  # before, the first job's room stayed held
    assert retried.json()["summary"]["sent"] == 2


async def test_a_job_running_past_midnight_must_fit_in_the_new_day(server: Server) -> None:
    """Its room was reserved yesterday; at midnight another campaign takes the whole new
    day: the rest of the job fails naming the limit instead of going over it."""
    assert server.app is not None
    services = server.app.state.services
    async with services.db.write() as tx:
        await plans.upsert(tx, "three", max_sessions=1, daily_messages=3)
    carol = await server.account("carol@example.com", plan="three")
    session_id = await connect_sandbox(server, carol, "22241857975")
    now = [datetime(2030, 1, 1, 23, 59, 59, tzinfo=UTC)]
    services.usage.clock = lambda: now[0]
    held: list[object] = []

    class MidnightAfterTheFirst(Wire):
        async def carry(self, transmit: Callable[[], Awaitable[SendResult]]) -> SendResult:
            result = await transmit()
            if not held:
                now[0] += timedelta(seconds=2)
                held.append(await services.usage.reserve(carol.user, 3))  # all the new day
            return result

    services.engines["sandbox"].network.wire = MidnightAfterTheFirst()
    answer = await carol.client.post(
        BULK,
        json={"type": "text", "text": "x", "recipients": ["221781234567", "237691234567"]},
    )
    assert answer.status_code == 200, answer.text
    results = answer.json()["results"]
    assert [r["status"] for r in results] == ["sent", "failed"]
    assert "Daily message limit reached" in results[1]["message"]
    assert len(await sent_log(server, carol, session_id)) == 1
