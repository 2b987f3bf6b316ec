"""`POST /api/decrypt-media`: a WhatsApp media file, downloaded, verified and decrypted."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from sendmako.api.deps import CurrentUser, ServicesDep
from sendmako.api.routes.responses import errors
from sendmako.api.schemas.media import DecryptMediaIn

router = APIRouter(tags=["media"])

_BINARY: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "the decrypted file, with `Content-Type: <mimetype>` and `Content-Length`",
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/api/decrypt-media",
    response_class=StreamingResponse,
    responses={**_BINARY, **errors(422)},
)
async def decrypt_media(
    body: DecryptMediaIn, _user: CurrentUser, services: ServicesDep
) -> StreamingResponse:
    """Download an encrypted media file (the fields of a webhook's `data.media`), verify its
    length, SHA-256 and MAC, and answer with the original file. Nothing is sent unless every
    check passed; a failed check is a 422 that names it."""
    media = await services.media.open(body.to_request())
    return StreamingResponse(
        media.chunks(),
        headers={"Content-Type": media.mimetype, "Content-Length": str(media.length)},
    )
