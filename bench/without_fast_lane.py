"""`sendmako serve` without the fast lane: the other half of bench_send_message.py's
comparison (the fast lane stays only if it buys at least 15% more sends/s).

Run as `python -m bench.without_fast_lane serve`. The very server `sendmako serve` starts,
with the fast lane taken out of its middleware, so every request goes through FastAPI's
routing and exception middleware. `BENCH_SEND_ROUTE` says what then serves
`/api/send-message`:

- `lean` (default): the same endpoint as in the lane (it reads and validates its body
  itself), now found by FastAPI's routing: what the lane's dispatch alone saves.
- `ordinary`: send-message written as any other route of `api/routes/` (the body a pydantic
  parameter, `CurrentUser` and `ServicesDep` dependencies, a schema returned): what the
  lane and its lean endpoint together save.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from fastapi import APIRouter

import sendmako.app
from sendmako import cli
from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.fast_lane import FastLane
from sendmako.api.routes import messages
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.messages import SendMessageIn, SendMessageOut

SEND = "/api/send-message"


async def send_message(
    body: SendMessageIn, user: CurrentUser, services: ServicesDep
) -> SendMessageOut:
    """Send one message of any type to a number, a user JID or a group JID."""
    sent = await services.sender.send(user, body.to, body.to_request())
    return SendMessageOut(
        message_id=sent.message_id,
        session_id=sent.session_id,
        to=sent.to,
        timestamp=int(sent.result.timestamp.timestamp()),
    )


_create_app = sendmako.app.create_app


def _create_app_without_lane(*args: Any, **kwargs: Any) -> Any:
    if os.environ.get("BENCH_SEND_ROUTE", "lean") == "ordinary":
        ordinary = APIRouter(prefix="/api", tags=["messages"])
        ordinary.post(
            "/send-message",
            response_model=SendMessageOut,
            responses=errors(403, 404, 413, 422, 429, 503),
        )(send_message)
        routes = messages.router.routes
        (index,) = (i for i, route in enumerate(routes) if getattr(route, "path", "") == SEND)
        routes[index] = ordinary.routes[0]  # where the lean one was: routing walks the same
    app = _create_app(*args, **kwargs)
    app.user_middleware = [entry for entry in app.user_middleware if entry.cls is not FastLane]
    return app


if __name__ == "__main__":
    sendmako.app.create_app = _create_app_without_lane  # what `serve` builds its app with
    raise SystemExit(cli.main(sys.argv[1:]))
