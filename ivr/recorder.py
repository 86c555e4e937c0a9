"""Recording the caller's audio (complaints, prompt drafts), spooled to disk as it goes."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import BinaryIO

from core.errors import AudioError
from voice.audio import SAMPLE_WIDTH, AudioChunk
from voice.vad import chunk_ms, level_db

logger = logging.getLogger(__name__)


class Recorder:
    """Collects the caller's chunks up to a maximum length, spooling them to disk as it goes.

    The spool file (raw int16 LE at `rate`) survives a crash of the application; `ivr.store.recover_spool`
    turns leftovers into tickets at the next start. Writes are small appends to the page cache.
    """

    SPOOL_EVERY = 25  # chunks (0.5 s of 20 ms packets) per append
    VOICE_DB = -40.0  # chunks louder than this count as the caller talking

    def __init__(self, name: str, max_seconds: float, *, rate: int, spool: Path | None = None) -> None:
        self.name = name
        self.rate = rate  # Hz of the chunks it takes (the call's RTP rate)
        self.max_samples = int(max_seconds * rate)
        self._parts: list[bytes] = []
        self._samples = 0
        self._unspooled = 0
        self._spool_failed = False  # a write to the spool failed already (logged once)
        self.voiced_ms = 0  # how much of it is voice (a recording without voice is empty)
        self.trailing_silence_ms = 0
        self.full = asyncio.Event()  # set when the maximum length is reached
        self.spool = spool
        self._fh: BinaryIO | None = None
        if spool is not None:
            spool.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(spool, "ab")  # noqa: SIM115 - closed in close()

    def add(self, chunk: AudioChunk) -> None:
        if self._samples >= self.max_samples:
            return
        if chunk.rate != self.rate or chunk.channels != 1 or chunk.width != SAMPLE_WIDTH:
            raise AudioError(f"recorder {self.name} takes {self.rate} Hz mono 16-bit, got {chunk.rate} Hz")
        self._parts.append(chunk.audio)
        self._samples += chunk.samples
        ms = chunk_ms(chunk)
        if level_db(chunk) > self.VOICE_DB:
            self.voiced_ms += ms
            self.trailing_silence_ms = 0
        else:
            self.trailing_silence_ms += ms
        self._unspooled += 1
        if self._unspooled >= self.SPOOL_EVERY:
            self._flush()
        if self._samples >= self.max_samples:
            self.full.set()

    def _flush(self) -> None:
        if self._fh is not None and self._unspooled:
            try:
                self._fh.write(b"".join(self._parts[-self._unspooled :]))
                self._fh.flush()
            except OSError as exc:  # said once per recording (a full disk would say it twice a second)
                log = logger.debug if self._spool_failed else logger.warning
                log("recording spool %s: %s (the audio is kept in memory)", self.spool, exc)
                self._spool_failed = True
        self._unspooled = 0

    def close(self, *, discard: bool) -> None:
        """Stop spooling; `discard` removes the spool (the audio is safely stored elsewhere, or unwanted)."""
        self._flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if discard and self.spool is not None:
            self.spool.unlink(missing_ok=True)

    @property
    def duration_ms(self) -> int:
        return int(1000 * self._samples / self.rate)

    def chunk(self) -> AudioChunk:
        """Everything recorded (at most `max_samples`), as one chunk."""
        return AudioChunk(b"".join(self._parts)[: self.max_samples * SAMPLE_WIDTH], self.rate)
