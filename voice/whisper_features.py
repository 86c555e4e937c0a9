"""Whisper-style log-mel features in numpy, as Smart Turn v3 expects them (no transformers, no torch).

The same computation as `transformers.WhisperFeatureExtractor(chunk_length=8)` with `do_normalize=True`,
which pipecat's Smart Turn analyzer reproduces: 8 s at 16 kHz, waveform normalized to zero mean and unit
variance, centred 400-sample periodic-Hann frames every 160 samples (reflect padding), power spectrum,
80 Slaney mel filters from 0 to 8 kHz, log10 floored at 1e-10, the last frame dropped, dynamic range
clipped to 8 (log10 units) below the peak, then (x + 4) / 4. Output: float32 (80, 800).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

RATE = 16000
SECONDS = 8
N_SAMPLES = RATE * SECONDS
N_FFT = 400
HOP = 160
N_MELS = 80


def _hz_to_mel(hz: np.ndarray | float) -> np.ndarray:
    """Slaney mel scale: linear below 1 kHz, logarithmic above."""
    hz = np.asarray(hz, dtype=np.float64)
    mel = 3.0 * hz / 200.0
    log = hz >= 1000.0
    return np.where(log, 15.0 + np.log(np.maximum(hz, 1e-12) / 1000.0) * (27.0 / np.log(6.4)), mel)


def _mel_to_hz(mel: np.ndarray | float) -> np.ndarray:
    mel = np.asarray(mel, dtype=np.float64)
    hz = 200.0 * mel / 3.0
    return np.where(mel >= 15.0, 1000.0 * np.exp((np.log(6.4) / 27.0) * (mel - 15.0)), hz)


def _mel_filters() -> np.ndarray:
    """(N_FFT // 2 + 1, N_MELS) triangular filters with Slaney area normalization."""
    edges = _mel_to_hz(np.linspace(_hz_to_mel(0.0), _hz_to_mel(RATE / 2), N_MELS + 2))
    bins = np.linspace(0, RATE // 2, N_FFT // 2 + 1)
    slopes = edges[np.newaxis, :] - bins[:, np.newaxis]
    widths = np.diff(edges)
    down = -slopes[:, :-2] / widths[:-1]
    up = slopes[:, 2:] / widths[1:]
    filters = np.maximum(0.0, np.minimum(down, up))
    return filters * (2.0 / (edges[2 : N_MELS + 2] - edges[:N_MELS]))[np.newaxis, :]


_WINDOW = np.hanning(N_FFT + 1)[:-1]  # periodic Hann (torch.hann_window)
_FILTERS_T = _mel_filters().T.copy()


def fit_length(audio: np.ndarray) -> np.ndarray:
    """The last 8 s of `audio`, or `audio` with leading zeros up to 8 s (what the model was trained on)."""
    if audio.size >= N_SAMPLES:
        return audio[-N_SAMPLES:]
    return np.concatenate([np.zeros(N_SAMPLES - audio.size, dtype=audio.dtype), audio])


def log_mel(audio: np.ndarray) -> np.ndarray:
    """Features of exactly 8 s of 16 kHz float audio (see `fit_length`): float32 (80, 800)."""
    if audio.ndim != 1 or audio.size != N_SAMPLES:
        raise ValueError(f"expected {N_SAMPLES} mono samples, got shape {audio.shape}")
    x = audio.astype(np.float32)
    x = (x - x.mean()) / np.sqrt(x.var() + 1e-7)
    padded = np.pad(x.astype(np.float64), (N_FFT // 2, N_FFT // 2), mode="reflect")
    frames = sliding_window_view(padded, N_FFT)[::HOP]
    power = np.abs(np.fft.rfft(frames * _WINDOW, axis=-1)) ** 2  # (frames, bins)
    mel = np.log10(np.maximum(1e-10, _FILTERS_T @ power.T))[:, :-1]
    mel = np.maximum(mel, mel.max() - 8.0)
    return ((mel + 4.0) / 4.0).astype(np.float32)
