"""Voice notes: whatever audio people send becomes what WhatsApp plays as a voice note.

WhatsApp shows a voice note (with its waveform) only for mono OGG/Opus with `seconds` and
a 64-sample waveform (0..100) in the message. PyAV's wheels carry FFmpeg and libopus, so no
system package is needed.
"""

from __future__ import annotations

import io
from array import array
from dataclasses import dataclass

import av
from av.audio.resampler import AudioResampler

from sendmako.errors import BadRequest

VOICE_MIMETYPE = "audio/ogg; codecs=opus"
WAVEFORM_SAMPLES = 64
OPUS_RATE = 48000
OPUS_BITRATE = 32000
_ENVELOPE_RATE = 8000  # enough resolution for 64 amplitude buckets, cheap to scan


@dataclass(frozen=True, slots=True)
class VoiceNote:
    data: bytes  # mono OGG/Opus
    seconds: int
    waveform: bytes  # WAVEFORM_SAMPLES values, 0..100
    mimetype: str = VOICE_MIMETYPE


@dataclass(frozen=True, slots=True)
class AudioInfo:
    seconds: int
    is_ogg_opus: bool
    channels: int


def probe(data: bytes, *, field: str) -> AudioInfo:
    """Duration and format of an audio file, or a 400 naming `field` if it is not audio."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = _audio_stream(container, field)
            duration = _duration_seconds(container, stream)
            is_opus = container.format.name == "ogg" and stream.codec_context.name == "opus"
            return AudioInfo(round(duration), is_opus, stream.codec_context.channels or 1)
    except av.FFmpegError as exc:
        raise BadRequest(
            f"{field}: the file is not audio that can be read ({exc})", field=field
        ) from exc


def prepare_voice_note(data: bytes, *, field: str) -> VoiceNote:
    """Transcode to mono OGG/Opus unless it already is, and measure duration and waveform.

    CPU-bound (decoding and encoding): call it in a worker thread.
    """
    try:
        info = probe(data, field=field)
        encoded = data if info.is_ogg_opus and info.channels == 1 else _to_ogg_opus(data, field)
        samples = _envelope_samples(encoded, field)
    except av.FFmpegError as exc:
        raise BadRequest(f"{field}: the audio could not be converted ({exc})", field=field) from exc
    seconds = max(1, round(len(samples) / _ENVELOPE_RATE)) if samples else max(1, info.seconds)
    return VoiceNote(encoded, seconds, waveform(samples))


def waveform(samples: array[int]) -> bytes:
    """64 peak amplitudes scaled so the loudest is 100 (silence gives zeros)."""
    if not samples:
        return bytes(WAVEFORM_SAMPLES)
    peaks = []
    size = len(samples)
    for index in range(WAVEFORM_SAMPLES):
        chunk = samples[index * size // WAVEFORM_SAMPLES : (index + 1) * size // WAVEFORM_SAMPLES]
        highest, lowest = (max(chunk), min(chunk)) if chunk else (0, 0)
        peaks.append(max(highest, -lowest))
    loudest = max(peaks)
    if loudest == 0:
        return bytes(WAVEFORM_SAMPLES)
    return bytes(min(100, round(peak * 100 / loudest)) for peak in peaks)


def _audio_stream(
    container: av.container.InputContainer, field: str
) -> av.audio.stream.AudioStream:
    if not container.streams.audio:
        raise BadRequest(f"{field}: the file has no audio track", field=field)
    return container.streams.audio[0]


def _duration_seconds(
    container: av.container.InputContainer, stream: av.audio.stream.AudioStream
) -> float:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return 0.0


def _to_ogg_opus(data: bytes, field: str) -> bytes:
    out = io.BytesIO()
    with av.open(io.BytesIO(data), mode="r") as source, av.open(out, "w", format="ogg") as target:
        stream = _audio_stream(source, field)
        encoder = target.add_stream("libopus", rate=OPUS_RATE)
        encoder.layout = "mono"
        encoder.bit_rate = OPUS_BITRATE
        resampler = AudioResampler(format="s16", layout="mono", rate=OPUS_RATE)
        for frame in source.decode(stream):
            for converted in resampler.resample(frame):
                target.mux(encoder.encode(converted))
        for converted in resampler.resample(None):
            target.mux(encoder.encode(converted))
        target.mux(encoder.encode(None))
    return out.getvalue()


def _envelope_samples(data: bytes, field: str) -> array[int]:
    """The whole file as 8 kHz mono 16-bit samples (for duration and waveform)."""
    samples: array[int] = array("h")
    with av.open(io.BytesIO(data), mode="r") as source:
        stream = _audio_stream(source, field)
        resampler = AudioResampler(format="s16", layout="mono", rate=_ENVELOPE_RATE)
        for frame in source.decode(stream):
            for converted in resampler.resample(frame):
                samples.frombytes(bytes(converted.planes[0])[: converted.samples * 2])
        for converted in resampler.resample(None):
            samples.frombytes(bytes(converted.planes[0])[: converted.samples * 2])
    return samples
