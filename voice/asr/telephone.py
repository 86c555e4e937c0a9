"""Telephone audio into the internal format: G.711 mu-law or slin bytes -> AudioChunk."""

from __future__ import annotations

import numpy as np

from core.errors import AudioError
from voice.audio import TELEPHONE_RATE, AudioChunk, ulaw_decode


def ulaw_chunk(data: bytes, rate: int = TELEPHONE_RATE, timestamp_ms: int = 0) -> AudioChunk:
    """Mu-law bytes (one byte per sample, mono, e.g. an RTP payload) -> int16 AudioChunk."""
    return AudioChunk.from_array(ulaw_decode(bytes(data)), rate, timestamp_ms)


def slin_chunk(
    data: bytes, rate: int = TELEPHONE_RATE, *, big_endian: bool = False, timestamp_ms: int = 0
) -> AudioChunk:
    """Signed 16-bit mono bytes -> AudioChunk; RTP carries slin big-endian, files little-endian."""
    if len(data) % 2:
        raise AudioError(f"slin audio must have an even number of bytes, got {len(data)}")
    samples = np.frombuffer(bytes(data), dtype=">i2" if big_endian else "<i2")
    return AudioChunk.from_array(samples.astype("<i2"), rate, timestamp_ms)
