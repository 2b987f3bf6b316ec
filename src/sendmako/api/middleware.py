"""Plain ASGI middleware: request ids and logs, the last-resort 500, body limits, slashes."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sendmako import log, metrics
from sendmako.errors import PayloadTooLarge, RequestTimeout

logger = log.get("sendmako.http")
_levels = logging.getLogger("sendmako.http")  # the level the structlog logger filters on

# Requests slower than this are logged at INFO like failures (the others at DEBUG).
SLOW_MS = 1000


class TrailingSlash:
    """`/api/x/` and `/api/x` are the same resource for every method, without a redirect."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            path: str = scope["path"]
            if len(path) > 1 and path.endswith("/"):
                # In place, not a copy: RequestContext, outside, reads the route the router
                # puts in this very scope (metrics label requests by route template).
                scope["path"] = path.rstrip("/") or "/"
                raw = scope.get("raw_path")
                if raw:
                    scope["raw_path"] = raw.rstrip(b"/") or b"/"
        await self.app(scope, receive, send)


_ids = random.Random()  # noqa: S311 - request ids label log lines, they guard nothing
os.register_at_fork(after_in_child=_ids.seed)  # forked workers must not repeat ids


class RequestContext:
    """Binds a request id to every log line of the request, logs the request once, and
    turns any exception that escaped the handlers into a JSON 500 with a reference id
    (the traceback goes to the log, never to the client)."""

    def __init__(
        self, app: ASGIApp, *, slow_ms: float = SLOW_MS, fixed_routes: frozenset[str] = frozenset()
    ) -> None:
        """Requests slower than `slow_ms` are logged at INFO, like failures. `fixed_routes`:
        paths answered without the router (the fast lane), each its own route template."""
        self.app = app
        self.slow_ms = slow_ms
        self.fixed_routes = fixed_routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A label for the log, not a secret: no system call for it on every request.
        request_id = f"{_ids.getrandbits(48):012x}"
        structlog.contextvars.bind_contextvars(request_id=request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:  # noqa: BLE001 - the outermost boundary: nothing reaches the client raw
            logger.exception("http.unhandled", ref=request_id, path=scope["path"])
            if not response_started:
                body = json.dumps(
                    {
                        "success": False,
                        "message": f"Internal error (ref {request_id})",
                        "code": "internal",
                    }
                ).encode()
                await send(
                    {
                        "type": "http.response.start",
                        "status": 500,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"content-length", str(len(body)).encode()),
                            (b"x-request-id", request_id.encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
        finally:
            elapsed = time.perf_counter() - started
            metrics.observe_request(scope["method"], self._route(scope), status, elapsed)
            elapsed_ms = round(elapsed * 1000, 2)
            noteworthy = status >= 400 or elapsed_ms > self.slow_ms
            # Asked of the stdlib logger first: a dropped debug line still costs its setup.
            if noteworthy or _levels.isEnabledFor(logging.DEBUG):
                level = logger.info if noteworthy else logger.debug
                level(
                    "http.request",
                    method=scope["method"],
                    path=scope["path"],
                    status=status,
                    ms=elapsed_ms,
                )
            structlog.contextvars.unbind_contextvars("request_id")

    def _route(self, scope: Scope) -> str:
        """The route template the router matched, else the fixed path, else "other" (a path
        nothing matched: one label for all of them)."""
        route = scope.get("route")
        if route is not None:
            return str(getattr(route, "path", "other"))
        path: str = scope["path"]
        return path if path in self.fixed_routes else "other"


@dataclass(frozen=True, slots=True)
class Allowance:
    """How large a request's body may be, and what to add when refusing it."""

    limit: int
    note: str = ""


@dataclass(frozen=True, slots=True)
class BodyPace:
    """How slowly a request body may come. `gap`: the longest wait for its next piece.
    `min_rate`: once `grace` seconds went by waiting for it, the body must have come at this
    many bytes per second of waiting at least (0: no minimum). Only time spent waiting for
    the client counts: while the app works between two reads, uvicorn stops reading."""

    gap: float
    min_rate: float
    grace: float

    def allowed(self, received: int, waited: float) -> tuple[float, str]:
        """How long the next read may wait, `received` bytes having come in `waited` s,
        and what to say if it waits that long."""
        gap = (self.gap, f"No part of the request body came for {self.gap:g} s.")
        if not self.min_rate:
            return gap
        rate = max(self.grace, received / self.min_rate) - waited
        if rate >= self.gap:
            return gap
        return rate, f"The request body came slower than {self.min_rate:,.0f} bytes/s."


class BodyLimit:
    """Refuses request bodies over the allowance of their request, also when the client
    lies about Content-Length or sends none: bytes are counted as they arrive. And refuses
    (408, closing the connection) a body that trickles in slower than `pace` allows."""

    def __init__(
        self,
        app: ASGIApp,
        allowance_for: Callable[[Scope], Awaitable[Allowance]],
        pace: BodyPace,
    ) -> None:
        self.app = app
        self.allowance_for = allowance_for
        self.pace = pace

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        allowance = await self.allowance_for(scope)
        limit = allowance.limit
        has_body = False
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    await _too_large(send, allowance)
                    return
                has_body = declared > 0
            elif name == b"transfer-encoding":
                has_body = True
        received = 0
        waited = 0.0
        pace = self.pace
        timed = has_body  # while the body has more to come: then reads wait for the client
        too_slow = False

        async def limited_receive() -> Message:
            nonlocal received, waited, timed, too_slow
            if timed:
                allowed, complaint = pace.allowed(received, waited)
                started = time.monotonic()
                try:
                    async with asyncio.timeout(max(allowed, 0.0)):
                        message = await receive()
                except TimeoutError:
                    too_slow = True
                    raise RequestTimeout(complaint) from None
                waited += time.monotonic() - started
            else:
                message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge(_too_large_message(allowance), field="body")
                timed = timed and message.get("more_body", False)
            else:
                timed = False  # gone: nothing more to wait for
            return message

        async def closing_send(message: Message) -> None:
            if too_slow and message["type"] == "http.response.start":
                # The rest of a trickling body is not worth waiting for: the connection ends.
                message = {**message, "headers": [*message.get("headers", ()), _CLOSE]}
            await send(message)

        await self.app(scope, limited_receive, closing_send if has_body else send)


_CLOSE = (b"connection", b"close")


def _too_large_message(allowance: Allowance) -> str:
    message = f"Request body too large: this endpoint accepts at most {allowance.limit:,} bytes."
    return f"{message} {allowance.note}" if allowance.note else message


async def _too_large(send: Send, allowance: Allowance) -> None:
    body = json.dumps(
        {"success": False, "message": _too_large_message(allowance), "code": "payload_too_large"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
