"""`GET /api/events`: the user's events as Server-Sent Events (README "Events without a
public URL")."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.event_stream import EventStreamResponse, event_frame, gap_frame
from sendmako.api.routes.responses import errors
from sendmako.errors import BadRequest
from sendmako.inbound.registry import WEBHOOKS

router = APIRouter(prefix="/api/events", tags=["events"])

MAX_SEQ = 2**31 - 1  # what the stored numbers hold


@router.get(
    "",
    status_code=200,  # FastAPI cannot read it from a response class without content
    response_class=EventStreamResponse,
    responses={
        200: {
            "content": {"text/event-stream": {}},
            "description": "An endless stream of `id:`, `event:`, `data:` frames, and "
            "`: heartbeat` comments",
        },
        **errors(404),
    },
)
async def stream_events(
    user: CurrentUser,
    services: ServicesDep,
    event: Annotated[
        list[str] | None,
        Query(description="only these events (repeat it, or separate them with commas)"),
    ] = None,
    session_id: Annotated[
        list[str] | None,
        Query(description="only these sessions' events (repeat it, or separate with commas)"),
    ] = None,
    last_event_id: Annotated[
        str | None,
        Header(
            alias="Last-Event-ID",
            description="resume after this event's `id:` (0: everything still kept); "
            "EventSource clients send it by themselves when they reconnect",
        ),
    ] = None,
) -> EventStreamResponse:
    """Your events as [Server-Sent Events](https://html.spec.whatwg.org/multipage/server-sent-events.html),
    without a public URL: the same events and the same JSON bodies as webhooks (`data:` is
    the exact body a webhook would be sent, with its `id`), for your sessions only.

    - Each frame is `id: <n>`, `event: <name>`, `data: <the webhook body>`; `n` grows by
      one per event of yours. Filters: `event` and `session_id` (repeat them or use
      commas); an unknown event is a 400 naming `event`, a session that is not yours a 404.
    - Without `Last-Event-ID` the stream starts with the next event. With it, it first
      replays every event after that one that is still kept
      (`SENDMAKO_EVENTS__RETENTION_HOURS`, 72 by default), then follows live: a client
      that reconnects with the last `id:` it saw misses nothing and sees nothing twice.
      Events no longer kept are announced by one `sendmako.gap` event
      (`{"first_missed", "last_missed"}`).
    - A `: heartbeat` comment comes after `SENDMAKO_EVENTS__HEARTBEAT_SECONDS` (15) without
      events, so proxies keep the connection open.
    - A client that takes nothing for `SENDMAKO_EVENTS__STALL_SECONDS` (30) is
      disconnected; it resumes with `Last-Event-ID`. A slow reader never slows the server
      or the other clients."""
    names = _split(event)
    for index, name in enumerate(names or ()):
        if name not in WEBHOOKS:
            raise BadRequest(
                f"event: unknown event {name!r} (events: {', '.join(WEBHOOKS)})",
                field=f"event[{index}]",
            )
    sessions = _split(session_id)
    for sid in sessions or ():
        services.sessions.get(user, sid)  # 404 for a session that is not the user's
    settings = services.settings.events
    log = services.events
    if last_event_id is None:
        after = await log.position(user.id)
    else:
        text = last_event_id.strip()
        if not (text.isascii() and text.isdigit() and int(text) <= MAX_SEQ):
            raise BadRequest(
                "Last-Event-ID: must be the `id:` of an event of this stream (a whole "
                "number), or 0 for everything still kept",
                field="Last-Event-ID",
            )
        after = int(text)

    async def frames(stopped: Callable[[], bool]) -> AsyncIterator[bytes]:
        nonlocal after
        if last_event_id is not None:
            missed = await log.missed(user.id, after)
            if missed is not None:
                yield gap_frame(missed)
                after = missed.stop - 1
        async for batch in log.follow(
            user.id,
            after,
            names=names,
            session_ids=sessions,
            heartbeat=settings.heartbeat_seconds,
            batch=settings.batch,
            stopped=stopped,
        ):
            if not batch:
                yield b": heartbeat\n\n"
            for found in batch:
                yield event_frame(found)

    return EventStreamResponse(frames, stall=settings.stall_seconds, on_close=log.hub.poke)


def _split(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    return [part.strip() for value in values for part in value.split(",") if part.strip()]
