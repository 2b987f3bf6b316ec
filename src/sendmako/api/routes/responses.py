"""The error answers each route documents in OpenAPI."""

from __future__ import annotations

from typing import Any

from sendmako.api.schemas.envelopes import ErrorOut


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "missing or invalid field (the message names it)",
        401: "missing, malformed, revoked or unknown API key",
        403: "a limit reached (the message names it and the way out), or account disabled",
        404: "not found (also another user's resource)",
        413: "request body too large",
        422: "valid request, but the operation failed",
        429: "too many requests (see Retry-After)",
        501: "the session's engine cannot do this (capability_not_supported)",
        503: "WhatsApp unreachable or the session is not connected",
    }
    return {
        status: {"model": ErrorOut, "description": descriptions[status]}
        for status in (400, 401, *statuses)
    }
