"""A sampling profiler for benchmark runs: where the hotline's threads spend their time under load.

py-spy is not available on our machines and cProfile slows every call it measures (the per-frame path
is many small calls, so it would mostly measure itself). This thread looks at every other thread's
Python stack (`sys._current_frames`) a few hundred times a second and counts, per thread group, the
functions on top of the stack (self time) and anywhere on it (inclusive time). A function that is
waiting in C (a model's native code, `select`) is counted where the Python code called it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

ROOT = str(Path(__file__).resolve().parents[1])


def _where(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    if path.startswith(ROOT):
        path = path[len(ROOT) + 1 :]
    elif "site-packages/" in path:
        path = path.split("site-packages/", 1)[1]
    else:
        path = path.rsplit("/", 1)[-1]
    return f"{path}:{code.co_name}"


def _ours(frame: FrameType) -> bool:
    path = frame.f_code.co_filename
    return path.startswith(ROOT) and "/.venv/" not in path and "/bench/" not in path


def _group(name: str) -> str:
    """Thread groups: the engines' pools are named by `voice.pool.CountedPool`."""
    for prefix in ("asr", "tts"):
        if name.startswith(prefix):
            return prefix
    return "loop" if name == "hotline-loop" else "other"


class StackSampler:
    """Samples the stacks of the threads named by `include` every `interval_s` until `stop()`."""

    def __init__(self, interval_s: float = 0.005, max_samples: int = 200_000) -> None:
        self.interval_s = interval_s
        self.max_samples = max_samples  # bounded: a forgotten sampler stops by itself
        self.samples: Counter[str] = Counter()  # thread group -> samples taken
        self.self_time: dict[str, Counter[str]] = {}
        self.inclusive: dict[str, Counter[str]] = {}
        # The innermost frame of our own code and its caller: who asked for the time spent in a library.
        self.ours: dict[str, Counter[str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="bench-sampler", daemon=True)

    def start(self) -> StackSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        me = threading.get_ident()
        taken = 0
        while not self._stop.wait(self.interval_s) and taken < self.max_samples:
            names = {t.ident: t.name for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                if ident == me:
                    continue
                group = _group(names.get(ident, ""))
                if group == "other":
                    continue
                taken += 1
                self.samples[group] += 1
                self.self_time.setdefault(group, Counter())[_where(frame)] += 1
                seen: set[str] = set()
                mine = ""
                f: FrameType | None = frame
                while f is not None:
                    where = _where(f)
                    seen.add(where)
                    if not mine and _ours(f):
                        mine = where if f.f_back is None else f"{where} <- {_where(f.f_back)}"
                    f = f.f_back
                self.inclusive.setdefault(group, Counter()).update(seen)
                self.ours.setdefault(group, Counter())[mine or "(library only)"] += 1

    def report(self, top: int = 25) -> dict[str, object]:
        """Per thread group: samples, and the top functions by self and inclusive share (%)."""
        out: dict[str, object] = {"interval_ms": self.interval_s * 1000}
        for group, total in sorted(self.samples.items()):

            def share(counter: Counter[str], total: int = total) -> list[list[object]]:
                return [[fn, round(100 * n / total, 1)] for fn, n in counter.most_common(top)]

            out[group] = {
                "samples": total,
                "self_pct": share(self.self_time[group]),
                "inclusive_pct": share(self.inclusive[group]),
                "ours_pct": share(self.ours[group]),
            }
        return out


def timed(seconds: float) -> dict[str, object]:
    """Sample for `seconds` (for trying the sampler by hand)."""
    sampler = StackSampler().start()
    time.sleep(seconds)
    sampler.stop()
    return sampler.report()
