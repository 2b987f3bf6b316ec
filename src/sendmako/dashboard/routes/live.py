"""Live status for the pages' scripts: `/dashboard/live/...` answers JSON.

A session page long-polls with the token of what it shows; the answer comes as soon as the
status, the QR or the number changes (woken by the session manager, no polling inside), or
after `LONG_POLL_SECONDS` with nothing new. Lists and a webhook's delivery log poll every
few seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
from contextlib import suppress
from typing import Any

from fastapi import APIRouter, Request

from sendmako.dashboard.deliveries import log_page
from sendmako.dashboard.pages import DashboardRoute
from sendmako.dashboard.params import PageNumber, RowId
from sendmako.dashboard.visit import PREFIX, Member, Visit
from sendmako.sessions.state import SessionView

router = APIRouter(prefix=f"{PREFIX}/live", route_class=DashboardRoute, include_in_schema=False)

LONG_POLL_SECONDS = 20.0


def live_token(view: SessionView) -> str:
    """Changes exactly when something the page shows about the session changes."""
    shown = "|".join(
        str(part)
        for part in (view.status, view.qr, view.phone_number, view.session_name, view.detail)
    )
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def _state(visit: Visit, view: SessionView) -> dict[str, Any]:
    return {
        "session_id": view.session_id,
        "status": view.status.value,
        "label": visit.t(f"status.{view.status.value}"),
        "phone_number": view.phone_number,
        "qr": view.qr,
        "token": live_token(view),
    }


@router.get("/sessions")
async def sessions_state(visit: Member) -> dict[str, Any]:
    views = visit.services.sessions.list_for(visit.account)
    return {"sessions": [_state(visit, view) for view in views]}


@router.get("/sessions/{session_id}")
async def session_state(session_id: str, visit: Member, since: str = "") -> dict[str, Any]:
    manager = visit.services.sessions
    view = manager.get(visit.account, session_id)  # 404 for another user's session
    if since and since == live_token(view):
        changed = asyncio.ensure_future(
            manager.wait_until(
                session_id, lambda latest: live_token(latest) != since, LONG_POLL_SECONDS
            )
        )
        gone = asyncio.ensure_future(_disconnected(visit.request))
        await asyncio.wait({changed, gone}, return_when=asyncio.FIRST_COMPLETED)
        gone.cancel()
        if not changed.done():
            # The page was closed: stop waiting now rather than hold the request (and a
            # graceful shutdown) until the timeout.
            changed.cancel()
            with suppress(asyncio.CancelledError):
                await changed
            return {}
        with suppress(TimeoutError):
            view = changed.result()
    return _state(visit, view)


@router.get("/webhooks/{webhook_id}")
async def delivery_log_state(
    webhook_id: RowId, visit: Member, page: PageNumber = 1
) -> dict[str, Any]:
    shown = await log_page(visit.services, visit.account, webhook_id, page)
    return {"token": shown.token}


async def _disconnected(request: Request) -> None:
    """Returns when the client goes away (the request has no body left to read)."""
    while (await request.receive())["type"] != "http.disconnect":
        pass
