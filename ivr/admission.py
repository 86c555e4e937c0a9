"""ASR admission: the one place that decides whether a call may recognize speech now.

A call recognizes one utterance at a time, and each utterance holds one admission from its start to its
final transcript. Over the limit, the utterance is refused and the call falls back to the keypad menu
(the flow hears `EngineFailure("pool")`); without a recognizer, or when it cannot open a stream, the
refusal is `EngineFailure("asr")`. The recognizer's own `voice.asr.max_pending` still protects its worker
pool for every user (ticket transcription, the CLI); the call limit is kept within it, so an admitted
call (one inference job in flight at a time) is not refused by the pool on account of other calls.
"""

from __future__ import annotations

import contextlib
import logging
from typing import TYPE_CHECKING, Protocol

from voice.asr.base import AsrResult
from voice.audio import AudioChunk

if TYPE_CHECKING:
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)


class AsrCallStream(Protocol):
    """One utterance being recognized (`voice.asr.RecognizerStream`)."""

    async def accept(self, chunk: AudioChunk, *, urgent: bool = False) -> AsrResult | None: ...

    async def finish(self, *, urgent: bool = False) -> AsrResult: ...

    def hurry(self) -> None:
        """A caller now waits on this stream: its job still queued goes before other calls' audio."""

    def close(self) -> None: ...


class StreamingRecognizer(Protocol):
    """What a call needs of the recognizer (`voice.asr.Recognizer`)."""

    def open_stream(self, rate: int) -> AsrCallStream: ...


class AsrRefused(Exception):
    """This utterance may not be recognized now; `stage` is the flow's EngineFailure stage."""

    def __init__(self, stage: str, detail: str) -> None:
        super().__init__(detail)
        self.stage = stage  # "pool": all slots busy; "asr": no recognizer, or it failed to open a stream
        self.detail = detail


class AsrAdmission:
    """Counts the calls recognizing now against one limit, and opens their streams."""

    def __init__(self, limit: int = 8) -> None:
        if limit < 1:
            raise ValueError(f"ASR admission limit must be at least 1, got {limit}")
        self.limit = limit  # calls recognizing at once
        self._active = 0

    @classmethod
    def from_settings(cls, settings: IvrConfig) -> AsrAdmission:
        """`ivr.max_recognitions`, kept within the recognizer pool's `voice.asr.max_pending`."""
        limit, pending = settings.ivr.max_recognitions, settings.voice.asr.max_pending
        if pending < limit:
            logger.warning(
                "ivr.max_recognitions=%d exceeds voice.asr.max_pending=%d: %d calls recognize at most",
                limit,
                pending,
                pending,
            )
            limit = pending
        return cls(limit)

    @property
    def active(self) -> int:
        """Utterances being recognized now."""
        return self._active

    def open(self, recognizer: StreamingRecognizer | None, rate: int, call: str) -> AdmittedStream:
        """A recognition stream for one utterance at `rate` Hz, or AsrRefused (the call uses the keypad)."""
        if recognizer is None:
            raise AsrRefused("asr", "no recognizer")
        if self._active >= self.limit:
            logger.warning("call %s: all %s recognition slots busy: keypad fallback", call, self.limit)
            raise AsrRefused("pool", "recognition slots saturated")
        try:
            stream = recognizer.open_stream(rate)
        except Exception as exc:
            logger.warning("call %s: speech recognition failed: %s", call, exc)
            raise AsrRefused("asr", str(exc)) from exc
        self._active += 1
        return AdmittedStream(self, stream)

    def _release(self) -> None:
        self._active -= 1


class AdmittedStream:
    """An admitted utterance's stream; `release()` (always, in `finally`) gives the slot back."""

    def __init__(self, admission: AsrAdmission, stream: AsrCallStream) -> None:
        self._admission = admission
        self._stream: AsrCallStream | None = stream
        self._finished = False

    async def accept(self, chunk: AudioChunk, *, urgent: bool = False) -> AsrResult | None:
        """`urgent`: a caller is waiting on this result (it goes before other calls' audio)."""
        assert self._stream is not None, "stream released"
        return await self._stream.accept(chunk, urgent=urgent)

    def hurry(self) -> None:
        if self._stream is not None:
            self._stream.hurry()

    async def finish(self, *, urgent: bool = False) -> AsrResult:
        assert self._stream is not None, "stream released"
        result = await self._stream.finish(urgent=urgent)
        self._finished = True
        return result

    def release(self) -> None:
        """Give up the stream (unless it finished) and the slot; idempotent."""
        stream, self._stream = self._stream, None
        if stream is None:
            return
        if not self._finished:
            with contextlib.suppress(Exception):
                stream.close()
        self._admission._release()
