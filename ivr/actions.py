"""What a call does beyond talking: tickets, look-ups, radio, transfer, prompt re-recording.

`ActionRunner` is composed into the call session with explicit dependencies: the ARI client, the call
log store, dossiers, prompts, the radio source, the recognizer (ticket transcripts), the call's player,
its recordings (the listener) and its channel book (operator legs routed to this call). Each action
runs as its own task; blocking work goes to threads; every outcome, failure included, comes back to
the flow as an event through `post`, so the caller is never left waiting in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from asterisk.dial import dial_targets
from core.jobs import JobRunner
from core.metrics import ErrorStage, count_error
from ivr import flow as F
from ivr.enums import PinVerdict
from ivr.ids import PREFIX_OPERATOR, WITHHELD_CALLER_ID
from ivr.prompt_admin import DraftSaved, PinChecked, PromptKept
from ivr.store import spoken_date
from ivr.tones import ringback
from voice.audio import AudioChunk, read_audio, write_wav

if TYPE_CHECKING:
    from ivr.ari import AriClient
    from ivr.prompt_history import PromptHistory
    from ivr.prompt_pin import PromptPin
    from ivr.prompts import Prompts
    from ivr.services import RadioSource
    from ivr.store import CallStore, DossierSource
    from ivr.ticket_status import TicketStatusByPhone
    from voice.asr.base import AsrResult

logger = logging.getLogger(__name__)

TICKET_RETRY_S = 10.0  # a ticket the database or the disk refused is tried again this often ...
TICKET_RETRY_FOR_S = 6 * 3600.0  # ... for this long; then its audio waits in the spool for the next start
RINGBACK_PLAYBACK = -1  # the player id of the ringing tone (the flow numbers its playbacks from 1)

CallEvent = F.Event | DraftSaved | PromptKept  # what actions report back to the call


class NoAnswer(Exception):
    """No operator leg answered: none could ring, all were refused or cancelled, or the time ran out."""


async def first_answer(answers: dict[asyncio.Future, str], timeout_s: float) -> str:
    """The channel id of the first leg whose StasisStart came (it answered); failed legs are skipped.

    `answers` maps each leg's StasisStart future (`Hotline.expect`) to its channel id; a leg destroyed
    before answering fails its future. Raises NoAnswer when none answers within `timeout_s` seconds.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    pending = dict(answers)
    failures: list[str] = []
    try:
        while pending:
            done, _ = await asyncio.wait(
                pending, timeout=max(0.0, deadline - loop.time()), return_when=asyncio.FIRST_COMPLETED
            )
            if not done:
                raise NoAnswer(f"no answer within {timeout_s:g} s")
            for fut in sorted(done, key=lambda f: answers[f]):  # one batch: any order is fair
                op_id = pending.pop(fut)
                exc = fut.exception()
                if exc is None:
                    return op_id
                failures.append(str(exc))
        raise NoAnswer("; ".join(failures) or "no operator leg")
    finally:
        for fut in answers:  # nobody waits for the others any more
            if not fut.done():
                fut.cancel()
            elif not fut.cancelled():
                fut.exception()  # retrieved: no "never retrieved" warning for a leg that failed late


@dataclass(frozen=True, slots=True)
class CallInfo:
    """Who the call is and what we named for it in Asterisk."""

    channel_id: str  # the caller's channel
    caller: str  # national form (core.callerid), "" when withheld; masked before logging
    bridge_id: str
    media_id: str  # our externalMedia channel
    call_id: int | None  # row in the call log (None: not logged)
    seat: str = ""  # the operator seat calling (prompt re-recording), "" for everyone else


class Player(Protocol):
    """The call's playback queue (`ivr.player.RtpPlayer`)."""

    def play(self, playback_id: int, source: Callable[[], Coroutine[Any, Any, AudioChunk]]) -> None: ...

    def play_stream(self, playback_id: int, stream: Callable[[], AsyncIterator[AudioChunk]]) -> None: ...

    def stop(self, playback_id: int) -> None: ...


class Recordings(Protocol):
    """The call's finished recordings (`ivr.listener.CallListener`)."""

    def take_recording(self, name: str) -> AudioChunk | None: ...

    def recording_stored(self, name: str) -> None: ...

    def keep_spool(self, name: str) -> Path | None: ...


class ChannelBook(Protocol):
    """Routes the ARI events of channels we create (operator legs) to this call."""

    def expect(self, channel_id: str) -> asyncio.Future[Any]:
        """A future completed by the channel's StasisStart (failed if it is destroyed first)."""
        ...

    def stop_waiting(self, channel_id: str) -> None:
        """Nobody waits for this channel's StasisStart any more."""

    def own(self, channel_id: str) -> None:
        """This channel belongs to the call (never taken for a caller; its end is reported)."""

    def disown(self, channel_id: str) -> None:
        """The channel is hung up: no longer ours."""


class DutyRota(Protocol):
    """Who the operators on duty are at a moment (`ivr.duty.Rota`)."""

    def ringing(self, at: dt.datetime) -> str: ...


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Transcriber(Protocol):
    """Whole-clip recognition (`voice.asr.Recognizer.transcribe`)."""

    async def transcribe(self, chunk: AudioChunk) -> AsrResult: ...


Spawn = Callable[[Coroutine[Any, Any, None], str], "asyncio.Task[None]"]


class ActionRunner:
    """The action coroutines of one call, with everything they use passed in."""

    def __init__(
        self,
        call: CallInfo,
        *,
        ari: AriClient,
        store: CallStore,
        dossiers: DossierSource,
        prompts: Prompts,
        radio: RadioSource | None,
        transcriber: Transcriber | None,
        player: Player,
        recordings: Recordings,
        channels: ChannelBook,
        post: Callable[[CallEvent], None],
        spawn_background: Spawn,
        rota: DutyRota | None = None,
        clock: Callable[[], dt.datetime] = utc_now,
        tickets: TicketStatusByPhone | None = None,
        prompt_pin: PromptPin | None = None,
        prompt_history: PromptHistory | None = None,
        jobs: JobRunner | None = None,
    ) -> None:
        self.call = call
        self.ari = ari
        self.store = store
        self.dossiers = dossiers
        self.prompts = prompts
        self.radio_source = radio
        self.transcriber = transcriber
        self.player = player
        self.recordings = recordings
        self.channels = channels
        self.post = post
        self.spawn_background = spawn_background  # work that outlives the call (ticket transcription)
        self.rota = rota  # None: the operators are the transfer's endpoint at all hours
        self.clock = clock  # read when a transfer rings: the rota answers for that moment
        self.tickets = tickets  # ticket status by phone, with its limits
        self.prompt_pin = prompt_pin  # prompt re-recording: the PIN, with its limits
        self.prompt_history = prompt_history  # prompt re-recording: history and audit of each change
        # Where a ticket's transcription is queued with the ticket (ivr.transcription); None: transcribed
        # here after the call, in the background, as before jobs had an engine.
        self.jobs = jobs
        self.retry_s = TICKET_RETRY_S
        self.retry_for_s = TICKET_RETRY_FOR_S
        self.operator_id: str | None = None  # the operator leg that answered (bridged with the caller)
        self.operator_legs: set[str] = set()  # operator channels not yet released (ringing or answered)

    def operator_channels(self) -> list[str]:
        """Every operator leg still to hang up (ringing or answered)."""
        return sorted(self.operator_legs | ({self.operator_id} if self.operator_id else set()))

    # --- tickets ----------------------------------------------------------------------------------

    async def create_ticket(
        self, name: str, reason: str, min_ms: int = 0, commune: str | None = None, topic: str | None = None
    ) -> None:
        """Store a ticket: with the recording `name`, or without audio when `name` is "" (a call-back).

        `min_ms`: a recording with less voice than this is no message (the caller hung up at the beep):
        a call-back ticket without audio instead, and nothing at all for a withheld number. `commune`:
        the code of the commune whose team the ticket is for; `topic`: the intent answered last (its
        category).
        """
        chunk = self.recordings.take_recording(name) if name else None
        call = self.call
        if name and min_ms and (chunk is None or trim_silence(chunk).duration_s * 1000 < min_ms):
            self.recordings.recording_stored(name)  # nothing worth keeping, nor recovering after a crash
            name, chunk, reason = "", None, "callback"
            if not call.caller:
                logger.info("call %s: no message, withheld number: nobody to call back", call.channel_id)
                return
        try:
            if name and chunk is None:
                raise RuntimeError(f"no audio for recording {name}")
            number = await self._store_ticket(name, chunk, reason, commune, topic)
        except Exception as exc:
            count_error(ErrorStage.DATABASE)
            spool = self.recordings.keep_spool(name) if name else None
            if name and chunk is None:
                logger.error(
                    "call %s: ticket could not be stored (audio kept for recovery): %s", call.channel_id, exc
                )
            else:  # a locked database, a full disk: tried again until it works, without a restart
                logger.error(
                    "call %s: ticket could not be stored, tried again every %g s: %s",
                    call.channel_id,
                    self.retry_s,
                    exc,
                )
                retry = self._store_later(name, chunk, reason, commune, topic, spool)
                self.spawn_background(retry, f"ticket-retry-{call.media_id}-{name}")
                self.post(F.TicketCreated(None, kept=True))
                return
            self.post(F.TicketCreated(None))
            return
        if name:
            self.recordings.recording_stored(name)
        seconds = chunk.duration_s if chunk is not None else 0.0
        logger.info("call %s: ticket %s stored (%s, %.1f s)", call.channel_id, number, reason, seconds)
        self.post(F.TicketCreated(number))
        if chunk is not None and self.jobs is None:
            # Transcribe after the caller heard the number; this outlives the call.
            self.spawn_background(self._transcribe_ticket(number, chunk), f"transcribe-{number}")

    async def _store_ticket(
        self, name: str, chunk: AudioChunk | None, reason: str, commune: str | None, topic: str | None
    ) -> str:
        """The recording's file (if any), then the ticket's row; its number."""
        store, call = self.store, self.call  # `call` read now: its call log id may have come meanwhile
        path = None
        if name and chunk is not None:
            path = await asyncio.to_thread(store.save_recording, chunk, f"{call.call_id}-{name}")
        return await asyncio.to_thread(
            store.create_ticket,
            call_id=call.call_id,
            caller=call.caller,
            reason=reason,
            audio_path=path,
            duration_ms=int(chunk.duration_s * 1000) if chunk is not None else 0,
            commune=commune,
            topic=topic,
            jobs=self.jobs,
        )

    async def _store_later(
        self,
        name: str,
        chunk: AudioChunk | None,
        reason: str,
        commune: str | None,
        topic: str | None,
        spool: Path | None,
    ) -> None:
        """A ticket refused at the end of its call, tried again in the background (it outlives the call).

        Stored, its spool goes; given up after `retry_for_s`, or the service stopping, the spool stays and
        the next start makes it a ticket. A call-back ticket has no spool: only this keeps it.
        """
        channel = self.call.channel_id
        for attempt in range(1, max(1, int(self.retry_for_s / self.retry_s)) + 1):
            await asyncio.sleep(self.retry_s)
            try:
                number = await self._store_ticket(name, chunk, reason, commune, topic)
            except Exception as exc:
                logger.debug("call %s: ticket still not stored (attempt %d): %s", channel, attempt, exc)
                continue
            if spool is not None:
                await asyncio.to_thread(spool.unlink, missing_ok=True)
            logger.warning("call %s: ticket %s stored at retry %d (%s)", channel, number, attempt, reason)
            if chunk is not None and self.jobs is None:
                await self._transcribe_ticket(number, chunk)
            return
        logger.error(
            "call %s: ticket not stored after %g s: its audio waits in the spool for the next start",
            channel,
            self.retry_for_s,
        )

    async def _transcribe_ticket(self, number: str, chunk: AudioChunk) -> None:
        if self.transcriber is None:
            return
        try:
            result = await self.transcriber.transcribe(chunk)
            await asyncio.to_thread(self.store.set_ticket_transcript, number, result.text or "")
        except Exception as exc:
            logger.warning("ticket %s: transcription failed (audio kept): %s", number, exc)

    # --- prompt re-recording ----------------------------------------------------------------------

    async def save_draft(self, name: str) -> None:
        """Prompt re-recording: keep the take as a draft file (silence trimmed) and play it back."""
        chunk = self.recordings.take_recording(name) if name else None
        path = None
        if chunk is not None:
            chunk = trim_silence(chunk)
            if chunk.duration_s >= 0.3:
                target = self.prompts.render_dir / "drafts" / f"{self.call.media_id}-{name}.wav"
                path = str(await asyncio.to_thread(write_wav, target, chunk))
        self.post(DraftSaved(name, path))

    async def check_pin(self, pin: str) -> None:
        """Prompt re-recording: the PIN keyed on this seat, counted across calls (`ivr.prompt_pin`)."""
        try:
            if self.prompt_pin is None:
                raise RuntimeError("the prompt PIN is not set up")
            verdict = await asyncio.to_thread(self.prompt_pin.check, self.call.seat, pin)
        except Exception as exc:
            logger.error("call %s: the prompt PIN could not be checked: %s", self.call.channel_id, exc)
            verdict = PinVerdict.UNAVAILABLE
        self.post(PinChecked(verdict))

    async def keep_prompt(self, key: str, draft: str) -> None:
        """Install the draft: the previous recording kept, the change audited (`ivr.prompt_history`)."""
        prompts, history = self.prompts, self.prompt_history
        try:
            if history is None:
                raise RuntimeError("the prompt history is not set up")
            chunk = await asyncio.to_thread(read_audio, draft)
            await asyncio.to_thread(functools.partial(history.install, key, chunk, by=self.call.seat))
            prompts.forget(key)
            await prompts.audio(key)  # re-render now, so the next caller hears it
            ok = True
            logger.info("prompt %s re-recorded by phone", key)
        except Exception as exc:
            logger.error("prompt %s could not be saved: %s", key, exc)
            ok = False
        self.post(PromptKept(key, ok))

    # --- look-ups ---------------------------------------------------------------------------------

    async def lookup_dossier(self, code: str) -> None:
        try:
            info = await asyncio.to_thread(self.dossiers.lookup, code)
        except Exception as exc:
            logger.error("dossier look-up failed: %s", exc)
            info = None
        if info is None:
            self.post(F.DossierResult(code, False))
        else:
            self.post(F.DossierResult(code, True, info.title, info.status, spoken_date(info.updated_at)))

    async def lookup_ticket(self, number: str) -> None:
        """The status, and the reply only for the ticket's own number (`ivr.ticket_status`)."""
        try:
            if self.tickets is None:
                raise RuntimeError("ticket status by phone is not set up")
            result = await asyncio.to_thread(self.tickets.lookup, number, self.call.caller)
        except Exception as exc:
            logger.error("ticket look-up failed: %s", exc)
            result = F.TicketStatusResult(number, False)
        if result.locked:
            logger.warning(
                "call %s: ticket look-ups locked for this caller (too many wrong numbers)",
                self.call.channel_id,
            )
        self.post(result)

    async def radio(self, commune: str) -> None:
        path = None
        if self.radio_source is not None:
            try:
                path = await asyncio.to_thread(self.radio_source.latest_segment, commune)
            except Exception as exc:
                logger.warning("radio segment look-up failed: %s", exc)
        self.post(F.RadioResult(commune, path))

    # --- transfer to an operator ------------------------------------------------------------------

    async def transfer(self, endpoint: str, timeout_s: int, duty: bool = False) -> None:
        """Ring every endpoint of the Dial string at once; the first to answer joins the caller's bridge.

        `duty`: the operators on duty, whom the rota names at this moment (`endpoint` outside its shifts).
        Each leg is originated with its own channel id (all owned by this call, so none is taken for a
        caller). A leg that cannot be originated (phone not registered: ARI 500) is skipped; the others
        are hung up as soon as one answers. No leg at all, or no answer in time: the caller leaves a
        message.
        """
        ari, call = self.ari, self.call
        if duty and self.rota is not None:
            endpoint = self.rota.ringing(self.clock())
            logger.info("call %s: on duty now: %s", call.channel_id, endpoint or "nobody")
        legs = {PREFIX_OPERATOR + uuid.uuid4().hex[:12]: target for target in dial_targets(endpoint)}
        answers: dict[asyncio.Future[Any], str] = {}
        for op_id in legs:
            self.operator_legs.add(op_id)
            self.channels.own(op_id)
            answers[self.channels.expect(op_id)] = op_id  # before originating: StasisStart may come first
        try:
            results = await asyncio.gather(
                *(
                    ari.originate(
                        target,
                        op_id,
                        app_args=f"operator,{call.channel_id}",
                        timeout_s=timeout_s,
                        caller_id=call.caller or WITHHELD_CALLER_ID,
                    )
                    for op_id, target in legs.items()
                ),
                return_exceptions=True,
            )
            failed = []
            for (op_id, target), result in zip(legs.items(), results, strict=True):
                if isinstance(result, BaseException):
                    logger.info("call %s: operator %s cannot ring: %s", call.channel_id, target, result)
                    failed.append(op_id)
            await asyncio.gather(*(self._drop_operator_leg(op_id) for op_id in failed))
            answers = {fut: op_id for fut, op_id in answers.items() if op_id in self.operator_legs}
            if not answers:
                raise NoAnswer("no operator phone can ring")
            self._ring_back(timeout_s + 5)
            winner = await first_answer(answers, timeout_s + 5)
            self._stop_ring_back()
            self.operator_id = winner
            losers = [op_id for op_id in self.operator_legs if op_id != winner]
            logger.info("call %s: %s answered", call.channel_id, legs[winner])
            await asyncio.gather(*(self._drop_operator_leg(op_id) for op_id in losers))
            await ari.remove_from_bridge(call.bridge_id, call.media_id)
            await ari.add_to_bridge(call.bridge_id, winner)
        except Exception as exc:
            self._stop_ring_back()
            logger.info("call %s: transfer to %s not answered: %s", call.channel_id, endpoint, exc)
            self.operator_id = None
            await asyncio.gather(*(self._drop_operator_leg(op_id) for op_id in list(self.operator_legs)))
            self.post(F.TransferResult(False))
            return
        self.post(F.TransferResult(True))

    async def _drop_operator_leg(self, op_id: str) -> None:
        """Hang up one operator leg (ringing or not created) and forget it."""
        self.channels.stop_waiting(op_id)
        with contextlib.suppress(Exception):
            await self.ari.hangup(op_id)
        # Forgotten only once hung up: a call ending meanwhile hangs up whatever is still listed.
        self.operator_legs.discard(op_id)
        self.channels.disown(op_id)

    def _ring_back(self, seconds: float) -> None:
        """Ringing tone while the operator's phone rings, queued after the "please hold" prompt."""
        tone = ringback(seconds)

        async def source() -> AudioChunk:
            return tone

        self.player.play(RINGBACK_PLAYBACK, source)

    def _stop_ring_back(self) -> None:
        self.player.stop(RINGBACK_PLAYBACK)


def trim_silence(chunk: AudioChunk, threshold_db: float = -45.0, pad_ms: int = 100) -> AudioChunk:
    """Cut leading and trailing silence (20 ms frames below `threshold_db`), keeping a little padding."""
    x = chunk.array()
    n = chunk.rate // 50
    if x.size < n:
        return chunk
    frames = x[: x.size - x.size % n].astype(np.float64).reshape(-1, n) / 32768.0
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    voiced = np.flatnonzero(db > threshold_db)
    if voiced.size == 0:
        return AudioChunk.from_array(x[:0], chunk.rate)
    pad = pad_ms * chunk.rate // 1000
    a = max(0, voiced[0] * n - pad)
    b = min(x.size, (voiced[-1] + 1) * n + pad)
    return AudioChunk.from_array(x[a:b], chunk.rate)
