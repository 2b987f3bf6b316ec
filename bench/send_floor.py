"""`sendmako serve` with two floor routes in its fast lane, for bench_send_message.py.

Run as `python -m bench.send_floor serve`. It is the very server `sendmako serve` starts
(same uvicorn, same middleware, same process), with two more routes beside `/health/live`
and `/api/send-message` in the fast lane, served exactly as the send is, each answering a
send's request with a send-shaped answer after doing only part of what a send must do:

- `read`: receives the request (its headers and JSON body). What any POST costs here.
- `checks`: the send route's own checks, in its own code and order: read, the API key,
  the schema (and the type's fields), the number and the session choice. No quota,
  content, queue, engine, stored row or receipts: what a send adds to these is what the
  target (at most 2 times the CPU of this floor) bounds.
"""

from __future__ import annotations

import sys
from typing import Any

from pydantic import TypeAdapter
from starlette.requests import Request
from starlette.responses import Response

import sendmako.app
from sendmako import cli
from sendmako.api.fast_lane import FastLane
from sendmako.api.lean import validated
from sendmako.api.schemas.messages import SendMessageIn, SendMessageOut
from sendmako.messaging import sender as sending
from sendmako.wiring import Services

FLOORS = {
    "read": "/bench/floor/read",
    "checks": "/bench/floor/checks",
}

# What a send answers: the same fields, about the same size.
_ANSWER = SendMessageOut(
    message_id="3EB0" + "0" * 18, session_id="user_1", to="221700000007", timestamp=1_800_000_000
).model_dump_json()
_SEND_MESSAGE = TypeAdapter(SendMessageIn)


def _answer() -> Response:
    return Response(_ANSWER, media_type="application/json")


async def read(request: Request) -> Response:
    await request.body()
    return _answer()


async def checks(request: Request) -> Response:
    services: Services = request.app.state.services
    user = await services.auth.authenticate(request.headers.get("authorization"))
    body = validated(_SEND_MESSAGE, await request.body())
    send_request = body.to_request()
    sending.parse_recipient(body.to)
    sending.check(send_request)
    services.sender.choose(user, send_request)
    return _answer()


_ROUTES = {
    ("POST", FLOORS["read"]): read,
    ("POST", FLOORS["checks"]): checks,
}
_create_app = sendmako.app.create_app


def _create_app_with_floors(*args: Any, **kwargs: Any) -> Any:
    app = _create_app(*args, **kwargs)
    (lane,) = (entry for entry in app.user_middleware if entry.cls is FastLane)
    lane.kwargs["routes"].update(_ROUTES)  # Starlette builds the lane at the first request
    return app


if __name__ == "__main__":
    sendmako.app.create_app = _create_app_with_floors  # what `serve` builds its app with
    raise SystemExit(cli.main(sys.argv[1:]))
