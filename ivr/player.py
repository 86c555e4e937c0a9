"""Playback over RTP: queued answers sent to the caller in real time, stoppable within one frame.

The answer goes back over the call's RTP endpoint, paced in real time, so playback stops at once when
the caller barges in and nothing has to be copied to the Asterisk host. A clip is prepared whole (an
answer, synthesized while earlier items play); a long file (a radio segment) is played as a stream of
chunks decoded as it goes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np

from core.metrics import ErrorStage, count_error
from ivr.rtp import FRAME_MS, RtpEndpoint
from voice.audio import AudioChunk

logger = logging.getLogger(__name__)

Source = Callable[[], Coroutine[Any, Any, AudioChunk]]  # prepares the audio (e.g. synthesis)
StreamSource = Callable[[], AsyncIterator[AudioChunk]]  # audio decoded as it plays (a long file)


@dataclass
class _Item:
    playback_id: int
    source: Source | None = None
    task: asyncio.Task | None = None  # audio preparation (synthesis) started early
    stream: StreamSource | None = None  # opened when its turn comes


class RtpPlayer:
    """Plays queued audio over an RtpEndpoint in real time; `stop(id)` silences it within one frame."""

    def __init__(
        self,
        endpoint: RtpEndpoint,
        *,
        lead_ms: int = 0,
        ready_s: float = 2.5,
        on_started: Callable[[int, float], None] | None = None,
        on_finished: Callable[[int, bool], None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.lead_s = lead_ms / 1000
        self.ready_s = ready_s  # an item's audio not ready this long after its turn came: it fails
        self.on_started = on_started
        self.on_finished = on_finished
        self._queue: deque[_Item] = deque()
        self._current: _Item | None = None
        self._wake = asyncio.Event()
        self._stop_current = False
        self._task: asyncio.Task | None = None
        self._closed = False
        # each frame sent, with the monotonic time its schedule sends it at (the echo reference)
        self.on_frame: Callable[[np.ndarray, float], None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"rtp-player-{self.endpoint.port}")

    def play(self, playback_id: int, source: Source) -> None:
        item = _Item(playback_id, source)
        # Start preparing now (synthesis runs in the TTS pool while earlier items play).
        item.task = asyncio.create_task(source())
        self._queue.append(item)
        self._wake.set()

    def play_stream(self, playback_id: int, stream: StreamSource) -> None:
        """Queue audio that is decoded while it plays (memory stays a few chunks, whatever its length)."""
        self._queue.append(_Item(playback_id, stream=stream))
        self._wake.set()

    def stop(self, playback_id: int) -> None:
        if self._current is not None and self._current.playback_id == playback_id:
            self._stop_current = True
            return
        for item in list(self._queue):
            if item.playback_id == playback_id:
                self._queue.remove(item)
                if item.task is not None:
                    item.task.cancel()

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    async def _run(self) -> None:
        while not self._closed:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self._queue.popleft()
            self._current, self._stop_current = item, False
            ok = True
            try:
                if item.stream is not None:
                    ok = await self._send_stream(item, item.stream())
                else:
                    assert item.task is not None
                    chunk = await self._ready(item.task)
                    ok = await self._send(item, chunk)
            except asyncio.CancelledError:
                if self._closed:
                    raise
                ok = False
            except Exception as exc:
                logger.warning("playback %d failed: %s", item.playback_id, exc)
                ok = False
            finally:
                self._current = None
            if self.on_finished is not None and not self._closed:
                self.on_finished(item.playback_id, ok)

    async def _ready(self, task: asyncio.Task) -> AudioChunk:
        """The item's audio, or a failure once the caller has waited `ready_s` for it (a hung
        synthesizer): the flow then says something else instead of leaving the caller in silence."""
        try:
            return await asyncio.wait_for(task, timeout=self.ready_s)  # cancels the task when late
        except TimeoutError:
            count_error(ErrorStage.TTS)
            raise TimeoutError(f"audio not ready within {self.ready_s:g} s") from None
        except Exception:  # the synthesizer failed (CancelledError, a BaseException, is not counted)
            count_error(ErrorStage.TTS)
            raise

    def _samples(self, chunk: AudioChunk) -> np.ndarray:
        rate = self.endpoint.rate
        if chunk.rate != rate or chunk.channels != 1:
            raise ValueError(f"playback needs {rate} Hz mono audio, got {chunk.rate} Hz/{chunk.channels} ch")
        return chunk.array()

    async def _send(self, item: _Item, chunk: AudioChunk) -> bool:
        samples = self._samples(chunk)
        size = self.endpoint.frame_samples
        n = max(1, math.ceil(samples.size / size))
        pacer = _Pacer(self, item)
        for i in range(n):
            if self._stop_current or self._closed:
                return True  # stopped on request: not a failure
            await pacer.send(samples[i * size : (i + 1) * size])
        await pacer.finish()
        return True

    async def _send_stream(self, item: _Item, chunks: AsyncIterator[AudioChunk]) -> bool:
        size = self.endpoint.frame_samples
        pacer = _Pacer(self, item)
        carry = np.zeros(0, dtype=np.int16)  # samples short of a whole frame, sent with the next chunk
        try:
            async for chunk in chunks:
                samples = self._samples(chunk)
                if carry.size:
                    samples = np.concatenate([carry, samples])
                whole = samples.size - samples.size % size
                for i in range(0, whole, size):
                    if self._stop_current or self._closed:
                        return True
                    await pacer.send(samples[i : i + size])
                carry = samples[whole:]
            if carry.size or not pacer.frames:
                await pacer.send(carry)
            await pacer.finish()
            return True
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()  # the decoder stops now, not when the generator is collected

    async def close(self) -> None:
        self._closed = True
        for item in self._queue:
            if item.task is not None:
                item.task.cancel()
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception as exc:
                logger.debug("player ended with %s", exc)


class _Pacer:
    """Sends one playback's frames on an absolute real-time schedule (no drift), a little ahead."""

    def __init__(self, player: RtpPlayer, item: _Item) -> None:
        self.player = player
        self.item = item
        self.loop = asyncio.get_running_loop()
        self.t0 = 0.0
        self.frames = 0

    async def send(self, frame: np.ndarray) -> None:
        player = self.player
        endpoint = player.endpoint
        if self.frames == 0:
            self.t0 = self.loop.time()
            if player.on_started is not None:
                player.on_started(self.item.playback_id, time.monotonic())
        size = endpoint.frame_samples
        if frame.size < size:
            frame = np.concatenate([frame, np.zeros(size - frame.size, dtype=np.int16)])
        endpoint.send_frame(frame, marker=self.frames == 0)
        if player.on_frame is not None:  # when the schedule sends it (not when this task got to run)
            player.on_frame(frame, self.t0 + self.frames * FRAME_MS / 1000 - player.lead_s)
        self.frames += 1
        # At its time, or `lead_s` ahead of it (`MediaSettings.playback_lead_ms`).
        delay = self.t0 + self.frames * FRAME_MS / 1000 - player.lead_s - self.loop.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def finish(self) -> None:
        """Let the audio sent ahead actually be heard before the end is reported."""
        rest = self.t0 + self.frames * FRAME_MS / 1000 - self.loop.time()
        if self.frames and rest > 0:
            await asyncio.sleep(rest)
