"""`/api/whatsapp/sessions`: the five endpoints of the original, plus pair-code and restart."""

from __future__ import annotations

from contextlib import suppress
from typing import Annotated

from fastapi import APIRouter, Body, Query

from sendmako.api.deps import CurrentUser, ServicesDep, SessionIdPath, Sessions
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.envelopes import SuccessOut
from sendmako.api.schemas.sessions import (
    CreateSessionIn,
    CreateSessionOut,
    HistorySyncOut,
    PairCodeIn,
    PairCodeOut,
    RenameSessionIn,
    RenameSessionOut,
    RestartOut,
    SendPolicyOut,
    SessionOut,
)
from sendmako.model.statuses import SessionStatus

router = APIRouter(prefix="/api/whatsapp/sessions", tags=["sessions"])


@router.get("", responses=errors())
async def list_sessions(user: CurrentUser, sessions: Sessions) -> list[SessionOut]:
    """Every session of the caller with its live status (a bare list, as the original)."""
    return [SessionOut.of(view) for view in sessions.list_for(user)]


@router.post("", status_code=201, responses=errors(403))
async def create_session(
    user: CurrentUser,
    sessions: Sessions,
    body: Annotated[CreateSessionIn | None, Body()] = None,
) -> CreateSessionOut:
    """Create a session and start it: poll until `status` is `qr_ready`, then show `qr`."""
    body = body or CreateSessionIn()
    view = await sessions.create(user, session_name=body.session_name, engine=body.engine)
    return CreateSessionOut(
        id=view.id,
        session_id=view.session_id,
        session_name=view.session_name,
        status=view.status,
        engine=view.engine,
    )


@router.get("/{session_id}", responses=errors(404))
async def get_session(
    session_id: SessionIdPath,
    user: CurrentUser,
    sessions: Sessions,
    services: ServicesDep,
    *,
    wait_for: Annotated[
        SessionStatus | None,
        Query(description="long-poll: answer as soon as the session reaches this status"),
    ] = None,
    timeout: Annotated[
        float, Query(gt=0, le=60, description="long-poll: answer after this many seconds anyway")
    ] = 30,
) -> SessionOut:
    """Live status; while `qr_ready`, `qr` is a PNG data URL that changes as WhatsApp rotates
    it. With `wait_for`, the answer waits (up to `timeout`) for that status instead of
    making you poll."""
    view = sessions.get(user, session_id)
    if wait_for is not None and view.status != wait_for:
        with suppress(TimeoutError):
            view = await sessions.wait_for(session_id, [wait_for], timeout)
    progress = await services.chats.history(view.session_id)
    synced = (
        HistorySyncOut(
            progress=progress.progress,
            chats=progress.chats,
            messages=progress.messages,
            updated_at=progress.updated_at,
        )
        if progress is not None
        else None
    )
    return SessionOut.of(view).model_copy(update={"history_sync": synced})


@router.patch("/{session_id}", responses=errors(400, 404))
async def rename_session(
    session_id: SessionIdPath, body: RenameSessionIn, user: CurrentUser, sessions: Sessions
) -> RenameSessionOut:
    """Rename the session, or change its pacing, its handling of calls, or its send policy
    (only the policy's fields given change)."""
    view = await sessions.update(user, session_id, body.change())
    return RenameSessionOut(
        session_name=view.session_name,
        pacing_ms=view.pacing_ms,
        reject_calls=view.reject_calls,
        reject_calls_message=view.reject_calls_message,
        send_policy=SendPolicyOut.of(view.send_policy),
    )


@router.delete("/{session_id}", responses=errors(404))
async def delete_session(
    session_id: SessionIdPath, user: CurrentUser, sessions: Sessions
) -> SuccessOut:
    """Log the device out of WhatsApp, then delete the session and its stored keys."""
    await sessions.delete(user, session_id)
    return SuccessOut()


@router.post("/{session_id}/pair-code", responses=errors(404, 422, 503))
async def pair_code(
    session_id: SessionIdPath, body: PairCodeIn, user: CurrentUser, sessions: Sessions
) -> PairCodeOut:
    """Link without a camera: type this code in WhatsApp > Linked devices > Link with phone
    number. Only while the session is `qr_ready`."""
    code = await sessions.pair_code(user, session_id, body.phone_number)
    return PairCodeOut(session_id=session_id, pair_code=code)


@router.post("/{session_id}/restart", responses=errors(404, 503))
async def restart_session(
    session_id: SessionIdPath, user: CurrentUser, sessions: Sessions
) -> RestartOut:
    """Reconnect from scratch; from `logged_out` this starts a new QR login."""
    view = await sessions.restart(user, session_id)
    return RestartOut(session_id=view.session_id, status=view.status)
