"""Engine selection and rate planning (pure), and the registry's load-once cache."""

from __future__ import annotations

import threading
import time

import pytest

from voice.asr import AsrError, AsrModelError
from voice.asr import registry as reg
from voice.asr.registry import EngineRegistry, select_engine, stream_rate


def test_select_engine_prefers_the_requested_one():
    assert select_engine(None, "vietasr") == "vietasr"
    assert select_engine("vosk", "vietasr") == "vosk"
    assert select_engine(" VietASR ", "vosk") == "vietasr"
    assert select_engine("viet-asr", "vosk") == "vietasr"  # the PyPI spelling


@pytest.mark.parametrize(
    "requested,configured", [("whisper", "vietasr"), (None, "kaldi"), (None, ""), ("", "")]
)
def test_select_engine_rejects_unknown_names(requested, configured):
    with pytest.raises(AsrError, match="choose one of: vietasr, vosk") as info:
        select_engine(requested, configured)
    assert info.value.code == "asr_unknown_engine"


@pytest.mark.parametrize(
    "rate,supported,expected",
    [
        (16000, (16000,), 16000),
        (8000, (16000,), 16000),  # telephone audio up to the model rate
        (24000, (16000,), 16000),  # files down to the model rate
        (8000, (8000, 16000), 8000),  # a native 8 kHz model takes calls as they are
        (11025, (8000, 16000, 22050), 16000),  # the lowest rate that loses nothing
        (48000, (8000, 16000), 16000),
    ],
)
def test_stream_rate(rate, supported, expected):
    assert stream_rate(rate, supported) == expected


def test_stream_rate_rejects_nonsense():
    with pytest.raises(AsrError):
        stream_rate(0, (16000,))
    with pytest.raises(AsrError):
        stream_rate(8000, ())


class _SlowEngine:
    """Fake engine class counting loads (the registry logic is what is tested here)."""

    loads = 0
    name = "slow"
    sample_rates = (16000,)
    supports_phrases = False

    @classmethod
    def cache_key(cls, asr_settings, resolve_path):
        return (asr_settings.vietasr.preset,)

    @classmethod
    def load(cls, asr_settings, resolve_path):
        time.sleep(0.05)
        cls.loads += 1
        if asr_settings.vietasr.preset == "broken":
            raise ValueError("bad weights")
        return cls()

    def close(self):
        pass


@pytest.fixture
def fake_engine(monkeypatch):
    monkeypatch.setitem(reg.ENGINES, "slow", f"{__name__}:_SlowEngine")
    _SlowEngine.loads = 0
    return _SlowEngine


def test_concurrent_first_use_loads_once(settings, fake_engine):
    registry = EngineRegistry()
    got = []
    threads = [
        threading.Thread(target=lambda: got.append(registry.get("slow", settings.voice.asr)))
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert fake_engine.loads == 1 and len(got) == 8 and all(e is got[0] for e in got)
    assert registry.loaded() == ["slow"]


def test_other_config_is_another_model(settings, fake_engine):
    registry = EngineRegistry()
    other = settings.voice.asr.model_copy(
        update={"vietasr": settings.voice.asr.vietasr.model_copy(update={"preset": "transcribe-rich"})}
    )
    assert registry.get("slow", settings.voice.asr) is not registry.get("slow", other)
    assert fake_engine.loads == 2


def test_load_failure_becomes_model_error_and_is_retried(settings, fake_engine):
    registry = EngineRegistry()
    broken = settings.voice.asr.model_copy(
        update={"vietasr": settings.voice.asr.vietasr.model_copy(update={"preset": "broken"})}
    )
    for _ in range(2):
        with pytest.raises(AsrModelError, match="bad weights"):
            registry.get("slow", broken)
    assert fake_engine.loads == 2  # failures are not cached: fixing the file works without a restart
