"""`sendmako serve` with three floor routes in its fast lane: bounds for bench_send_message.py.

Run as `python -m bench.send_floor serve`. It is the very server `sendmako serve` starts
(same uvicorn, same middleware, same process), with three more routes beside
`/health/live` and `/api/send-message` in the fast lane, each answering a send's request
with a send-shaped answer after doing only part of what a send must do:

- `read`: receives the request (its headers and JSON body). What any POST costs here.
- `least`: also checks the API key as any server storing keys hashed must (its SHA-256
  looked up in a dict, compared in constant time), parses the JSON and validates `to`
  with phonenumbers (`normalize_phone`, its cache bypassed: every number of the benchmark
  is new), as the issue requires of every send. Nothing else: no schema, no session, no
  queue, no engine, no stored row, no receipts.
- `checks`: the real route's checks, in its own code: the API key, the schema, the
  recipient, the type's fields and the session choice. No quota, queue, engine, row or
  receipt.

Every send does all that `least` does, and more; so no send endpoint of this app, however
it were written, can serve more requests per second than `least` does in the same run, as
long as one process serves them (DESIGN.md: one process serves the API and keeps every
WhatsApp session; a send must reach its session's queue there).
"""

from __future__ import annotations

import hashlib
import hmac
import json
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
from sendmako.ids import normalize_phone
from sendmako.messaging import sender as sending
from sendmako.wiring import Services

FLOORS = {
    "read": "/bench/floor/read",
    "least": "/bench/floor/least",
    "checks": "/bench/floor/checks",
}

# What a send answers: the same fields, about the same size.
_ANSWER = SendMessageOut(
    message_id="3EB0" + "0" * 18, session_id="user_1", to="221700000007", timestamp=1_800_000_000
).model_dump_json()
_SEND_MESSAGE = TypeAdapter(SendMessageIn)
_validate_number = normalize_phone  # every number of the benchmark is new: never cached


def _answer() -> Response:
    return Response(_ANSWER, media_type="application/json")


async def read(request: Request) -> Response:
    await request.body()
    return _answer()


_known_keys: dict[str, str] = {}


async def least(request: Request) -> Response:
    digest = hashlib.sha256(request.headers.get("authorization", "").encode()).hexdigest()
    known = _known_keys.setdefault(digest, digest)  # the benchmark's one key, once seen
    if not hmac.compare_digest(known, digest):
        raise AssertionError("unreachable: the digest is its own key")
    _validate_number(json.loads(await request.body())["to"])
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
    ("POST", FLOORS["least"]): least,
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
