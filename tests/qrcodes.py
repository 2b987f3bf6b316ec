"""Reads QR codes back from the PNG data URLs the API returns, as a phone camera would."""

from __future__ import annotations

import base64
import io

import zxingcpp
from PIL import Image

PNG_PREFIX = "data:image/png;base64,"


def decode(data_url: str) -> str:
    assert data_url.startswith(PNG_PREFIX), data_url[:40]
    image = Image.open(io.BytesIO(base64.b64decode(data_url[len(PNG_PREFIX) :])))
    assert image.format == "PNG"
    found = zxingcpp.read_barcodes(image)
    assert len(found) == 1, f"expected one QR code, found {len(found)}"
    text: str = found[0].text
    return text
