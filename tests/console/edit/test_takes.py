"""Takes of the recording studio: decoded from any common format, trimmed, normalized, given verdicts."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest

from console.edit.takes import (
    STUDIO_RATE,
    Check,
    TakeError,
    decode,
    duration_vi,
    process,
    syllables,
)
from ivr.settings import StudioSettings
from tests.console.helpers import SPEECH
from voice.audio import AudioChunk, integrated_loudness, read_audio, resample, to_mono, write_wav

KEEP_S = StudioSettings().keep_silence_ms / 1000
TARGET_LUFS = StudioSettings().target_lufs

# What the fixture speaker says, about as long (3 s) as the clip: the length check finds nothing odd.
TEXT = "Xin chào, đây là tổng đài hỗ trợ dịch vụ công tỉnh Nghệ An."


def speech(seconds_before: float = 0.8, seconds_after: float = 0.8, gain: float = 1.0) -> AudioChunk:
    """A real recording at 16 kHz with near-silence (a quiet room, -70 dBFS) before and after it."""
    voice = resample(to_mono(read_audio(SPEECH / "ly_north_female.wav")), STUDIO_RATE).array() * gain
    rng = np.random.default_rng(7)
    pad = lambda s: rng.normal(0, 10, int(s * STUDIO_RATE))  # noqa: E731
    x = np.concatenate([pad(seconds_before), voice, pad(seconds_after)])
    return AudioChunk.from_array(np.clip(x, -32768, 32767).astype(np.int16), STUDIO_RATE)


def verdicts(take) -> set[Check]:
    return {v.check for v in take.verdicts}


def test_a_good_take_is_trimmed_to_its_speech_and_normalized_without_verdicts():
    raw = speech()
    take = process(raw, TEXT)
    assert take.verdicts == () and take.savable
    voice_s = raw.duration_s - 1.6
    # Silence cut to about the 100 ms kept at each end (the clip's own edges count as speech or not).
    assert voice_s - 0.2 < take.speech_s < voice_s + 2 * KEEP_S + 0.1
    y = take.chunk.array().astype(np.float64) / 32768
    assert take.chunk.rate == STUDIO_RATE
    assert abs(integrated_loudness(y, STUDIO_RATE) - TARGET_LUFS) < 1.0
    assert np.max(np.abs(y)) < 0.9  # under the -1 dBFS ceiling
    assert abs(y[0]) < 1e-3 and abs(y[-1]) < 1e-3  # faded: no click at either end


def test_clipped_quiet_noisy_and_silent_takes_get_their_verdicts():
    clipped = process(speech(gain=12.0), TEXT)
    assert Check.CLIPPED in verdicts(clipped) and clipped.savable
    assert "vỡ" in next(v.message for v in clipped.verdicts if v.check == Check.CLIPPED)
    quiet = process(speech(gain=0.01), TEXT)
    assert Check.QUIET in verdicts(quiet) and Check.CLIPPED not in verdicts(quiet)
    rng = np.random.default_rng(3)
    base = speech().array().astype(np.float64)
    noisy = AudioChunk.from_array(
        np.clip(base + rng.normal(0, 900, base.size), -32768, 32767).astype(np.int16), STUDIO_RATE
    )
    found = process(noisy, TEXT)
    assert Check.NOISY in verdicts(found) and "tiếng ồn" in found.verdicts[0].message
    silent = process(AudioChunk.from_array(np.zeros(STUDIO_RATE * 2, dtype=np.int16), STUDIO_RATE), TEXT)
    assert verdicts(silent) == {Check.SILENT} and not silent.savable


def test_length_is_checked_against_the_text():
    short_text = process(speech(), "Xin chào.")
    assert Check.SLOW in verdicts(short_text)
    long_text = process(speech(), " ".join(["một"] * 40))
    assert Check.FAST in verdicts(long_text)
    assert syllables("Bấm phím 1, rồi phím #.") == 5  # "#" alone is no syllable


@pytest.mark.parametrize(
    "codec", [("mp3", ["-c:a", "libmp3lame"]), ("webm", ["-c:a", "libopus"]), ("m4a", ["-c:a", "aac"])]
)
def test_common_formats_decode(tmp_path, codec):
    ext, args = codec
    wav = write_wav(tmp_path / "take.wav", speech())
    out = tmp_path / f"take.{ext}"
    subprocess.run(
        ["ffmpeg", "-nostdin", "-v", "error", "-i", str(wav), *args, str(out)], check=True, timeout=60
    )
    chunk = decode(out)
    assert chunk.channels == 1 and abs(chunk.duration_s - speech().duration_s) < 0.1
    assert process(chunk, TEXT).savable


def test_what_is_not_audio_is_refused_in_vietnamese(tmp_path):
    note = tmp_path / "note.webm"
    note.write_text("đây không phải âm thanh\n" * 40, encoding="utf-8")
    with pytest.raises(TakeError, match="không phải là âm thanh"):
        decode(note)


def test_a_bulletin_reading_keeps_the_radios_rate_and_its_own_length_limit():
    """A bulletin read by a person: the same checks, at the radio's rate, limited in minutes."""
    take = process(speech(), TEXT, rate=44100, max_seconds=1200)
    assert take.chunk.rate == 44100 and take.savable and take.verdicts == ()
    y = take.chunk.array().astype(np.float64) / 32768
    assert abs(integrated_loudness(y, 44100) - TARGET_LUFS) < 1.0
    long = process(speech(seconds_after=5.0), TEXT, max_seconds=4.0)
    assert [(v.check, v.message) for v in long.verdicts if v.blocking] == [
        (Check.TOO_LONG, "Bản ghi dài quá 4 giây.")
    ]
    assert duration_vi(1200) == "20 phút" and duration_vi(60) == "60 giây" and duration_vi(150) == "150 giây"
