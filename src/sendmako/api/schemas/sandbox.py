"""Bodies of /api/sandbox (the simulated WhatsApp network's control API)."""

from __future__ import annotations

from typing import Literal

from pydantic import (
    BaseModel,
    Field,
)

from sendmako.api.schemas.common import Request
from sendmako.model.statuses import SessionStatus


class SandboxScanIn(Request):
    phone_number: str | None = Field(None, description="the simulated phone that scans")
    qr: str | None = Field(None, description="the QR payload read; refused once rotated")
    pair_code: str | None = Field(None, description="instead of a scan: the pairing code typed")
    push_name: str | None = Field(None, max_length=100)


class SandboxDisconnectIn(Request):
    reason: Literal["logged_out", "connection_lost"]
    reconnect_after: float | None = Field(
        None, ge=0, le=3600, description="connection_lost: seconds before it comes back"
    )


class SandboxStateOut(BaseModel):
    success: Literal[True] = True
    session_id: str
    status: SessionStatus
    phone_number: str | None
