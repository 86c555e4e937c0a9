"""Helpers every test area shares: test signals, free loopback ports, bounded waiting."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
import subprocess
from collections.abc import Callable, Mapping
from contextlib import redirect_stderr, redirect_stdout
from datetime import datetime
from unittest import mock

import numpy as np


def sine(seconds: float, rate: int, *, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    """A float sine wave in [-amp, amp]."""
    t = np.arange(int(seconds * rate)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def tone(ms: int, db: float = -20.0, rate: int = 8000, freq: float = 300.0) -> np.ndarray:
    """16-bit PCM sine of `ms` milliseconds whose RMS level is `db` dBFS."""
    amp = 10 ** (db / 20) * np.sqrt(2)
    return (amp * 32767 * np.sin(2 * np.pi * freq * np.arange(rate * ms // 1000) / rate)).astype(np.int16)


def silence_after(wav, moment_s: float, *, settle_s: float = 0.3) -> float:
    """Seconds of silence a caller heard after `moment_s` into its recording (e.g. an application killed
    then): from the moment, or from the end of what was still playing then, to the next sound. What was
    already in flight may play for `settle_s` after the moment."""
    from voice.audio import read_audio

    audio = read_audio(wav)
    frame = audio.rate // 50  # 20 ms
    samples = audio.array().astype(np.float64)
    starts = range(0, len(samples) - frame, frame)
    loud = [float(np.sqrt(np.mean(samples[i : i + frame] ** 2))) > 300 for i in starts]
    pivot = int((moment_s + settle_s) * 50)
    before = [i for i in range(min(pivot, len(loud))) if loud[i]]
    start = max(moment_s, (before[-1] + 1) * 0.02 if before else 0.0)
    after = next((i for i in range(pivot, len(loud)) if loud[i]), len(loud))
    return round(max(0.0, after * 0.02 - start), 2)


def free_port(kind: int = socket.SOCK_STREAM) -> int:
    """A port the kernel says is free on 127.0.0.1 right now (TCP by default, or UDP)."""
    with socket.socket(socket.AF_INET, kind) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hotline_in_process(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`hotline ARGS` run by `hotline.cli.main` in this process: its exit code, stdout and stderr.

    For the messages and flags of a command: a subprocess costs seconds of start-up and loads its models
    again, where this process keeps them loaded. One real subprocess per command still proves the command
    line itself. The environment (`env` on top of it), the umask and the root logger's handlers and level
    the command sets are restored afterwards.
    """
    from hotline.cli import main

    out, err = io.StringIO(), io.StringIO()
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    umask = os.umask(0o022)
    os.umask(umask)
    code = 0
    try:
        with mock.patch.dict(os.environ, dict(env or {})), redirect_stdout(out), redirect_stderr(err):
            try:
                main(list(args))
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    finally:
        os.umask(umask)
        for handler in [h for h in root.handlers if h not in handlers]:
            root.removeHandler(handler)
            handler.close()
        root.setLevel(level)
    return subprocess.CompletedProcess(["hotline", *args], code, out.getvalue(), err.getvalue())


async def until(cond: Callable[[], object], limit_s: float = 5.0, step_s: float = 0.01) -> None:
    """Poll a condition set by callbacks, at most `limit_s` seconds; AssertionError if it never holds."""
    for _ in range(max(1, int(limit_s / step_s))):
        if cond():
            return
        await asyncio.sleep(step_s)
    raise AssertionError(f"condition not met within {limit_s} s")


class Clock:
    """A clock a test sets by hand (`clock.now = ...`), starting at a fixed time: nothing depends on today."""

    def __init__(self, start: datetime = datetime(2030, 1, 6, 8, 0)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


class FakeCallLog:
    """Records the rows calls hand to the call log (`ivr.calllog.CallLog`), in order."""

    def __init__(self) -> None:
        self.rows: list[tuple] = []
        self.plays: list[tuple] = []  # (channel, prompt, audio ms, human ms) of each prompt played

    def start(self, channel, caller, sip_call_id="", on_id=None) -> None:
        self.rows.append(("start", channel, caller))

    def turn(self, channel, seq, turn) -> None:
        self.rows.append(("turn", channel, seq, turn))

    def play(self, channel, prompt, audio_ms, human_ms) -> None:
        self.plays.append((channel, prompt, audio_ms, human_ms))  # apart: `rows` tests stay as they were

    def satisfaction(self, channel, score) -> None:
        self.rows.append(("satisfaction", channel, score))

    def end(self, channel, outcome, degraded) -> None:
        self.rows.append(("end", channel, str(outcome)))


class FakeServices:
    """The services a `Hotline` router reads in unit tests: the ARI client, and a call log that records."""

    def __init__(self, ari: object = None) -> None:
        self.ari = ari
        self.calllog = FakeCallLog()
        self.review = None  # no review queue: a session with one is tested against the real store
        self.radio = None  # no commune radio: no emergency notice


def fallback_message_script():
    """A caller reaching the dialplan's fallback (no application answers): hears the apology and the offer to
    leave a message, speaks one after the beep, hangs up."""
    from sip.script import CallScript
    from tests.conftest import FIXTURES

    return (
        CallScript()
        .wait_for_audio(timeout=15)  # the apology
        .wait_for_silence(1.5, timeout=60)  # no operator: "leave a message", the beep, then silence
        .play(FIXTURES / "speech" / "ngoc_north_female.wav")
        .wait(0.5)
        .hangup()
    )
