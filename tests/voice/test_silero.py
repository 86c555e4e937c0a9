"""Silero VAD on real speech and on noise at telephone levels: the neural detector's whole point."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import lfilter

from tests.conftest import FIXTURES
from tests.voice.turn_models import silero_path
from voice.audio import AudioChunk, read_audio, resample
from voice.silero import SileroDetector, SileroModel, SileroSettings

pytestmark = pytest.mark.slow

RATE = 8000
CLIPS = sorted((FIXTURES / "speech").glob("*.wav"))


@pytest.fixture(scope="module")
def model() -> SileroModel:
    return SileroModel(silero_path())


def speech_seconds(detector: SileroDetector, samples: np.ndarray) -> float:
    """Seconds flagged as speech, fed as 20 ms telephone chunks."""
    flags = [
        detector.is_speech(AudioChunk.from_array(samples[i : i + 160], RATE, i // 8), False)
        for i in range(0, samples.size - 159, 160)
    ]
    return 0.02 * sum(flags)


def at_level(x: np.ndarray, db: float) -> np.ndarray:
    return (x / np.sqrt(np.mean(x**2)) * 10 ** (db / 20) * 32767).astype(np.int16)


@pytest.mark.parametrize("clip", CLIPS, ids=lambda p: p.stem)
def test_silero_finds_the_speech_of_each_recording_over_the_phone(model, clip):
    speech = resample(read_audio(clip), RATE).array()
    silence = np.zeros(RATE, dtype=np.int16)
    detector = model.detector()
    lead = speech_seconds(detector, silence)
    voiced = speech_seconds(detector, speech)
    assert lead == 0.0
    assert voiced >= 0.75 * speech.size / RATE, (voiced, speech.size / RATE)
    judged = detector.windows + detector.skipped - detector.warm_ups
    assert abs(judged - (RATE + speech.size) / 256) <= 2  # 8 kHz windows: nothing resampled
    assert detector.skipped >= RATE / 256 - 1  # the second of digital silence never reached the model


def noises(seconds: int = 20) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(11)
    n = RATE * seconds
    t = np.arange(n) / RATE
    pink = lfilter([0.0499, -0.0960, 0.0506, -0.0044], [1, -2.4950, 2.0173, -0.5222], rng.normal(0, 1, n))
    rpm = 2 * np.pi * 35 * t * (1 + 0.05 * np.sin(2 * np.pi * 0.5 * t))  # a 35 Hz engine, speed wavering
    engine = sum(np.sin(k * rpm) / k for k in range(1, 12))
    wind = lfilter([1.0], [1, -0.995], rng.normal(0, 1, n)) * (1 + 0.8 * np.sin(2 * np.pi * 0.3 * t))
    return {
        "white": rng.normal(0, 1, n),
        "pink": pink,
        "engine": engine + 0.3 * rng.normal(0, 1, n),
        "wind": wind,
    }


@pytest.mark.parametrize("db", [-35.0, -20.0])
def test_silero_hears_almost_no_speech_in_noise_at_telephone_levels(model, db):
    for name, noise in noises().items():
        seconds = speech_seconds(model.detector(), at_level(noise, db))
        assert seconds <= 0.2, f"{name} at {db} dBFS: {seconds:.2f} s of 20 s taken for speech"


def test_hysteresis_holds_speech_between_the_two_probabilities():
    class Scores:  # stands in for the session: one probability per window
        def __init__(self, ps):
            self.ps = iter(ps)

        def run(self, window, state, rate):
            assert window.shape == (1, 32 + 256) and rate == RATE
            return next(self.ps), state

    detector = SileroDetector(Scores([0.4, 0.6, 0.4, 0.3, 0.45]), SileroSettings(0.5, 0.35))
    flags = []
    hiss = AudioChunk.from_array(np.full(256, 300, dtype=np.int16), RATE)  # -41 dBFS: always judged
    for _ in range(5):  # a 256-sample window per 32 ms chunk
        flags.append(detector.is_speech(hiss, False))
    assert flags == [False, True, True, False, False]


def test_silence_outside_speech_is_not_given_to_the_model_but_heard_before_an_onset_and_inside_speech():
    class Scores:
        def __init__(self):
            self.heard: list[float] = []  # the RMS of every window run

        def run(self, window, state, rate):
            rms = float(np.sqrt(np.mean(window[0, 32:] ** 2)))
            self.heard.append(rms)
            return (0.9 if rms > 0.01 else 0.1), state

    def window(db: float) -> AudioChunk:
        return AudioChunk.from_array(np.full(256, round(32767 * 10 ** (db / 20)), dtype=np.int16), RATE)

    scores = Scores()
    detector = SileroDetector(scores, SileroSettings(0.5, 0.35, silent_below_db=-55))
    for _ in range(20):
        assert not detector.is_speech(window(-70), False)
    assert scores.heard == [] and detector.skipped == 20  # a caller listening in silence costs no run
    assert detector.is_speech(window(-20), False)
    # The last 8 silent windows, then the onset: the model's state is as if it had heard them.
    assert len(scores.heard) == 9 and max(scores.heard[:8]) < 0.001 and detector.warm_ups == 8
    detector.is_speech(window(-70), True)  # inside speech, a quiet window is judged by the model
    assert len(scores.heard) == 10 and not detector.speaking
