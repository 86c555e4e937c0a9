"""Joining recorded words into one utterance: trimmed, levelled to one loudness, faded, short pauses between.

Words recorded one by one start and end with room noise and differ in level; played back to back they
would click (a sample step at the cut) and jump in loudness. Each piece is trimmed of its silence, brought
to a target loudness (ITU-R BS.1770, with blocks short enough for a single word), given a few
milliseconds of fade at both ends, and separated by a pause of the length the caller expects there
(short inside a number, longer at a comma or a full stop).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from voice.audio import AudioChunk

TARGET_LUFS = -20.0  # speech level of the joined pieces (the radio's speech reference too)
CEILING_DBFS = -1.0  # a piece is never raised above this sample peak (no clipping)
FADE_MS = 6.0  # fade at each end of a piece: removes the step at the cut
TRIM_BELOW_DB = -40.0  # relative to the piece's loudest 10 ms: quieter edges are trimmed away
TRIM_KEEP_MS = 15.0  # kept before the first and after the last loud frame (soft onsets, final consonants)


def _frames_db(x: np.ndarray, rate: int, frame_s: float = 0.01) -> np.ndarray:
    n = max(1, int(rate * frame_s))
    usable = len(x) // n * n
    if usable == 0:
        return np.array([20 * np.log10(max(float(np.sqrt(np.mean(x**2))) if len(x) else 0.0, 1e-9))])
    frames = x[:usable].reshape(-1, n)
    return 20 * np.log10(np.maximum(np.sqrt(np.mean(frames**2, axis=1)), 1e-9))


def trim_silence(x: np.ndarray, rate: int) -> np.ndarray:
    """The piece without its quiet edges (relative to its own loudest frame), a few ms kept either side."""
    if len(x) == 0:
        return x
    db = _frames_db(x, rate)
    loud = np.flatnonzero(db >= db.max() + TRIM_BELOW_DB)
    n = max(1, int(rate * 0.01))
    keep = int(rate * TRIM_KEEP_MS / 1000)
    start = max(0, int(loud[0]) * n - keep)
    end = min(len(x), (int(loud[-1]) + 1) * n + keep)
    return x[start:end]


def loudness(x: np.ndarray, rate: int) -> float:
    """Loudness (LUFS, BS.1770 K-weighting) of a piece as short as one word; -inf for silence."""
    import pyloudnorm

    if len(x) == 0 or not np.any(x):
        return float("-inf")
    # The standard's 400 ms blocks would leave a 300 ms word unmeasured: shorter blocks for short pieces.
    block = min(0.4, max(0.05, len(x) / rate / 2))
    if len(x) < int(block * rate) + 1:
        return float("-inf")
    return float(pyloudnorm.Meter(rate, block_size=block).integrated_loudness(x.astype(np.float64)))


def level(x: np.ndarray, rate: int, target_lufs: float = TARGET_LUFS) -> np.ndarray:
    """The piece at `target_lufs`, never raised above CEILING_DBFS peak (a copy)."""
    measured = loudness(x, rate)
    if not np.isfinite(measured):
        return x.copy()
    gain = 10 ** ((target_lufs - measured) / 20)
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    if peak > 0:
        gain = min(gain, 10 ** (CEILING_DBFS / 20) / peak)
    return x * gain


def fade(x: np.ndarray, rate: int, ms: float = FADE_MS) -> np.ndarray:
    """Raised-cosine fade in and out (a copy): the piece starts and ends at zero."""
    out = x.copy()
    n = min(len(out) // 2, int(rate * ms / 1000))
    if n > 0:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))
        out[:n] *= ramp
        out[len(out) - n :] *= ramp[::-1]
    return out


def prepare_piece(chunk: AudioChunk, target_lufs: float = TARGET_LUFS) -> np.ndarray:
    """A recorded or synthesized piece ready to join: float mono, trimmed, levelled, faded."""
    x = chunk.array().astype(np.float32) / 32768.0
    if x.ndim > 1:
        x = x.mean(axis=1)
    return fade(level(trim_silence(x, chunk.rate), chunk.rate, target_lufs), chunk.rate)


@dataclass(frozen=True)
class Joined:
    """The joined utterance and where each piece lies in it (sample offsets: start, end)."""

    audio: AudioChunk
    spans: tuple[tuple[int, int], ...]


def join(pieces: list[np.ndarray], gaps_s: list[float], rate: int) -> Joined:
    """Pieces (prepared, float) with `gaps_s[i]` seconds of silence after piece i (no gap after the last)."""
    out: list[np.ndarray] = []
    spans: list[tuple[int, int]] = []
    at = 0
    for i, piece in enumerate(pieces):
        spans.append((at, at + len(piece)))
        out.append(piece.astype(np.float32))
        at += len(piece)
        if i + 1 < len(pieces):
            gap = np.zeros(int(round(rate * max(0.0, gaps_s[i] if i < len(gaps_s) else 0.0))), np.float32)
            out.append(gap)
            at += len(gap)
    x = np.concatenate(out) if out else np.zeros(0, np.float32)
    return Joined(AudioChunk.from_array(x, rate), tuple(spans))


def join_steps(joined: Joined) -> float:
    """Largest sample step (full scale = 1) across any cut: where a piece meets its neighbour or a pause.

    A piece that ends mid-waveform steps to silence in one sample, heard as a click; a faded piece
    meets the pause at zero.
    """
    x = joined.audio.array().astype(np.float64) / 32768.0
    worst = 0.0
    for start, end in joined.spans:
        for left in (start - 1, end - 1):
            if 0 <= left and left + 1 < len(x):
                worst = max(worst, abs(x[left + 1] - x[left]))
        if start == 0 and len(x):
            worst = max(worst, abs(x[0]))  # the very first sample steps up from silence too
        if end == len(x) and len(x):
            worst = max(worst, abs(x[-1]))
    return worst
