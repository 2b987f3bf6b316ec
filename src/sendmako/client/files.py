"""Media from disk, as the inline fields `POST /api/send-message` takes."""

from __future__ import annotations

import base64
import mimetypes
from pathlib import Path
from typing import Any

MEDIA_KINDS = ("image", "video", "audio", "document", "sticker")


def media_fields(kind: str, path: Path | str) -> dict[str, Any]:
    """`{"<kind>Base64": ...}` (and a document's `filename` and `mimetype`) for the file at `path`.
    The server checks the size limit; a file past it answers 400 naming the limit."""
    if kind not in MEDIA_KINDS:
        raise ValueError(f"{kind} is not a media type: one of {', '.join(MEDIA_KINDS)}")
    file = Path(path)
    fields: dict[str, Any] = {f"{kind}Base64": base64.b64encode(file.read_bytes()).decode()}
    if kind == "document":
        # Other kinds are sniffed by the server; a document's name and type are what the
        # recipient sees.
        fields["filename"] = file.name
        mimetype, _ = mimetypes.guess_type(file.name)
        fields["mimetype"] = mimetype or "application/octet-stream"
    return fields
