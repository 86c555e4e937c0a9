"""The call listener and ASR admission against fakes that record what they received.

Real RTP, the real recognizer and real speech are in test_call_e2e.py; this checks quickly what the
listener reports through its hooks, what reaches the recognizer, and when a call is refused recognition.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from ivr.admission import AsrAdmission
from ivr.listener import CallListener, ListenerSettings
from tests.support import tone
from voice.asr.base import AsrResult
from voice.audio import AudioChunk


def quiet(ms: int, rate: int = 8000) -> np.ndarray:
    return tone(ms, -70, rate)


class Hooks:
    """Records every report, in order."""

    def __init__(self) -> None:
        self.log: list[tuple] = []
        self.asr_ms: list[int] = []
        self.tentative: list[str] = []  # speculative transcripts (not in `log`: nothing may act on them)

    def on_speech_started(self):
        self.log.append(("started",))

    def on_speech_ended(self):
        self.log.append(("ended",))

    def on_partial_transcript(self, result):
        self.log.append(("partial", result.text))

    def on_tentative_transcript(self, text):
        self.tentative.append(text)

    def on_final_transcript(self, result, asr_ms):
        self.log.append(("final", result.text, result.confidence))
        self.asr_ms.append(asr_ms)

    def on_recognition_failed(self, stage, detail):
        self.log.append(("failed", stage, detail))

    def on_recording_finished(self, name, duration_ms):
        self.log.append(("recording", name, duration_ms))

    def kinds(self) -> list[str]:
        return [entry[0] for entry in self.log]


class FakeStream:
    def __init__(
        self, rate: int, hang: bool = False, finish_s: float = 0.0, hang_accept: bool = False
    ) -> None:
        self.rate = rate
        self.hang = hang
        self.hang_accept = hang_accept  # the engine never returns from the first batch on
        self.finish_s = finish_s  # how long the final result takes after the end of speech
        self.accepted: list[AudioChunk] = []
        self.urgent: list[bool] = []  # per accepted chunk: asked to go before other calls' audio
        self.finished_urgent: bool | None = None
        self.hurried = 0  # asked to put its queued job first (the caller paused)
        self.closed = False

    async def accept(self, chunk, *, urgent=False):
        assert chunk.rate == self.rate
        self.accepted.append(chunk)
        self.urgent.append(urgent)
        if self.hang_accept:
            await asyncio.sleep(60)
        words = " ".join(["xin", "chào", "bạn", "ơi", "nhé"][: len(self.accepted)])
        return AsrResult(words, is_final=False) if len(self.accepted) <= 3 else None  # unchanged: None

    def hurry(self):
        self.hurried += 1

    async def finish(self, *, urgent=False):
        self.finished_urgent = urgent
        if self.hang:
            await asyncio.sleep(60)
        await asyncio.sleep(self.finish_s)
        return AsrResult("xin chào bạn", is_final=True, confidence=0.9)

    def close(self):
        self.closed = True


class FakeRecognizer:
    def __init__(
        self, *, fail: str = "", hang: bool = False, finish_s: float = 0.0, hang_accept: bool = False
    ) -> None:
        self.fail = fail
        self.hang = hang
        self.hang_accept = hang_accept
        self.finish_s = finish_s
        self.streams: list[FakeStream] = []

    def open_stream(self, rate):
        if self.fail:
            raise RuntimeError(self.fail)
        stream = FakeStream(rate, self.hang, self.finish_s, self.hang_accept)
        self.streams.append(stream)
        return stream


def make_listener(recognizer=None, *, admission=None, rate=8000, **settings):
    hooks = Hooks()
    listener = CallListener(
        hooks,
        call="caller-1",
        rate=rate,
        admission=admission or AsrAdmission(4),
        recognizer=recognizer,
        settings=ListenerSettings(**settings),
    )
    return listener, hooks


def feed(listener: CallListener, samples: np.ndarray, rate: int = 8000, start_ms: int = 0) -> None:
    n = rate // 50
    for i in range(0, samples.size - samples.size % n, n):
        listener.on_chunk(AudioChunk.from_array(samples[i : i + n], rate, start_ms + i * 1000 // rate))


async def play(listener: CallListener, samples: np.ndarray, rate: int = 8000) -> None:
    """Like `feed`, letting the loop run between chunks as it does between RTP packets."""
    n = rate // 50
    for i in range(0, samples.size - samples.size % n, n):
        listener.on_chunk(AudioChunk.from_array(samples[i : i + n], rate, i * 1000 // rate))
        for _ in range(3):
            await asyncio.sleep(0)


async def settle(listener: CallListener) -> None:
    for _ in range(200):
        await asyncio.sleep(0.001)
        if not listener.recognizing:
            return
    raise AssertionError("recognition never finished")


UTTERANCE = np.concatenate([quiet(1000), tone(1000), quiet(1000)])


async def test_an_utterance_is_reported_with_partials_and_its_final_transcript():
    recognizer = FakeRecognizer()
    admission = AsrAdmission(4)
    listener, hooks = make_listener(recognizer, admission=admission)
    listener.listen(True)
    await play(listener, UTTERANCE)
    await settle(listener)
    assert hooks.log == [
        ("started",),
        ("partial", "xin"),
        ("partial", "xin chào"),
        ("partial", "xin chào bạn"),
        ("ended",),
        ("final", "xin chào bạn", 0.9),
    ]
    (stream,) = recognizer.streams
    assert stream.rate == 8000 and not stream.closed  # finished normally: nothing to give up
    assert hooks.asr_ms and 0 <= hooks.asr_ms[0]
    # The pre-roll and onset go first in one piece, then 200 ms batches.
    first, *rest = stream.accepted
    assert first.duration_s >= 0.3 + 0.16
    assert {round(c.duration_s, 3) for c in rest[:-1]} == {0.2} and rest[-1].duration_s <= 0.2
    assert first.timestamp_ms < 1000  # stamped where the pre-roll began
    assert admission.active == 0


async def test_the_stream_takes_the_rate_of_the_audio():
    recognizer = FakeRecognizer()
    listener, hooks = make_listener(recognizer, rate=16000)
    listener.listen(True)
    feed(listener, np.concatenate([quiet(1000, 16000), tone(1000, rate=16000), quiet(1000, 16000)]), 16000)
    await settle(listener)
    assert recognizer.streams[0].rate == 16000 and hooks.log[-1][0] == "final"


async def test_nothing_is_heard_while_not_listening_and_stopping_cancels_the_utterance():
    recognizer = FakeRecognizer()
    admission = AsrAdmission(4)
    listener, hooks = make_listener(recognizer, admission=admission)
    feed(listener, UTTERANCE)
    assert hooks.log == [] and recognizer.streams == []
    listener.listen(True)
    feed(listener, np.concatenate([quiet(1000), tone(600)]))
    await asyncio.sleep(0.01)
    assert hooks.kinds()[0] == "started" and admission.active == 1
    listener.listen(False)
    await asyncio.sleep(0.01)
    assert recognizer.streams[0].closed and admission.active == 0
    assert "final" not in hooks.kinds() and "ended" not in hooks.kinds()


async def test_over_the_limit_a_call_is_refused_and_falls_back():
    admission = AsrAdmission(1)
    first, first_hooks = make_listener(FakeRecognizer(), admission=admission)
    second, second_hooks = make_listener(FakeRecognizer(), admission=admission)
    for listener in (first, second):
        listener.listen(True)
        feed(listener, np.concatenate([quiet(1000), tone(600)]))
        await asyncio.sleep(0.01)
    assert admission.active == 1
    assert second_hooks.log == [("started",), ("failed", "pool", "recognition slots saturated")]
    feed(first, quiet(1000), start_ms=1600)
    await settle(first)
    assert first_hooks.log[-1][0] == "final" and admission.active == 0


async def test_without_a_recognizer_or_when_it_fails_recognition_fails_as_asr():
    admission = AsrAdmission(4)
    none, none_hooks = make_listener(None, admission=admission)
    broken, broken_hooks = make_listener(FakeRecognizer(fail="engine crashed"), admission=admission)
    for listener in (none, broken):
        listener.listen(True)
        await play(listener, UTTERANCE)
        await settle(listener)
    assert none_hooks.log == [("started",), ("failed", "asr", "no recognizer"), ("ended",)]
    assert broken_hooks.log == [("started",), ("failed", "asr", "engine crashed"), ("ended",)]
    assert admission.active == 0


async def test_a_final_transcript_that_never_comes_is_a_failure():
    recognizer = FakeRecognizer(hang=True)
    admission = AsrAdmission(4)
    listener, hooks = make_listener(recognizer, admission=admission, asr_timeout_s=0.05)
    listener.listen(True)
    feed(listener, UTTERANCE)
    await asyncio.sleep(0.2)
    assert hooks.log[-1][:2] == ("failed", "asr") and recognizer.streams[0].closed and admission.active == 0


async def test_an_engine_hung_on_the_audio_is_a_failure_not_a_silent_call():
    """Regression: only the final transcript had a time limit; an engine stuck on a batch of audio left
    the utterance waiting for ever, and the caller in silence with no timer running."""
    recognizer = FakeRecognizer(hang_accept=True)
    admission = AsrAdmission(4)
    listener, hooks = make_listener(recognizer, admission=admission, asr_timeout_s=0.05)
    listener.listen(True)
    feed(listener, UTTERANCE)
    await asyncio.sleep(0.3)
    assert ("failed", "asr") in [entry[:2] for entry in hooks.log], hooks.log
    assert recognizer.streams[0].closed and admission.active == 0 and not listener.recognizing


def test_admission_limit_stays_within_the_recognizer_pool(settings):
    assert AsrAdmission.from_settings(settings).limit == settings.ivr.max_recognitions
    small = settings.model_copy(
        update={
            "voice": settings.voice.model_copy(
                update={"asr": settings.voice.asr.model_copy(update={"max_pending": 3})}
            )
        }
    )
    assert AsrAdmission.from_settings(small).limit == 3
    with pytest.raises(ValueError):
        AsrAdmission(0)


# --- recordings -----------------------------------------------------------------------------------


async def test_a_recording_stops_after_long_silence_and_keeps_its_audio(tmp_path):
    listener, hooks = make_listener(record_silence_ms=1000)
    spool = tmp_path / "spool" / "1-rec1.raw"
    listener.start_recording("rec1", 30, spool)
    feed(listener, np.concatenate([tone(1000), quiet(1500)]))
    assert hooks.log == [("recording", "rec1", 2000)]  # stopped by 1 s of silence
    chunk = listener.take_recording("rec1")
    assert chunk is not None and chunk.rate == 8000 and chunk.duration_s == 2.0
    assert listener.take_recording("rec1") is None  # taken once
    assert spool.stat().st_size > 0  # spooled until the ticket is stored
    listener.recording_stored("rec1")
    assert not spool.exists()


async def test_a_recording_without_voice_is_empty_and_spools_follow_the_tickets(tmp_path):
    listener, hooks = make_listener()
    spools = {name: tmp_path / f"{name}.raw" for name in ("hiss", "failed", "open")}
    for name, path in spools.items():
        listener.start_recording(name, 30, path)
    feed(listener, quiet(2000))
    listener.stop_recording("hiss")
    listener.stop_recording("failed")
    assert hooks.log == [("recording", "hiss", 0), ("recording", "failed", 0)]
    listener.keep_spool("failed")  # storing its ticket failed
    listener.close()
    assert not spools["hiss"].exists()  # finished and not needed
    assert spools["failed"].exists() and spools["open"].exists()  # kept for recovery at the next start
    feed(listener, tone(1000))  # audio after the end is ignored
    assert len(hooks.log) == 2


async def test_a_full_recording_stops_itself():
    listener, hooks = make_listener()
    listener.start_recording("rec1", 1, None)
    feed(listener, tone(1500))
    assert hooks.log == [("recording", "rec1", 1000)]


async def test_the_final_transcript_carries_the_time_from_the_end_of_speech():
    """The per-turn ASR latency the console shows: end of speech -> final result."""
    listener, hooks = make_listener(FakeRecognizer(finish_s=0.15))
    listener.listen(True)
    await play(listener, UTTERANCE)
    for _ in range(100):
        if "final" in hooks.kinds():
            break
        await asyncio.sleep(0.01)
    assert hooks.kinds()[-2:] == ["ended", "final"]
    (asr_ms,) = hooks.asr_ms
    assert asr_ms >= 150
