"""End of turn by model: has the caller finished, judged from the sound of the utterance so far?

After a short silence the listener asks a `TurnModel` for the probability that the turn is complete.
`SmartTurnModel` is pipecat's Smart Turn v3.2 (audio only, Whisper-tiny encoder, 23 languages including
Vietnamese): the last 8 s of the utterance at 16 kHz as Whisper log-mel features, one sigmoid output,
> 0.5 meaning complete. `TurnJudge` runs a model off the event loop in a small bounded executor with a
timeout: a judgement that cannot be made in time is None, and the caller's silence ends the turn.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from voice.audio import AudioChunk, resample
from voice.onnx_session import shared_session
from voice.whisper_features import RATE, fit_length, log_mel

logger = logging.getLogger(__name__)


class TurnModel(Protocol):
    """Judges whether an utterance (the audio so far, trailing silence included) is a finished turn."""

    def complete_probability(self, audio: AudioChunk) -> float:
        """Blocking: the probability in [0, 1] that the speaker has finished."""
        ...


class SmartTurnModel:
    """Smart Turn v3.2 through the process's shared onnxruntime session."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.session = shared_session(path)

    def complete_probability(self, audio: AudioChunk) -> float:
        if audio.rate != RATE:
            audio = resample(audio, RATE)
        x = fit_length(audio.array().astype(np.float32) * (1 / 32768))
        features = log_mel(x)[np.newaxis, :, :]
        out = self.session.run(None, {"input_features": features})
        return float(np.asarray(out[0]).reshape(-1)[0])


@dataclass(frozen=True, slots=True)
class JudgeSettings:
    timeout_ms: int = 400  # no verdict by then: the silence ceiling decides
    workers: int = 1  # threads running the model (the whole process)
    max_pending: int = 8  # judgements queued or running at once; beyond this, none is asked


class TurnJudge:
    """A turn model run off the event loop: bounded, with a timeout; failures return None (logged once)."""

    def __init__(self, model: TurnModel, settings: JudgeSettings | None = None) -> None:
        self.model = model
        self.settings = settings or JudgeSettings()
        self._executor = ThreadPoolExecutor(max_workers=self.settings.workers, thread_name_prefix="turn")
        self._pending = 0
        self._lock = threading.Lock()
        self._warned = False
        self.judged = 0  # verdicts given
        self.missed = 0  # asked but no verdict (busy, timed out, failed)

    async def judge(self, audio: AudioChunk) -> float | None:
        """The probability that the turn is complete, or None (busy, too slow, failed)."""
        with self._lock:
            if self._pending >= self.settings.max_pending:
                self.missed += 1
                return None
            self._pending += 1
        future = self._executor.submit(self._run, audio)
        try:
            p = await asyncio.wait_for(asyncio.wrap_future(future), self.settings.timeout_ms / 1000)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.missed += 1
            self._warn(exc)
            return None
        self.judged += 1
        return p

    def _run(self, audio: AudioChunk) -> float:
        try:
            return self.model.complete_probability(audio)
        finally:
            with self._lock:
                self._pending -= 1

    def _warn(self, exc: BaseException) -> None:
        if isinstance(exc, TimeoutError):
            detail = f"no verdict within {self.settings.timeout_ms} ms"
        else:
            detail = f"{type(exc).__name__}: {exc}"
        if not self._warned:
            self._warned = True
            logger.warning("end-of-turn model: %s; such turns end at the fixed silence end-point", detail)
        else:
            logger.debug("end-of-turn model: %s", detail)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)
