"""Content types read from the bytes of real (small) files of each kind."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from sendmako.media.sniff import sniff
from tests.media import files

CASES: list[tuple[str, Callable[[], bytes], str]] = [
    ("jpeg", files.jpeg_bytes, "image/jpeg"),
    ("png", lambda: files.image_bytes("PNG"), "image/png"),
    ("gif", lambda: files.image_bytes("GIF"), "image/gif"),
    ("webp", lambda: files.image_bytes("WEBP"), "image/webp"),
    ("bmp", lambda: files.image_bytes("BMP"), "image/bmp"),
    ("mp4", files.mp4_bytes, "video/mp4"),
    ("ogg-opus", files.ogg_opus_bytes, "audio/ogg; codecs=opus"),
    ("mp3", files.mp3_bytes, "audio/mpeg"),
    ("mp3-frame", lambda: b"\xff\xfb\x90\x64" + bytes(100), "audio/mpeg"),
    ("aac-adts", lambda: b"\xff\xf1\x50\x80" + bytes(100), "audio/aac"),
    ("wav", files.wav_bytes, "audio/wav"),
    ("pdf", files.pdf_bytes, "application/pdf"),
    (
        "docx",
        lambda: files.office_bytes("docx"),
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    (
        "xlsx",
        lambda: files.office_bytes("xlsx"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    (
        "pptx",
        lambda: files.office_bytes("pptx"),
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ),
    ("zip", files.zip_bytes, "application/zip"),
    ("vcard", lambda: b"BEGIN:VCARD\nVERSION:3.0\nEND:VCARD", "text/vcard"),
]


@pytest.mark.parametrize(("make", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_each_kind_is_recognised(make: Callable[[], bytes], expected: str) -> None:
    """The first bytes of a real file of each kind give its mimetype."""
    assert sniff(make()[:8192]) == expected


def test_m4a_brand_is_audio() -> None:
    """An ISO media file branded M4A is audio, not video."""
    assert sniff(b"\x00\x00\x00\x18ftypM4A \x00\x00\x00\x00") == "audio/mp4"


@pytest.mark.parametrize("head", [b"", b"hello world", bytes(64)])
def test_unknown_bytes_are_none(head: bytes) -> None:
    """Text, zeros and nothing at all are not guessed at."""
    assert sniff(head) is None
