"""The engines' thread pools, counted: jobs waiting and running, read by `/metrics` at scrape time.

`CountedPool` is a `ThreadPoolExecutor` (so `loop.run_in_executor` and `asyncio.wrap_future` take it
as they are) that knows how many of its jobs wait for a thread and how many run. Every pool alive in the
process is summed per name ("asr", "tts") into four gauges; a pool that is garbage collected drops out.
"""

from __future__ import annotations

import queue
import threading
import weakref
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

from core.metrics import PREFIX, gauge_from

T = TypeVar("T")


class _Lanes:
    """The pool's work queue with two lanes: urgent jobs are taken before any job already waiting.

    A drop-in for `ThreadPoolExecutor._work_queue` (a `queue.SimpleQueue`: `put`, `get`, `get_nowait`),
    so the executor's own threads, shutdown and cancellation keep working unchanged. Which lane a job goes
    to is set for the submitting thread just around `submit` (the executor puts the job synchronously).
    """

    def __init__(self) -> None:
        self._urgent: deque[Any] = deque()
        self._normal: deque[Any] = deque()
        self._ready = threading.Condition(threading.Lock())
        self.next_urgent = threading.local()

    def put(self, item: Any, block: bool = True, timeout: float | None = None) -> None:
        urgent = getattr(self.next_urgent, "on", False)
        with self._ready:
            (self._urgent if urgent else self._normal).append(item)
            self._ready.notify()

    def put_nowait(self, item: Any) -> None:
        self.put(item)

    def promote(self, future: Future[Any]) -> bool:
        """Move the waiting job of `future` to the urgent lane (False: it is not waiting any more)."""
        with self._ready:
            for i, item in enumerate(self._normal):
                if getattr(item, "future", None) is future:
                    del self._normal[i]
                    self._urgent.append(item)
                    return True
        return False

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        with self._ready:
            if block and not self._ready.wait_for(lambda: self._urgent or self._normal, timeout):
                raise queue.Empty
            if self._urgent:
                return self._urgent.popleft()
            if self._normal:
                return self._normal.popleft()
            raise queue.Empty

    def get_nowait(self) -> Any:
        return self.get(block=False)

    def empty(self) -> bool:
        with self._ready:
            return not (self._urgent or self._normal)

    def qsize(self) -> int:
        with self._ready:
            return len(self._urgent) + len(self._normal)


class CountedPool(ThreadPoolExecutor):
    """A thread pool that counts its queued and running jobs; `submit_urgent` jumps the queue."""

    def __init__(self, name: str, workers: int) -> None:
        super().__init__(max_workers=workers, thread_name_prefix=name)
        self._lanes = _Lanes()
        self._work_queue = self._lanes  # type: ignore[assignment]  # same interface as its SimpleQueue
        self.name = name  # "asr" or "tts": the `pool` label of the gauges
        self.workers = workers
        self._count_lock = threading.Lock()
        self.queued = 0  # submitted, waiting for a thread
        self.running = 0  # on a thread now
        self.closed = False
        _POOLS.add(self)

    def submit(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        def job() -> T:
            with self._count_lock:
                self.queued -= 1
                self.running += 1
            try:
                return fn(*args, **kwargs)
            finally:
                with self._count_lock:
                    self.running -= 1

        with self._count_lock:
            self.queued += 1
        try:
            future = super().submit(job)
        except BaseException:
            with self._count_lock:
                self.queued -= 1
            raise
        future.add_done_callback(self._cancelled)
        return future

    def submit_urgent(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> Future[T]:
        """As `submit`, but the job runs before every job still waiting (a caller is waiting on it)."""
        self._lanes.next_urgent.on = True
        try:
            return self.submit(fn, *args, **kwargs)
        finally:
            self._lanes.next_urgent.on = False

    def hurry(self, future: Future[Any]) -> bool:
        """A job already waiting becomes urgent (a caller now waits on it); False if it is not waiting."""
        return self._lanes.promote(future)

    def _cancelled(self, future: Future[Any]) -> None:
        # A job cancelled before it started (shutdown with cancel_futures) never ran `job`.
        if future.cancelled():
            with self._count_lock:
                self.queued -= 1

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        self.closed = True
        super().shutdown(wait=wait, cancel_futures=cancel_futures)


_POOLS: weakref.WeakSet[CountedPool] = weakref.WeakSet()


def pool_figures() -> dict[str, dict[str, float]]:
    """Per pool name: queued and running jobs, worker threads, and saturation (jobs / threads: above 1,
    jobs wait for a thread). Closed pools count their remaining jobs but no threads."""
    out: dict[str, dict[str, float]] = {}
    for name in ("asr", "tts"):  # present at 0 before any pool exists: a dashboard keeps its series
        out[name] = {"queued": 0.0, "running": 0.0, "workers": 0.0}
    for pool in list(_POOLS):
        figures = out.setdefault(pool.name, {"queued": 0.0, "running": 0.0, "workers": 0.0})
        figures["queued"] += pool.queued
        figures["running"] += pool.running
        if not pool.closed:
            figures["workers"] += pool.workers
    for figures in out.values():
        jobs = figures["queued"] + figures["running"]
        figures["saturation"] = jobs / figures["workers"] if figures["workers"] else 0.0
    return out


def _gauge(key: str) -> Callable[[], dict[tuple[str, ...], float]]:
    return lambda: {(name,): figures[key] for name, figures in pool_figures().items()}


gauge_from(
    PREFIX + "engine_pool_queued_jobs", "Speech engine jobs waiting for a thread", _gauge("queued"), ["pool"]
)
gauge_from(PREFIX + "engine_pool_running_jobs", "Speech engine jobs running now", _gauge("running"), ["pool"])
gauge_from(PREFIX + "engine_pool_workers", "Threads of the speech engine pools", _gauge("workers"), ["pool"])
gauge_from(
    PREFIX + "engine_pool_saturation",
    "Jobs queued or running per thread (above 1: jobs wait)",
    _gauge("saturation"),
    ["pool"],
)
