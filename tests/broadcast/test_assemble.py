from __future__ import annotations

import numpy as np
import pytest

from broadcast.assemble import AssetError, Assets, assemble, duck_envelope, find_assets
from tests.broadcast.conftest import ROOT
from voice.audio import AudioChunk

JINGLES = ROOT / "audio_assets" / "jingles"
RATE = 44100


def tone_bursts(rate: int = 22050) -> AudioChunk:
    """4 s of 'speech' (a 300 Hz tone), 3 s of silence, 4 s of 'speech'."""
    t = np.arange(4 * rate) / rate
    burst = 0.3 * np.sin(2 * np.pi * 300 * t)
    x = np.concatenate([burst, np.zeros(3 * rate), burst])
    return AudioChunk.from_array(x, rate)


def rms_db(x: np.ndarray) -> float:
    return 20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-12)


def test_bed_is_ducked_under_speech_and_rises_in_pauses():
    assets = Assets(intro=None, outro=None, bed=JINGLES / "bed.wav")
    speech = tone_bursts()
    with_bed = assemble(speech, assets, RATE, bed_level_db=-12, bed_duck_db=15, use_bed=True)
    none = Assets(None, None, None)
    without = assemble(speech, none, RATE, bed_level_db=-12, bed_duck_db=15, use_bed=False)
    lead = int(1.5 * RATE)  # the bed fades in before the speech starts
    bed_only = with_bed[lead : lead + len(without)] - without[: len(with_bed) - lead][: len(without)]
    under_speech = bed_only[int(1.0 * RATE) : int(3.5 * RATE)]
    in_pause = bed_only[int(5.2 * RATE) : int(6.4 * RATE)]
    assert rms_db(in_pause) - rms_db(under_speech) > 10  # ducked by about bed_duck_db


def test_intro_and_outro_frame_the_speech():
    assets = find_assets(JINGLES, "intro.wav", "outro.wav", None, "t")
    speech = tone_bursts()
    out = assemble(speech, assets, RATE, bed_level_db=-18, bed_duck_db=12, use_bed=False)
    assert len(out) / RATE == pytest.approx(3.6 + 11 + 0.5 + 3.4 - 0.6, abs=0.1)
    assert rms_db(out[: int(0.5 * RATE)]) > -40  # the intro plays first
    assert np.max(np.abs(out[:10])) < 0.01 and np.max(np.abs(out[-10:])) < 0.01  # faded ends


def test_duck_envelope_is_smooth():
    x = np.concatenate([np.zeros(RATE), 0.3 * np.ones(RATE), np.zeros(RATE)])
    g = duck_envelope(x, RATE, 12)
    assert g[0] == pytest.approx(1.0) and g[int(1.5 * RATE)] == pytest.approx(10 ** (-12 / 20), rel=0.01)
    assert np.max(np.abs(np.diff(g))) < 0.01  # no clicks from gain steps


def test_missing_asset(tmp_path):
    with pytest.raises(AssetError, match="thiếu tệp outro “x.wav” của mẫu chương trình “t”"):
        find_assets(tmp_path, None, "x.wav", None, "t")
    broken = tmp_path / "b.wav"
    broken.write_bytes(b"not a wav at all")
    assets = find_assets(tmp_path, "b.wav", None, None, "t")
    with pytest.raises(AssetError, match="không dùng được tệp âm thanh"):
        assemble(tone_bursts(), assets, RATE, bed_level_db=-18, bed_duck_db=12, use_bed=False)
