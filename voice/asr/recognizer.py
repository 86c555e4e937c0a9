"""The public ASR wrapper: engine choice, resampling at the edge, a bounded worker pool, clear errors.

Engines are blocking; every call into them runs in a `ThreadPoolExecutor` of `voice.asr.workers`
threads, so the event loop keeps serving calls while a model decodes. The pool admits at most
`voice.asr.max_pending` jobs at once; beyond that `AsrUnavailable(retryable=True)` is raised at once
(the IVR then offers the keypad) instead of letting callers wait behind an ever-growing queue.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from core.errors import AudioError, HotlineError
from voice.asr.base import AsrEngine, AsrError, AsrResult, AsrStream, AsrUnavailable
from voice.asr.registry import EngineRegistry, select_engine, shared_registry, stream_rate
from voice.audio import AudioChunk, Resampler, resample, to_mono
from voice.pool import CountedPool

logger = logging.getLogger(__name__)

T = TypeVar("T")
_ONE_SHOT_PIECE_S = 10  # one-shot input is fed to the engine in pieces of this many seconds


def _check_chunk(chunk: AudioChunk) -> None:
    """Reject audio the engines cannot take, with a message instead of a numpy error."""
    if not isinstance(chunk, AudioChunk):
        raise AudioError(f"expected an AudioChunk, got {type(chunk).__name__}")
    if chunk.width != 2:
        raise AudioError(
            f"ASR takes 16-bit PCM, got {8 * chunk.width}-bit samples (decode mu-law with ulaw_chunk)"
        )
    if chunk.rate <= 0 or chunk.channels <= 0:
        raise AudioError(f"invalid audio format: {chunk.rate} Hz, {chunk.channels} channel(s)")
    if len(chunk.audio) % (chunk.width * chunk.channels):
        raise AudioError(
            f"truncated audio: {len(chunk.audio)} bytes is not a whole number of "
            f"{chunk.channels}-channel 16-bit frames"
        )


class Recognizer:
    """Speech to text for the IVR, the CLI and the benchmarks."""

    def __init__(
        self,
        asr_settings,
        *,
        resolve_path: Callable[[Path], Path] = Path,
        registry: EngineRegistry | None = None,
        engine: str | None = None,
    ) -> None:
        self._asr = asr_settings  # voice.asr section
        self._resolve = resolve_path
        self._registry = registry or shared_registry()
        self.engine_name = select_engine(engine, asr_settings.engine)
        self._pool = CountedPool("asr", asr_settings.workers)
        self._max_pending = asr_settings.max_pending
        self._pending = 0
        self._count_lock = threading.Lock()
        self._closed = False

    @classmethod
    def from_settings(
        cls, settings, *, engine: str | None = None, registry: EngineRegistry | None = None
    ) -> Recognizer:
        """A recognizer configured by `settings.voice.asr` (relative model paths resolved by settings)."""
        return cls(settings.voice.asr, resolve_path=settings.path, registry=registry, engine=engine)

    # --- engines --------------------------------------------------------------------------------

    def _engine(self, name: str) -> AsrEngine:
        return self._registry.get(name, self._asr, self._resolve)

    async def warm_up(self, engine: str | None = None) -> None:
        """Load the engine now (in the pool), so the first caller does not wait for the model."""
        name = select_engine(engine, self.engine_name)
        await self._submit(self._engine, name)

    async def _submit(
        self,
        fn: Callable[..., T],
        *args: Any,
        urgent: bool = False,
        track: Callable[[Future[Any]], None] | None = None,
    ) -> T:
        """`urgent`: a caller waits on this job (the words at a pause, a final transcript): it runs before
        the jobs already waiting (audio of other callers still speaking, whose results can wait). `track`:
        told the job's future (a stream may hurry it later)."""
        if self._closed:
            raise AsrUnavailable("speech recognizer is closed", retryable=False)
        with self._count_lock:
            if self._pending >= self._max_pending:
                raise AsrUnavailable(
                    f"speech recognition is saturated ({self._pending} jobs pending, "
                    f"voice.asr.max_pending={self._max_pending})",
                    code="asr_busy",
                    retryable=True,
                )
            self._pending += 1
        try:
            future = (self._pool.submit_urgent if urgent else self._pool.submit)(fn, *args)
            if track is not None:
                track(future)
        except RuntimeError as exc:  # pool shut down between the check and the submit
            self._release()
            raise AsrUnavailable("speech recognizer is closed", retryable=False) from exc
        # Counted until the job really ends, even if the awaiting task is cancelled meanwhile.
        future.add_done_callback(lambda _f: self._release())
        try:
            return await asyncio.wrap_future(future)
        except (HotlineError, asyncio.CancelledError):
            raise
        except Exception as exc:  # an engine crash is reported, typed, to the IVR
            logger.exception("ASR engine call failed")
            raise AsrUnavailable(
                f"speech recognition failed: {type(exc).__name__}: {exc}", code="asr_engine", retryable=False
            ) from exc

    def _release(self) -> None:
        with self._count_lock:
            self._pending -= 1

    @property
    def pending(self) -> int:
        """Inference jobs queued or running now."""
        with self._count_lock:
            return self._pending

    # --- one shot -------------------------------------------------------------------------------

    async def transcribe(
        self, chunk: AudioChunk, *, engine: str | None = None, phrases: Sequence[str] | None = None
    ) -> AsrResult:
        """Recognize a whole clip (any rate, mono or stereo) in one pool job."""
        _check_chunk(chunk)
        name = select_engine(engine, self.engine_name)
        return await self._submit(self._transcribe_job, name, chunk, phrases)

    def _transcribe_job(self, name: str, chunk: AudioChunk, phrases: Sequence[str] | None) -> AsrResult:
        engine = self._engine(name)
        mono = to_mono(chunk)
        rate = stream_rate(mono.rate, engine.sample_rates)
        audio = resample(mono, rate) if mono.rate != rate else mono
        stream = engine.start_stream(rate, phrases=phrases)
        try:
            samples = audio.array()
            step = rate * _ONE_SHOT_PIECE_S
            for i in range(0, len(samples), step):
                stream.accept(samples[i : i + step])
            return stream.final()
        finally:
            stream.close()

    # --- streams --------------------------------------------------------------------------------

    def open_stream(
        self, rate: int, *, engine: str | None = None, phrases: Sequence[str] | None = None
    ) -> RecognizerStream:
        """A stream taking chunks at `rate` Hz (e.g. 8000 for a call); the model loads on first use."""
        if self._closed:
            raise AsrUnavailable("speech recognizer is closed", retryable=False)
        if not isinstance(rate, int) or rate <= 0:
            raise AudioError(f"invalid stream sample rate {rate!r}")
        return RecognizerStream(self, select_engine(engine, self.engine_name), rate, phrases)

    def close(self) -> None:
        """Stop the pool (queued jobs are cancelled); loaded models stay cached for the process."""
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> Recognizer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> Recognizer:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()


class RecognizerStream:
    """One caller utterance or call. Calls are ordered on the loop and serialized on the worker side."""

    def __init__(self, recognizer: Recognizer, engine: str, rate: int, phrases: Sequence[str] | None) -> None:
        self._rec = recognizer
        self.engine_name = engine
        self.rate = rate  # Hz of the chunks accept() takes
        self._phrases = list(phrases) if phrases is not None else None
        self._order = asyncio.Lock()  # FIFO: chunks reach the engine in the order they were sent
        self._serial = threading.Lock()  # one job per stream at a time, even after a cancelled await
        self._stream: AsrStream | None = None
        self._resampler: Resampler | None = None
        self._last_partial = ""
        self._final: AsrResult | None = None
        self._closed = False
        self._job: Future[Any] | None = None  # the stream's latest job in the pool
        self.audio_s = 0.0  # seconds of audio accepted

    async def accept(self, chunk: AudioChunk, *, urgent: bool = False) -> AsrResult | None:
        """Feed a chunk; returns a partial result when the text changed, else None. `urgent`: a caller
        waits on this partial (see `Recognizer._submit`)."""
        _check_chunk(chunk)
        if chunk.rate != self.rate:
            raise AudioError(f"this stream takes {self.rate} Hz audio, got a {chunk.rate} Hz chunk")
        if self._final is not None or self._closed:
            raise AsrError("stream already finished", code="asr_stream_finished")
        async with self._order:
            if self._final is not None or self._closed:  # finished while this chunk waited its turn
                raise AsrError("stream already finished", code="asr_stream_finished")
            return await self._rec._submit(self._accept_job, chunk, urgent=urgent, track=self._track)

    def _track(self, job: Future[Any]) -> None:
        self._job = job

    def hurry(self) -> None:
        """The caller now waits on this stream (they paused): its job still waiting goes first."""
        job = self._job
        if job is not None and not job.done():
            self._rec._pool.hurry(job)

    async def finish(self, *, urgent: bool = False) -> AsrResult:
        """Flush and return the final result; the engine session is released."""
        async with self._order:
            if self._final is not None:
                return self._final
            if self._closed:
                raise AsrError("stream is closed", code="asr_stream_finished")
            self._final = await self._rec._submit(self._finish_job, urgent=urgent)
            return self._final

    def _engine_stream(self) -> AsrStream:
        if self._stream is None:
            engine = self._rec._engine(self.engine_name)
            target = stream_rate(self.rate, engine.sample_rates)
            self._resampler = Resampler(self.rate, target) if target != self.rate else None
            self._stream = engine.start_stream(target, phrases=self._phrases)
        return self._stream

    def _accept_job(self, chunk: AudioChunk) -> AsrResult | None:
        with self._serial:
            try:
                if self._closed:
                    raise AsrError("stream is closed", code="asr_stream_finished")
                stream = self._engine_stream()
                mono = to_mono(chunk)
                self.audio_s += mono.duration_s
                if self._resampler is not None:
                    mono = self._resampler.process(mono)
                if mono.samples:
                    stream.accept(mono.array())
                partial = stream.partial()
                if partial.text == self._last_partial:
                    return None
                self._last_partial = partial.text
                return partial
            finally:
                if self._closed:
                    self._release_engine_stream()

    def _finish_job(self) -> AsrResult:
        with self._serial:
            try:
                stream = self._engine_stream()
                if self._resampler is not None:  # flush the resampler's filter delay
                    tail = self._resampler.process(AudioChunk(b"", self.rate), last=True)
                    if tail.samples:
                        stream.accept(tail.array())
                return stream.final()
            finally:
                self._release_engine_stream()

    def _release_engine_stream(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            stream.close()

    def close(self) -> None:
        """Give up the stream without a final result (caller hung up); never blocks the loop."""
        self._closed = True
        if self._serial.acquire(blocking=False):
            try:
                self._release_engine_stream()
            finally:
                self._serial.release()
        # else: the job running now releases it when it ends

    async def __aenter__(self) -> RecognizerStream:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()
