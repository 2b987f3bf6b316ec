"""`/api/sandbox`: drives the simulated WhatsApp network (sandbox sessions only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from sendmako.api.deps import CurrentUser, Sessions
from sendmako.api.routes.responses import errors
from sendmako.api.schemas import SandboxDisconnectIn, SandboxScanIn, SandboxStateOut
from sendmako.engines.base import Capability
from sendmako.engines.sandbox import SandboxSession
from sendmako.errors import BadRequest, NotFound
from sendmako.ids import InvalidIdentifier, normalize_phone
from sendmako.sessions import SessionManager
from sendmako.storage.records import UserRecord

router = APIRouter(prefix="/api/sandbox/sessions", tags=["sandbox"])

SessionIdPath = Annotated[str, Path(examples=["user_1"])]


def _simulator(sessions: SessionManager, user: UserRecord, session_id: str) -> SandboxSession:
    handle = sessions.engine_session(user, session_id, Capability.SIMULATOR)
    if not isinstance(handle, SandboxSession):  # capability declared by a non-sandbox engine
        raise NotFound(f"Session {session_id} is not a sandbox session.")
    return handle


def _state(sessions: SessionManager, user: UserRecord, session_id: str) -> SandboxStateOut:
    view = sessions.get(user, session_id)
    return SandboxStateOut(
        session_id=view.session_id, status=view.status, phone_number=view.phone_number
    )


@router.post("/{session_id}/scan", responses=errors(404, 422))
async def scan(
    session_id: SessionIdPath, body: SandboxScanIn, user: CurrentUser, sessions: Sessions
) -> SandboxStateOut:
    """Simulate the phone: scan the QR (`phone_number`) or type the pairing code (`pair_code`)."""
    handle = _simulator(sessions, user, session_id)
    if body.pair_code is not None:
        await handle.enter_pair_code(body.pair_code, push_name=body.push_name)
    else:
        if body.phone_number is None:
            raise BadRequest(
                "phone_number: this field is required (or give pair_code).", field="phone_number"
            )
        try:
            phone = normalize_phone(body.phone_number)
        except InvalidIdentifier as exc:
            raise BadRequest(f"phone_number: {exc}", field="phone_number") from exc
        await handle.scan(phone, qr=body.qr, push_name=body.push_name)
    return _state(sessions, user, session_id)


@router.post("/{session_id}/disconnect", responses=errors(404, 422))
async def disconnect(
    session_id: SessionIdPath, body: SandboxDisconnectIn, user: CurrentUser, sessions: Sessions
) -> SandboxStateOut:
    """Simulate an unlink from the phone (`logged_out`) or a network drop (`connection_lost`,
    which reconnects by itself after `reconnect_after` seconds)."""
    handle = _simulator(sessions, user, session_id)
    await handle.simulate_disconnect(body.reason, body.reconnect_after)
    return _state(sessions, user, session_id)
