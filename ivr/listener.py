"""One call's listening: voice activity, speech recognition per utterance, and recordings.

Modelled on LiveKit Agents' `AudioRecognition`: the listener takes every chunk the RTP endpoint
decodes, runs the speech detector and the segmenter while the flow listens, streams each utterance to
the recognizer (partial transcripts as they change, then the final one), records complaints and prompt
drafts, and reports all of it through `ListenerHooks`. It never touches ARI or the flow.

`on_chunk` is the hot path (every 20 ms per call): it only measures, decides and queues; recognition
runs in one task per utterance, and the recognizer does its work in its own bounded thread pool.

Turn-taking: after a short pause (`SpeechPause`) an end-of-turn model judges the utterance so far, in
its own small executor (`voice.turn.TurnJudge`); "complete" ends the utterance at once, "incomplete"
lets the segmenter's longer silence ceiling end it, and no verdict in time falls back to the fixed
end-point. Or the words judge it (`ivr.turn_text`): at the pause the recognizer is given the audio it
has not yet seen and a little padding silence (it holds back its last word until it hears ~300 ms
after it), and the transcript so far says complete (answer now), incomplete (wait to the ceiling) or
unsure (a shorter timer decides). While the flow collects a code by voice the ceiling is longer still.
Silence is not recognized for nothing: the recognizer is fed from an utterance's onset (with the
segmenter's pre-roll) to its end; a silence inside it is fed up to `asr_silence_ms`, then held back and
fed only if the caller speaks again, so the silence that ends an utterance (the end-point's timer) is not
recognized and what the caller says is recognized from exactly the audio it was before.
Speculatively (as LiveKit's preemptive generation), the transcript at the pause is the final one if the
caller does not speak again: the silence after the pause is held back from the recognizer (it has had
its padding) and only the last `preroll_ms` of it is fed if the caller resumes; when the turn ends with
nothing new fed, the final transcript is reported at once, without another recognizer job. The flow
sees a transcript only when the turn has ended, so a discarded speculation leaves no trace.
While a prompt plays, the echo canceller takes our prompt out of what is heard first (`voice.aec`); then
speech must last longer to barge in, and audio our own prompt explains by echo, or no louder than the
line's background of voices and noise, does not count.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from core.masking import mask_personal
from ivr import metrics
from ivr.admission import AdmittedStream, AsrAdmission, AsrRefused, StreamingRecognizer
from ivr.recorder import Recorder
from ivr.turn_text import Verdict
from voice.asr.base import AsrResult
from voice.audio import AudioChunk, concat
from voice.echo import EchoReference
from voice.turn import TurnJudge
from voice.vad import (
    EnergyDetector,
    EnergySettings,
    Segmenter,
    SegmenterSettings,
    SpeechDetector,
    SpeechEnd,
    SpeechPause,
    SpeechStart,
    chunk_ms,
)

if TYPE_CHECKING:
    from ivr.settings import IvrSettings

logger = logging.getLogger(__name__)

HEARD_KEPT = 3  # utterances whose audio waits for `take_utterance`
CATCH_UP_MS = 1000  # a stream the recognizer fell behind on sends at most this much waiting audio per job


class ListenerHooks(Protocol):
    """What a call listener reports, on the event loop (LiveKit's `RecognitionHooks`)."""

    def on_speech_started(self) -> None:
        """The caller started speaking (after the detector's minimum speech)."""

    def on_speech_ended(self) -> None:
        """The end-pointer closed the utterance (silence, or the maximum length)."""

    def on_partial_transcript(self, result: AsrResult) -> None:
        """The recognizer's best guess so far changed (not final)."""

    def on_tentative_transcript(self, text: str) -> None:
        """The words at a pause, the final transcript if the turn ends there (speculative: the caller may
        go on). For getting the answer ready; nothing may be logged or run on it."""

    def on_final_transcript(self, result: AsrResult, asr_ms: int) -> None:
        """The utterance's final transcript; `asr_ms`: from the end of speech to this result."""

    def on_recognition_failed(self, stage: str, detail: str) -> None:
        """The utterance cannot be recognized: "pool" (no slot), "asr" (no recognizer, error, timeout)."""

    def on_recording_finished(self, name: str, duration_ms: int) -> None:
        """A recording stopped (asked to, full, or long silence); 0 ms when it held no voice."""


TURN_AUDIO_MS = 8000  # the end-of-turn model hears at most the utterance's last 8 s


@dataclass(frozen=True, slots=True)
class TurnSettings:
    complete_probability: float = 0.5  # the model's verdict at or above this ends the turn
    fallback_silence_ms: int = 600  # no verdict in time: the fixed end-point ends the utterance
    code_silence_ms: int = 2000  # the ceiling while the flow collects a code by voice
    unsure_silence_ms: int = 600  # the words do not tell whether the caller has finished: this ends it
    text_pad_ms: int = 300  # silence added after the pause's audio so the recognizer gives its last word
    text_timeout_ms: int = 400  # no verdict from the words this long after the pause: fallback_silence_ms
    speculative: bool = False  # the words at the pause are the final transcript unless the caller resumes


@dataclass(frozen=True, slots=True)
class ListenerSettings:
    segmenter: SegmenterSettings = SegmenterSettings()
    energy: EnergySettings = EnergySettings()
    turn: TurnSettings = TurnSettings()
    asr_batch_ms: int = 200  # audio fed to the recognizer per job
    # Silence inside an utterance fed to the recognizer after the caller's last speech (enough for it to
    # let go of the last word); the rest is held back, and fed only if the caller speaks again: the silence
    # that ends an utterance is not recognized. The recognizer costs as much per second of silence as of
    # speech. 0: feed it all.
    asr_silence_ms: int = 500
    # A caller waiting goes first: the words at a pause and the final transcript jump the recognizer's queue
    # (and at a pause, the batch still queued before it), and audio that waited for the recognizer goes in
    # one job (up to CATCH_UP_MS), not one per batch.
    answer_first: bool = True
    asr_timeout_s: float = 8.0  # no final transcript (or a batch not taken) by then: recognition failed
    record_silence_ms: float = 5000  # this much silence ends a recording
    min_voiced_ms: int = 300  # a recording with less voice than this is empty

    @classmethod
    def from_settings(cls, ivr: IvrSettings, *, turn_model: bool = True) -> ListenerSettings:
        """`turn_model`: an end-of-turn model is loaded; without it the fixed end-point ends utterances."""
        media, turn = ivr.media, ivr.media.turn
        by_model = turn_model and turn.model != "none"  # "text" needs no model file: always there
        return cls(
            segmenter=SegmenterSettings(
                min_speech_ms=media.min_speech_ms,
                silence_ms=turn.max_silence_ms if by_model else media.endpoint_silence_ms,
                max_utterance_ms=int(media.max_utterance_seconds * 1000),
                preroll_ms=media.preroll_ms,
                pause_ms=turn.min_silence_ms if by_model else 0,
                barge_in_min_speech_ms=media.barge_in.min_speech_ms,
            ),
            energy=EnergySettings(
                threshold_db=media.speech_threshold_db, noise_margin_db=media.noise_margin_db
            ),
            turn=TurnSettings(
                complete_probability=turn.complete_probability,
                fallback_silence_ms=media.endpoint_silence_ms,
                code_silence_ms=max(turn.code_max_silence_ms, turn.max_silence_ms if by_model else 0),
                unsure_silence_ms=turn.unsure_silence_ms,
                text_pad_ms=turn.text_pad_ms,
                text_timeout_ms=turn.timeout_ms,
                speculative=turn.speculative,
            ),
            asr_silence_ms=media.asr_silence_ms,
            asr_timeout_s=ivr.asr_timeout_seconds,
            answer_first=ivr.asr_answer_first,
            record_silence_ms=ivr.flow.record_silence_seconds * 1000,
        )


@dataclass(frozen=True, slots=True)
class _Pause:
    """In an utterance's audio queue: the caller paused here; judge the words so far."""

    utterance: int
    pause: int
    asked: float = 0.0  # monotonic time the pause was reported (the judgement's wall time is logged)


class CallListener:
    """Voice activity, utterance recognition and recordings of one call (see the module docstring)."""

    def __init__(
        self,
        hooks: ListenerHooks,
        *,
        call: str,
        rate: int,
        admission: AsrAdmission,
        recognizer: StreamingRecognizer | None,
        settings: ListenerSettings | None = None,
        detector: SpeechDetector | None = None,
        turn: TurnJudge | None = None,
        echo: EchoReference | None = None,
        text_turn: Callable[[str], Verdict] | None = None,
    ) -> None:
        self.hooks = hooks
        self.call = call  # the caller's channel id, for logs
        self.rate = rate  # Hz of the call's audio (the RTP endpoint's codec)
        self.settings = settings or ListenerSettings()
        self.detector: SpeechDetector = detector or EnergyDetector(self.settings.energy)
        self.segmenter = Segmenter(self.settings.segmenter)
        self.turn = turn  # the end-of-turn model (None: pauses end at the silence ceiling)
        self.echo = echo  # what the player sent lately (None: no barge-in rules)
        self.text_turn = text_turn  # the transcript so far -> has the caller finished (ivr.turn_text)
        self.collecting_code = False  # the flow collects a code by voice: longer pauses allowed
        self.last_end = ""  # why the latest utterance ended (SpeechEnd.reason), for logs and tests
        self._utterance_no = 0  # utterances begun (a late verdict must belong to the current one)
        self._turn_audio: deque[AudioChunk] = deque()  # the current utterance, for the turn model
        self._turn_audio_ms = 0
        self._partial = ""  # the current utterance's latest partial transcript
        self.judging = 0  # end-of-turn judgements asked and not yet answered (model or words)
        self._text_pause: tuple[int, int, int] | None = None  # (utterance, pause, silent ms by then) awaited
        self._late_pause: tuple[int, int] | None = None  # (utterance, pause) whose words missed the timeout
        # Silence held back from the recognizer, after a judged pause or past asr_silence_ms (None: feeding
        # it as it comes).
        self._held: deque[AudioChunk] | None = None
        self._held_ms = 0
        self._held_keep_ms: int | None = None  # of the held silence, this much is fed on resuming (None: all)
        self._admission = admission
        self._recognizer = recognizer
        self.listening = False
        self._utterance: asyncio.Queue[AudioChunk | _Pause | None] | None = None
        self._utterance_task: asyncio.Task[None] | None = None  # the utterance being heard
        self._asr_stream: AdmittedStream | None = None  # its recognizer stream, once admitted
        self._tasks: set[asyncio.Task[None]] = set()  # every utterance still being recognized
        self._recorders: dict[str, Recorder] = {}  # recording now
        self._finished: dict[str, AudioChunk] = {}  # finished, audio not yet taken
        self._spools: dict[str, Recorder] = {}  # finished, spool still on disk
        self._keep_spools: set[str] = set()  # finished, spool must survive for recovery
        # The last utterances heard, with their final transcripts: the review queue keeps the audio of
        # those the hotline did not understand (`take_utterance`). A few, in case turns lag behind.
        self._heard: deque[tuple[str, AudioChunk]] = deque(maxlen=HEARD_KEPT)
        self._closed = False

    # --- the hot path ---------------------------------------------------------------------------

    def on_chunk(self, chunk: AudioChunk) -> None:
        """One chunk of caller audio from the RTP endpoint."""
        if self._closed:
            return
        if self._recorders:
            self._record(chunk)
        if not self.listening:
            return
        segmenter = self.segmenter
        in_speech = segmenter.in_speech
        if self.echo is not None and not in_speech:
            # Our prompt's echo out before the detector hears it. Not inside an utterance: the filter
            # would learn the caller's voice as part of the echo path (talking over a prompt stops it).
            chunk = self.echo.cancel(chunk)
        speech: bool | None = self.detector.is_speech(chunk, in_speech)
        if not in_speech and self.echo is not None:
            # Barge-in rules while a prompt plays (or its echo may still come back): speech our prompt's
            # echo or the line's background (voices, noise around the caller) explains is neither the caller
            # nor silence (the caller's softer syllables are in it).
            playing = self.echo.playing()
            segmenter.barge_in = playing
            self.echo.heard(chunk)
            if speech and playing and self.echo.explains(chunk):
                speech = None
        event = segmenter.process(chunk, speech)
        if isinstance(event, SpeechStart):
            if self.collecting_code:
                segmenter.ceiling_ms = self.settings.turn.code_silence_ms
            self.hooks.on_speech_started()
            self._begin_utterance(concat(list(event.audio)))
            return
        if not in_speech:
            return
        if self._held is not None:
            self._hold(chunk)
        elif self._utterance is not None:
            fed_silence = self.settings.asr_silence_ms
            if fed_silence and segmenter.silent_ms > fed_silence:
                # The recognizer has heard enough of this silence: the rest waits for the caller to resume
                # (then it goes in whole, in the same batches as it would have: the same transcripts).
                self._held, self._held_ms, self._held_keep_ms = deque(), 0, None
                self._hold(chunk)
            else:
                self._utterance.put_nowait(chunk)
        if self.turn is not None:
            self._keep_turn_audio(chunk)
        if isinstance(event, SpeechPause):
            self._on_pause(event)
        elif event is not None:  # SpeechEnd: this chunk was the utterance's last
            self._end_utterance(event)
        elif self._text_pause is not None and segmenter.silent_ms >= self._text_pause[2]:
            # The words came too late (a saturated recognizer): the fixed end-point, as without a model.
            utterance, pause, _deadline = self._text_pause
            self._text_pause = None
            self._late_pause = (utterance, pause)
            self._bound_silence(pause, self.settings.turn.fallback_silence_ms)

    def _hold(self, chunk: AudioChunk) -> None:
        """Silence is kept back from the recognizer: when the caller speaks again, the silence kept and the
        chunk go to it. After a judged pause only its last `preroll_ms` is kept (the recognizer has had its
        padding, and the speculation is void); past `asr_silence_ms` all of it (the recognizer hears what
        it would have heard: only a silence that ends the utterance is never fed)."""
        held = self._held
        assert held is not None
        held.append(chunk)
        self._held_ms += chunk_ms(chunk)
        segmenter = self.segmenter
        if segmenter.in_speech and segmenter.silent_ms == 0:  # speech again (or echo-masked: may be)
            self._held = None
            if self._utterance is not None:
                for c in held:
                    self._utterance.put_nowait(c)
            return
        keep = self._held_keep_ms
        if keep is None:
            return
        while len(held) > 1 and self._held_ms - chunk_ms(held[0]) >= keep:
            self._held_ms -= chunk_ms(held.popleft())

    def _end_utterance(self, event: SpeechEnd) -> None:
        self.last_end = event.reason
        metrics.turn_ended(event.reason)
        self._text_pause = None
        self._held = None
        self.hooks.on_speech_ended()
        if self._utterance is not None:
            self._utterance.put_nowait(None)
        self._utterance = None
        self._utterance_task = None  # runs on to its final transcript
        self._turn_audio.clear()
        self._turn_audio_ms = 0

    # --- end of turn ----------------------------------------------------------------------------

    def _keep_turn_audio(self, chunk: AudioChunk) -> None:
        self._turn_audio.append(chunk)
        self._turn_audio_ms += chunk_ms(chunk)
        while (
            len(self._turn_audio) > 1 and self._turn_audio_ms - chunk_ms(self._turn_audio[0]) >= TURN_AUDIO_MS
        ):
            self._turn_audio_ms -= chunk_ms(self._turn_audio.popleft())

    def _on_pause(self, pause: SpeechPause) -> None:
        """A short silence: the words so far (`text_turn`) or the end-of-turn model judge it."""
        if self.text_turn is not None:
            if self.collecting_code:
                # Digits are not a request: "không" is zero, not a question's end, and how many digits a
                # code has is not known here. The code's own ceiling decides.
                return
            task = self._utterance_task
            if self._utterance is None or task is None or task.done():  # not being recognized
                self._bound_silence(pause.pause, self.settings.turn.unsure_silence_ms)
                return
            deadline = self.segmenter.silent_ms + self.settings.turn.text_timeout_ms
            self._text_pause = (self._utterance_no, pause.pause, deadline)
            self.judging += 1
            self._utterance.put_nowait(_Pause(self._utterance_no, pause.pause, time.monotonic()))
            if self.settings.answer_first and self._asr_stream is not None:
                self._asr_stream.hurry()  # the batch before the pause may still wait behind other calls
            if self.settings.turn.speculative:
                self._held, self._held_ms = deque(), 0
                self._held_keep_ms = self.segmenter.settings.preroll_ms
            return
        if self.turn is None or not self._turn_audio:
            return
        audio = concat(list(self._turn_audio))
        task = asyncio.create_task(
            self._judge(self._utterance_no, pause.pause, audio), name=f"turn-{self.call}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _bound_silence(self, pause: int, silence_ms: int) -> None:
        """Let at most `silence_ms` of this pause end the utterance (now, if it already has)."""
        segmenter = self.segmenter
        ceiling = segmenter.ceiling_ms or segmenter.settings.silence_ms
        segmenter.ceiling_ms = min(ceiling, silence_ms)
        if segmenter.silent_ms >= silence_ms:
            end = segmenter.end_turn(pause, "silence")
            if end is not None:
                self._end_utterance(end)

    def _on_words(self, marker: _Pause, text: str) -> None:
        """The words up to a pause: end the turn, wait to the ceiling, or let the shorter timer decide."""
        judged_s = time.monotonic() - marker.asked
        # Counted whether or not it still decides: a verdict after the timeout is the load's cost.
        metrics.turn_judged(judged_s, late=self._late_pause == (marker.utterance, marker.pause))
        if self._text_pause is None or self._text_pause[:2] != (marker.utterance, marker.pause):
            return  # the utterance ended or the caller spoke again meanwhile (or the words came too late)
        self._text_pause = None
        if self._closed or not self.listening or marker.utterance != self._utterance_no:
            return
        verdict = self.text_turn(text) if self.text_turn is not None and text else Verdict.UNSURE
        logger.debug(
            "call %s: words so far %r: %s (judged in %d ms)",
            self.call,
            mask_personal(text),
            verdict,
            1000 * judged_s,
        )
        segmenter = self.segmenter
        if verdict is Verdict.COMPLETE:
            end = segmenter.end_turn(marker.pause)
            if end is not None:
                self._end_utterance(end)
        elif verdict is Verdict.INCOMPLETE:
            ceiling = self.settings.turn.code_silence_ms if self.collecting_code else None
            segmenter.ceiling_ms = ceiling  # the longest this utterance may pause
        else:
            self._bound_silence(marker.pause, self.settings.turn.unsure_silence_ms)

    async def _judge(self, utterance: int, pause: int, audio: AudioChunk) -> None:
        assert self.turn is not None
        self.judging += 1
        try:
            p = await self.turn.judge(audio)
        finally:
            self.judging -= 1
        if self._closed or not self.listening or utterance != self._utterance_no:
            return  # the utterance ended (ceiling, listening stopped) while the model thought
        segmenter = self.segmenter
        if p is None:
            # No verdict: the fixed end-point, as without a model (now, if this pause already reached it).
            fallback = self.settings.turn.fallback_silence_ms
            ceiling = segmenter.ceiling_ms or segmenter.settings.silence_ms
            segmenter.ceiling_ms = min(ceiling, fallback)
            if segmenter.silent_ms < fallback:
                return
        elif p < self.settings.turn.complete_probability:
            logger.debug("call %s: turn judged incomplete (%.2f): listening on", self.call, p)
            return
        end = segmenter.end_turn(pause)
        if end is not None:
            self._end_utterance(end)

    def _record(self, chunk: AudioChunk) -> None:
        silence_ms = self.settings.record_silence_ms
        for name, rec in list(self._recorders.items()):
            rec.add(chunk)
            if rec.full.is_set() or rec.trailing_silence_ms >= silence_ms:
                self.stop_recording(name)

    # --- recognition ----------------------------------------------------------------------------

    @property
    def recognizing(self) -> int:
        """Utterances still being recognized (the one being heard, and any awaiting its transcript)."""
        return len(self._tasks)

    def listen(self, on: bool) -> None:
        """Speech detection and recognition on or off (the flow's Listen command)."""
        if on == self.listening:
            return
        self.listening = on
        self.segmenter.reset()
        if not on:
            self._stop_utterance()

    def _stop_utterance(self) -> None:
        self._held = None
        if self._utterance_task is not None and not self._utterance_task.done():
            self._utterance_task.cancel()
        self._utterance_task = None
        self._utterance = None

    def _begin_utterance(self, preroll: AudioChunk) -> None:
        self._stop_utterance()
        self._utterance_no += 1
        self._partial = ""
        self._turn_audio.clear()
        self._turn_audio_ms = 0
        if self.turn is not None and preroll.samples:
            self._keep_turn_audio(preroll)
        queue: asyncio.Queue[AudioChunk | _Pause | None] = asyncio.Queue()
        if preroll.samples:
            queue.put_nowait(preroll)
        self._utterance = queue
        task = asyncio.create_task(self._recognize(queue, preroll.rate), name=f"asr-{self.call}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._utterance_task = task

    async def _recognize(self, queue: asyncio.Queue[AudioChunk | _Pause | None], rate: int) -> None:
        try:
            stream = self._admission.open(self._recognizer, rate, self.call)
        except AsrRefused as refused:
            self.hooks.on_recognition_failed(refused.stage, refused.detail)
            return
        heard: list[AudioChunk] = []
        if queue is self._utterance:
            self._asr_stream = stream
        try:
            result, ended = await self._stream_utterance(stream, queue, heard)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            detail = str(exc) or f"{type(exc).__name__} (no result within {self.settings.asr_timeout_s:g} s)"
            logger.warning("call %s: speech recognition failed: %s", self.call, detail)
            self.hooks.on_recognition_failed("asr", detail)
            return
        finally:
            if self._asr_stream is stream:
                self._asr_stream = None
            stream.release()
        if heard:
            self._heard.append(((result.text or "").strip(), concat(heard)))
        self.hooks.on_final_transcript(result, int((time.monotonic() - ended) * 1000))

    async def _stream_utterance(
        self,
        stream: AdmittedStream,
        queue: asyncio.Queue[AudioChunk | _Pause | None],
        heard: list[AudioChunk],
    ) -> tuple[AsrResult, float]:
        """The final result, and when speech ended (monotonic): the recognizer's latency counts from there."""
        batch: list[AudioChunk] = []
        batch_ms = 0
        # The transcript at the latest pause, while nothing has been fed after it: the final one if the
        # utterance ends now (the recognizer has had the padding that releases the last word).
        speculative: str | None = None
        first = self.settings.answer_first
        # taken from the queue while catching up, not yet handled
        ahead: AudioChunk | _Pause | None = None
        have_ahead = False
        while True:
            if have_ahead:
                item, have_ahead = ahead, False
            else:
                item = await queue.get()
            if item is None:
                ended = time.monotonic()
                break
            if isinstance(item, _Pause):
                # The words so far: what the recognizer has not seen yet, then padding silence so that it
                # lets go of the last word (the caller's pause is real; the padding only lengthens it).
                try:
                    pad = self.settings.turn.text_pad_ms * self.rate // 1000
                    await self._accept(stream, [*batch, AudioChunk(bytes(2 * pad), self.rate)], urgent=first)
                    batch, batch_ms = [], 0
                finally:
                    self.judging -= 1
                if self.settings.turn.speculative and self._partial:
                    speculative = self._partial
                    self.hooks.on_tentative_transcript(speculative)
                self._on_words(item, self._partial)
                continue
            speculative = None  # the caller spoke again: recognition goes on
            batch.append(item)
            heard.append(item)
            batch_ms += chunk_ms(item)
            if batch_ms >= self.settings.asr_batch_ms:
                while first and batch_ms < CATCH_UP_MS and not queue.empty():
                    # The recognizer was busy and more audio waits: it goes in this job, so a stream that
                    # fell behind catches up in one trip through the recognizer's queue, not one per batch.
                    nxt = queue.get_nowait()
                    if not isinstance(nxt, AudioChunk):
                        ahead, have_ahead = nxt, True
                        break
                    batch.append(nxt)
                    heard.append(nxt)
                    batch_ms += chunk_ms(nxt)
                await self._accept(stream, batch)
                batch, batch_ms = [], 0
        if speculative is not None and not batch:
            # Committed: the padded transcript is the final one (identical on the six recordings over the
            # phone; the recognizer's final job would cost 70-140 ms more on a loaded machine).
            return AsrResult(speculative, is_final=True), ended
        if batch:
            await self._accept(stream, batch, urgent=first)
        final = stream.finish(urgent=first)
        return await asyncio.wait_for(final, timeout=self.settings.asr_timeout_s), ended

    async def _accept(self, stream: AdmittedStream, batch: list[AudioChunk], urgent: bool = False) -> None:
        # A batch is a fraction of a second of audio: an engine that takes the whole ASR timeout over it
        # is hung, and the caller would wait for a transcript that never comes.
        chunk = batch[0] if len(batch) == 1 else concat(batch)
        accepted = stream.accept(chunk, urgent=urgent)
        partial = await asyncio.wait_for(accepted, timeout=self.settings.asr_timeout_s)
        if partial is not None and partial.text:
            self._partial = partial.text
            self.hooks.on_partial_transcript(partial)

    def take_utterance(self, transcript: str) -> AudioChunk | None:
        """The audio of the utterance heard as `transcript` (once); None when no such utterance waits."""
        text = transcript.strip()
        for i, (heard_text, audio) in enumerate(self._heard):
            if heard_text == text:
                del self._heard[i]
                return audio
        return None

    # --- recordings -----------------------------------------------------------------------------

    def start_recording(self, name: str, max_seconds: float, spool: Path | None) -> None:
        """Record the caller from the next chunk on, spooling to `spool` (kept if the process dies)."""
        self._recorders[name] = Recorder(f"{self.call}-{name}", max_seconds, rate=self.rate, spool=spool)

    def stop_recording(self, name: str) -> None:
        """Stop a recording and report it; its audio waits in `take_recording`."""
        rec = self._recorders.pop(name, None)
        if rec is None:
            return
        self._finished[name] = rec.chunk()
        self._spools[name] = rec
        rec.close(discard=False)  # kept until the ticket holding this audio is committed
        # A recording without voice is empty, however long it ran.
        duration = rec.duration_ms if rec.voiced_ms >= self.settings.min_voiced_ms else 0
        self.hooks.on_recording_finished(name, duration)

    def take_recording(self, name: str) -> AudioChunk | None:
        """The audio of a finished recording (once)."""
        return self._finished.pop(name, None)

    def recording_stored(self, name: str) -> None:
        """The recording is safely stored elsewhere: its spool goes."""
        spool = self._spools.pop(name, None)
        if spool is not None:
            spool.close(discard=True)

    def keep_spool(self, name: str) -> Path | None:
        """Storing the recording failed: its spool stays for recovery (the file, if it has one)."""
        self._keep_spools.add(name)
        rec = self._spools.get(name)
        return rec.spool if rec is not None else None

    # --- end of call ----------------------------------------------------------------------------

    def stop(self) -> None:
        """Stop listening and recognizing (the call is ending); recordings stay open until `close`."""
        self.listening = False
        self._stop_utterance()
        for task in list(self._tasks):
            task.cancel()

    def close(self) -> None:
        """Release everything: recordings still running keep their spool (recovery), finished ones
        drop it unless storing them failed."""
        self.stop()
        self._closed = True
        for rec in self._recorders.values():
            rec.close(discard=False)
        self._recorders.clear()
        for name, rec in self._spools.items():
            rec.close(discard=name not in self._keep_spools)
        self._spools.clear()
        self._finished.clear()
        if self.echo is not None:
            cancelled = self.echo.cancelled_db()
            if cancelled is not None:
                metrics.echo_cancelled(cancelled)
            self.echo.close()
