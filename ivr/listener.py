"""One call's listening: voice activity, speech recognition per utterance, and recordings.

Modelled on LiveKit Agents' `AudioRecognition`: the listener takes every chunk the RTP endpoint
decodes, runs the speech detector and the segmenter while the flow listens, streams each utterance to
the recognizer (partial transcripts as they change, then the final one), records complaints and prompt
drafts, and reports all of it through `ListenerHooks`. It never touches ARI or the flow.

`on_chunk` is the hot path (every 20 ms per call): it only measures, decides and queues; recognition
runs in one task per utterance, and the recognizer does its work in its own bounded thread pool.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from ivr.admission import AdmittedStream, AsrAdmission, AsrRefused, StreamingRecognizer
from ivr.recorder import Recorder
from voice.asr.base import AsrResult
from voice.audio import AudioChunk, concat
from voice.vad import (
    EnergyDetector,
    EnergySettings,
    Segmenter,
    SegmenterSettings,
    SpeechDetector,
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


@dataclass(frozen=True, slots=True)
class ListenerSettings:
    segmenter: SegmenterSettings = SegmenterSettings()
    energy: EnergySettings = EnergySettings()
    asr_batch_ms: int = 200  # audio fed to the recognizer per job
    asr_timeout_s: float = 8.0  # no final transcript (or a batch not taken) by then: recognition failed
    record_silence_ms: float = 5000  # this much silence ends a recording
    min_voiced_ms: int = 300  # a recording with less voice than this is empty

    @classmethod
    def from_settings(cls, ivr: IvrSettings) -> ListenerSettings:
        media = ivr.media
        return cls(
            segmenter=SegmenterSettings(
                min_speech_ms=media.min_speech_ms,
                silence_ms=media.endpoint_silence_ms,
                max_utterance_ms=int(media.max_utterance_seconds * 1000),
                preroll_ms=media.preroll_ms,
            ),
            energy=EnergySettings(
                threshold_db=media.speech_threshold_db, noise_margin_db=media.noise_margin_db
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
    ) -> None:
        self.hooks = hooks
        self.call = call  # the caller's channel id, for logs
        self.rate = rate  # Hz of the call's audio (the RTP endpoint's codec)
        self.settings = settings or ListenerSettings()
        self.detector: SpeechDetector = detector or EnergyDetector(self.settings.energy)
        self.segmenter = Segmenter(self.settings.segmenter)
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
        in_speech = self.segmenter.in_speech
        event = self.segmenter.process(chunk, self.detector.is_speech(chunk, in_speech))
        if isinstance(event, SpeechStart):
            self.hooks.on_speech_started()
            self._begin_utterance(concat(list(event.audio)))
            return
        if not in_speech:
            return
        if self._utterance is not None:
            self._utterance.put_nowait(chunk)
        if event is not None:  # SpeechEnd: this chunk was the utterance's last
            self.hooks.on_speech_ended()
            if self._utterance is not None:
                self._utterance.put_nowait(None)
            self._utterance = None
            self._utterance_task = None  # runs on to its final transcript

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
