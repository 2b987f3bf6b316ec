"""Media to send: from a URL or inline base64 to a checked `MediaPayload`.

Everything an engine needs is worked out here, once, whatever the engine: the bytes
(within the type's size limit), the real type (sniffed from the bytes, not trusted from
a header), image and video dimensions, a JPEG thumbnail, durations, and voice notes
transcoded to OGG/Opus with their waveform.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

import av
from PIL import Image, UnidentifiedImageError

from sendmako import log
from sendmako.errors import BadRequest, SendmakoError
from sendmako.media import audio, b64
from sendmako.media.fetch import MEDIA_LIMITS, Fetcher, SizeLimit
from sendmako.media.sniff import SNIFF_BYTES, sniff
from sendmako.media.work import MEDIA_WORK
from sendmako.model.messages import MediaPayload, MessageType

logger = log.get(__name__)

IMAGE_TYPES = {"image/jpeg", "image/png", "image/webp", "image/gif"}
THUMBNAIL_SIZE = (96, 96)
# The size limits bound the file, not its pixels: a 160 KB PNG can hold 13,000 x 13,000 of
# them (~650 MB decoded for the thumbnail). 50 megapixels is more than phones' photos and
# screenshots and bounds a decode at ~400 MB (RGBA and its RGB copy). JPEGs count after
# `draft`, which has libjpeg decode them at 1/2..1/8 scale, so big photos still go through.
MAX_DECODED_PIXELS = 50_000_000
_DATA_URL = re.compile(r"^data:[\w/+.\-]+(;[\w=\-]+)*;base64,", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class MediaSource:
    """Where the caller said the file is: exactly one of `url` and `base64`."""

    kind: MessageType
    url: str | None
    base64: str | None
    mimetype: str | None = None  # declared by the caller (documents)
    filename: str | None = None
    voice_note: bool = False

    @property
    def url_field(self) -> str:
        return f"{self.kind.value}Url"

    @property
    def base64_field(self) -> str:
        return f"{self.kind.value}Base64"


async def load(source: MediaSource, fetcher: Fetcher) -> MediaPayload:
    """The checked payload for `source`, or a 400/422 naming the field at fault."""
    limit = MEDIA_LIMITS[source.kind.value]
    if source.url is not None:
        fetched = await fetcher.fetch(source.url, field=source.url_field, limit=limit)
        data, field = fetched.content, source.url_field
        filename = source.filename or fetched.filename or _filename_from_url(source.url)
    else:
        assert source.base64 is not None
        data, field = (
            decode_base64(source.base64, field=source.base64_field, limit=limit),
            source.base64_field,
        )
        filename = source.filename
    if not data:
        raise BadRequest(f"{field}: the file is empty", field=field)
    return await MEDIA_WORK.run(describe, source, data, field, filename)


def decode_base64(text: str, *, field: str, limit: SizeLimit) -> bytes:
    """Standard or URL-safe base64, padded or not, optionally as a `data:` URL; refused
    before decoding when the text alone shows the file is over the limit."""
    text = _DATA_URL.sub("", text.strip(), count=1)
    if len(text) * 3 // 4 > limit.max_bytes + 3:
        raise BadRequest(f"{field}: the file is larger than the {limit}", field=field)
    try:
        data = b64.decode(text)
    except ValueError as exc:
        raise BadRequest(f"{field}: {exc}", field=field) from exc
    if len(data) > limit.max_bytes:
        raise BadRequest(f"{field}: the file is larger than the {limit}", field=field)
    return data


def describe(source: MediaSource, data: bytes, field: str, filename: str | None) -> MediaPayload:
    """CPU-bound part of `load` (decoding images, probing video, transcoding audio)."""
    try:
        return _describe(source, data, field, filename)
    except (SendmakoError, MemoryError, RecursionError):
        raise
    except Exception as exc:  # noqa: BLE001 - Pillow and FFmpeg, fed any bytes, raise anything
        logger.warning("media.unreadable", field=field, kind=source.kind.value, exc_info=True)
        raise BadRequest(
            f"{field}: the file could not be read as {source.kind.value} (damaged or not "
            "what its type says).",
            field=field,
        ) from exc


def _describe(source: MediaSource, data: bytes, field: str, filename: str | None) -> MediaPayload:
    sniffed = sniff(data[:SNIFF_BYTES])
    kind = source.kind
    if kind in (MessageType.IMAGE, MessageType.STICKER):
        return _image(kind, data, sniffed, field)
    if kind == MessageType.VIDEO:
        return _video(data, sniffed, field)
    if kind == MessageType.AUDIO:
        return _audio(data, sniffed, field, voice_note=source.voice_note)
    mimetype = source.mimetype or sniffed or "application/octet-stream"
    return MediaPayload(data=data, mimetype=mimetype, filename=filename or "document")


def _image(kind: MessageType, data: bytes, sniffed: str | None, field: str) -> MediaPayload:
    if kind == MessageType.STICKER and sniffed != "image/webp":
        raise BadRequest(
            f"{field}: stickers must be WebP images (got {sniffed or 'unknown'})", field=field
        )
    if sniffed not in IMAGE_TYPES:
        raise BadRequest(
            f"{field}: not an image WhatsApp can show (JPEG, PNG, WebP or GIF; got "
            f"{sniffed or 'unknown'})",
            field=field,
        )
    try:
        with Image.open(io.BytesIO(data)) as image:
            width, height = image.size  # before `draft`, which shrinks it
            image.draft("RGB", THUMBNAIL_SIZE)  # JPEG only; other formats ignore it
            if image.width * image.height > MAX_DECODED_PIXELS:
                raise _too_many_pixels(field, "image", width, height)
            thumbnail = _thumbnail(image)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise BadRequest(f"{field}: the image could not be read ({exc})", field=field) from exc
    return MediaPayload(
        data=data, mimetype=sniffed, width=width, height=height, thumbnail=thumbnail
    )


def _too_many_pixels(field: str, kind: str, width: int, height: int) -> BadRequest:
    return BadRequest(
        f"{field}: the {kind} is {width:,} x {height:,} pixels; {kind}s may have up to "
        f"{MAX_DECODED_PIXELS // 1_000_000} megapixels (send a larger one as a document)",
        field=field,
    )


def _thumbnail(image: Image.Image) -> bytes:
    small = image.convert("RGB")
    small.thumbnail(THUMBNAIL_SIZE)
    out = io.BytesIO()
    small.save(out, format="JPEG", quality=60)
    return out.getvalue()


def _video(data: bytes, sniffed: str | None, field: str) -> MediaPayload:
    if sniffed is None or not sniffed.startswith("video/"):
        raise BadRequest(f"{field}: not a video (got {sniffed or 'unknown'})", field=field)
    # Opening a video already decodes a frame (to learn its size): FFmpeg itself must
    # refuse frames over the cap, or a 2 MB file costs gigabytes before any check of ours.
    caps = {"max_pixels": str(MAX_DECODED_PIXELS)}
    try:
        with av.open(io.BytesIO(data), mode="r", options=caps) as container:
            if not container.streams.video:
                raise BadRequest(f"{field}: the file has no video track", field=field)
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            if width * height > MAX_DECODED_PIXELS:
                raise _too_many_pixels(field, "video", width, height)
            if not width or not height:  # what FFmpeg leaves of a frame over the cap
                raise BadRequest(
                    f"{field}: the video's frames could not be read: damaged, or over "
                    f"{MAX_DECODED_PIXELS // 1_000_000} megapixels (send it as a document)",
                    field=field,
                )
            stream.codec_context.options = caps
            seconds = round(container.duration / av.time_base) if container.duration else None
            thumbnail = None
            for frame in container.decode(stream):
                thumbnail = _thumbnail(frame.to_image())  # type: ignore[no-untyped-call]  # PyAV leaves it unannotated
                break
    except av.FFmpegError as exc:
        raise BadRequest(f"{field}: the video could not be read ({exc})", field=field) from exc
    return MediaPayload(
        data=data,
        mimetype=sniffed,
        width=width,
        height=height,
        seconds=seconds,
        thumbnail=thumbnail,
    )


def _audio(data: bytes, sniffed: str | None, field: str, *, voice_note: bool) -> MediaPayload:
    if voice_note:
        note = audio.prepare_voice_note(data, field=field)
        return MediaPayload(
            data=note.data, mimetype=note.mimetype, seconds=note.seconds, waveform=note.waveform
        )
    info = audio.probe(data, field=field)
    mimetype = sniffed if sniffed and sniffed.startswith("audio/") else "audio/mpeg"
    if info.is_ogg_opus:
        mimetype = audio.VOICE_MIMETYPE
    return MediaPayload(data=data, mimetype=mimetype, seconds=info.seconds)


def _filename_from_url(url: str) -> str | None:
    name = unquote(urlsplit(url).path.rsplit("/", 1)[-1])
    return name or None


PROFILE_PICTURE_SIZE = 640  # pixels a side: what WhatsApp keeps of a profile picture


def profile_picture(image: MediaPayload) -> bytes:
    """The centre square of a checked image (`load` with kind image), as a JPEG of at most
    PROFILE_PICTURE_SIZE pixels a side: what WhatsApp shows as a profile picture."""
    with Image.open(io.BytesIO(image.data)) as opened:
        opened.draft("RGB", (PROFILE_PICTURE_SIZE, PROFILE_PICTURE_SIZE))
        side = min(opened.size)
        left, top = (opened.width - side) // 2, (opened.height - side) // 2
        square = opened.convert("RGB").crop((left, top, left + side, top + side))
        square.thumbnail((PROFILE_PICTURE_SIZE, PROFILE_PICTURE_SIZE))
        out = io.BytesIO()
        square.save(out, format="JPEG", quality=85)
        return out.getvalue()
