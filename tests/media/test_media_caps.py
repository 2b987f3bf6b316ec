"""Caps on what sent media cost to decode, which the file-size limits do not bound: a small
image can hold a huge number of pixels, a small audio file hours of sound."""

from __future__ import annotations

import io
import struct
from array import array
from collections.abc import Iterable
from pathlib import Path

import av
import pytest
from PIL import Image, ImageFile

from sendmako.errors import BadRequest
from sendmako.media import audio, outgoing
from sendmako.model.messages import MediaPayload, MessageType

# 64 MP: over the 50 MP cap, under the 89 MP where Pillow starts warning (an error in tests).
OVER_CAP = (8000, 8000)


@pytest.fixture
def decoded_sizes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """The size of every image Pillow decodes while the test runs."""
    sizes: list[tuple[int, int]] = []
    load = ImageFile.ImageFile.load

    def recording(image: ImageFile.ImageFile) -> object:
        sizes.append(image.size)
        return load(image)

    monkeypatch.setattr(ImageFile.ImageFile, "load", recording)
    return sizes


def describe(kind: MessageType, data: bytes, *, voice_note: bool = False) -> MediaPayload:
    source = outgoing.MediaSource(kind, url=None, base64="x", voice_note=voice_note)
    return outgoing.describe(source, data, f"{kind.value}Base64", None)


def encoded(image: Image.Image, fmt: str, **options: object) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [(MessageType.IMAGE, "PNG"), (MessageType.IMAGE, "GIF"), (MessageType.STICKER, "WEBP")],
)
def test_an_image_over_the_pixel_cap_is_refused_before_decoding(
    kind: MessageType, fmt: str, decoded_sizes: list[tuple[int, int]]
) -> None:
    """A small PNG, GIF or WebP with too many pixels is a 400 naming the field, not decoded."""
    options = {"lossless": True} if fmt == "WEBP" else {}
    data = encoded(Image.new("L", OVER_CAP), fmt, **options)
    assert len(data) < 200_000
    with pytest.raises(BadRequest) as caught:
        describe(kind, data)
    assert caught.value.field == f"{kind.value}Base64"
    assert str(caught.value) == (
        f"{kind.value}Base64: the image is 8,000 x 8,000 pixels; images may have up to 50 "
        "megapixels (send a larger one as a document)"
    )
    assert decoded_sizes == []


def test_a_big_jpeg_is_decoded_at_an_eighth_of_its_size(
    decoded_sizes: list[tuple[int, int]],
) -> None:
    """An 80 MP photo goes through with its real size, its thumbnail decoded at 1/8 scale."""
    data = encoded(Image.new("L", (10000, 8000), 128), "JPEG", quality=10)
    payload = describe(MessageType.IMAGE, data)
    assert (payload.width, payload.height, payload.mimetype) == (10000, 8000, "image/jpeg")
    assert payload.thumbnail is not None
    with Image.open(io.BytesIO(payload.thumbnail)) as thumbnail:
        assert (thumbnail.format, thumbnail.size) == ("JPEG", (96, 77))
    assert decoded_sizes == [(1250, 1000)]


def png_video(width: int, height: int, pix_fmt: str) -> bytes:
    """One blank PNG frame in a MOV: a tiny file, however many pixels it holds."""
    out = io.BytesIO()
    with av.open(out, "w", format="mov") as container:
        stream = container.add_stream("png", rate=10)
        stream.width, stream.height, stream.pix_fmt = width, height, pix_fmt
        frame = av.VideoFrame(width, height, pix_fmt)
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()


def test_a_video_over_the_pixel_cap_is_refused() -> None:
    """A video whose frames have too many pixels is a 400 naming the field."""
    data = png_video(7200, 7200, "monob")  # 51.8 MP, and 1 bit each: quick to make
    with pytest.raises(BadRequest) as caught:
        describe(MessageType.VIDEO, data)
    assert caught.value.field == "videoBase64"
    assert str(caught.value) == (
        "videoBase64: the video's frames could not be read: damaged, or over 50 megapixels "
        "(send it as a document)"
    )


def _peak_rss_mb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) // 1024
    raise AssertionError("no VmHWM in /proc/self/status")


@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's peak RSS")
def test_a_video_over_the_cap_is_refused_before_a_frame_is_decoded() -> None:
    """Opening a video decodes a frame to learn its size: 8000 x 8000 RGB is ~190 MB, from
    a 200 KB file. FFmpeg refuses it there; the peak memory barely moves."""
    data = png_video(8000, 8000, "rgb24")
    Path("/proc/self/clear_refs").write_text("5")  # the peak starts again from now
    before = _peak_rss_mb()
    with pytest.raises(BadRequest):
        describe(MessageType.VIDEO, data)
    assert _peak_rss_mb() - before < 64


def silent_flac(seconds: float, *, claims: int | None = None, rate: int = 8000) -> bytes:
    """Mono FLAC silence; `claims` rewrites the length its STREAMINFO header announces."""
    out = io.BytesIO()
    total = round(seconds * rate)
    with av.open(out, "w", format="flac") as container:
        stream = container.add_stream("flac", rate=rate)
        stream.layout = "mono"
        for start in range(0, total, rate):
            count = min(rate, total - start)
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            frame.planes[0].update(bytes(count * 2))
            frame.rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    data = bytearray(out.getvalue())
    if claims is not None:
        # "fLaC", a block header, 10 bytes of STREAMINFO; then 64 bits ending with 36 bits of
        # total samples.
        (packed,) = struct.unpack(">Q", data[18:26])
        data[18:26] = struct.pack(">Q", packed >> 36 << 36 | claims * rate)
    return bytes(data)


def test_a_voice_note_announced_as_too_long_is_refused() -> None:
    """A voice note whose header says 61 minutes is a 400 naming the field."""
    data = silent_flac(1, claims=61 * 60)
    assert audio.probe(data, field="a").seconds == 61 * 60
    with pytest.raises(BadRequest) as caught:
        describe(MessageType.AUDIO, data, voice_note=True)
    assert caught.value.field == "audioBase64"
    assert str(caught.value) == (
        "audioBase64: the voice note lasts 61 minutes; voice notes may last up to 30 minutes "
        "(send it with voiceNote false as an audio file)"
    )


def test_plain_audio_may_be_long() -> None:
    """The duration cap is for voice notes only: audio sent as a file is just probed."""
    payload = describe(MessageType.AUDIO, silent_flac(1, claims=61 * 60))
    assert payload.seconds == 61 * 60


def test_a_voice_note_longer_than_its_header_says_is_refused() -> None:
    """Decoding enforces the cap too: a header announcing 1 s does not get 60 s through."""
    data = silent_flac(60, claims=1)
    assert audio.probe(data, field="a").seconds == 1
    with pytest.raises(BadRequest) as caught:
        audio.prepare_voice_note(data, field="audioUrl", max_seconds=10)
    assert caught.value.field == "audioUrl"
    assert str(caught.value) == (
        "audioUrl: the voice note lasts over 10 seconds; voice notes may last up to 10 seconds "
        "(send it with voiceNote false as an audio file)"
    )


@pytest.mark.parametrize("rate", [audio.OPUS_RATE, 8000])
def test_decoding_stops_as_soon_as_the_cap_is_passed(rate: int) -> None:
    """The decoder is stopped at the cap (plus its slack), not after the whole file."""
    decoded = 0

    def drain(frames: Iterable[av.AudioFrame]) -> None:
        nonlocal decoded
        for frame in frames:
            decoded += frame.samples

    with av.open(io.BytesIO(silent_flac(120, claims=1))) as container:
        frames = audio._resampled(container, "audioUrl", rate=rate, max_seconds=2)
        with pytest.raises(BadRequest):
            drain(frames)
    limit = (2 + audio._DECODE_SLACK_SECONDS) * rate
    assert limit - rate < decoded <= limit


def test_a_voice_note_the_header_check_lets_through_is_not_refused_by_decoding() -> None:
    """10.4 s rounds to the 10 s cap in the header check; decoding lets the fraction pass."""
    data = silent_flac(10.4)
    assert audio.probe(data, field="a").seconds == 10
    note = audio.prepare_voice_note(data, field="audioUrl", max_seconds=10)
    assert note.seconds == 10


def mp3(seconds: float, bitrate: int, *, loud: bool, rate: int = 16000) -> bytes:
    """CBR MP3 without a Xing header: FFmpeg can only guess its length from the bitrate."""
    out = io.BytesIO()
    with av.open(out, "w", format="mp3", options={"write_xing": "0", "id3v2_version": "0"}) as c:
        stream = c.add_stream("libmp3lame", rate=rate)
        stream.layout = "mono"
        stream.bit_rate = bitrate
        total = round(seconds * rate)
        for start in range(0, total, rate):
            count = min(rate, total - start)
            samples = array("h", [4000 if loud and i % 40 < 20 else 0 for i in range(count)])
            frame = av.AudioFrame(format="s16", layout="mono", samples=count)
            frame.planes[0].update(samples.tobytes())
            frame.rate, frame.pts = rate, start
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)
    return out.getvalue()


def test_a_guessed_length_never_refuses_a_voice_note() -> None:
    """A quiet start at a low bitrate makes FFmpeg guess an MP3 far longer than it is:
    only decoding, which is bounded anyway, decides."""
    data = mp3(1, 8000, loud=False) + mp3(20, 128000, loud=True)  # 21 s, a speaker after 1 s
    guessed = audio.probe(data, field="audioUrl")
    assert not guessed.exact
    assert guessed.seconds > 30  # the guess the old check refused on
    note = audio.prepare_voice_note(data, field="audioUrl", max_seconds=30)
    assert 20 <= note.seconds <= 22
