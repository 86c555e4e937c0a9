"""What the call listener feeds the recognizer: from an utterance's onset (with the pre-roll) to its end;
a silence inside it up to `asr_silence_ms`, the rest held back and fed only if the caller speaks again
(the silence that ends an utterance is never fed). Fakes for the feeding logic; one test with real speech
and vietasr.
"""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from ivr.admission import AsrAdmission
from ivr.listener import CallListener, ListenerSettings, TurnSettings
from tests.conftest import FIXTURES
from tests.ivr.test_listener import FakeRecognizer, Hooks
from tests.ivr.test_listener_turn import Scripted
from voice.audio import AudioChunk, read_audio, resample
from voice.vad import EnergyDetector, EnergySettings, SegmenterSettings

CHUNK = 320  # bytes of 20 ms at 8 kHz


def listener_for(
    detector, *, fed_silence_ms: int, ceiling_ms: int = 2000, preroll_ms: int = 100, recognizer=None
):
    """No end-of-turn model: the fixed silence ceiling ends each utterance."""
    recognizer = recognizer if recognizer is not None else FakeRecognizer()
    hooks = Hooks()
    segments = SegmenterSettings(min_speech_ms=100, silence_ms=ceiling_ms, preroll_ms=preroll_ms)
    listener = CallListener(
        hooks,
        call="caller-1",
        rate=8000,
        admission=AsrAdmission(4),
        recognizer=recognizer,
        settings=ListenerSettings(segmenter=segments, asr_silence_ms=fed_silence_ms),
        detector=detector,
    )
    listener.listen(True)
    return listener, hooks, recognizer


def chunk(i: int, speech: bool) -> AudioChunk:
    """Chunk number `i`; a speech chunk carries its number in every sample (to tell which were fed)."""
    value = (i % 30000) + 1 if speech else 0
    return AudioChunk(np.full(CHUNK // 2, value, dtype=np.int16).tobytes(), 8000, timestamp_ms=20 * i)


async def run(detector: Scripted, n: int, **kw) -> tuple[list[int], int, Hooks]:
    """Feeds `n` chunks; returns the numbers of the speech chunks fed (in order), the silent 20 ms
    chunks fed, and the hooks."""
    speech = detector.speech
    listener, hooks, recognizer = listener_for(detector, **kw)
    for i in range(n):
        listener.on_chunk(chunk(i, any(a <= i < b for a, b in speech)))
        for _ in range(3):
            await asyncio.sleep(0)
    for _ in range(200):
        if not listener.recognizing:
            break
        await asyncio.sleep(0.001)
    listener.close()
    fed = [c for s in recognizer.streams for c in s.accepted]
    samples = np.concatenate([c.array().reshape(-1) for c in fed]) if fed else np.zeros(0, np.int16)
    per_chunk = samples[: samples.size - samples.size % 160].reshape(-1, 160)
    voiced = [int(row[0]) - 1 for row in per_chunk if row[0]]
    silent = sum(1 for row in per_chunk if not row[0])
    return voiced, silent, hooks


def spoken(*ranges: tuple[int, int]) -> list[int]:
    return [i for a, b in ranges for i in range(a, b)]


async def test_the_trailing_silence_is_fed_up_to_asr_silence_ms_and_the_transcript_is_the_same():
    # speech in chunks 10-59, then 2 s of silence (the ceiling) ends the utterance
    all_voiced, all_silent, all_hooks = await run(Scripted((10, 60)), 200, fed_silence_ms=0)
    voiced, silent, hooks = await run(Scripted((10, 60)), 200, fed_silence_ms=300)
    assert all_voiced == voiced == spoken((10, 60))  # every word, in order
    assert all_silent == 6 + 100  # the pre-roll (100 ms and one chunk), the whole 2 s ceiling
    assert silent == 6 + 15  # the pre-roll, 300 ms of the trailing silence
    assert hooks.log == all_hooks.log  # same partials, same final transcript
    assert hooks.kinds().count("ended") == 1


async def test_a_long_pause_is_held_back_and_fed_whole_when_the_caller_speaks_again():
    # a 1.5 s pause inside the utterance: held back after 300 ms, then all of it fed when the caller
    # resumes, so the recognizer hears exactly the audio it heard before; only the tail is cut
    voiced, silent, hooks = await run(Scripted((10, 40), (115, 140)), 260, fed_silence_ms=300)
    all_voiced, all_silent, all_hooks = await run(Scripted((10, 40), (115, 140)), 260, fed_silence_ms=0)
    assert voiced == all_voiced == spoken((10, 40), (115, 140))
    assert silent == 6 + 75 + 15  # pre-roll; the whole pause; 300 ms of the 2 s tail
    assert all_silent == 6 + 75 + 100
    assert hooks.log == all_hooks.log
    assert hooks.kinds().count("started") == 1 and hooks.kinds().count("final") == 1


async def test_pauses_shorter_than_asr_silence_ms_are_fed_whole():
    voiced, silent, _ = await run(Scripted((10, 40), (50, 80)), 200, fed_silence_ms=300)
    assert voiced == spoken((10, 40), (50, 80))
    assert silent == 6 + 10 + 15  # the pre-roll, the 200 ms pause, 300 ms of the tail


async def test_nothing_is_fed_between_utterances_but_each_ones_pre_roll():
    # two utterances 4 s apart (the 1 s ceiling ends the first)
    voiced, silent, hooks = await run(
        Scripted((10, 40), (250, 280)), 400, fed_silence_ms=300, ceiling_ms=1000
    )
    assert voiced == spoken((10, 40), (250, 280))
    assert silent == 2 * (6 + 15)
    assert hooks.kinds().count("final") == 2


async def test_the_words_at_a_pause_are_judged_as_before_when_the_silence_is_held():
    """End of turn by words, not speculative: the pause's padding is fed, then no more of the silence."""
    recognizer = FakeRecognizer()
    hooks = Hooks()
    asked: list[str] = []

    def words(text: str):
        from ivr.turn_text import Verdict

        asked.append(text)
        return Verdict.INCOMPLETE

    turn = TurnSettings(0.5, 600, 2000, unsure_silence_ms=800, text_pad_ms=300, text_timeout_ms=400)
    segments = SegmenterSettings(min_speech_ms=100, silence_ms=1200, preroll_ms=100, pause_ms=200)
    listener = CallListener(
        hooks,
        call="caller-1",
        rate=8000,
        admission=AsrAdmission(4),
        recognizer=recognizer,
        settings=ListenerSettings(segmenter=segments, turn=turn, asr_silence_ms=300),
        detector=Scripted((5, 50)),
        text_turn=words,
    )
    listener.listen(True)
    for i in range(200):
        listener.on_chunk(AudioChunk(bytes(CHUNK), 8000, timestamp_ms=20 * i))
        for _ in range(50):
            await asyncio.sleep(0)
            if not listener.judging:
                break
        if ("ended",) in hooks.log:
            break
    assert listener.last_end == "silence" and asked == ["xin chào bạn"]
    for _ in range(200):
        if "final" in hooks.kinds():
            break
        await asyncio.sleep(0.001)
    (stream,) = recognizer.streams
    fed_s = sum(c.duration_s for c in stream.accepted)
    # pre-roll and onset (200 ms), 800 ms of speech, 300 ms of real silence, 300 ms of padding: not the
    # 900 ms of silence after that
    assert fed_s == pytest.approx(1.6, abs=0.03)
    assert hooks.log[-1] == ("final", "xin chào bạn", 0.9)


class Counting:
    """The real recognizer, counting the seconds of audio its streams are fed."""

    def __init__(self, recognizer) -> None:
        self.recognizer = recognizer
        self.fed_s = 0.0

    def open_stream(self, rate: int):
        stream = self.recognizer.open_stream(rate)
        accept = stream.accept

        async def counted(chunk: AudioChunk, *, urgent: bool = False):
            self.fed_s += chunk.duration_s
            return await accept(chunk, urgent=urgent)

        stream.accept = counted
        return stream


async def test_with_real_speech_and_vietasr_holding_silence_back_changes_no_word(settings):
    """A recording over the phone with a 1.5 s pause in the middle and 2 s of silence after it: fed all
    the silence or 500 ms of the tail, the recognizer gives the same partials and final transcript."""
    from voice.asr import Recognizer

    voice = resample(read_audio(FIXTURES / "speech" / "ly_north_female.wav"), 8000).array().reshape(-1)
    loud = np.flatnonzero(np.abs(voice) > 500)
    voice = voice[loud[0] : loud[-1]]
    half = voice.size // 2
    quiet = np.flatnonzero(np.abs(voice[half : half + 8000]) < 200)  # a quiet spot near the middle
    cut = half + (int(quiet[0]) if quiet.size else 0)
    rng = np.random.default_rng(3)
    gap, tail = np.zeros(12000, np.int16), np.zeros(16000, np.int16)
    samples = np.concatenate([np.zeros(4000, np.int16), voice[:cut], gap, voice[cut:], tail])
    samples = (samples + rng.normal(0, 8, samples.size)).clip(-32768, 32767).astype(np.int16)
    recognizer = Recognizer.from_settings(settings, engine="vietasr")
    results = {}
    try:
        for fed_silence_ms in (0, 500):
            counting = Counting(recognizer)
            listener, hooks, _ = listener_for(
                EnergyDetector(EnergySettings()),
                fed_silence_ms=fed_silence_ms,
                preroll_ms=300,
                recognizer=counting,
            )
            for i in range(0, samples.size - 160, 160):
                listener.on_chunk(AudioChunk.from_array(samples[i : i + 160], 8000, i // 8))
                for _ in range(500):  # the recognizer keeps up in a call; here it is let catch up
                    await asyncio.sleep(0.002 if recognizer.pending else 0)
                    if not recognizer.pending:
                        break
            for _ in range(2000):
                if "final" in hooks.kinds():
                    break
                await asyncio.sleep(0.005)
            listener.close()
            results[fed_silence_ms] = (hooks.log, counting.fed_s)
    finally:
        recognizer.close()
    (all_log, all_s), (held_log, held_s) = results[0], results[500]
    finals = [entry for entry in all_log if entry[0] == "final"]
    assert len(finals) == 1 and "logic" in finals[0][1], all_log
    assert held_log == all_log
    assert all_s - held_s == pytest.approx(1.5, abs=0.05), (all_s, held_s)  # of the 2 s tail, 500 ms fed
