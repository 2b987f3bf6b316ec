"""Routes in the fast lane answer exactly as through FastAPI: same errors, same slashes."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from sendmako.api.fast_lane import FastLane
from tests.harness import Account, Server, connect_sandbox

SEND = "/api/send-message"


async def test_malformed_and_invalid_bodies_get_the_usual_400(alice: Account) -> None:
    malformed = await alice.client.post(
        SEND, content=b'{"to": ', headers={"Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert malformed.json()["message"].startswith("Malformed JSON body")
    unknown = await alice.client.post(SEND, json={"to": "1", "type": "text", "txet": "x"})
    assert unknown.status_code == 400
    assert unknown.json()["message"] == "txet: unknown field."
    empty = await alice.client.post(SEND)
    assert empty.json()["message"] == "The request needs a JSON body."


async def test_auth_and_slashes_hold_in_the_lane(server: Server, alice: Account) -> None:
    assert (await server.client().post(SEND, json={})).status_code == 401
    await connect_sandbox(server, alice, "22241857975")
    answer = await alice.client.post(
        SEND + "/", json={"to": "221781234567", "type": "text", "text": "x"}
    )
    assert answer.status_code == 200
    assert (await server.client().get("/health/live/")).json() == {"status": "ok"}


async def test_a_bug_in_a_lane_route_is_a_referenced_500(server: Server) -> None:
    """The lane sits inside the request context, which turns any exception into a 500."""
    assert server.app is not None

    async def broken(_request: Request) -> Response:
        raise RuntimeError("secret internals")

    await server.client().get("/health/live")  # Starlette builds its stack on first use
    lane = _lane(server)
    lane.routes[("GET", "/broken")] = broken
    answer = await server.client().get("/broken")
    assert answer.status_code == 500
    assert "secret internals" not in answer.text
    assert answer.json()["message"].startswith("Internal error (ref ")


def _lane(server: Server) -> FastLane:
    assert server.app is not None
    app = server.app.middleware_stack
    while app is not None and not isinstance(app, FastLane):
        app = getattr(app, "app", None)
    assert isinstance(app, FastLane)
    return app
