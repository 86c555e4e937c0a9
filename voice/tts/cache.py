"""Render cache: each (engine, voice, text, rate) is synthesized once and kept as a WAV file.

Dynamic sentences are cached too (a ticket number read back, an operator's reply), so a file's
modification time records its last use, and `purge_unused` removes what was not used for a while.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
import time
from pathlib import Path

import soundfile as sf

from voice.audio import AudioChunk, write_wav
from voice.settings import VoiceConfig

logger = logging.getLogger(__name__)


def cache_key(engine: str, voice_id: str, text: str, rate: float) -> str:
    """sha256 of the key fields (JSON, so no two different keys can collide by concatenation)."""
    raw = json.dumps([engine, voice_id, text, round(float(rate), 4)], ensure_ascii=False)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def voice_signature(settings: VoiceConfig) -> str:
    """Everything synthesized audio depends on, from the settings alone (any process computes the same).

    The engine, the speaking rate and every parameter of the engine's voice; for a Piper voice also the
    model file's size and modification time, so a replaced model is noticed. Prompt files rendered from
    text carry it, so a change of voice renders them again.
    """
    tts = settings.voice.tts
    parts = tts.model_dump(mode="json", include={"engine", "rate", "espeak", "piper"})
    if tts.engine == "piper" and tts.piper.model is not None:
        try:
            st = settings.path(tts.piper.model).stat()
            parts["piper_model_file"] = [st.st_size, st.st_mtime_ns]
        except OSError:
            parts["piper_model_file"] = None
    return json.dumps(parts, sort_keys=True)


def _wav_is_complete(path: Path) -> bool:
    """True when the RIFF and data sizes in the header match the file (catches truncation)."""
    with path.open("rb") as f:
        data = f.read()
    if len(data) < 44 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return False
    if struct.unpack("<I", data[4:8])[0] + 8 != len(data):
        return False
    pos = 12
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        if tag == b"data":
            return pos + 8 + size == len(data) and size % 2 == 0
        pos += 8 + size + (size & 1)
    return False


class RenderCache:
    """WAV files under `<cache_dir>/tts/ab/<sha256>.wav`; written atomically, checked when read."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def path_for(self, key: str) -> Path:
        return self.directory / key[:2] / f"{key}.wav"

    def get(self, key: str, rate: int) -> AudioChunk | None:
        """The cached render, or None when absent or damaged (a damaged file is removed and re-rendered)."""
        path = self.path_for(key)
        if not path.is_file():
            return None
        try:
            if not _wav_is_complete(path):
                raise ValueError("truncated or malformed WAV")
            samples, file_rate = sf.read(str(path), dtype="int16", always_2d=False)
            if file_rate != rate or samples.ndim != 1:
                raise ValueError(f"unexpected format ({file_rate} Hz, {samples.ndim} dims)")
        except (OSError, ValueError, RuntimeError, sf.LibsndfileError) as exc:
            logger.warning("render cache: discarding damaged %s: %s", path.name, exc)
            path.unlink(missing_ok=True)
            return None
        mark_used(path)
        return AudioChunk.from_array(samples, file_rate)

    def put(self, key: str, chunk: AudioChunk) -> None:
        try:
            write_wav(self.path_for(key), chunk)
        except OSError as exc:  # a full or read-only disk must not fail the call: synthesis still worked
            logger.warning("render cache: cannot write %s: %s", self.path_for(key), exc)


USE_RESOLUTION_S = 3600.0  # a file's use is recorded at most once an hour: a hit costs no write


def mark_used(path: Path, now: float | None = None) -> None:
    """Record a use of a cached file in its modification time (`purge_unused` goes by it)."""
    now = time.time() if now is None else now
    try:
        if now - path.stat().st_mtime > USE_RESOLUTION_S:
            os.utime(path, (now, now))
    except OSError:  # removed meanwhile, or a read-only cache: the audio was read all the same
        pass


def purge_unused(directory: Path, days: float, now: float | None = None) -> int:
    """Remove cached renders (and temp files a crash left) not used for `days`; returns how many."""
    if not directory.is_dir():
        return 0
    cut = (time.time() if now is None else now) - days * 86400
    removed = 0
    for path in directory.rglob("*"):
        try:
            if path.is_file() and path.stat().st_mtime < cut:
                path.unlink()
                removed += 1
        except OSError as exc:
            logger.warning("render cache: cannot remove %s: %s", path.name, exc)
    return removed
