"""The error contract: every failure is `{"success": false, "message", "code"}` with the
right status, and bad input never reaches a 500."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import structlog

from tests.harness import Account, Server

SESSIONS = "/api/whatsapp/sessions/"


def assert_error(response: httpx.Response, status: int) -> dict[str, object]:
    assert response.status_code == status, response.text
    body: dict[str, object] = response.json()
    assert body["success"] is False
    assert isinstance(body["message"], str)
    assert body["message"]
    assert isinstance(body["code"], str)
    return body


async def test_malformed_json_is_a_400(alice: Account) -> None:
    """A body that is not JSON at all says so."""
    answer = await alice.client.post(
        SESSIONS, content=b'{"session_name": ', headers={"Content-Type": "application/json"}
    )
    assert assert_error(answer, 400)["message"].startswith("Malformed JSON body")  # type: ignore[union-attr]


async def test_json_without_its_content_type_is_explained(alice: Account) -> None:
    """`curl -d` without `-H Content-Type` gets told what to add, not a riddle."""
    answer = await alice.client.post(
        SESSIONS,
        content=b'{"session_name": "x"}',
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert "Content-Type: application/json" in str(assert_error(answer, 400)["message"])


async def test_wrong_type_names_the_field(alice: Account) -> None:
    """A number where a string belongs: 400 whose message starts with the field."""
    answer = await alice.client.post(SESSIONS, json={"session_name": 5})
    body = assert_error(answer, 400)
    assert str(body["message"]).startswith("session_name:")
    assert body["field"] == "session_name"


async def test_missing_field_names_the_field(server: Server, alice: Account) -> None:
    """PATCH without anything to change says what it needs; pair-code without a number
    names phone_number."""
    await alice.client.post(SESSIONS, json={"session_name": "x"})
    answer = await alice.client.patch(f"{SESSIONS}user_{alice.user.id}", json={})
    assert assert_error(answer, 400)["message"] == (
        "Give at least one of session_name, pacing_ms, reject_calls, reject_calls_message, "
        "send_policy."
    )
    answer = await alice.client.post(f"{SESSIONS}user_{alice.user.id}/pair-code", json={})
    assert assert_error(answer, 400)["message"] == "phone_number: this field is required."


async def test_unknown_field_is_refused(alice: Account) -> None:
    """A misspelt field is not silently ignored."""
    answer = await alice.client.post(SESSIONS, json={"sesion_name": "typo"})
    assert assert_error(answer, 400)["message"] == "sesion_name: unknown field."


async def test_body_must_be_an_object(alice: Account) -> None:
    """A JSON array where an object belongs."""
    answer = await alice.client.post(SESSIONS, json=["session_name"])
    assert assert_error(answer, 400)["message"] == "The request body must be a JSON object."


async def test_blank_name_is_refused(alice: Account) -> None:
    """Whitespace is not a name."""
    answer = await alice.client.post(SESSIONS, json={"session_name": "   "})
    assert assert_error(answer, 400)["field"] == "session_name"


async def test_oversized_body_with_honest_length_is_413(alice: Account) -> None:
    """A declared Content-Length over the limit is refused before reading the body."""
    answer = await alice.client.post(
        SESSIONS,
        content=b'{"session_name": "' + b"a" * (2 << 20) + b'"}',
        headers={"Content-Type": "application/json"},
    )
    assert "at most 1,048,576 bytes" in str(assert_error(answer, 413)["message"])


async def test_oversized_body_without_length_is_413(alice: Account) -> None:
    """A streamed body with no Content-Length is counted as it arrives and cut off."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"session_name": "'
        for _ in range(40):
            yield b"a" * 65536
        yield b'"}'

    answer = await alice.client.post(
        SESSIONS, content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert "Content-Length" not in answer.request.headers
    assert_error(answer, 413)
    assert (await alice.client.get(SESSIONS)).json() == [], "nothing was created"


async def test_unknown_path_is_a_json_404(alice: Account) -> None:
    assert assert_error(await alice.client.get("/api/nothing-here"), 404)["code"] == "not_found"


async def test_wrong_method_is_a_json_405(alice: Account) -> None:
    assert_error(await alice.client.put(SESSIONS, json={}), 405)


async def test_unexpected_exception_is_a_500_with_a_reference(server: Server) -> None:
    """A bug answers a JSON 500 with a reference id that is in the log, never a trace."""
    assert server.app is not None

    async def explode() -> None:
        raise RuntimeError("secret internals")

    server.app.add_api_route("/boom", explode)
    answer = await server.client().get("/boom")
    body = assert_error(answer, 500)
    ref = answer.headers["x-request-id"]
    assert body["message"] == f"Internal error (ref {ref})"
    assert "secret internals" not in answer.text
    assert "Traceback" not in answer.text


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", "/api/whatsapp/sessions", None),
        ("GET", "/api/whatsapp/sessions/", None),
        ("POST", "/api/whatsapp/sessions", {"session_name": "a"}),
        ("POST", "/api/whatsapp/sessions/", {"session_name": "b"}),
    ],
)
async def test_trailing_slash_is_optional_without_redirect(
    alice: Account, method: str, path: str, body: object
) -> None:
    """Every path answers with and without its trailing slash, never a 307."""
    answer = await alice.client.request(method, path, json=body)
    assert answer.status_code in (200, 201)
    assert not answer.history


@pytest.mark.parametrize("suffix", ["", "/"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
async def test_item_paths_accept_both_spellings(
    server: Server, alice: Account, method: str, suffix: str
) -> None:
    created = (await alice.client.post(SESSIONS, json={"session_name": "a"})).json()
    body = {"session_name": "b"} if method == "PATCH" else None
    answer = await alice.client.request(
        method, f"{SESSIONS}{created['session_id']}{suffix}", json=body
    )
    assert answer.status_code == 200, answer.text


async def test_only_an_authenticated_caller_may_send_a_large_body(
    server: Server, alice: Account
) -> None:
    """send-bulk takes up to 100 MB (inline media); an anonymous caller gets the ordinary
    limit, so that nobody can make the server read and parse 100 MB before refusing it."""
    big = b'{"recipients": ["' + b"1" * (2 << 20) + b'"]}'
    anonymous = await server.client().post(
        "/api/send-bulk", content=big, headers={"Content-Type": "application/json"}
    )
    message = str(assert_error(anonymous, 413)["message"])
    assert "at most 1,048,576 bytes" in message
    assert "Authenticated requests may send up to 104,857,600 bytes" in message
    signed = await alice.client.post(
        "/api/send-bulk", content=big, headers={"Content-Type": "application/json"}
    )
    assert signed.status_code == 400, "read and validated, not refused for its size"


async def test_a_small_declared_length_does_not_open_the_large_allowance(
    server: Server,
) -> None:
    """A client that declares 10 bytes and streams megabytes (some HTTP servers let
    Content-Length and chunked through together) is held to the ordinary limit."""

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"recipients": ["'
        for _ in range(48):
            yield b"1" * 65536
        yield b'"]}'

    answer = await server.client().post(
        "/api/send-bulk",
        content=chunks(),
        headers={"Content-Type": "application/json", "Content-Length": "10"},
    )
    assert_error(answer, 413)


@pytest.mark.parametrize(
    ("level", "logged"),
    [
        (logging.DEBUG, [("GET", "/health/live", 200, "debug"), ("GET", "/nowhere", 404, "info")]),
        (logging.INFO, [("GET", "/nowhere", 404, "info")]),
    ],
)
async def test_each_request_is_logged_once_failures_at_info(
    server: Server,
    level: int,
    logged: list[tuple[str, str, int, str]],
) -> None:
    """Every request at DEBUG, failures and slow ones at INFO; below the level, nothing."""
    # A busy CI machine is not "slow" here.
    server.settings = server.settings.model_copy(update={"slow_request_ms": 60_000})
    await server.restart()
    root = logging.getLogger()
    previous = root.level
    root.setLevel(level)
    try:
        with structlog.testing.capture_logs() as logs:
            await server.client().get("/health/live")
            await server.client().get("/nowhere")
    finally:
        root.setLevel(previous)
    assert [
        (e["method"], e["path"], e["status"], e["log_level"])
        for e in logs
        if e["event"] == "http.request"
    ] == logged


@pytest.mark.parametrize("path", ["/api/send-message", "/api/whatsapp/sessions/"])
@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded"])
async def test_a_body_that_is_not_sent_as_json_is_a_400_on_every_route(
    alice: Account, path: str, content_type: str
) -> None:
    """send-message (which reads its body itself) answers like every other route."""
    answer = await alice.client.post(
        path,
        content=b'{"to": "221781234567", "type": "text", "text": "hi"}',
        headers={"Content-Type": content_type},
    )
    body = assert_error(answer, 400)
    assert body["field"] == "body"
    assert "Content-Type: application/json" in str(body["message"])


@pytest.mark.parametrize("content_type", ["application/json; charset=utf-8", "application/x+json"])
async def test_json_content_types_with_parameters_are_json(
    alice: Account, content_type: str
) -> None:
    answer = await alice.client.post(
        "/api/send-message",
        content=b'{"to": "221781234567", "type": "text", "text": "hi"}',
        headers={"Content-Type": content_type},
    )
    assert assert_error(answer, 404)["code"] == "no_session", "past the body's checks"
