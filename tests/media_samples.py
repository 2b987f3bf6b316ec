"""Small media files made by the tests themselves (no fixtures downloaded from anywhere)."""

from __future__ import annotations

import io
import math
from array import array

import av
from PIL import Image


def png(width: int = 64, height: int = 48) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def webp(size: int = 64) -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (size, size), (0, 120, 200, 255)).save(out, format="WEBP")
    return out.getvalue()


def tone(fmt: str, codec: str, seconds: float = 2.0, rate: int = 44100) -> bytes:
    """A stereo 440 Hz tone, loud for the first half and quiet for the second."""
    out = io.BytesIO()
    with av.open(out, "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=rate)
        stream.layout = "stereo"
        total, done = int(seconds * rate), 0
        while done < total:
            count = min(1024, total - done)
            samples = array("h")
            for i in range(done, done + count):
                level = 12000 if i < total // 2 else 3000
                value = int(level * math.sin(2 * math.pi * 440 * i / rate))
                samples.extend((value, value))
            frame = av.AudioFrame(format="s16", layout="stereo", samples=count)
            frame.planes[0].update(samples.tobytes())
            frame.rate = rate
            frame.pts = done
            for packet in stream.encode(frame):
                container.mux(packet)
            done += count
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def mp4(seconds: int = 1, size: tuple[int, int] = (64, 48)) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height = size
        stream.pix_fmt = "yuv420p"
        for index in range(seconds * 10):
            image = Image.new("RGB", size, (index * 20 % 255, 80, 160))
            frame = av.VideoFrame.from_image(image)
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return out.getvalue()


def probe_format(data: bytes) -> str:
    with av.open(io.BytesIO(data), mode="r") as container:
        name: str = container.format.name
    return name
