"""Our own prompt leaking back from the line (echo) is not the caller barging in.

The player reports the level of every frame it sends; a chunk heard while a prompt plays counts as the
caller only if it is louder than the loudest frame played within the echo window, less `margin_db`.
A line returns our prompt 20 dB or more below what we sent (hybrid and handset echo), while a caller
talking over a prompt reaches us at about the prompt's own level: a 15 dB margin below the loudest
recent frame tells them apart (5 dB to spare on a 20 dB echo; softer syllables of the caller's still
count) without cancelling the echo sample by sample (which would need the exact delay and path).

Other voices and noise around the caller (a market, people talking near the phone) are speech to a speech
detector too. With `background_margin_db`, a chunk heard while we play counts as the caller only if it is
also that much louder than the line's median level over the last `background_ms` outside an utterance: the
caller speaks close to the phone and stands out of what the line carried a moment before, which voices a
few metres away do not (`make bench BENCH=barge_in` sweeps the margin).

A line that returns our prompt only ~12 dB down defeats both rules now and then. With a canceller
(`voice.aec`), the frames we play also feed it, and while a prompt plays (and its echo window after) the
chunks heard go through it before any rule or detector sees them (once it has found that the line
returns our prompt); the echo's level rule then no longer applies (there is no echo left to explain),
the background rule does.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voice.aec import EchoCanceller
from voice.audio import AudioChunk
from voice.vad import level_db, samples_db


@dataclass(frozen=True, slots=True)
class EchoSettings:
    window_ms: int = 500  # echo may come back this long after the frame was sent (round trip, jitter)
    margin_db: float = 15.0  # the caller must be louder than the loudest recent played frame less this
    # ... and this much louder than the line's median level over the last `background_ms` (0: no such
    # rule): the caller's own voice, close to the phone, stands out from the voices and noise around it
    background_margin_db: float = 0.0
    background_ms: int = 1500


BACKGROUND_MIN_CHUNKS = 5  # chunks heard before the background rule applies


class EchoReference:
    """Levels (dBFS) of the frames we played, with when we sent them (monotonic seconds)."""

    def __init__(
        self,
        settings: EchoSettings | None = None,
        clock: Callable[[], float] = time.monotonic,
        canceller: EchoCanceller | None = None,
    ) -> None:
        self.settings = settings or EchoSettings()
        self.clock = clock  # seconds; tests pass the stream's own time
        self.canceller = canceller  # takes our prompt's echo out of what we hear (None: the rules alone)
        self._cancelled = False  # the latest chunk came out of the canceller
        self._played: deque[tuple[float, float]] = deque()  # (sent at, level dBFS)
        # levels (dBFS) of the latest chunks heard outside an utterance, 20 ms each
        self._heard: deque[float] = deque(maxlen=max(1, self.settings.background_ms // 20))

    def played(self, frame: np.ndarray, at: float | None = None) -> None:
        """One frame of int16 samples sent to the caller (the player calls this per 20 ms frame), `at`
        the time its schedule sent it (clock seconds; None: now)."""
        now = self.clock()
        self._played.append((now, samples_db(frame)))
        if self.canceller is not None:
            self.canceller.played(frame, now if at is None else at)

    def _trim(self, now: float) -> None:
        oldest = now - self.settings.window_ms / 1000
        while self._played and self._played[0][0] < oldest:
            self._played.popleft()

    def playing(self) -> bool:
        """Something was played within the echo window (its echo may be on the line now)."""
        self._trim(self.clock())
        return bool(self._played)

    def cancel(self, chunk: AudioChunk) -> AudioChunk:
        """The chunk heard with our prompt's echo taken out, while a prompt plays or its echo may come back;
        as it is otherwise (or without a canceller)."""
        if self.canceller is None or not self.playing():
            self._cancelled = False
            return chunk
        out = self.canceller.cancel(chunk, self.clock())
        self._cancelled = out is not chunk
        return out

    def cancelled_db(self) -> float | None:
        """How much quieter the canceller made the line while we played (dB); None: nothing to tell."""
        return self.canceller.reduction_db() if self.canceller is not None else None

    def close(self) -> None:
        if self.canceller is not None:
            self.canceller.close()

    def heard(self, chunk: AudioChunk) -> None:
        """A chunk from the line outside an utterance: the background a caller's voice must stand out of."""
        if self.settings.background_margin_db:
            self._heard.append(level_db(chunk))

    def explains(self, chunk: AudioChunk) -> bool:
        """The chunk is no louder than our own recent playback could make it by echo, or no louder than the
        line's background (other voices, noise: its median level) plus `background_margin_db`."""
        self._trim(self.clock())
        if not self._played:
            return False
        level = level_db(chunk)
        # The echo's level rule only where the echo is still in the chunk: after the canceller a caller's
        # first syllables (which its suppressor softens while it tells them from the echo) fell under it
        # and barge-in came 250-450 ms later
        if not self._cancelled and level < max(db for _, db in self._played) - self.settings.margin_db:
            return True
        margin = self.settings.background_margin_db
        # From 100 ms heard on (before, there is no background to compare with)
        if margin and len(self._heard) >= BACKGROUND_MIN_CHUNKS:
            return level < float(np.median(self._heard)) + margin
        return False
