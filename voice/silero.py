"""Silero VAD behind the `SpeechDetector` protocol: a neural "speech or not" that knows noise from voice.

Telephone audio is fed at its own 8 kHz, which Silero supports natively (256-sample windows of 32 ms
with 32 samples of context), so nothing is resampled. The session is shared by all calls
(`voice.onnx_session`); each call's detector keeps its own recurrent state, context and window buffer.
One window costs a fraction of a millisecond, cheap enough for the chunk path.

As in pipecat's analyzer, the recurrent state is reset now and then during clear non-speech: long
silence or noise at 8 kHz drifts it until speech that follows is under-reported.

Outside speech, a window quieter than `silent_below_db` is not given to the model at all (probability 0):
most of a call's audio is the caller listening in silence while prompts play, and the model's run on the
event loop was a third of the loop's busy time at 20 calls (README, "Measured"). The onset of speech,
even of a quiet caller, is far louder than that; inside speech every window is judged as before.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from voice.audio import AudioChunk
from voice.onnx_session import shared_session

WINDOWS = {8000: 256, 16000: 512}  # samples per model window at each supported rate
CONTEXT = {8000: 32, 16000: 64}  # samples of the previous window prepended to each
RESET_AFTER_S = 2.0  # a reset falls due after this much audio ...
RESET_QUIET_PROBABILITY = 0.1  # ... and happens once this many windows in a row scored below this
RESET_QUIET_WINDOWS = 5
WARM_UP_WINDOWS = 8  # silent windows not run (256 ms), replayed to the model before the first one that is


@dataclass(frozen=True, slots=True)
class SileroSettings:
    start_probability: float = 0.5  # a window at least this likely speech starts speech
    continue_probability: float = 0.35  # once speaking, windows above this still count (hysteresis)
    silent_below_db: float = -55.0  # not speaking, a window under this RMS (dBFS) is not run (-120: off)


class SileroModel:
    """The shared Silero VAD session and the per-window call (state in, probability and state out)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.session = shared_session(path)

    def detector(self, settings: SileroSettings | None = None) -> SileroDetector:
        """A detector for one call (its own state)."""
        return SileroDetector(self, settings)

    def run(self, window: np.ndarray, state: np.ndarray, rate: int) -> tuple[float, np.ndarray]:
        """`window`: float32 (1, context + samples); returns (speech probability, next state)."""
        out, new_state = self.session.run(
            None, {"input": window, "state": state, "sr": np.array(rate, dtype=np.int64)}
        )
        return float(out[0][0]), new_state


class SileroDetector:
    """One call's Silero detector: a speech flag per chunk from the latest window's probability."""

    def __init__(self, model: SileroModel | Any, settings: SileroSettings | None = None) -> None:
        self.model = model
        self.settings = settings or SileroSettings()
        self.probability = 0.0  # of the latest window
        self.speaking = False  # the hysteresis state
        self.windows = 0  # model runs (per-frame cost accounting)
        self.skipped = 0  # windows too quiet to be given to the model
        self.warm_ups = 0  # of the runs, silent windows replayed before an onset
        db = self.settings.silent_below_db
        self._silent_power = 10 ** (db / 10) if db > -120 else 0.0  # mean square of a window; -120: off
        self._unheard: deque[np.ndarray] = deque(maxlen=WARM_UP_WINDOWS)  # the latest silent windows
        self._rate = 0
        self._pending = np.zeros(0, dtype=np.float32)  # samples short of a whole window
        self._reset_state(8000)

    def _reset_state(self, rate: int) -> None:
        self._rate = rate
        self._state = np.zeros((2, 1, 128), dtype=np.float32)
        self._context = np.zeros((1, CONTEXT.get(rate, 32)), dtype=np.float32)
        self._since_reset = 0
        self._quiet_windows = 0

    def is_speech(self, chunk: AudioChunk, in_speech: bool) -> bool:
        rate = chunk.rate
        size = WINDOWS.get(rate)
        if size is None:
            raise ValueError(f"Silero VAD takes 8000 or 16000 Hz audio, got {rate} Hz")
        if rate != self._rate:
            self._reset_state(rate)
            self._pending = np.zeros(0, dtype=np.float32)
        samples = chunk.array().astype(np.float32) * (1 / 32768)
        pending = np.concatenate([self._pending, samples]) if self._pending.size else samples
        start = 0
        while pending.size - start >= size:
            self._score(pending[start : start + size], rate)
            start += size
        self._pending = pending[start:]
        return self.speaking

    def _score(self, window: np.ndarray, rate: int) -> None:
        x = np.concatenate([self._context, window[np.newaxis, :]], axis=1)
        self._context = x[:, -self._context.shape[1] :]
        s = self.settings
        if not self.speaking and float(np.dot(window, window)) < window.size * self._silent_power:
            p = 0.0  # silence: the model is not asked (its state is reset below, as after long quiet)
            self.skipped += 1
            self._unheard.append(x)
        else:
            # The model hears the silence just before, as it would have: its recurrent state then judges
            # the onset as without the gate.
            while self._unheard:
                _, self._state = self.model.run(self._unheard.popleft(), self._state, rate)
                self.windows += 1
                self.warm_ups += 1
            p, self._state = self.model.run(x, self._state, rate)
            self.windows += 1
        self.probability = p
        self.speaking = p >= (s.continue_probability if self.speaking else s.start_probability)
        self._since_reset += 1
        self._quiet_windows = self._quiet_windows + 1 if p < RESET_QUIET_PROBABILITY else 0
        if (
            not self.speaking
            and self._since_reset * window.size >= RESET_AFTER_S * rate
            and self._quiet_windows >= RESET_QUIET_WINDOWS
        ):
            self._state = np.zeros_like(self._state)
            self._context = np.zeros_like(self._context)
            self._since_reset = 0
