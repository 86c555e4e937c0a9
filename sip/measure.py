"""When sound starts and ends in a call recording: the answer latency a caller experiences."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from voice.audio import AudioChunk, read_audio, to_mono


def _frame_dbfs(samples: np.ndarray, rate: int, window_ms: int) -> np.ndarray:
    n = max(1, rate * window_ms // 1000)
    frames = len(samples) // n
    if frames == 0:
        return np.zeros(0)
    x = samples[: frames * n].astype(np.float64).reshape(frames, n) / 32768.0
    rms = np.sqrt(np.mean(x * x, axis=1))
    return 20.0 * np.log10(np.maximum(rms, 1e-9))


def _as_chunk(recording: Path | str | AudioChunk) -> AudioChunk:

    chunk = recording if isinstance(recording, AudioChunk) else read_audio(recording)
    return to_mono(chunk)


def first_audio_after(
    recording: Path | str | AudioChunk,
    after_s: float = 0.0,
    *,
    threshold_dbfs: float = -40.0,
    window_ms: int = 10,
    min_active_ms: int = 50,
) -> float | None:
    """Time (s) of the first sound in the recording at or after `after_s`: `min_active_ms` above threshold."""
    chunk = _as_chunk(recording)
    db = _frame_dbfs(chunk.array(), chunk.rate, window_ms)
    need = max(1, min_active_ms // window_ms)
    start = max(0, int(after_s * 1000) // window_ms)
    run = 0
    for i in range(start, len(db)):
        run = run + 1 if db[i] > threshold_dbfs else 0
        if run >= need:
            return (i - need + 1) * window_ms / 1000.0
    return None


def last_audio_end(
    recording: Path | str | AudioChunk, *, threshold_dbfs: float = -40.0, window_ms: int = 10
) -> float | None:
    """Time (s) where the last sound of a recording ends (trailing silence ignored)."""
    chunk = _as_chunk(recording)
    db = _frame_dbfs(chunk.array(), chunk.rate, window_ms)
    loud = np.nonzero(db > threshold_dbfs)[0]
    return None if len(loud) == 0 else (int(loud[-1]) + 1) * window_ms / 1000.0


def answer_latency(recording: Path | str | AudioChunk, speech_end_s: float, **kwargs: Any) -> float | None:
    """Seconds from the end of the caller's speech to the first answer audio in the caller's recording."""
    first = first_audio_after(recording, speech_end_s, **kwargs)
    return None if first is None else round(first - speech_end_s, 3)


def audible_seconds(recording: Path | str | AudioChunk, *, threshold_dbfs: float = -40.0) -> float:
    """How many seconds of the recording carry sound (10 ms windows above the threshold)."""
    chunk = _as_chunk(recording)
    return float(np.sum(_frame_dbfs(chunk.array(), chunk.rate, 10) > threshold_dbfs)) * 0.01
