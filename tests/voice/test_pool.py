"""The engines' counted pools: jobs waiting and running, as /metrics reads them."""

from __future__ import annotations

import threading

from voice.pool import CountedPool, pool_figures


def test_queued_and_running_jobs_are_counted_and_released():
    pool = CountedPool("count-test", 1)
    started, release = threading.Event(), threading.Event()

    def job(n: int) -> int:
        started.set()
        assert release.wait(5)
        return n

    first = pool.submit(job, 1)
    assert started.wait(5)
    second = pool.submit(job, 2)
    assert (pool.running, pool.queued) == (1, 1)
    assert pool_figures()["count-test"] == {"queued": 1, "running": 1, "workers": 1, "saturation": 2}
    release.set()
    assert (first.result(5), second.result(5)) == (1, 2)
    assert (pool.running, pool.queued) == (0, 0)
    pool.shutdown()
    assert pool_figures()["count-test"]["workers"] == 0  # a closed pool has no threads
    assert {"asr", "tts"} <= set(pool_figures())  # the engines' series exist before any pool


def test_jobs_cancelled_at_shutdown_leave_the_queue():
    pool = CountedPool("tts", 1)
    started, release = threading.Event(), threading.Event()
    pool.submit(lambda: (started.set(), release.wait(5)))
    assert started.wait(5)
    waiting = [pool.submit(lambda: None) for _ in range(3)]
    assert pool.queued == 3
    pool.shutdown(wait=False, cancel_futures=True)
    release.set()
    assert all(f.cancelled() for f in waiting) and pool.queued == 0


def test_saturation_is_jobs_per_thread():
    pool = CountedPool("saturation-test", 2)
    started, release = threading.Event(), threading.Event()
    try:
        for _ in range(3):
            pool.submit(lambda: (started.set(), release.wait(5)))
        assert started.wait(5)
        assert pool_figures()["saturation-test"]["saturation"] == 1.5  # 3 jobs, 2 threads
    finally:
        release.set()
        pool.shutdown()


def test_an_urgent_job_runs_before_the_jobs_already_waiting_and_shutdown_still_cancels():
    pool = CountedPool("lanes-test", 1)
    release, order = threading.Event(), []
    busy = pool.submit(release.wait, 5)
    waiting = [pool.submit(order.append, "other call 1"), pool.submit(order.append, "other call 2")]
    urgent = pool.submit_urgent(order.append, "caller waiting")
    assert pool.queued == 3
    release.set()
    for f in (busy, *waiting, urgent):
        f.result(5)
    assert order == ["caller waiting", "other call 1", "other call 2"]
    release, running, order = threading.Event(), threading.Event(), []
    busy = pool.submit(lambda: running.set() or release.wait(5))
    assert running.wait(5)
    first, paused = pool.submit(order.append, "other call"), pool.submit(order.append, "caller paused")
    assert pool.hurry(paused) and not pool.hurry(busy)  # a job running already cannot be hurried
    release.set()
    for f in (busy, first, paused):
        f.result(5)
    assert order == ["caller paused", "other call"]
    release = threading.Event()
    pool.submit(release.wait, 5)
    left = pool.submit(order.append, "never")
    pool.shutdown(wait=False, cancel_futures=True)  # the executor's own shutdown empties the lanes
    release.set()
    assert left.cancelled() and pool.queued == 0 and "never" not in order
