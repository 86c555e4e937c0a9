"""Acoustic echo cancellation: our own prompt taken out of the caller's audio while it plays.

A phone line returns what we play (the far end's hybrid, a handset's speaker heard by its microphone)
some milliseconds later and 10-30 dB down. Level rules (`voice.echo`) tell a caller from a 20 dB echo,
but a louder one still sounds like speech to a speech detector. WebRTC's echo canceller (AEC3, through
LiveKit's binding `livekit.rtc.AudioProcessingModule`) is fed what we send and what we hear, 10 ms at a
time: it finds the echo's delay itself, learns the path within a fraction of a second, keeps it while the
caller talks over us, and suppresses what its filter leaves (about 0.2 ms of CPU per 20 ms chunk).

`EchoCanceller` pairs each chunk heard with the audio sent at the moment it was heard, by time rather
than by order (see its docstring), so the path the canceller learns is causal and stays put.

Most lines return no echo we can hear (mobile networks and carriers cancel their own). There AEC3's
suppressor, still unsure of a path it cannot find, held back a caller's first syllables (barge-in 1.4 s
late on a quiet line): its output is used only once the line is seen to return our prompt (the levels
heard follow the levels sent), and from then on for the call; until then the chunk goes on as heard.
"""

from __future__ import annotations

import logging
from collections import deque
from functools import cache
from typing import Any

import numpy as np

from voice.audio import AudioChunk
from voice.vad import samples_db

logger = logging.getLogger(__name__)

FRAME_MS = 10  # the canceller's block: every RTP packet time is a multiple of it
RATES = (8000, 16000, 32000, 48000)  # what WebRTC's audio processing runs at natively
LOUDER = 1.26  # a chunk 1 dB louder after cancellation than before: the canceller's own error, not kept
# Whether the line returns our prompt at all: the levels of the last 2 s of chunks heard against those of
# the audio sent at the same moments (and up to 200 ms before), correlated.
ECHO_WINDOW = 100  # chunks (20 ms) compared
ECHO_MIN_SENT = 50  # of them with our prompt audible, before the line is judged
ECHO_LAGS = 10  # chunks the echo may come back after what we sent
ECHO_CORRELATION = 0.6  # at or above this at some lag, the line returns our prompt
FLOOR_DB = -70.0  # levels below this count as this (silence would outweigh everything else)


class EchoCancellerUnavailable(RuntimeError):
    """The canceller cannot run here (its library missing, or a rate it does not take)."""


@cache
def _rtc() -> Any:
    try:
        from livekit import rtc
    except (ImportError, OSError) as exc:  # not installed, or its native library will not load
        raise EchoCancellerUnavailable(f"livekit (WebRTC audio processing) not installed: {exc}") from exc
    return rtc


@cache
def _missing(reason: str) -> None:
    logger.warning("echo cancellation off: %s", reason)  # once per process, not per call


def for_call(rate: int) -> EchoCanceller | None:
    """A call's canceller; None (the level rules alone, a warning once) where it cannot run."""
    try:
        return EchoCanceller(rate)
    except EchoCancellerUnavailable as exc:
        _missing(str(exc))
        return None


class WebrtcEcho:
    """WebRTC's audio processing with only its echo canceller on, on blocks of 10 ms of int16 samples."""

    def __init__(self, rate: int) -> None:
        if rate not in RATES:
            raise EchoCancellerUnavailable(f"no echo cancellation at {rate} Hz")
        self.rtc = _rtc()
        self.rate = rate  # Hz
        self.frame = rate * FRAME_MS // 1000  # samples per block
        self.apm = self.rtc.AudioProcessingModule(echo_cancellation=True)
        # The streams are paired by time already; the delay left (the line's) its estimator finds.
        self.apm.set_stream_delay_ms(0)

    def process(self, heard: np.ndarray, played: np.ndarray) -> np.ndarray:
        """`heard` less the echo of `played`: int16 arrays of the same length, a multiple of `frame`."""
        out = np.empty(heard.size, dtype=np.int16)
        f, frame_type = self.frame, self.rtc.AudioFrame
        for i in range(0, heard.size, f):
            reference = frame_type(played[i : i + f].tobytes(), self.rate, 1, f)
            near = frame_type(heard[i : i + f].tobytes(), self.rate, 1, f)
            self.apm.process_reverse_stream(reference)
            self.apm.process_stream(near)  # in place
            out[i : i + f] = np.frombuffer(near.data, dtype=np.int16)
        return out

    def close(self) -> None:
        self.apm = None  # its native state is released with the handle


class _Timeline:
    """Samples placed at absolute positions (sample index = seconds x rate) in a ring; a position nothing
    was written to, or written longer ago than the ring holds, reads as silence."""

    def __init__(self, size: int) -> None:
        self.buf = np.zeros(size, dtype=np.int16)
        self.end: int | None = None  # one past the highest position written

    def write(self, start: int, samples: np.ndarray) -> None:
        size = self.buf.size
        if self.end is not None and start > self.end:  # nothing sent in between: silence
            gap = np.arange(max(self.end, start - size), start)
            self.buf[gap % size] = 0
        samples = samples[-size:]
        self.buf[np.arange(start, start + samples.size) % size] = samples
        self.end = max(self.end or 0, start + samples.size)

    def read(self, start: int, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=np.int16)
        if self.end is not None:
            lo, hi = max(start, self.end - self.buf.size), min(start + n, self.end)  # still held
            if hi > lo:
                out[lo - start : hi - start] = self.buf[np.arange(lo, hi) % self.buf.size]
        return out


class EchoCanceller:
    """The call's canceller: what the player sends goes in with `played`, each chunk heard comes out of
    `cancel` with our prompt's echo taken away.

    The two streams are paired by time, not by order: a frame sent goes on a timeline at the moment the
    player's schedule sends it, a chunk heard is placed by its RTP position on the local clock (through
    the smallest delay seen between them: packets only ever arrive late), and the chunk is cancelled
    against the audio sent at the same moment. The echo of a frame cannot come back before it was sent,
    so the canceller's path is causal, and it stays the same from one prompt to the next (the player's
    bursts and the network's jitter do not move it): what it has learned holds for the call.
    """

    def __init__(self, rate: int) -> None:
        self.filter = WebrtcEcho(rate)
        self.rate = rate
        self._sent = _Timeline(rate)  # one second of what we sent, by local time
        self._offset: float | None = None  # local time (s) of a heard chunk's end less its RTP position
        # Chunks heard while a reference played, by how much quieter cancellation made them (1 dB bins,
        # 0-60): the call's typical echo reduction (its median), for the metrics.
        self.reductions = np.zeros(61, dtype=np.int64)
        self._levels: deque[tuple[float, float]] = deque(maxlen=ECHO_WINDOW)  # (sent, heard) dBFS
        self.echo_found = False  # the line returns our prompt: the canceller's output is used

    def played(self, frame: np.ndarray, at: float) -> None:
        """One frame sent to the caller (int16 samples), `at` local monotonic seconds."""
        self._sent.write(round(at * self.rate), np.asarray(frame, dtype=np.int16))

    def cancel(self, chunk: AudioChunk, arrived: float) -> AudioChunk:
        """The chunk (arrived at local monotonic `arrived` seconds) with the echo of what we sent taken
        out; as it is when it is not in blocks of 10 ms."""
        heard = chunk.array()
        if chunk.rate != self.rate or chunk.channels != 1 or heard.size % self.filter.frame:
            return chunk
        position = chunk.timestamp_ms * self.rate // 1000  # of its first sample in the RTP stream
        offset = arrived - (position + heard.size) / self.rate
        if self._offset is None or offset < self._offset or offset > self._offset + 1.0:
            self._offset = offset  # the quickest arrival so far (or the stream jumped: start again)
        reference = self._sent.read(round((self._offset + position / self.rate) * self.rate), heard.size)
        out = self.filter.process(heard, reference)  # it learns the line whether or not its output is used
        if not self.echo_found:
            self._levels.append((max(FLOOR_DB, samples_db(reference)), max(FLOOR_DB, samples_db(heard))))
            if len(self._levels) % 5 == 0 and self._returns_echo():
                self.echo_found = True
                logger.debug("the line returns our prompt: echo cancellation on")
            return chunk
        if not reference.any():
            return AudioChunk(out.tobytes(), chunk.rate, timestamp_ms=chunk.timestamp_ms)
        h, o = heard.astype(np.float64), out.astype(np.float64)
        heard_energy, left_energy = float(np.dot(h, h)), float(np.dot(o, o))
        if left_energy > heard_energy * LOUDER:  # never louder than the line itself
            out, left_energy = heard, heard_energy
        if heard_energy > 0:
            reduction = 10 * np.log10(heard_energy / max(left_energy, heard_energy * 1e-6))
            self.reductions[min(60, max(0, int(reduction)))] += 1
        return AudioChunk(out.tobytes(), chunk.rate, timestamp_ms=chunk.timestamp_ms)

    def _returns_echo(self) -> bool:
        """The levels heard follow the levels sent, at some delay up to `ECHO_LAGS` chunks."""
        levels = np.array(self._levels)
        sent, heard = levels[:, 0], levels[:, 1]
        if int(np.sum(sent > FLOOR_DB + 20)) < ECHO_MIN_SENT:
            return False
        for lag in range(ECHO_LAGS + 1):
            a, b = sent[: sent.size - lag], heard[lag:]
            if a.std() > 0 and b.std() > 0 and float(np.corrcoef(a, b)[0, 1]) >= ECHO_CORRELATION:
                return True
        return False

    def reduction_db(self) -> float | None:
        """The median chunk's reduction of level by cancellation while we played (dB); None: no such chunk.
        A median, so the caller's own voice over a prompt (little reduced) does not hide the echo's."""
        total = int(self.reductions.sum())
        if not total:
            return None
        return float(np.searchsorted(np.cumsum(self.reductions), (total + 1) // 2))

    def close(self) -> None:
        self.filter.close()
