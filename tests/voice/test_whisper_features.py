"""Whisper log-mel features in numpy: the values pipecat's Smart Turn analyzer computes for the model."""

from __future__ import annotations

import numpy as np
import pytest

from voice.whisper_features import N_SAMPLES, fit_length, log_mel


def probe() -> np.ndarray:
    """8 s: a 440 Hz tone and a rising 2.5 kHz sweep, faded in over the first half."""
    t = np.arange(N_SAMPLES) / 16000
    sweep = np.sin(2 * np.pi * 2500 * t * (1 + 0.1 * t))
    x = (0.3 * np.sin(2 * np.pi * 440 * t) + 0.1 * sweep).astype(np.float32)
    x[: N_SAMPLES // 2] *= np.linspace(0, 1, N_SAMPLES // 2, dtype=np.float32)
    return x


def test_features_match_the_reference_extractor():
    # Reference values from pipecat 1.14.0's `compute_whisper_log_mel_features` on the same probe (itself
    # checked against transformers' WhisperFeatureExtractor by its authors).
    f = log_mel(probe())
    assert f.shape == (80, 800) and f.dtype == np.float32
    expected = {
        (0, 0): -0.30344146,
        (10, 100): 1.30606806,
        (30, 400): -0.30344146,
        (79, 799): 0.17777575,
        (20, 799): 0.59787041,
    }
    for (i, j), value in expected.items():
        assert f[i, j] == pytest.approx(value, abs=1e-5), (i, j)
    assert float(f.mean()) == pytest.approx(-0.16435632, abs=1e-6)
    assert float(f.std()) == pytest.approx(0.45016035, abs=1e-6)


def test_the_model_hears_the_last_eight_seconds_padded_in_front():
    short = np.ones(1000, dtype=np.float32)
    padded = fit_length(short)
    assert padded.size == N_SAMPLES and not padded[:-1000].any() and padded[-1000:].all()
    long = np.arange(N_SAMPLES + 500, dtype=np.float32)
    assert fit_length(long)[0] == 500
    with pytest.raises(ValueError):
        log_mel(short)
