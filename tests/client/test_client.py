"""`sendmako.client` against a real server on loopback: it covers every operation the
server documents, and its answers and errors are the API's."""

from __future__ import annotations

import base64
from pathlib import Path

import httpx
import pytest

from sendmako.client import (
    ApiError,
    AsyncClient,
    BadRequest,
    Client,
    NotFound,
    OperationFailed,
    Unauthorized,
    media_fields,
)
from sendmako.client.operations import covered, shape
from tests.client import unasync
from tests.client.conftest import Linked
from tests.client.sse_server import sample_events, sse_server
from tests.contract.live import LiveServer


def test_client_covers_every_operation_of_openapi(live: LiveServer) -> None:
    """Every operation in the server's /openapi.json has a client method, in both clients;
    a new route without one fails here."""
    document = httpx.get(f"{live.url}/openapi.json").json()
    documented = {
        shape(method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert len(documented) > 50
    assert documented - covered(Client) == set()
    assert covered(AsyncClient) == covered(Client)


def test_the_blocking_client_is_the_async_one_without_async() -> None:
    """`_sync.py` is what tests/client/unasync.py writes from `_async.py`: run
    `python -m tests.client.unasync` after changing the async client."""
    assert unasync.TARGET.read_text() == unasync.unasync(unasync.SOURCE.read_text())


def test_sends_and_reads_through_a_sandbox_session(linked: Linked) -> None:
    """Typed answers for sessions, sends (text and a file from disk), checks and groups."""
    with Client(linked.server.url, linked.key) as sendmako:
        sessions = sendmako.list_sessions()
        assert [s.session_id for s in sessions] == [linked.session_id]
        assert sessions[0].status == "connected"
        assert sessions[0].phone_number is not None

        sent = sendmako.send_text("+222 41 85 79 75", "Bonjour", session_id=linked.session_id)
        assert sent.session_id == linked.session_id
        assert sent.to.startswith("22241857975")
        assert sent.message_id in {m.message_id for m in sendmako.sandbox_sent(linked.session_id)}

        checks = sendmako.check_numbers(["22241857975", "22241850000"])
        assert [(c.number, c.on_whatsapp) for c in checks.results] == [
            ("22241857975", True),
            ("22241850000", False),
        ]

        group = sendmako.create_group("Équipe", ["22241857975"]).group
        assert group.subject == "Équipe"
        assert sendmako.group_metadata(group.id).group.id == group.id
        assert group.id in {g.id for g in sendmako.list_groups().groups}


def test_sends_a_document_read_from_disk(linked: Linked, tmp_path: Path) -> None:
    """media_fields turns a file into the inline fields; the server takes them."""
    invoice = tmp_path / "facture.pdf"
    invoice.write_bytes(b"%PDF-1.4\n" + b"0" * 2000 + b"\n%%EOF\n")
    fields = media_fields("document", invoice)
    assert fields["filename"] == "facture.pdf"
    assert fields["mimetype"] == "application/pdf"
    assert base64.b64decode(fields["documentBase64"]) == invoice.read_bytes()
    with Client(linked.server.url, linked.key) as sendmako:
        sent = sendmako.send_message("22241857975", "document", **fields)
        kinds = {m.message_id: m.type for m in sendmako.sandbox_sent(linked.session_id)}
    assert kinds[sent.message_id] == "document"


def test_errors_carry_the_api_code_and_message(linked: Linked) -> None:
    """401, 404, 400 (naming the field) and 422 become exceptions with the API's code."""
    with (
        Client(linked.server.url, "wsa_" + "x" * 40) as stranger,
        pytest.raises(Unauthorized) as refused,
    ):
        stranger.list_sessions()
    assert refused.value.status == 401
    assert refused.value.code == "invalid_key"

    with Client(linked.server.url, linked.key) as sendmako:
        with pytest.raises(NotFound) as missing:
            sendmako.get_session("user_999999")
        assert missing.value.code == "session_not_found"
        assert missing.value.message

        with pytest.raises(BadRequest) as invalid:
            sendmako.send_message("22241857975", "text")
        assert "text" in invalid.value.message
        assert invalid.value.status == 400

        with pytest.raises(OperationFailed) as absent:
            sendmako.send_text("22241850000", "Allô ?")
        assert absent.value.code == "not_on_whatsapp"
        assert isinstance(absent.value, ApiError)


async def test_async_client_sends_in_bulk_and_follows_the_job(linked: Linked) -> None:
    """The async client: a background bulk job, followed to its end."""
    async with AsyncClient(linked.server.url, linked.key) as sendmako:
        accepted = await sendmako.start_bulk(
            ["22241857975", "22241850000"], "text", text="Promo", session_id=linked.session_id
        )
        states = [job async for job in sendmako.follow_bulk(accepted.job_id, interval=0.1)]
        job = states[-1]
        outcome = {r.to: r.success for r in job.results}
    assert job.status == "done"
    assert job.summary.total == 2
    assert outcome == {"22241857975": True, "22241850000": False}


async def test_events_resume_after_a_disconnect_without_gap_or_repeat() -> None:
    """The stream follower reconnects with Last-Event-ID: each event once, in order.
    (Against a loopback SSE server of the test's own: GET /api/events is built elsewhere.)"""
    events = sample_events(5)
    received = []
    async with (
        sse_server(events, per_connection=2, key="wsa_k") as server,
        AsyncClient(server.url, "wsa_k") as sendmako,
    ):
        async for event in sendmako.events(events=["message.received"], session_id="user_1"):
            received.append(event)
            if len(received) == 5:
                break
    assert [e.id for e in received] == [e["id"] for e in events]
    assert received[0].data["body"] == "n°0"
    resumed = [r.get("last-event-id") for r in server.requests]
    assert resumed == [None, "evt_1", "evt_3"]
    assert "event=message.received" in server.requests[0]["request"]
    assert "session_id=user_1" in server.requests[0]["request"]


async def test_events_refused_key_raises_instead_of_retrying() -> None:
    """A 401 on the stream is an error at once, not a reconnection loop."""
    async with (
        sse_server(sample_events(1), per_connection=1, key="wsa_k") as server,
        AsyncClient(server.url, "wsa_wrong") as sendmako,
    ):
        with pytest.raises(Unauthorized):
            await anext(aiter(sendmako.events()))
    assert len(server.requests) == 1
