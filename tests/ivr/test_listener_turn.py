"""Turn-taking in the call listener, with a scripted detector and a fake end-of-turn model.

The model runs in the real `TurnJudge` (its executor, bound and timeout); the detector says what it is
told, so every end is at a known chunk: at the short pause when the model says complete, at the ceiling
when it says incomplete, later while a code is said, at the fixed end-point when the model is too slow.
"""

from __future__ import annotations

import asyncio
import threading
from dataclasses import replace

import numpy as np
import pytest

from ivr.admission import AsrAdmission
from ivr.listener import CallListener, ListenerSettings, TurnSettings
from ivr.turn_text import Verdict
from tests.conftest import FIXTURES
from tests.ivr.test_listener import FakeRecognizer, Hooks
from tests.voice.turn_models import silero_path
from voice.aec import EchoCanceller
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


def listener_with_words(
    verdict: Verdict,
    recognizer: FakeRecognizer | None = None,
    *,
    speculative: bool = False,
    detector: Scripted | None = None,
) -> tuple:
    """A listener whose end of turn is judged by words: `verdict` for whatever the recognizer heard."""
    hooks = Hooks()
    asked: list[str] = []

    def words(text: str) -> Verdict:
        asked.append(text)
        return verdict

    turn = TurnSettings(
        0.5, 600, 2000, unsure_silence_ms=800, text_pad_ms=300, text_timeout_ms=400, speculative=speculative
    )
    listener = CallListener(
        hooks,
        call="caller-1",
        rate=8000,
        admission=AsrAdmission(4),
        recognizer=recognizer or FakeRecognizer(),
        settings=ListenerSettings(segmenter=SEGMENTS, turn=turn),
        detector=detector or Scripted((5, 50)),
        text_turn=words,
    )
    listener.listen(True)
    return listener, hooks, asked


async def chunks_until_words_end(listener: CallListener, hooks: Hooks, limit: int = 200) -> int | None:
    """Like `chunks_until_end`, awaiting the words' verdict (instant in stream time) after each chunk."""
    for i in range(limit):
        listener.on_chunk(AudioChunk(bytes(320), 8000, timestamp_ms=20 * i))
        for _ in range(200):
            await asyncio.sleep(0)
            if not listener.judging:
                break
        if ("ended",) in hooks.log:
            return i
    return None


async def test_words_that_finish_a_request_end_the_turn_at_the_short_pause():
    recognizer = FakeRecognizer()
    listener, hooks, asked = listener_with_words(Verdict.COMPLETE, recognizer)
    end = await chunks_until_words_end(listener, hooks)
    assert end == 59 and listener.last_end == "turn"
    assert asked == ["xin chào bạn"]  # the partial after the audio so far
    # At the pause the recognizer got what it had not seen yet, then 300 ms of padding silence at once.
    (stream,) = recognizer.streams
    flushed = stream.accepted[-1]
    assert flushed.duration_s >= 0.3 and flushed.audio.endswith(bytes(4800))


def fed_total(stream) -> float:
    return sum(c.duration_s for c in stream.accepted)


async def settle(hooks: Hooks, kind: str = "final") -> None:
    for _ in range(100):
        if kind in hooks.kinds():
            return
        await asyncio.sleep(0.001)


async def test_speculation_committed_the_transcript_at_the_pause_is_final_without_another_recognizer_job():
    # The recognizer's final job would never return: the answer does not wait for it.
    recognizer = FakeRecognizer(hang=True)
    listener, hooks, _ = listener_with_words(Verdict.COMPLETE, recognizer, speculative=True)
    assert await chunks_until_words_end(listener, hooks) == 59
    await settle(hooks)
    assert hooks.log[-2:] == [("ended",), ("final", "xin chào bạn", None)]
    assert hooks.asr_ms[-1] < 100
    assert hooks.tentative == ["xin chào bạn"]  # offered at the pause, to get the answer ready


async def test_speculation_after_a_judged_pause_the_silence_is_not_recognized():
    recognizer = FakeRecognizer()
    listener, hooks, _ = listener_with_words(Verdict.INCOMPLETE, recognizer, speculative=True)
    assert await chunks_until_words_end(listener, hooks) == 49 + 60  # the 1200 ms ceiling, as before
    await settle(hooks)
    (stream,) = recognizer.streams
    # The pre-roll and onset (200 ms), 800 ms of speech, the 200 ms pause and its 300 ms of padding: not
    # the second of silence after it.
    assert fed_total(stream) == pytest.approx(1.5, abs=0.03)
    assert hooks.log[-1] == ("final", "xin chào bạn", None)


async def test_speculation_discarded_when_the_caller_speaks_again_recognition_goes_on():
    recognizer = FakeRecognizer()
    detector = Scripted((5, 50), (70, 90))  # a 400 ms pause, then more words
    listener, hooks, asked = listener_with_words(
        Verdict.UNSURE, recognizer, speculative=True, detector=detector
    )
    end = await chunks_until_words_end(listener, hooks)
    assert end == 89 + 40  # the second pause's 800 ms timer: one utterance
    await settle(hooks)
    assert hooks.kinds().count("ended") == 1 and hooks.kinds().count("final") == 1
    assert len(asked) == 2 and len(hooks.tentative) == 2  # both pauses were judged and speculated on
    # Nothing reached the flow at the first pause; the words after it were recognized (of the 400 ms of
    # silence only the last 100 ms, the pre-roll of the resumed speech), and the second pause's
    # transcript, with nothing fed after it, is the final one.
    assert hooks.kinds()[-2:] == ["ended", "final"] and hooks.log[-1][2] is None
    (stream,) = recognizer.streams
    fed = [(c.timestamp_ms, round(c.duration_s, 2)) for c in stream.accepted if c.timestamp_ms]
    assert fed_total(stream) == pytest.approx(0.2 + 0.8 + 0.2 + 0.3 + 0.1 + 0.4 + 0.2 + 0.3, abs=0.03), fed
    assert any(t >= 1400 for t, _ in fed)  # the resumed words


async def test_words_that_cannot_end_a_request_wait_for_the_ceiling_and_unsure_ones_for_the_shorter_timer():
    listener, hooks, _ = listener_with_words(Verdict.INCOMPLETE)
    assert await chunks_until_words_end(listener, hooks) == 49 + 60  # 1200 ms
    listener, hooks, _ = listener_with_words(Verdict.UNSURE)
    assert await chunks_until_words_end(listener, hooks) == 49 + 40  # 800 ms
    assert listener.last_end == "silence"  # the shorter ceiling


async def test_while_a_code_is_said_the_words_are_not_judged_and_the_code_ceiling_holds():
    listener, hooks, asked = listener_with_words(
        Verdict.COMPLETE
    )  # "... không" would be zero, not a question
    listener.collecting_code = True
    assert await chunks_until_words_end(listener, hooks) == 49 + 100  # 2000 ms
    assert not asked


async def test_words_that_come_too_late_leave_the_turn_to_the_fixed_end_point():
    listener, hooks, asked = listener_with_words(Verdict.INCOMPLETE, FakeRecognizer(hang_accept=True))
    end = await chunks_until_words_end(listener, hooks)
    assert end == 49 + 30 and not asked  # 200 ms + the 400 ms timeout: 600 ms, not the 1200 ms ceiling
    listener.stop()


def listener_with_echo(echo: EchoReference) -> tuple[CallListener, Hooks]:
    """A listening call whose detector hears speech in everything (a neural detector does: our prompt, the
    voices around the caller are speech), with barge-in rules on what `echo` says we play."""
    hooks = Hooks()
    listener = CallListener(
        hooks,
        call="caller-1",
        rate=8000,
        admission=AsrAdmission(4),
        recognizer=FakeRecognizer(),
        settings=ListenerSettings(segmenter=SegmenterSettings(min_speech_ms=100, barge_in_min_speech_ms=200)),
        detector=Scripted((0, 10_000)),
        echo=echo,
    )
    listener.listen(True)
    return listener, hooks


async def test_our_prompt_coming_back_as_echo_does_not_barge_in_but_the_caller_does():
    echo = EchoReference(EchoSettings())
    listener, hooks = listener_with_echo(echo)
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


async def test_voices_around_the_caller_do_not_barge_in_but_the_callers_own_voice_does():
    """People talking near the phone (a detector hears speech) reach the line 14 dB under the caller, who
    speaks close to it: with the background rule only the caller interrupts; without it, they do too."""

    def run(margin: float) -> list[str]:
        echo = EchoReference(EchoSettings(background_margin_db=margin))
        listener, hooks = listener_with_echo(echo)
        rng = np.random.default_rng(5)
        prompt = (rng.normal(0, 0.1, 160) * 32767).astype(np.int16)  # our prompt, about -20 dBFS
        for i in range(100):  # two seconds of voices around the caller, about -36 dBFS, varying by 4 dB
            echo.played(prompt)
            level = 0.016 * 10 ** (rng.uniform(-2, 2) / 20)
            listener.on_chunk(
                AudioChunk.from_array((rng.normal(0, level, 160) * 32767).astype(np.int16), 8000, 20 * i)
            )
        heard = list(hooks.kinds())
        for i in range(100, 120):  # the caller, close to the phone, about -22 dBFS
            echo.played(prompt)
            listener.on_chunk(
                AudioChunk.from_array((rng.normal(0, 0.08, 160) * 32767).astype(np.int16), 8000, 20 * i)
            )
        listener.stop()
        return heard + ["caller:"] + list(hooks.kinds())[len(heard) :][:1]

    assert run(6.0) == ["caller:", "started"]
    assert run(0.0)[:1] == ["started"]  # the voices alone interrupted the prompt


async def speak_over_our_prompt(echo_db: float, cancel: bool, start_s: float = 1.5) -> tuple[int | None, int]:
    """Real speech both ways through Silero: a recording plays as our prompt and comes back `echo_db`
    down; `start_s` in, another speaker talks over it. When the listener heard speech start (samples, None:
    never), and the caller's first audible sample."""
    model = SileroModel(silero_path())
    prompt = resample(read_audio(FIXTURES / "speech" / "doan_south_female.wav"), 8000).array()
    caller = resample(read_audio(FIXTURES / "speech" / "tuyen_north_male.wav"), 8000).array()
    start = int(8000 * start_s)
    onset = start + int(np.flatnonzero(np.abs(caller) > 1000)[0])
    now = [0.0]
    # stream time (fed faster than real time); the background rule as shipped
    echo = EchoReference(
        EchoSettings(background_margin_db=6.0),
        clock=lambda: now[0],
        canceller=EchoCanceller(8000) if cancel else None,
    )
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
    delay = np.zeros(320, dtype=np.int16)  # the line returns it 40 ms later
    returned = (np.concatenate([delay, prompt]) * 10 ** (echo_db / 20)).astype(np.int16)
    started_at = None
    sent = 0
    for i in range(0, prompt.size - 160, 160):
        now[0] = (i + 160) / 8000 + 0.02  # the chunk heard arrives 20 ms after its last sample ...
        while sent < prompt.size - 160 and sent / 8000 <= now[0]:  # ... after what was sent until then
            echo.played(prompt[sent : sent + 160], sent / 8000)
            sent += 160
        line = returned[i : i + 160]
        if i >= start and i - start + 160 <= caller.size:
            line = np.clip(line.astype(np.int32) + caller[i - start : i - start + 160], -32768, 32767).astype(
                np.int16
            )
        listener.on_chunk(AudioChunk.from_array(line, 8000, i // 8))
        await asyncio.sleep(0)
        if started_at is None and ("started",) in hooks.log:
            started_at = i + 160
    listener.stop()
    listener.close()
    return started_at, onset


@pytest.mark.slow
async def test_with_silero_our_spoken_prompt_at_minus_20_db_does_not_barge_in_and_a_caller_does_quickly():
    """Our prompt back 20 dB down, the level rules alone: Silero hears speech in both, only the caller
    interrupts: 350 ms after the first audible sample when measured (the 200 ms of speech needed, Silero's
    own onset, softer syllables lost under the echo margin), well under 400 ms."""
    started_at, onset = await speak_over_our_prompt(-20.0, cancel=False)
    assert started_at is not None and started_at > onset, "the echo alone barged in"
    assert (started_at - onset) / 8 <= 400, (started_at - onset) / 8


@pytest.mark.slow
async def test_with_silero_our_prompt_back_only_6_db_down_interrupts_it_unless_the_echo_is_cancelled():
    """A line returning our prompt only 6 dB down beats the level rules (its loud syllables stand out of its
    own median): it interrupts 3 s into the prompt. With the canceller the echo is gone and only the caller,
    4 s in, interrupts: 370 ms after their first audible sample when measured."""
    started_at, onset = await speak_over_our_prompt(-6.0, cancel=False, start_s=4.0)
    assert started_at is not None and started_at < onset, "the echo was expected to barge in"
    started_at, onset = await speak_over_our_prompt(-6.0, cancel=True, start_s=4.0)
    assert started_at is not None and started_at > onset, "the echo alone barged in"
    assert (started_at - onset) / 8 <= 400, (started_at - onset) / 8


async def test_with_the_real_recognizer_a_finished_request_ends_at_the_short_pause_and_a_cut_one_waits(
    settings,
):
    """Real speech, real vietasr, the matcher on the catalog phrased like the recordings: the whole question
    ends 250 ms after the caller stops (the padding brings out its last word); the same question stopped
    after "... như là một huấn" (the first syllable of "huấn luyện viên") is heard as unfinished."""
    from intents.catalog import load_catalog
    from intents.matcher import Matcher
    from ivr.turn_text import WordsJudge
    from voice.asr import Recognizer

    matcher = Matcher(load_catalog(FIXTURES / "ivr" / "intents"))
    recognizer = Recognizer.from_settings(settings, engine="vietasr")
    voice = resample(read_audio(FIXTURES / "speech" / "binh_north_male.wav"), 8000).array()
    loud = np.flatnonzero(np.abs(voice) > 500)
    voice = voice[loud[0] : loud[-1]]
    heard = []
    try:
        for cut in (voice.size, int(voice.size * 0.86)):
            samples = np.concatenate([voice[:cut], np.zeros(8000 * 2, dtype=np.int16)])
            words = WordsJudge(lambda: matcher)
            asked: list[str] = []

            def judge(text: str, words=words, asked=asked):
                asked.append(text)
                return words(text)

            hooks = Hooks()
            turn = TurnSettings(0.5, 600, 2000, unsure_silence_ms=1000, text_pad_ms=300, text_timeout_ms=5000)
            segments = SegmenterSettings(min_speech_ms=100, silence_ms=1200, preroll_ms=300, pause_ms=250)
            listener = CallListener(
                hooks,
                call="caller-1",
                rate=8000,
                admission=AsrAdmission(4),
                recognizer=recognizer,
                settings=ListenerSettings(segmenter=segments, turn=turn),
                detector=SileroModel(silero_path()).detector(),
                text_turn=judge,
            )
            listener.listen(True)
            ended_at = None
            for i in range(0, samples.size - 160, 160):
                listener.on_chunk(AudioChunk.from_array(samples[i : i + 160], 8000, i // 8))
                for _ in range(500):  # the recognizer keeps up in a call; here it is let catch up
                    await asyncio.sleep(0.002 if listener.judging or recognizer.pending else 0)
                    if not (listener.judging or recognizer.pending):
                        break
                if ("ended",) in hooks.log:
                    ended_at = (i + 160) / 8 - cut / 8  # ms of silence after the speech
                    break
            listener.stop()
            heard.append((ended_at, asked[-1] if asked else "", listener.last_end))
    finally:
        recognizer.close()
    (whole_ms, whole_words, whole_end), (cut_ms, cut_words, cut_end) = heard
    assert whole_end == "turn" and whole_ms is not None and whole_ms < 500, heard
    assert whole_words.endswith("huấn luyện viên"), heard
    assert cut_end == "silence" and cut_ms is not None and cut_ms >= 1200, heard  # incomplete: the ceiling


async def test_the_words_at_a_pause_and_the_final_transcript_go_before_other_calls_audio():
    recognizer = FakeRecognizer()
    listener, hooks, _ = listener_with_words(Verdict.COMPLETE, recognizer)
    assert await chunks_until_words_end(listener, hooks) == 59
    await settle(hooks)
    (stream,) = recognizer.streams
    # Only the job the caller waits on (the words at the pause, padded) jumps the recognizer's queue.
    assert stream.urgent[-1] and not any(stream.urgent[:-1])
    assert stream.finished_urgent is True
    assert stream.hurried == 1  # at the pause, the batch still queued before it was hurried too


async def test_audio_that_waited_for_a_busy_recognizer_goes_in_one_job_not_one_per_batch():
    async def jobs(answer_first: bool) -> list[float]:
        recognizer = FakeRecognizer()
        listener, _, _ = listener_with_words(Verdict.COMPLETE, recognizer)
        listener.settings = replace(listener.settings, answer_first=answer_first)
        for i in range(40):  # 800 ms arrive while the utterance's task cannot run (the loop is busy)
            listener.on_chunk(AudioChunk(bytes(320), 8000, timestamp_ms=20 * i))
        await asyncio.sleep(0.01)
        listener.close()
        return [round(c.duration_s, 2) for c in recognizer.streams[0].accepted]

    assert await jobs(True) == [0.8]  # the pre-roll, the onset and all that waited: one trip
    assert await jobs(False) == [0.2, 0.2, 0.2, 0.2]  # one job per batch, each queued behind other calls


class SlowWords(FakeRecognizer):
    """The words at a pause (the padded batch) come back only when `release` is set."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    def open_stream(self, rate):
        stream = super().open_stream(rate)
        accept = stream.accept

        async def gated(chunk, *, urgent=False):
            if chunk.duration_s >= 0.3:  # the pause's audio and its 300 ms of padding
                await self.release.wait()
            return await accept(chunk, urgent=urgent)

        stream.accept = gated
        return stream


def judgements() -> tuple[float, float]:
    from core.metrics import REGISTRY

    count = REGISTRY.get_sample_value("hotline_turn_judgement_seconds_count") or 0.0
    return count, REGISTRY.get_sample_value("hotline_turn_judgements_late_total") or 0.0


async def test_words_that_come_after_the_timeout_are_still_counted_and_counted_as_late():
    before = judgements()
    listener, hooks, asked = listener_with_words(Verdict.COMPLETE)
    assert await chunks_until_words_end(listener, hooks) == 59  # in time
    await asyncio.sleep(0)
    on_time = judgements()
    assert (on_time[0] - before[0], on_time[1] - before[1]) == (1, 0)

    recognizer = SlowWords()
    listener, hooks, asked = listener_with_words(Verdict.COMPLETE, recognizer)
    assert await chunks_until_words_end(listener, hooks) == 49 + 30  # the fixed end-point took over
    assert judgements() == on_time  # nothing back yet
    recognizer.release.set()
    for _ in range(100):
        await asyncio.sleep(0.001)
        if judgements() != on_time:
            break
    late = judgements()
    assert (late[0] - on_time[0], late[1] - on_time[1]) == (1, 1)
    assert not asked  # too late to decide anything
    listener.stop()
