"""Joins of recorded pieces on real Vietnamese speech: no clicks at the cuts, one loudness across pieces."""

from __future__ import annotations

import numpy as np

from voice.audio import AudioChunk, read_audio, resample
from voice.joins import Joined, fade, join, join_steps, level, loudness, prepare_piece, trim_silence

from ..conftest import FIXTURES

RATE = 8000


def _speech(name: str) -> np.ndarray:
    chunk = resample(read_audio(FIXTURES / "speech" / name), RATE)
    return chunk.array().astype(np.float32) / 32768.0


def _cut_pieces() -> list[np.ndarray]:
    """Pieces cut in the middle of speech (where the waveform is far from zero), at different levels."""
    a, b = _speech("ly_north_female.wav"), _speech("tuyen_north_male.wav")
    pieces = []
    for i, (x, gain) in enumerate(((a, 1.0), (b, 0.12), (a, 0.35), (b, 2.5))):
        start = len(x) // 5 + i * RATE // 3
        pieces.append(np.clip(x[start : start + int(0.45 * RATE)] * gain, -1, 1))
    return pieces


def test_raw_cuts_click_and_prepared_pieces_do_not():
    pieces = _cut_pieces()
    raw = join([p.astype(np.float32) for p in pieces], [0.06] * 3, RATE)
    prepared = [prepare_piece(AudioChunk.from_array(p, RATE)) for p in pieces]
    smooth = join(prepared, [0.06] * 3, RATE)
    assert join_steps(raw) > 0.05  # the measure sees the click of a cut mid-word ...
    assert join_steps(smooth) < 0.002  # ... and none once pieces are faded into the pauses
    assert smooth.audio.rate == RATE and len(smooth.spans) == 4


def test_pieces_are_levelled_within_one_lu_without_clipping():
    pieces = _cut_pieces()
    before = [loudness(p, RATE) for p in pieces]
    assert max(before) - min(before) > 20  # the takes differ a lot
    after = [loudness(level(p, RATE, -20.0), RATE) for p in pieces]
    assert max(after) - min(after) < 1.0
    assert all(abs(x + 20.0) < 1.0 for x in after)
    assert all(np.max(np.abs(level(p, RATE, -20.0))) <= 10 ** (-1 / 20) + 1e-6 for p in pieces)


def test_trim_removes_room_silence_and_keeps_the_word():
    speech = _speech("ngoc_north_female.wav")[: int(0.6 * RATE)]
    quiet = np.random.default_rng(7).normal(0, 1e-4, int(0.5 * RATE)).astype(np.float32)
    padded = np.concatenate([quiet, speech, quiet])
    trimmed = trim_silence(padded, RATE)
    assert len(trimmed) < len(padded) - 0.8 * RATE
    assert len(trimmed) >= len(trim_silence(speech, RATE)) - int(0.03 * RATE)


def test_fade_starts_and_ends_at_zero_and_join_places_gaps():
    x = fade(np.ones(800, np.float32), RATE)
    assert x[0] == 0.0 and x[-1] == 0.0 and x[400] == 1.0
    joined = join([x, x], [0.1], RATE)
    assert isinstance(joined, Joined) and joined.spans == ((0, 800), (1600, 2400))
    assert joined.audio.samples == 2400
