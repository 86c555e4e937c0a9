"""`Synthesizer`: the public TTS wrapper (normalization, render cache, resampling, worker pool)."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import AsyncIterator
from concurrent.futures import Future
from dataclasses import replace

from voice.audio import AudioChunk, Resampler, concat, resample, to_mono
from voice.pool import CountedPool
from voice.tts.base import TtsEngine, TtsError
from voice.tts.cache import RenderCache, cache_key
from voice.tts.lexicon import lexicon_from_settings
from voice.tts.pieces import abbreviations_for, prepare, split_pieces
from voice.tts.registry import EngineRegistry, select_engine

logger = logging.getLogger(__name__)

MIN_RATE, MAX_RATE = 0.25, 4.0  # speaking-rate multiplier bounds (as in voice.tts.rate)
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 4000, 96000


class Synthesizer:
    """Text -> speech with any registered engine; blocking work runs in a bounded thread pool."""

    def __init__(self, settings, *, registry: EngineRegistry | None = None) -> None:
        cfg = settings.voice.tts
        self.settings = settings
        self.registry = registry or EngineRegistry(settings)
        self.cache = RenderCache(settings.cache_dir / "tts") if cfg.cache else None
        self._pool = CountedPool("tts", cfg.workers)
        self._inflight: dict[str, threading.Lock] = {}  # cache key -> lock: concurrent requests render once
        self._inflight_guard = threading.Lock()
        self._closed = False

    @classmethod
    def from_settings(cls, settings) -> Synthesizer:
        return cls(settings)

    # --- shared logic ---------------------------------------------------------------------------

    def _options(self, rate: float | None, engine: str | None, sample_rate: int | None) -> tuple[str, float]:
        if self._closed:
            raise TtsError("the synthesizer is closed")
        speed = self.settings.voice.tts.rate if rate is None else float(rate)
        if not MIN_RATE < speed <= MAX_RATE:
            raise TtsError(
                f"speaking rate {speed} is outside {MIN_RATE} < rate <= {MAX_RATE}", code="tts_bad_rate"
            )
        if sample_rate is not None and not MIN_SAMPLE_RATE <= int(sample_rate) <= MAX_SAMPLE_RATE:
            raise TtsError(
                f"sample rate {sample_rate} Hz is outside {MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE}",
                code="tts_bad_rate",
            )
        return select_engine(engine, self.settings.voice.tts.engine), speed

    def _pieces(self, text: str, engine_name: str) -> list[str]:
        """Normalized pieces to speak (blocking: the abbreviation table and lexicon may be read from disk)."""
        # Looked up each time: both tables are reloaded when an operator edits their files.
        lexicon = lexicon_from_settings(self.settings)
        prepared = prepare(
            text,
            max_chars=self.settings.voice.tts.max_chars,
            abbreviations=abbreviations_for(self.settings),
            respell=lambda written: lexicon.apply(written, engine_name),
        )
        pieces = split_pieces(prepared)
        if not pieces:
            raise TtsError("nothing to say: the text has no letters or digits", code="tts_empty_text")
        return pieces

    def _render(self, engine_name: str, piece: str, speed: float) -> AudioChunk:
        """One piece at the engine's native rate, from the cache when rendered before (blocking)."""
        engine: TtsEngine = self.registry.get(engine_name)
        key = cache_key(engine.name, engine.voice_id, piece, speed)
        if self.cache is None:
            return self._render_uncached(engine, piece, speed)
        hit = self.cache.get(key, engine.native_rate)
        if hit is not None:
            return hit
        with self._inflight_guard:
            lock = self._inflight.setdefault(key, threading.Lock())
        try:
            with lock:  # a second caller asking for the same prompt waits for the first render
                hit = self.cache.get(key, engine.native_rate)
                if hit is not None:
                    return hit
                chunk = self._render_uncached(engine, piece, speed)
                if chunk.samples:
                    self.cache.put(key, chunk)
                return chunk
        finally:
            with self._inflight_guard:
                if self._inflight.get(key) is lock and not lock.locked():
                    del self._inflight[key]

    def _render_uncached(self, engine: TtsEngine, piece: str, speed: float) -> AudioChunk:
        started = time.perf_counter()
        chunk = to_mono(engine.synthesize(piece, rate=speed))
        if chunk.rate != engine.native_rate or chunk.width != 2:
            raise TtsError(
                f"{engine.name} returned {chunk.rate} Hz/{8 * chunk.width}-bit audio, "
                f"declared {engine.native_rate} Hz/16-bit"
            )
        logger.debug(
            "%s rendered %d chars -> %.2f s in %.2f s",
            engine.name,
            len(piece),
            chunk.duration_s,
            time.perf_counter() - started,
        )
        return chunk

    def _synthesize_sync(
        self, text: str, engine_name: str, speed: float, sample_rate: int | None
    ) -> AudioChunk:
        pieces = self._pieces(text, engine_name)
        chunks = [self._render(engine_name, piece, speed) for piece in pieces]
        out = concat(chunks)
        return resample(out, int(sample_rate)) if sample_rate and sample_rate != out.rate else out

    # --- public API -----------------------------------------------------------------------------

    async def synthesize(
        self,
        text: str,
        *,
        rate: float | None = None,
        engine: str | None = None,
        sample_rate: int | None = None,
    ) -> AudioChunk:
        """The whole text as one clip (mono int16), at the engine's rate or resampled to `sample_rate`."""
        engine_name, speed = self._options(rate, engine, sample_rate)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._pool, self._synthesize_sync, text, engine_name, speed, sample_rate
        )

    def synthesize_blocking(
        self,
        text: str,
        *,
        rate: float | None = None,
        engine: str | None = None,
        sample_rate: int | None = None,
    ) -> AudioChunk:
        """`synthesize` for synchronous callers (CLI, render jobs); never call it on the event loop."""
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            pass
        else:
            raise TtsError("synthesize_blocking() called on the event loop; use `await synthesize()`")
        engine_name, speed = self._options(rate, engine, sample_rate)
        return self._pool.submit(self._synthesize_sync, text, engine_name, speed, sample_rate).result()

    async def stream(
        self,
        text: str,
        *,
        rate: float | None = None,
        engine: str | None = None,
        sample_rate: int | None = None,
    ) -> AsyncIterator[AudioChunk]:
        """Sentence by sentence: the first chunk comes after one sentence; the next renders meanwhile."""
        engine_name, speed = self._options(rate, engine, sample_rate)
        loop = asyncio.get_running_loop()
        pieces = await loop.run_in_executor(self._pool, self._pieces, text, engine_name)
        resampler: Resampler | None = None
        position_ms = 0.0

        def submit(i: int) -> Future:
            return self._pool.submit(self._render, engine_name, pieces[i], speed)

        pending: Future | None = submit(0)
        try:
            for i in range(len(pieces)):
                assert pending is not None
                chunk = await asyncio.wrap_future(pending, loop=loop)
                pending = submit(i + 1) if i + 1 < len(pieces) else None  # one piece ahead, no more
                if sample_rate and sample_rate != chunk.rate:
                    if resampler is None:
                        resampler = Resampler(chunk.rate, int(sample_rate))
                    chunk = resampler.process(chunk, last=pending is None)
                out = replace(chunk, timestamp_ms=int(round(position_ms)))
                position_ms += 1000.0 * out.duration_s
                if out.samples:
                    yield out
        finally:
            if pending is not None:
                pending.cancel()  # a caller who hangs up mid-prompt leaves at most one piece rendering

    def close(self) -> None:
        """Stop the pool (queued work cancelled) and release loaded voices."""
        if self._closed:
            return
        self._closed = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        self.registry.close()

    async def __aenter__(self) -> Synthesizer:
        return self

    async def __aexit__(self, *exc) -> None:
        self.close()

    def __enter__(self) -> Synthesizer:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
