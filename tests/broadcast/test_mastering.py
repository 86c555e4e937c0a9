from __future__ import annotations

import numpy as np
import pytest

from broadcast.mastering import limit_true_peak, loudspeaker_profile, master
from core.errors import AudioError
from voice.audio import integrated_loudness, true_peak_dbtp

RATE = 44100


def speechlike(seconds: float = 8.0, seed: int = 1) -> np.ndarray:
    """Bursty band-limited noise with syllable-rate bursts and sharp peaks (speech-like crest factor)."""
    rng = np.random.default_rng(seed)
    n = int(seconds * RATE)
    t = np.arange(n) / RATE
    noise = rng.standard_normal(n)
    from scipy.signal import butter, sosfilt

    voiced = sosfilt(butter(4, [150, 3500], btype="bandpass", fs=RATE, output="sos"), noise)
    bursts = np.clip(np.sin(2 * np.pi * 4.0 * t), 0, 1) ** 2
    x = voiced * bursts
    x[rng.integers(0, n, 40)] *= 6  # occasional plosives
    return 0.1 * x / np.max(np.abs(x))


@pytest.mark.parametrize("target", [-16.0, -23.0])
def test_master_reaches_target_and_ceiling(target):
    y, report = master(speechlike(), RATE, target_lufs=target, ceiling_dbtp=-1.5)
    assert abs(integrated_loudness(y, RATE) - target) < 0.3
    assert true_peak_dbtp(y, RATE) <= -1.5 + 0.05
    assert abs(report.loudness_lufs - target) < 0.3


def test_limiter_catches_inter_sample_peaks():
    # A tone at fs/4 with 45-degree phase: samples sit at 0.707 of the true peak.
    n = np.arange(RATE)
    x = 0.99 * np.sin(2 * np.pi * (RATE / 4) * n / RATE + np.pi / 4)
    assert true_peak_dbtp(x, RATE) > -0.2
    y, limited = limit_true_peak(x, RATE, -1.0)
    assert limited and true_peak_dbtp(y, RATE) <= -1.0 + 0.05


def test_loudspeaker_profile_band_limits():
    t = np.arange(RATE * 2) / RATE
    low, mid, high = (np.sin(2 * np.pi * f * t) * 0.2 for f in (80, 1000, 9000))
    out = {
        name: loudspeaker_profile(sig, RATE, 250, 5000)
        for name, sig in (("low", low), ("mid", mid), ("high", high))
    }
    rms = {k: float(np.sqrt(np.mean(v[RATE // 2 : -RATE // 2] ** 2))) for k, v in out.items()}
    assert rms["mid"] > 10 * rms["low"] and rms["mid"] > 10 * rms["high"]


def test_silence_and_too_short_are_clear_errors():
    with pytest.raises(AudioError, match="silent"):
        master(np.zeros(RATE * 2), RATE, target_lufs=-16, ceiling_dbtp=-1)
    with pytest.raises(AudioError, match="shorter"):
        master(np.ones(100) * 0.1, RATE, target_lufs=-16, ceiling_dbtp=-1)
