"""The small protocol every ASR engine implements, the result types and the ASR errors."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from core.errors import HotlineError


@dataclass(frozen=True, slots=True)
class Word:
    """One recognized word with its position in the stream."""

    text: str
    start_s: float  # seconds from the start of the stream
    end_s: float  # seconds from the start of the stream
    confidence: float | None = None  # 0..1; None when the engine gives none


@dataclass(frozen=True, slots=True)
class AsrResult:
    """What the recognizer heard so far (partial) or in total (final)."""

    text: str
    is_final: bool
    confidence: float | None = None  # 0..1 for the whole text; None when the engine gives none
    words: list[Word] = field(default_factory=list)  # empty when the engine gives no word timings

    def to_dict(self) -> dict[str, object]:
        return {
            "text": self.text,
            "is_final": self.is_final,
            "confidence": self.confidence,
            "words": [
                {
                    "text": w.text,
                    "start_s": round(w.start_s, 3),
                    "end_s": round(w.end_s, 3),
                    "confidence": w.confidence,
                }
                for w in self.words
            ],
        }


class AsrError(HotlineError):
    """Speech recognition failed; `retryable` says whether trying again soon may succeed."""

    code = "asr"
    retryable = False

    def __init__(self, message: str, *, code: str | None = None, retryable: bool | None = None) -> None:
        super().__init__(message, code=code)
        if retryable is not None:
            self.retryable = retryable


class AsrUnavailable(AsrError):
    """Recognition cannot be done now (pool saturated, engine failed): the IVR falls back to the keypad."""

    code = "asr_unavailable"


class AsrModelError(AsrUnavailable):
    """An engine's model is missing, incomplete or unreadable (a configuration problem, not retryable)."""

    code = "asr_model"
    retryable = False


@runtime_checkable
class AsrStream(Protocol):
    """One utterance or call being recognized. Blocking and not thread-safe: the caller serializes calls."""

    rate: int  # sample rate (Hz) of the audio `accept` takes

    def accept(self, samples: np.ndarray) -> None:
        """Feed mono int16 samples (C-contiguous) at `rate`."""
        ...

    def partial(self) -> AsrResult:
        """The best guess so far (is_final False); cheap to call after every chunk."""
        ...

    def final(self) -> AsrResult:
        """Flush and return everything heard (is_final True)."""
        ...

    def close(self) -> None:
        """Release the engine session."""
        ...


@runtime_checkable
class AsrEngine(Protocol):
    """One loaded model, shared by many streams. Blocking: the `Recognizer` runs it in its worker pool."""

    name: str  # registry name, e.g. "vietasr"
    sample_rates: tuple[int, ...]  # rates (Hz) streams accept natively; the first is preferred
    supports_phrases: bool  # True if start_stream can restrict recognition to a phrase list

    def start_stream(self, rate: int, *, phrases: Sequence[str] | None = None) -> AsrStream:
        """A new stream at `rate` (one of `sample_rates`), optionally limited to `phrases`."""
        ...

    def close(self) -> None:
        """Release the model."""
        ...
