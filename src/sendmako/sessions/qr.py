"""QR codes as the API shows them: PNG images in `data:` URLs."""

from __future__ import annotations

import segno


def png_data_url(payload: str, *, scale: int = 6) -> str:
    """A scannable PNG of `payload` (low error correction keeps WhatsApp's long codes small)."""
    code = segno.make_qr(payload, error="l")
    data_url: str = code.png_data_uri(scale=scale, border=4)
    return data_url
