"""Tasks for the job runner tests: each leaves a trace in a file, so a test sees what ran and how often."""

from __future__ import annotations

import time
from pathlib import Path

from core.jobs import Task

STALL_S = 30.0  # the first attempt of `slow_first` waits this long: the test kills its worker before


def note(marker: str, word: str) -> str:
    with open(marker, "a") as f:
        f.write(word + "\n")
    return word


def slow_first(marker: str) -> str:
    """The first attempt writes "start" and hangs (its worker is killed); a later one finishes."""
    first = not Path(marker).exists()
    note(marker, "start")
    if first:
        deadline = time.monotonic() + STALL_S
        while time.monotonic() < deadline:
            time.sleep(0.05)
    return note(marker, "done")


def fail(marker: str) -> str:
    """Always raises: the job ends failed (no retries), for the listing and retry commands."""
    note(marker, "tried")
    raise OSError("the render machine's disk is full")


TASKS = [
    Task("note", note),
    Task("slow_first", slow_first, retries=1),
    Task("fail", fail),
    Task("fail_retried", fail, retries=1),
]
