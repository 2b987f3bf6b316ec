"""The content type of a file, read from its first bytes (magic numbers), never from the
name or the server's Content-Type, which are often wrong or missing.

`sniff(head)` needs the first few KB at most (`SNIFF_BYTES`); it returns None when it does not
recognise the bytes, and the caller falls back to what it was told.
"""

from __future__ import annotations

from collections.abc import Callable

SNIFF_BYTES = 8192  # enough for every signature below, including OOXML's first entries

Test = Callable[[bytes], bool]


def _at(offset: int, magic: bytes) -> Test:
    return lambda head: head[offset : offset + len(magic)] == magic


def _riff(form: bytes) -> Test:
    return lambda head: head[:4] == b"RIFF" and head[8:12] == form


def _mp3(head: bytes) -> bool:
    if head[:3] == b"ID3":
        return True
    # A bare MPEG audio frame: 11 sync bits, then a version and a layer that are not reserved.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xE0) == 0xE0 and head[1] & 0x06 != 0


def _aac(head: bytes) -> bool:
    # ADTS: 12 sync bits, layer 00.
    return len(head) >= 2 and head[0] == 0xFF and (head[1] & 0xF6) == 0xF0


# ISO base media brands (bytes 8..12 of an `ftyp` box) that are not plain mp4 video.
_FTYP_BRANDS = {
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"M4P ": "audio/mp4",
    b"qt  ": "video/quicktime",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
    b"3gp6": "video/3gpp",
    b"3g2a": "video/3gpp2",
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"avif": "image/avif",
}

# First match wins: more specific signatures come before the generic ones they contain.
_SIGNATURES: tuple[tuple[Test, str], ...] = (
    (_at(0, b"\xff\xd8\xff"), "image/jpeg"),
    (_at(0, b"\x89PNG\r\n\x1a\n"), "image/png"),
    (_at(0, b"GIF87a"), "image/gif"),
    (_at(0, b"GIF89a"), "image/gif"),
    (_riff(b"WEBP"), "image/webp"),
    (_at(0, b"BM"), "image/bmp"),
    (_at(0, b"II*\x00"), "image/tiff"),
    (_at(0, b"MM\x00*"), "image/tiff"),
    (_riff(b"WAVE"), "audio/wav"),
    (_riff(b"AVI "), "video/x-msvideo"),
    (_at(0, b"#!AMR"), "audio/amr"),
    (_at(0, b"fLaC"), "audio/flac"),
    (_at(0, b"\x1aE\xdf\xa3"), "video/webm"),  # Matroska/WebM EBML header
    (_at(0, b"%PDF-"), "application/pdf"),
    (_at(0, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"), "application/x-ole-storage"),  # .doc/.xls
    (_at(0, b"Rar!\x1a\x07"), "application/vnd.rar"),
    (_at(0, b"7z\xbc\xaf\x27\x1c"), "application/x-7z-compressed"),
    (_at(0, b"\x1f\x8b"), "application/gzip"),
    (_at(0, b"BEGIN:VCARD"), "text/vcard"),
)

_OOXML = (
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)
_ODF_MIMETYPE = b"mimetypeapplication/vnd.oasis.opendocument."


def _ftyp(head: bytes) -> str | None:
    if head[4:8] != b"ftyp":
        return None
    return _FTYP_BRANDS.get(head[8:12], "video/mp4")


def _ogg(head: bytes) -> str | None:
    if head[:4] != b"OggS":
        return None
    # The first packet follows the page header and its segment table.
    if len(head) < 27:
        return "application/ogg"
    body = head[27 + head[26] :]
    if body.startswith(b"OpusHead"):
        return "audio/ogg; codecs=opus"
    if body.startswith(b"\x01vorbis"):
        return "audio/ogg"
    if body.startswith(b"\x80theora"):
        return "video/ogg"
    return "application/ogg"


def _zip(head: bytes) -> str | None:
    if head[:4] != b"PK\x03\x04":
        return None
    # OOXML packages name their main part's folder among the first entries; ODF packages
    # start with an uncompressed `mimetype` entry that states the type.
    if head[30:].startswith(_ODF_MIMETYPE):
        end = head.find(b"PK", 38)
        return head[38 : end if end > 0 else 120].decode("ascii", "replace")
    for folder, mimetype in _OOXML:
        if folder in head:
            return mimetype
    return "application/zip"


def sniff(head: bytes) -> str | None:
    """The mimetype the bytes say (None when unknown); `head` is the file's first bytes."""
    for probe in (_ftyp, _ogg, _zip):
        found = probe(head)
        if found is not None:
            return found
    for test, mimetype in _SIGNATURES:
        if test(head):
            return mimetype
    if _mp3(head):
        return "audio/mpeg"
    if _aac(head):
        return "audio/aac"
    return None
