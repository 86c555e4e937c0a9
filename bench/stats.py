"""Small measures every bench reports: percentiles, the machine's load, a process's CPU time."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path


def pct(values: list[float], q: float) -> float | None:
    """The `q` quantile (nearest rank on the sorted values); None for no values."""
    if not values:
        return None
    values = sorted(values)
    return values[min(len(values) - 1, max(0, round(q * (len(values) - 1))))]


def loadavg() -> list[float]:
    """The machine's 1/5/15-minute load: the figures mean little when other work shares the cores."""
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def proc_cpu_s(pid: int) -> float:
    """User + system CPU seconds a process has used (0 when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def _cpu_jiffies() -> tuple[int, int]:
    """(all, idle) jiffies of the whole machine since boot."""
    try:
        values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(values), values[3] + values[4]  # idle + iowait


class Saturation:
    """Samples the machine's CPU (every `interval_s`) and an optional queue length while a round runs.

    A latency that grows because every core is busy (the work exceeds the machine) looks different from one
    that grows while cores are idle (a queue or a lock): `saturated_s` is how long all the cores were at
    least 95 % busy, `queue_max` the longest queue seen.
    """

    def __init__(self, queue: Callable[[], float] | None = None, interval_s: float = 0.1) -> None:
        self._queue = queue
        self._interval = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="saturation", daemon=True)
        self.busy: list[float] = []  # the machine's busy share per interval
        self.queue_max = 0.0

    def __enter__(self) -> Saturation:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        prev = _cpu_jiffies()
        while not self._stop.wait(self._interval):
            cur = _cpu_jiffies()
            total, idle = cur[0] - prev[0], cur[1] - prev[1]
            prev = cur
            if total > 0:
                self.busy.append(1 - idle / total)
            if self._queue is not None:
                self.queue_max = max(self.queue_max, self._queue())

    @staticmethod
    def report(rounds: list[Saturation]) -> dict[str, float]:
        """The rounds' samples together."""
        busy = [b for r in rounds for b in r.busy]
        interval = rounds[0]._interval if rounds else 0.0
        return {
            "cpu_saturated_s": round(sum(1 for b in busy if b >= 0.95) * interval, 1),
            "cpu_busy_mean": round(sum(busy) / len(busy), 2) if busy else 0.0,
            "queue_max": max((r.queue_max for r in rounds), default=0.0),
        }
