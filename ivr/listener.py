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
end-point. While the flow collects a code by voice the ceiling is longer still. While a prompt plays,
speech must last longer to barge in, and audio our own prompt explains by echo does not count.
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

from ivr.admission import AdmittedStream, AsrAdmission, AsrRefused, StreamingRecognizer
from ivr.recorder import Recorder
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


class ListenerHooks(Protocol):
    """What a call listener reports, on the event loop (LiveKit's `RecognitionHooks`)."""

    def on_speech_started(self) -> None:
        """The caller started speaking (after the detector's minimum speech)."""

    def on_speech_ended(self) -> None:
        """The end-pointer closed the utterance (silence, or the maximum length)."""

    def on_partial_transcript(self, result: AsrResult) -> None:
        """The recognizer's best guess so far changed (not final)."""

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


@dataclass(frozen=True, slots=True)
class ListenerSettings:
    segmenter: SegmenterSettings = SegmenterSettings()
    energy: EnergySettings = EnergySettings()
    turn: TurnSettings = TurnSettings()
    asr_batch_ms: int = 200  # audio fed to the recognizer per job
    asr_timeout_s: float = 8.0  # no final transcript (or a batch not taken) by then: recognition failed
    record_silence_ms: float = 5000  # this much silence ends a recording
    min_voiced_ms: int = 300  # a recording with less voice than this is empty

    @classmethod
    def from_settings(cls, ivr: IvrSettings, *, turn_model: bool = True) -> ListenerSettings:
        """`turn_model`: an end-of-turn model is loaded; without it the fixed end-point ends utterances."""
        media, turn = ivr.media, ivr.media.turn
        by_model = turn_model and turn.model != "none"
        return cls(
            segmenter=SegmenterSettings(
                min_speech_ms=media.min_speech_ms,
                silence_ms=turn.max_silence_ms if by_model else media.endpoint_silence_ms,
                max_utterance_ms=int(media.max_utterance_seconds * 1000),
                preroll_ms=media.preroll_ms,
                pause_ms=turn.min_silence_ms if by_model or turn.early_intent else 0,
                barge_in_min_speech_ms=media.barge_in.min_speech_ms,
            ),
            energy=EnergySettings(
                threshold_db=media.speech_threshold_db, noise_margin_db=media.noise_margin_db
            ),
            turn=TurnSettings(
                complete_probability=turn.complete_probability,
                fallback_silence_ms=media.endpoint_silence_ms,
                code_silence_ms=max(turn.code_max_silence_ms, turn.max_silence_ms if by_model else 0),
            ),
            asr_timeout_s=ivr.asr_timeout_seconds,
            record_silence_ms=ivr.flow.record_silence_seconds * 1000,
        )


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
        early_end: Callable[[str], bool] | None = None,
    ) -> None:
        self.hooks = hooks
        self.call = call  # the caller's channel id, for logs
        self.rate = rate  # Hz of the call's audio (the RTP endpoint's codec)
        self.settings = settings or ListenerSettings()
        self.detector: SpeechDetector = detector or EnergyDetector(self.settings.energy)
        self.segmenter = Segmenter(self.settings.segmenter)
        self.turn = turn  # the end-of-turn model (None: pauses end at the silence ceiling)
        self.echo = echo  # what the player sent lately (None: no barge-in rules)
        self.early_end = early_end  # a partial transcript confident enough to end the turn at a pause
        self.collecting_code = False  # the flow collects a code by voice: longer pauses allowed
        self.last_end = ""  # why the latest utterance ended (SpeechEnd.reason), for logs and tests
        self._utterance_no = 0  # utterances begun (a late verdict must belong to the current one)
        self._turn_audio: deque[AudioChunk] = deque()  # the current utterance, for the turn model
        self._turn_audio_ms = 0
        self._partial = ""  # the current utterance's latest partial transcript
        self._admission = admission
        self._recognizer = recognizer
        self.listening = False
        self._utterance: asyncio.Queue[AudioChunk | None] | None = None
        self._utterance_task: asyncio.Task[None] | None = None  # the utterance being heard
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
        speech: bool | None = self.detector.is_speech(chunk, in_speech)
        if not in_speech and self.echo is not None:
            # Barge-in rules while a prompt plays (or its echo may still come back): speech our prompt's
            # echo explains is neither the caller nor silence (the caller's softer syllables are in it).
            playing = self.echo.playing()
            segmenter.barge_in = playing
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
        if self._utterance is not None:
            self._utterance.put_nowait(chunk)
        if self.turn is not None:
            self._keep_turn_audio(chunk)
        if isinstance(event, SpeechPause):
            self._on_pause(event)
        elif event is not None:  # SpeechEnd: this chunk was the utterance's last
            self._end_utterance(event)

    def _end_utterance(self, event: SpeechEnd) -> None:
        self.last_end = event.reason
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
        """A short silence: a confident partial transcript ends the turn now, else the model judges it."""
        if self.early_end is not None and self._partial and self.early_end(self._partial):
            end = self.segmenter.end_turn(pause.pause)
            if end is not None:
                self._end_utterance(end)
            return
        if self.turn is None or not self._turn_audio:
            return
        audio = concat(list(self._turn_audio))
        task = asyncio.create_task(
            self._judge(self._utterance_no, pause.pause, audio), name=f"turn-{self.call}"
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _judge(self, utterance: int, pause: int, audio: AudioChunk) -> None:
        assert self.turn is not None
        p = await self.turn.judge(audio)
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
        queue: asyncio.Queue[AudioChunk | None] = asyncio.Queue()
        if preroll.samples:
            queue.put_nowait(preroll)
        self._utterance = queue
        task = asyncio.create_task(self._recognize(queue, preroll.rate), name=f"asr-{self.call}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        self._utterance_task = task

    async def _recognize(self, queue: asyncio.Queue[AudioChunk | None], rate: int) -> None:
        try:
            stream = self._admission.open(self._recognizer, rate, self.call)
        except AsrRefused as refused:
            self.hooks.on_recognition_failed(refused.stage, refused.detail)
            return
        heard: list[AudioChunk] = []
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
            stream.release()
        if heard:
            self._heard.append(((result.text or "").strip(), concat(heard)))
        self.hooks.on_final_transcript(result, int((time.monotonic() - ended) * 1000))

    async def _stream_utterance(
        self, stream: AdmittedStream, queue: asyncio.Queue[AudioChunk | None], heard: list[AudioChunk]
    ) -> tuple[AsrResult, float]:
        """The final result, and when speech ended (monotonic): the recognizer's latency counts from there."""
        batch: list[AudioChunk] = []
        batch_ms = 0
        while True:
            item = await queue.get()
            if item is None:
                ended = time.monotonic()
                break
            batch.append(item)
            heard.append(item)
            batch_ms += chunk_ms(item)
            if batch_ms >= self.settings.asr_batch_ms:
                await self._accept(stream, batch)
                batch, batch_ms = [], 0
        if batch:
            await self._accept(stream, batch)
        return await asyncio.wait_for(stream.finish(), timeout=self.settings.asr_timeout_s), ended

    async def _accept(self, stream: AdmittedStream, batch: list[AudioChunk]) -> None:
        # A batch is a fraction of a second of audio: an engine that takes the whole ASR timeout over it
        # is hung, and the caller would wait for a transcript that never comes.
        chunk = batch[0] if len(batch) == 1 else concat(batch)
        partial = await asyncio.wait_for(stream.accept(chunk), timeout=self.settings.asr_timeout_s)
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
