"""Voice notes become mono OGG/Opus with their duration and a 64-sample waveform."""

from __future__ import annotations

import pytest

from sendmako.errors import BadRequest
from sendmako.media import audio, outgoing
from sendmako.model.messages import MessageType
from tests import media_samples


@pytest.mark.parametrize(("fmt", "codec"), [("mp3", "libmp3lame"), ("wav", "pcm_s16le")])
def test_mp3_and_wav_become_ogg_opus_voice_notes(fmt: str, codec: str) -> None:
    source = media_samples.tone(fmt, codec, seconds=2.0)
    source_kind = media_samples.probe_format(source)
    assert source_kind == fmt
    payload = outgoing.describe(
        outgoing.MediaSource(MessageType.AUDIO, url=None, base64="x", voice_note=True),
        source,
        "audioBase64",
        None,
    )
    info = audio.probe(payload.data, field="audio")
    assert (info.is_ogg_opus, info.channels) == (True, 1)
    assert payload.mimetype == "audio/ogg; codecs=opus"
    assert payload.seconds == 2
    assert payload.waveform is not None
    assert len(payload.waveform) == 64
    assert max(payload.waveform) == 100
    loud, quiet = payload.waveform[:30], payload.waveform[34:]
    assert min(loud) > 80, "the first half of the tone is loud"
    assert max(quiet) < 40, "the second half is a quarter as loud"


def test_ogg_opus_mono_is_kept_as_it_is() -> None:
    note = audio.prepare_voice_note(media_samples.tone("mp3", "libmp3lame"), field="a")
    again = audio.prepare_voice_note(note.data, field="a")
    assert again.data == note.data
    assert again.waveform == note.waveform


def test_silence_has_a_flat_waveform() -> None:
    assert audio.waveform(audio.array("h", [0] * 1000)) == bytes(64)


def test_not_audio_is_a_400_naming_the_field() -> None:
    with pytest.raises(BadRequest) as caught:
        audio.prepare_voice_note(b"definitely not audio" * 100, field="audioUrl")
    assert caught.value.field == "audioUrl"


def test_plain_audio_keeps_its_format_with_a_duration() -> None:
    payload = outgoing.describe(
        outgoing.MediaSource(MessageType.AUDIO, url=None, base64="x"),
        media_samples.tone("mp3", "libmp3lame", seconds=3.0),
        "audioBase64",
        None,
    )
    assert payload.mimetype == "audio/mpeg"
    assert payload.seconds == 3
    assert payload.waveform is None


def test_images_get_dimensions_and_a_thumbnail() -> None:
    payload = outgoing.describe(
        outgoing.MediaSource(MessageType.IMAGE, url=None, base64="x"),
        media_samples.png(640, 480),
        "imageBase64",
        None,
    )
    assert (payload.width, payload.height, payload.mimetype) == (640, 480, "image/png")
    assert payload.thumbnail is not None
    assert payload.thumbnail.startswith(b"\xff\xd8")


def test_videos_get_dimensions_duration_and_a_thumbnail() -> None:
    payload = outgoing.describe(
        outgoing.MediaSource(MessageType.VIDEO, url=None, base64="x"),
        media_samples.mp4(seconds=2, size=(64, 48)),
        "videoBase64",
        None,
    )
    assert (payload.width, payload.height, payload.seconds) == (64, 48, 2)
    assert payload.thumbnail is not None
