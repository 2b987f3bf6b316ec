"""Voice notes: whatever audio people send becomes what WhatsApp plays as a voice note.

WhatsApp shows a voice note (with its waveform) only for mono OGG/Opus with `seconds` and
a 64-sample waveform (0..100) in the message. PyAV's wheels carry FFmpeg and libopus, so no
system package is needed.
"""

from __future__ import annotations

import io
import math
from array import array
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain

import av
from av.audio.resampler import AudioResampler

from sendmako.errors import BadRequest

VOICE_MIMETYPE = "audio/ogg; codecs=opus"
WAVEFORM_SAMPLES = 64
OPUS_RATE = 48000
OPUS_BITRATE = 32000
_ENVELOPE_RATE = 8000  # enough resolution for 64 amplitude buckets, cheap to scan
# A voice note is decoded, resampled and re-encoded whole, and a 16 MB upload can hold hours
# of audio (an hour of FLAC silence is 0.7 MB and ~30 s of CPU). Half an hour is longer than
# voice notes people record and bounds that work; longer audio goes as a plain audio file.
MAX_VOICE_NOTE_SECONDS = 30 * 60
# Decoding may run this far past the cap before stopping: headers round and codecs pad, so a
# note that `probe` accepted must not be refused for a few extra samples.
_DECODE_SLACK_SECONDS = 5


@dataclass(frozen=True, slots=True)
class VoiceNote:
    data: bytes  # mono OGG/Opus
    seconds: int
    waveform: bytes  # WAVEFORM_SAMPLES values, 0..100
    mimetype: str = VOICE_MIMETYPE


# Containers whose header or index gives the real length. Others (MP3 without a Xing
# header, raw AAC) get a guess from the first frame's bitrate, which can be minutes off.
EXACT_DURATION_FORMATS = frozenset(
    {"ogg", "flac", "wav", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "aiff", "caf"}
)


@dataclass(frozen=True, slots=True)
class AudioInfo:
    seconds: int
    is_ogg_opus: bool
    channels: int
    exact: bool = True  # `seconds` is the container's real length, not a guess


def probe(data: bytes, *, field: str) -> AudioInfo:
    """Duration and format of an audio file, or a 400 naming `field` if it is not audio."""
    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            stream = _audio_stream(container, field)
            duration = _duration_seconds(container, stream)
            is_opus = container.format.name == "ogg" and stream.codec_context.name == "opus"
            return AudioInfo(
                round(duration),
                is_opus,
                stream.codec_context.channels or 1,
                exact=container.format.name in EXACT_DURATION_FORMATS,
            )
    except av.FFmpegError as exc:
        raise BadRequest(
            f"{field}: the file is not audio that can be read ({exc})", field=field
        ) from exc


def prepare_voice_note(
    data: bytes, *, field: str, max_seconds: int = MAX_VOICE_NOTE_SECONDS
) -> VoiceNote:
    """Transcode to mono OGG/Opus unless it already is, and measure duration and waveform.

    A 400 naming `field` if the audio lasts over `max_seconds`, whether its container says
    so (when it knows the length, not when it guesses) or decoding finds out (then it stops
    there). CPU-bound: call it in a worker thread.
    """
    try:
        info = probe(data, field=field)
        if info.exact and info.seconds > max_seconds:
            raise _too_long(field, max_seconds, info.seconds)
        if info.is_ogg_opus and info.channels == 1:
            encoded = data
        else:
            encoded = _to_ogg_opus(data, field, max_seconds)
        samples = _envelope_samples(encoded, field, max_seconds)
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


def _to_ogg_opus(data: bytes, field: str, max_seconds: int) -> bytes:
    out = io.BytesIO()
    with av.open(io.BytesIO(data), mode="r") as source, av.open(out, "w", format="ogg") as target:
        encoder = target.add_stream("libopus", rate=OPUS_RATE)
        encoder.layout = "mono"
        encoder.bit_rate = OPUS_BITRATE
        for converted in _resampled(source, field, rate=OPUS_RATE, max_seconds=max_seconds):
            target.mux(encoder.encode(converted))
        target.mux(encoder.encode(None))
    return out.getvalue()


def _envelope_samples(data: bytes, field: str, max_seconds: int) -> array[int]:
    """The whole file as 8 kHz mono 16-bit samples (for duration and waveform)."""
    samples: array[int] = array("h")
    with av.open(io.BytesIO(data), mode="r") as source:
        for converted in _resampled(source, field, rate=_ENVELOPE_RATE, max_seconds=max_seconds):
            samples.frombytes(bytes(converted.planes[0])[: converted.samples * 2])
    return samples


def _resampled(
    source: av.container.InputContainer, field: str, *, rate: int, max_seconds: int
) -> Iterator[av.AudioFrame]:
    """The first audio track as mono 16-bit frames at `rate`; a 400 as soon as they run past
    `max_seconds` (plus the slack), whatever the headers said, so the work stays bounded."""
    stream = _audio_stream(source, field)
    resampler = AudioResampler(format="s16", layout="mono", rate=rate)
    most, count = (max_seconds + _DECODE_SLACK_SECONDS) * rate, 0
    frames: Iterable[av.AudioFrame | None] = chain(source.decode(stream), [None])  # None flushes
    for frame in frames:
        for converted in resampler.resample(frame):
            count += converted.samples
            if count > most:
                raise _too_long(field, max_seconds)
            yield converted


def _too_long(field: str, max_seconds: int, seconds: int | None = None) -> BadRequest:
    limit = f"{max_seconds // 60} minutes" if max_seconds % 60 == 0 else f"{max_seconds} seconds"
    if seconds is None:  # found by decoding, which stopped there
        lasts = f"over {limit}"
    else:
        lasts = f"{math.ceil(seconds / 60)} minutes" if seconds >= 60 else f"{seconds} seconds"
    return BadRequest(
        f"{field}: the voice note lasts {lasts}; voice notes may last up to {limit} (send it "
        "with voiceNote false as an audio file)",
        field=field,
    )
