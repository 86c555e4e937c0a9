"""End of turn by model: Smart Turn v3.2 on a real recording, and the judge that runs it off the loop."""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from tests.conftest import FIXTURES
from tests.voice.turn_models import smart_turn_path
from voice.audio import AudioChunk, concat, read_audio, resample
from voice.turn import JudgeSettings, SmartTurnModel, TurnJudge

RATE = 8000


def sentence_and_cut() -> tuple[AudioChunk, AudioChunk]:
    """ "Trong phòng rất tù mù, nên có thể dễ dàng che dấu nó." over the phone, trimmed to its speech,
    each followed by the 200 ms of silence the listener waits before asking; and the same cut mid-vowel
    past the middle ("... nên có thể d|")."""
    x = resample(read_audio(FIXTURES / "speech" / "ngoc_north_female.wav"), RATE).array()
    n = RATE // 50
    level = 10 * np.log10((x[: x.size - x.size % n].reshape(-1, n).astype(float) ** 2).mean(axis=1) + 1)
    loud = np.flatnonzero(level > level.max() - 35)
    x, level = x[loud[0] * n : (loud[-1] + 1) * n], level[loud[0] : loud[-1] + 1]
    i = int(len(level) * 0.55)
    peak = i + int(np.argmax(level[i : i + 10]))  # the loudest frame: inside a vowel
    silence = AudioChunk(bytes(2 * RATE // 5), RATE)
    lead = AudioChunk(bytes(2 * RATE * 3 // 10), RATE)
    whole = concat([lead, AudioChunk.from_array(x, RATE), silence])
    cut = concat([lead, AudioChunk.from_array(x[: peak * n + n // 2], RATE), silence])
    return whole, cut


@pytest.mark.slow
def test_smart_turn_hears_a_finished_sentence_and_one_cut_mid_word():
    model = SmartTurnModel(smart_turn_path())
    whole, cut = sentence_and_cut()
    assert model.complete_probability(whole) > 0.8
    assert model.complete_probability(cut) < 0.2
    # 16 kHz input is taken as it is (no resampling) and judged alike
    assert model.complete_probability(resample(whole, 16000)) > 0.8


class Slow:
    def __init__(self, p: float, seconds: float) -> None:
        self.p, self.seconds = p, seconds
        self.release = threading.Event()
        self.calls = 0

    def complete_probability(self, audio: AudioChunk) -> float:
        self.calls += 1
        self.release.wait(self.seconds)
        return self.p


class Broken:
    def complete_probability(self, audio: AudioChunk) -> float:
        raise RuntimeError("model file damaged")


AUDIO = AudioChunk(bytes(3200), RATE)


async def test_the_judge_gives_the_verdict_or_none_when_late_or_broken(caplog):
    fast = TurnJudge(Slow(0.8, 0.0))
    assert await fast.judge(AUDIO) == 0.8 and fast.judged == 1
    fast.close()
    slow_model = Slow(0.8, 5.0)
    slow = TurnJudge(slow_model, JudgeSettings(timeout_ms=50))
    loop = asyncio.get_running_loop()
    started = loop.time()
    assert await slow.judge(AUDIO) is None and slow.missed == 1
    assert loop.time() - started < 1.0
    slow_model.release.set()
    slow.close()
    broken = TurnJudge(Broken())
    assert await broken.judge(AUDIO) is None and await broken.judge(AUDIO) is None
    # logged once per judge (the slow one and the broken one), not once per failure
    assert sum("end-of-turn model" in r.message for r in caplog.records if r.levelname == "WARNING") == 2
    broken.close()


async def test_the_judge_refuses_work_beyond_its_bound_instead_of_queueing_it():
    model = Slow(0.9, 5.0)
    judge = TurnJudge(model, JudgeSettings(timeout_ms=200, workers=1, max_pending=2))
    try:
        results = await asyncio.gather(*(judge.judge(AUDIO) for _ in range(5)))
        assert results == [None] * 5
        assert model.calls <= 2  # three were never queued
        assert judge.missed == 5
    finally:
        model.release.set()
        judge.close()
