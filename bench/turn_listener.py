"""The product's own end-pointing for `bench.turn`: the real `CallListener` with the settings of
config/hotline.yaml (overridden per variant, as environment variables), its speech detector and
end-of-turn model from `ivr.turn_taking`, the echo rule fed the prompt we play, and for the end of turn by
words the real recognizer and the intent matcher.

The listener runs on a private event loop, one 20 ms chunk at a time, as the RTP endpoint feeds it; a
judgement asked at a pause is awaited before the next chunk (instant in stream time) and its wall time
is reported apart (`judge_ms`), so the end-of-turn delay the caller feels is the stream figure plus it.
The words are matched against the test catalog phrased like the recordings (tests/fixtures/ivr/intents,
the one the latency suite uses), and the closing and dangling words are learnt from it together with the
shipped catalog, whose vocabulary the product's callers use.
"""

from __future__ import annotations

import asyncio
import time
from functools import cache
from typing import Any

from bench import turn_sets
from voice.audio import AudioChunk
from voice.vad import SpeechEnd, SpeechStart, chunk_ms

ROOT = turn_sets.ROOT
TEST_CATALOG = ROOT / "tests" / "fixtures" / "ivr" / "intents"
JUDGE_WAIT_S = 10.0  # a judgement not back by then is left to the timers (the bench goes on)


@cache
def _loop() -> asyncio.AbstractEventLoop:
    return asyncio.new_event_loop()


@cache
def _settings(overrides: tuple[tuple[str, str], ...]) -> Any:
    from hotline.settings import load_settings

    return load_settings(ROOT / "config" / "hotline.yaml", env=dict(overrides))


@cache
def _turn_taking(overrides: tuple[tuple[str, str], ...]) -> Any:
    from intents.catalog import load_catalog
    from intents.matcher import Matcher
    from ivr.turn_taking import TurnTaking
    from ivr.turn_text import Endings, WordsJudge

    settings = _settings(overrides)
    matcher = Matcher(load_catalog(TEST_CATALOG), settings)
    tt = TurnTaking.load(settings, lambda: matcher)
    if tt.words is not None:
        shipped = Matcher(load_catalog(ROOT / "config" / "intents"), settings)
        pairs = [(i.id, ex) for m in (shipped, matcher) for i in m.catalog.intents for ex in i.examples]
        rule = tt.words.settings
        endings = Endings.learn(
            pairs, WordsJudge._prepare(matcher), matcher.dialect.closing, rule.tail_words, rule.continue_words
        )
        tt.words._learnt = (matcher, endings)
    return tt


@cache
def _recognizer() -> Any:
    from voice.asr.recognizer import Recognizer

    return Recognizer.from_settings(_settings(()))


class ListenerEndpointer:
    """One stream through the product's `CallListener` (see the module docstring)."""

    judge_ms: list[float] = []  # wall time of every judgement asked, all instances (reset per variant)

    def __init__(self, overrides: dict[str, str], *, words: bool = False) -> None:
        from ivr.admission import AsrAdmission
        from ivr.listener import CallListener, ListenerSettings
        from voice import aec
        from voice.echo import EchoReference, EchoSettings

        key = tuple(sorted(overrides.items()))
        settings = _settings(key)
        tt = _turn_taking(key)
        media = settings.ivr.media
        self.now_s = 0.0
        self.words = words
        self._events: list[str] = []
        self.echo = EchoReference(
            EchoSettings(
                window_ms=media.barge_in.echo_window_ms,
                margin_db=media.barge_in.echo_margin_db,
                background_margin_db=media.barge_in.background_margin_db,
            ),
            clock=lambda: self.now_s,
            canceller=aec.for_call(turn_sets.RATE) if media.barge_in.echo_cancel else None,
        )
        model = tt.judge is not None or (words and tt.words is not None)
        self.listener = CallListener(
            self,
            call="bench",
            rate=turn_sets.RATE,
            admission=AsrAdmission(4),
            recognizer=_recognizer() if words else None,
            settings=ListenerSettings.from_settings(settings.ivr, turn_model=model),
            detector=tt.detector(),
            turn=tt.judge,
            echo=self.echo,
            text_turn=tt.words if words else None,
        )
        self.listener.listen(True)

    # --- ListenerHooks ----------------------------------------------------------------------------
    def on_speech_started(self) -> None:
        self._events.append("start")

    def on_speech_ended(self) -> None:
        self._events.append("end")

    def on_partial_transcript(self, result: Any) -> None:
        pass

    def on_tentative_transcript(self, text: str) -> None:
        pass

    def on_final_transcript(self, result: Any, asr_ms: int) -> None:
        pass

    def on_recognition_failed(self, stage: str, detail: str) -> None:
        pass

    def on_recording_finished(self, name: str, duration_ms: int) -> None:
        pass

    # --- TurnEndpointer ---------------------------------------------------------------------------
    def on_playback(self, chunk: AudioChunk) -> None:
        self.now_s = chunk.timestamp_ms / 1000
        self.echo.played(chunk.array())

    def process(self, chunk: AudioChunk) -> SpeechStart | SpeechEnd | None:
        self.now_s = chunk.timestamp_ms / 1000
        self._events.clear()
        _loop().run_until_complete(self._step(chunk))
        for kind in self._events:
            if kind == "start":
                return SpeechStart((), chunk.timestamp_ms)
            return SpeechEnd(self.listener.last_end, chunk.timestamp_ms + chunk_ms(chunk))
        return None

    async def _step(self, chunk: AudioChunk) -> None:
        listener = self.listener
        if self.words:
            await self._caught_up()
        listener.on_chunk(chunk)
        await asyncio.sleep(0)
        if not listener.judging:
            return
        started = time.perf_counter()
        deadline = started + JUDGE_WAIT_S
        while listener.judging and time.perf_counter() < deadline:  # noqa: ASYNC110 (no event to await)
            await asyncio.sleep(0.001)
        ListenerEndpointer.judge_ms.append(round(1000 * (time.perf_counter() - started), 1))

    async def _caught_up(self) -> None:
        """Until the recognizer has taken all the audio sent so far: in a call it keeps up in real time,
        while here chunks come faster than that, and a judgement would wait for the backlog."""
        queue = self.listener._utterance
        recognizer = _recognizer()
        deadline = time.perf_counter() + JUDGE_WAIT_S
        busy = lambda: recognizer.pending or (queue is not None and queue.qsize())  # noqa: E731
        while busy() and time.perf_counter() < deadline:  # noqa: ASYNC110 (no event to await)
            await asyncio.sleep(0.001)

    def close(self) -> None:
        self.listener.close()


def factory(overrides: dict[str, str], *, words: bool = False, onset: Any = None) -> Any:
    """A fresh end-pointer per stream; `onset`: the factory whose utterance starts are the same (the
    noise sets need no recognizer to measure them)."""

    def make() -> ListenerEndpointer:
        return ListenerEndpointer(overrides, words=words)

    make.overrides = overrides  # type: ignore[attr-defined]  # reported with the results
    make.onset = onset or make  # type: ignore[attr-defined]  # read by bench.turn.run
    return make
