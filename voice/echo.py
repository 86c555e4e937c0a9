"""Our own prompt leaking back from the line (echo) is not the caller barging in.

The player reports the level of every frame it sends; a chunk heard while a prompt plays counts as the
caller only if it is louder than the loudest frame played within the echo window, less `margin_db`.
A line returns our prompt 20 dB or more below what we sent (hybrid and handset echo), while a caller
talking over a prompt reaches us at about the prompt's own level: a 15 dB margin below the loudest
recent frame tells them apart (5 dB to spare on a 20 dB echo; softer syllables of the caller's still
count) without cancelling the echo sample by sample (which would need the exact delay and path).
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voice.audio import AudioChunk
from voice.vad import SILENT_DB, level_db


@dataclass(frozen=True, slots=True)
class EchoSettings:
    window_ms: int = 500  # echo may come back this long after the frame was sent (round trip, jitter)
    margin_db: float = 15.0  # the caller must be louder than the loudest recent played frame less this


class EchoReference:
    """Levels (dBFS) of the frames we played, with when we sent them (monotonic seconds)."""

    def __init__(
        self, settings: EchoSettings | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings or EchoSettings()
        self.clock = clock  # seconds; tests pass the stream's own time
        self._played: deque[tuple[float, float]] = deque()  # (sent at, level dBFS)

    def played(self, frame: np.ndarray) -> None:
        """One frame of int16 samples sent to the caller (the player calls this per 20 ms frame)."""
        x = frame.astype(np.int64)
        mean = int(np.dot(x, x)) / 1073741824 / max(1, x.size)
        db = 10 * np.log10(mean) if mean > 1e-12 else SILENT_DB
        self._played.append((self.clock(), float(db)))

    def _trim(self, now: float) -> None:
        oldest = now - self.settings.window_ms / 1000
        while self._played and self._played[0][0] < oldest:
            self._played.popleft()

    def playing(self) -> bool:
        """Something was played within the echo window (its echo may be on the line now)."""
        self._trim(self.clock())
        return bool(self._played)

    def explains(self, chunk: AudioChunk) -> bool:
        """The chunk is no louder than our own recent playback could make it by echo."""
        self._trim(self.clock())
        if not self._played:
            return False
        loudest = max(db for _, db in self._played)
        return level_db(chunk) < loudest - self.settings.margin_db
