"""The espeak-ng engine with the real binary and its Vietnamese voice."""

from __future__ import annotations

import pytest

from voice.audio import rms_dbfs
from voice.tts.base import TtsError
from voice.tts.espeak import EspeakEngine, parse_wav_stream

SENTENCE = "Tổng đài dịch vụ công tỉnh Nghệ An xin kính chào quý khách."  # 14 syllables


@pytest.fixture(scope="module")
def engine():
    return EspeakEngine(voice="vi", speed=150, pitch=50)


def test_declares_its_rate_and_speaks_vietnamese(engine):
    assert engine.native_rate == 22050
    chunk = engine.synthesize(SENTENCE)
    assert chunk.rate == engine.native_rate and chunk.channels == 1 and chunk.width == 2
    syllables = len(SENTENCE.split())
    # Plausible speech: between 1.5 and 8 syllables a second (plus espeak-ng's trailing pause).
    assert syllables / 8 < chunk.duration_s < syllables / 1.5 + 0.5
    assert rms_dbfs(chunk) > -35  # not silent


def test_longer_text_gives_longer_audio(engine):
    short = engine.synthesize("Xin chào.")
    long = engine.synthesize(SENTENCE)
    assert long.duration_s > 2 * short.duration_s


def test_speed_multiplier_shortens(engine):
    normal = engine.synthesize(SENTENCE)
    fast = engine.synthesize(SENTENCE, rate=2.0)
    assert fast.duration_s < 0.75 * normal.duration_s


def test_voice_id_changes_with_parameters(engine):
    assert engine.voice_id != EspeakEngine(voice="vi", speed=175).voice_id


def test_missing_binary_names_the_debian_package():
    with pytest.raises(TtsError, match="Debian package espeak-ng"):
        EspeakEngine(binary="espeak-ng-not-installed")


def test_unknown_voice_is_a_clear_error():
    with pytest.raises(TtsError, match="no voice 'xx-nonexistent'"):
        EspeakEngine(voice="xx-nonexistent")


def test_wav_stream_parser_rejects_garbage():
    with pytest.raises(TtsError):
        parse_wav_stream(b"")
    with pytest.raises(TtsError):
        parse_wav_stream(b"RIFF\x00\x00\x00\x00WAVEjunk")
