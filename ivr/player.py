"""Playback over RTP: queued answers sent to the caller in real time, stoppable within one frame.

The answer goes back over the call's RTP endpoint, paced in real time, so playback stops at once when
the caller barges in and nothing has to be copied to the Asterisk host.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import deque
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import numpy as np

from ivr.rtp import FRAME_MS, RtpEndpoint
from voice.audio import AudioChunk

logger = logging.getLogger(__name__)

Source = Callable[[], Coroutine[Any, Any, AudioChunk]]  # prepares the audio (e.g. synthesis)


@dataclass
class _Item:
    playback_id: int
    source: Source
    task: asyncio.Task | None = None  # audio preparation (synthesis) started early


class RtpPlayer:
    """Plays queued audio over an RtpEndpoint in real time; `stop(id)` silences it within one frame."""

    def __init__(
        self,
        endpoint: RtpEndpoint,
        *,
        lead_ms: int = 60,
        on_started: Callable[[int, float], None] | None = None,
        on_finished: Callable[[int, bool], None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.lead_s = lead_ms / 1000
        self.on_started = on_started
        self.on_finished = on_finished
        self._queue: deque[_Item] = deque()
        self._current: _Item | None = None
        self._wake = asyncio.Event()
        self._stop_current = False
        self._task: asyncio.Task | None = None
        self._closed = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"rtp-player-{self.endpoint.port}")

    def play(self, playback_id: int, source: Source) -> None:
        item = _Item(playback_id, source)
        # Start preparing now (synthesis runs in the TTS pool while earlier items play).
        item.task = asyncio.create_task(source())
        self._queue.append(item)
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
                assert item.task is not None
                chunk = await item.task
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

    async def _send(self, item: _Item, chunk: AudioChunk) -> bool:
        rate, size = self.endpoint.rate, self.endpoint.frame_samples
        if chunk.rate != rate or chunk.channels != 1:
            raise ValueError(f"playback needs {rate} Hz mono audio, got {chunk.rate} Hz/{chunk.channels} ch")
        samples = chunk.array()
        n = max(1, math.ceil(samples.size / size))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        if self.on_started is not None:
            self.on_started(item.playback_id, time.monotonic())
        for i in range(n):
            if self._stop_current or self._closed:
                return True  # stopped on request: not a failure
            frame = samples[i * size : (i + 1) * size]
            if frame.size < size:
                frame = np.concatenate([frame, np.zeros(size - frame.size, dtype=np.int16)])
            self.endpoint.send_frame(frame, marker=i == 0)
            # Absolute schedule (no drift); a little ahead of real time to absorb scheduling jitter.
            delay = t0 + (i + 1) * FRAME_MS / 1000 - self.lead_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        # Let the audio sent ahead actually be heard before reporting the end.
        rest = t0 + n * FRAME_MS / 1000 - loop.time()
        if rest > 0:
            await asyncio.sleep(rest)
        return True

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
