"""Voice activity: a detector says "speech or not" per chunk, a segmenter turns that into utterances.

Split as in Home Assistant's assist pipeline (`VoiceCommandSegmenter`): the `SpeechDetector` is
pluggable (the energy detector here; a neural one such as Silero implements the same protocol), and
the `Segmenter` is pure: it reads the detector's flag and each chunk's duration, keeps no clock and
does no I/O, so utterance start/end are tested without sleeping.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from voice.audio import AudioChunk

SILENT_DB = -120.0  # level reported for digital silence


def level_db(chunk: AudioChunk) -> float:
    """RMS level of a chunk in dBFS (16-bit samples); `SILENT_DB` for silence or no samples."""
    return samples_db(chunk.array())


def samples_db(samples: np.ndarray) -> float:
    """RMS level of int16 samples in dBFS; `SILENT_DB` for silence or no samples.

    The sum of squares is taken in integers (exact), so this equals the float64 mean of the squared
    samples / 32768 bit for bit, several times faster: it runs for every 20 ms of every call.
    """
    samples = samples.reshape(-1).astype(np.int64)
    if samples.size == 0:
        return SILENT_DB
    mean = int(np.dot(samples, samples)) / 1073741824 / samples.size  # 32768**2
    rms = math.sqrt(mean)
    return 20 * math.log10(rms) if rms > 1e-6 else SILENT_DB


def chunk_ms(chunk: AudioChunk) -> int:
    """Duration of a chunk in whole milliseconds (rounded)."""
    return int(round(1000 * chunk.samples / chunk.rate)) if chunk.rate else 0


class SpeechDetector(Protocol):
    """Says whether one chunk of audio is speech (energy today; a neural detector later)."""

    def is_speech(self, chunk: AudioChunk, in_speech: bool) -> bool:
        """`in_speech`: the segmenter is inside an utterance (an adaptive detector holds its noise level)."""
        ...


@dataclass(frozen=True, slots=True)
class EnergySettings:
    threshold_db: float = -38.0  # absolute floor (dBFS) for voice
    noise_margin_db: float = 12.0  # or this much above the tracked noise level
    noise_window_ms: int = 1000  # the noise level is the quietest chunk of this window
    noise_floor_db: float = -90.0  # the tracked noise level never goes below this
    initial_noise_db: float = -60.0


class EnergyDetector:
    """Energy detector with an adaptive noise floor: speech is louder than both the floor and the noise.

    Line noise = the quietest chunk of the last second (minimum statistics), learnt only outside
    utterances: stationary noise is learnt within a second, while the pauses between syllables keep it
    low in speech.
    """

    def __init__(self, settings: EnergySettings | None = None) -> None:
        self.settings = settings or EnergySettings()
        self.noise_db = self.settings.initial_noise_db
        self._levels: deque[float] = deque()  # dBFS of the latest chunks (the noise window)
        self._durations: deque[int] = deque()  # their durations, ms
        self._window_ms = 0

    def threshold(self) -> float:
        return max(self.settings.threshold_db, self.noise_db + self.settings.noise_margin_db)

    def is_speech(self, chunk: AudioChunk, in_speech: bool) -> bool:
        db = level_db(chunk)
        if not in_speech:
            ms = chunk_ms(chunk)
            self._levels.append(db)
            self._durations.append(ms)
            self._window_ms += ms
            while self._window_ms > self.settings.noise_window_ms and len(self._levels) > 1:
                self._levels.popleft()
                self._window_ms -= self._durations.popleft()
            self.noise_db = max(self.settings.noise_floor_db, min(self._levels))
        return db >= self.threshold()


@dataclass(frozen=True, slots=True)
class SegmenterSettings:
    min_speech_ms: int = 160  # voiced audio (net of unvoiced chunks) that starts an utterance
    silence_ms: int = 600  # silence that ends it (the end-point)
    max_utterance_ms: int = 15000  # an utterance is cut here
    preroll_ms: int = 300  # audio kept before the onset and given with the start
    # A pause this long inside an utterance is reported (`SpeechPause`) so an end-of-turn model can
    # judge it; `silence_ms` stays the ceiling that ends the utterance anyway. 0: no pauses reported.
    pause_ms: int = 0
    barge_in_min_speech_ms: int = 0  # onset while a prompt plays (`Segmenter.barge_in`); 0: min_speech_ms


@dataclass(frozen=True, slots=True)
class SpeechStart:
    """An utterance began; `audio` is the pre-roll and the onset, oldest first."""

    audio: tuple[AudioChunk, ...]
    timestamp_ms: int  # stream position of the first chunk of `audio`


@dataclass(frozen=True, slots=True)
class SpeechEnd:
    """The utterance ended with the chunk just processed (that chunk belongs to it)."""

    reason: str  # "silence" (the ceiling) | "max_length" | "turn" (judged complete, `Segmenter.end_turn`)
    timestamp_ms: int  # stream position of the end of that chunk


@dataclass(frozen=True, slots=True)
class SpeechPause:
    """The utterance has been silent for `pause_ms`: time to judge whether the turn is complete."""

    pause: int  # the utterance's pause count so far (this pause's number, for `Segmenter.end_turn`)
    timestamp_ms: int  # stream position of the end of the chunk just processed


class Segmenter:
    """Per-chunk speech flags and chunk durations in, utterance start and end out (pure, no clock).

    Before an utterance, chunks are kept for the pre-roll; voiced chunks add their duration and unvoiced
    ones take it back, so a click does not start an utterance. Inside one, `silence_ms` of unvoiced audio
    (the ceiling; `ceiling_ms` overrides it for one utterance) or `max_utterance_ms` in all end it, and a
    pause of `pause_ms` is reported once so an end-of-turn model may end it sooner (`end_turn`). A chunk
    processed while `in_speech` belongs to the utterance. While `barge_in` is set (a prompt is playing),
    the onset needs `barge_in_min_speech_ms` of voice.
    """

    def __init__(self, settings: SegmenterSettings | None = None) -> None:
        self.settings = settings or SegmenterSettings()
        self.in_speech = False
        self._pre: deque[tuple[AudioChunk, int]] = deque()  # (chunk, ms) before the onset
        self._pre_ms = 0
        self._voiced_ms = 0
        self._silent_ms = 0
        self._speech_ms = 0
        self.ceiling_ms: int | None = None  # this utterance's silence ceiling, if not `silence_ms`
        self.barge_in = False  # a prompt is playing: the onset needs `barge_in_min_speech_ms`
        self.pauses = 0  # pauses of `pause_ms` reported in this utterance
        self._paused = False  # the current silence has been reported as a pause
        self._end_ms = 0  # stream position of the end of the last chunk processed

    @property
    def silent_ms(self) -> int:
        """Silence since the utterance's last voiced chunk (0 outside an utterance)."""
        return self._silent_ms if self.in_speech else 0

    def reset(self) -> None:
        """Forget any utterance in progress and the pre-roll (listening stopped or restarted)."""
        self.in_speech = False
        self._pre.clear()
        self._pre_ms = 0
        self._voiced_ms = self._silent_ms = self._speech_ms = 0
        self.ceiling_ms = None
        self.pauses = 0
        self._paused = False

    def end_turn(self, pause: int, reason: str = "turn") -> SpeechEnd | None:
        """End the utterance now, if it is still in pause number `pause` (the caller has not resumed);
        `reason`: "silence" when a timer set at the pause, not a verdict, ends it."""
        if not self.in_speech or not self._paused or self.pauses != pause:
            return None
        return self._end(reason, self._end_ms)

    def _end(self, reason: str, at_ms: int) -> SpeechEnd:
        self.in_speech = False
        self._voiced_ms = 0
        self._silent_ms = 0
        self._paused = False
        return SpeechEnd(reason, at_ms)

    def _keep_ms(self, ms: int) -> int:
        """How much audio to keep before an onset: the pre-roll, the onset itself, one more chunk."""
        s, step = self.settings, max(1, ms)
        return (max(1, s.preroll_ms // step) + s.min_speech_ms // step + 1) * step

    def process(self, chunk: AudioChunk, speech: bool | None) -> SpeechStart | SpeechEnd | SpeechPause | None:
        """`speech` None: cannot tell (speech our own prompt's echo explains): before an utterance it
        neither adds to the onset nor takes from it; inside one it counts as speech."""
        ms = chunk_ms(chunk)
        s = self.settings
        self._end_ms = chunk.timestamp_ms + ms
        if not self.in_speech:
            self._pre.append((chunk, ms))
            self._pre_ms += ms
            keep = self._keep_ms(ms)
            while len(self._pre) > 1 and self._pre_ms > keep:
                self._pre_ms -= self._pre.popleft()[1]
            if speech is not None:
                self._voiced_ms = self._voiced_ms + ms if speech else max(0, self._voiced_ms - ms)
            onset_ms = max(s.min_speech_ms, s.barge_in_min_speech_ms) if self.barge_in else s.min_speech_ms
            if self._voiced_ms < onset_ms:
                return None
            self.in_speech = True
            self._silent_ms = 0
            self.ceiling_ms = None
            self.pauses = 0
            self._paused = False
            self._speech_ms = self._pre_ms
            audio = tuple(c for c, _ in self._pre)
            self._pre.clear()
            self._pre_ms = 0
            return SpeechStart(audio, audio[0].timestamp_ms)
        self._speech_ms += ms
        if speech or speech is None:
            self._silent_ms = 0
            self._paused = False
        else:
            self._silent_ms += ms
        ceiling = s.silence_ms if self.ceiling_ms is None else self.ceiling_ms
        if self._silent_ms >= ceiling:
            return self._end("silence", self._end_ms)
        if self._speech_ms >= s.max_utterance_ms:
            return self._end("max_length", self._end_ms)
        if s.pause_ms and not self._paused and self._silent_ms >= s.pause_ms:
            self._paused = True
            self.pauses += 1
            return SpeechPause(self.pauses, self._end_ms)
        return None
