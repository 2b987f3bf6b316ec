"""Base64 as clients send it."""

from __future__ import annotations

import base64

import pytest

from sendmako.media import b64

DATA = bytes(range(250, 256)) + b"\xfb\xff\xfe>?"


@pytest.mark.parametrize(
    "text",
    [
        base64.b64encode(DATA).decode(),
        base64.urlsafe_b64encode(DATA).decode(),
        base64.b64encode(DATA).decode().rstrip("="),
        base64.urlsafe_b64encode(DATA).decode().rstrip("="),
        "\n".join(base64.b64encode(DATA).decode()[i : i + 4] for i in range(0, 16, 4)),
    ],
    ids=["standard", "urlsafe", "standard-unpadded", "urlsafe-unpadded", "wrapped"],
)
def test_every_spelling_decodes(text: str) -> None:
    """Standard or URL-safe, padded or not, wrapped or not: the same bytes."""
    assert b64.decode(text) == DATA


@pytest.mark.parametrize("text", ["abc$", "a", "ab=c"])
def test_garbage_is_refused(text: str) -> None:
    """Characters outside both alphabets, or an impossible length, raise ValueError."""
    with pytest.raises(ValueError, match="base64"):
        b64.decode(text)
