"""Base64 as clients actually send it: the standard or the URL-safe alphabet, with or
without `=` padding, possibly wrapped over several lines."""

from __future__ import annotations

import base64
import binascii
import re

_WHITESPACE = re.compile(r"\s+")
_URLSAFE = str.maketrans("-_", "+/")


def decode(value: str) -> bytes:
    """The bytes `value` encodes. Raises ValueError (with a message for a human) when it is
    not base64 in either alphabet."""
    text = _WHITESPACE.sub("", value).translate(_URLSAFE).rstrip("=")
    if len(text) % 4 == 1:
        raise ValueError("not valid base64 (its length is impossible)")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except binascii.Error as exc:
        raise ValueError("not valid base64 (standard or URL-safe alphabet)") from exc
