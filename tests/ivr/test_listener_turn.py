"""Turn-taking in the call listener, with a scripted detector and a fake end-of-turn model.

The model runs in the real `TurnJudge` (its executor, bound and timeout); the detector says what it is
told, so every end is at a known chunk: at the short pause when the model says complete, at the ceiling
when it says incomplete, later while a code is said, at the fixed end-point when the model is too slow.
"""

from __future__ import annotations

import asyncio
import threading

import numpy as np
import pytest

from ivr.admission import AsrAdmission
from ivr.listener import CallListener, ListenerSettings, TurnSettings
from tests.conftest import FIXTURES
from tests.ivr.test_listener import FakeRecognizer, Hooks
from tests.voice.turn_models import silero_path
from voice.audio import AudioChunk, read_audio, resample
from voice.echo import EchoReference, EchoSettings
from voice.silero import SileroModel
from voice.turn import JudgeSettings, TurnJudge
from voice.vad import SegmenterSettings


class Scripted:
    """Speech or not by chunk index: speech in [start, stop) ranges."""

    def __init__(self, *speech: tuple[int, int]) -> None:
        self.speech = speech
        self.n = 0

    def is_speech(self, chunk: AudioChunk, in_speech: bool) -> bool:
        i, self.n = self.n, self.n + 1
        return any(a <= i < b for a, b in self.speech)


class FakeTurnModel:
    """Says `p` after `delay_s`; records the audio it judged."""

    def __init__(self, p: float, delay_s: float = 0.0) -> None:
        self.p = p
        self.delay_s = delay_s
        self.heard: list[AudioChunk] = []
        self.release = threading.Event()

    def complete_probability(self, audio: AudioChunk) -> float:
        self.heard.append(audio)
        if self.delay_s:
            self.release.wait(self.delay_s)
        return self.p


SEGMENTS = SegmenterSettings(min_speech_ms=100, silence_ms=1200, preroll_ms=100, pause_ms=200)


def listener_with(model: FakeTurnModel, detector: Scripted, timeout_ms: int = 500, **kw) -> tuple:
    hooks = Hooks()
    judge = TurnJudge(model, JudgeSettings(timeout_ms=timeout_ms))
    settings = ListenerSettings(segmenter=SEGMENTS, turn=TurnSettings(0.5, 600, 2000))
    listener = CallListener(
        hooks,
        call="caller-1",
        rate=8000,
        admission=AsrAdmission(4),
        recognizer=FakeRecognizer(),
        settings=settings,
        detector=detector,
        turn=judge,
        **kw,
    )
    listener.listen(True)
    return listener, hooks, judge


async def chunks_until_end(listener: CallListener, hooks: Hooks, limit: int = 400) -> int | None:
    """Feed silent 20 ms chunks (the detector decides); a judgement asked for is awaited before the next
    chunk (the model is instant in stream time). The index of the chunk after which the utterance ended."""
    for i in range(limit):
        listener.on_chunk(AudioChunk(bytes(320), 8000, timestamp_ms=20 * i))
        await asyncio.sleep(0)
        judging = [t for t in listener._tasks if t.get_name().startswith("turn-")]
        if judging:
            await asyncio.wait(judging, timeout=2.0)
        if ("ended",) in hooks.log:
            return i
    return None


async def test_a_complete_verdict_ends_the_turn_at_the_short_pause():
    model = FakeTurnModel(0.9)
    listener, hooks, judge = listener_with(model, Scripted((5, 50)))
    end = await chunks_until_end(listener, hooks)
    # speech until chunk 49; the pause is judged at 10 silent chunks (chunk 59): ended there, not at 60 more
    assert end == 59
    assert listener.last_end == "turn" and judge.judged == 1
    (heard,) = model.heard
    assert heard.duration_s == 1.2  # pre-roll and onset (chunks 0-9), speech (10-49), the 200 ms pause
    judge.close()


async def test_an_incomplete_verdict_keeps_listening_until_the_ceiling():
    model = FakeTurnModel(0.2)
    listener, hooks, judge = listener_with(model, Scripted((5, 50)))
    end = await chunks_until_end(listener, hooks)
    assert end == 49 + 60  # 1200 ms of silence
    assert listener.last_end == "silence" and judge.judged == 1
    judge.close()


async def test_the_caller_resuming_after_an_incomplete_pause_is_one_utterance():
    model = FakeTurnModel(0.2)
    listener, hooks, judge = listener_with(model, Scripted((5, 50), (80, 120)))  # a 600 ms pause
    end = await chunks_until_end(listener, hooks)
    assert end == 119 + 60 and hooks.kinds().count("started") == 1
    assert len(model.heard) == 2  # both pauses judged
    judge.close()


async def test_a_code_being_said_has_a_longer_ceiling():
    model = FakeTurnModel(0.2)
    listener, hooks, judge = listener_with(model, Scripted((5, 50)))
    listener.collecting_code = True
    end = await chunks_until_end(listener, hooks)
    assert end == 49 + 100  # 2000 ms
    judge.close()


async def test_no_verdict_in_time_falls_back_to_the_fixed_end_point():
    model = FakeTurnModel(0.9, delay_s=5.0)
    listener, hooks, judge = listener_with(model, Scripted((5, 50)), timeout_ms=100)
    try:
        end = await chunks_until_end(listener, hooks)
        assert end == 49 + 30  # 600 ms, not the 1200 ms ceiling
        assert listener.last_end == "silence" and judge.missed == 1 and judge.judged == 0
    finally:
        model.release.set()
        judge.close()


async def test_a_confident_partial_transcript_ends_the_turn_without_the_model():
    model = FakeTurnModel(0.1)
    asked: list[str] = []

    def confident(text: str) -> bool:
        asked.append(text)
        return True

    listener, hooks, judge = listener_with(model, Scripted((5, 50)), early_end=confident)
    end = await chunks_until_end(listener, hooks)
    assert end == 59 and listener.last_end == "turn"
    assert asked and not model.heard
    judge.close()


async def test_our_prompt_coming_back_as_echo_does_not_barge_in_but_the_caller_does():
    echo = EchoReference(EchoSettings())
    hooks = Hooks()
    listener = CallListener(
        hooks,
        call="caller-1",
        rate=8000,
        admission=AsrAdmission(4),
        recognizer=FakeRecognizer(),
        settings=ListenerSettings(segmenter=SegmenterSettings(min_speech_ms=100, barge_in_min_speech_ms=200)),
        detector=Scripted((0, 10_000)),  # a neural detector hears speech in both: the prompt is speech
        echo=echo,
    )
    listener.listen(True)
    rng = np.random.default_rng(3)
    prompt = (rng.normal(0, 0.1, 160) * 32767).astype(np.int16)  # about -20 dBFS
    for i in range(50):  # one second of our prompt, its echo 20 dB down on the line
        echo.played(prompt)
        listener.on_chunk(AudioChunk.from_array((prompt * 0.1).astype(np.int16), 8000, 20 * i))
    assert hooks.kinds() == []
    for i in range(50, 70):  # the caller talks over it, at about the prompt's level
        echo.played(prompt)
        listener.on_chunk(AudioChunk.from_array(prompt // 2, 8000, 20 * i))
        await asyncio.sleep(0)
    assert hooks.kinds()[:1] == ["started"]
    listener.stop()


@pytest.mark.slow
async def test_with_silero_our_spoken_prompt_at_minus_20_db_does_not_barge_in_and_a_caller_does_quickly():
    """Real speech both ways: a recording plays as our prompt and comes back 20 dB down; 1.5 s in, another
    speaker talks over it. Silero hears speech in both; only the caller interrupts: 350 ms after the first
    audible sample when measured (the 200 ms of speech needed, Silero's own onset, softer syllables lost
    under the echo margin), well under 400 ms."""
    model = SileroModel(silero_path())
    prompt = resample(read_audio(FIXTURES / "speech" / "doan_south_female.wav"), 8000).array()
    caller = resample(read_audio(FIXTURES / "speech" / "tuyen_north_male.wav"), 8000).array()
    onset = int(np.flatnonzero(np.abs(caller) > 1000)[0])  # the caller's first audible sample
    now = [0.0]
    echo = EchoReference(EchoSettings(), clock=lambda: now[0])  # stream time: fed faster than real time
    hooks = Hooks()
    listener = CallListener(
        hooks,
        call="caller-1",
        rate=8000,
        admission=AsrAdmission(4),
        recognizer=FakeRecognizer(),
        settings=ListenerSettings(segmenter=SegmenterSettings(min_speech_ms=160, barge_in_min_speech_ms=200)),
        detector=model.detector(),
        echo=echo,
    )
    listener.listen(True)
    start = 8000 * 3 // 2  # the caller starts 1.5 s into the prompt
    started_at = None
    for i in range(0, prompt.size - 160, 160):
        now[0] = i / 8000
        frame = prompt[i : i + 160]
        echo.played(frame)
        line = (frame * 0.1).astype(np.int16)  # -20 dB
        if i >= start and i - start + 160 <= caller.size:
            line = np.clip(line.astype(np.int32) + caller[i - start : i - start + 160], -32768, 32767).astype(
                np.int16
            )
        listener.on_chunk(AudioChunk.from_array(line, 8000, i // 8))
        await asyncio.sleep(0)
        if started_at is None and ("started",) in hooks.log:
            started_at = i + 160
    listener.stop()
    assert started_at is not None and started_at > start, "the echo alone barged in"
    assert (started_at - start - onset) / 8 <= 400, (started_at - start - onset) / 8
