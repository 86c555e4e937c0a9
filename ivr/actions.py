"""What a call does beyond talking: tickets, look-ups, radio, transfer, prompt re-recording.

`CallActions` is mixed into `CallSession` (ivr.app), which provides the services (`s`), the call's
identifiers, its player and finished recordings, and `post()` to feed results back to the flow.
Each action runs as its own task; blocking work goes to threads; every outcome, failure included,
comes back to the flow as an event, so the caller is never left waiting in silence.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid

import numpy as np

from asterisk.dial import dial_targets
from ivr import flow as F
from ivr.ids import PREFIX_OPERATOR
from ivr.prompt_admin import DraftSaved, PromptKept
from ivr.store import STATUS_SPOKEN, spoken_date
from ivr.tones import ringback
from voice.audio import AudioChunk, read_audio, write_wav

logger = logging.getLogger(__name__)

RINGBACK_PLAYBACK = -1  # the player id of the ringing tone (the flow numbers its playbacks from 1)


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


class CallActions:
    """Action coroutines of a call (see the module docstring for what the session provides)."""

    async def _create_ticket(self, name: str, reason: str) -> None:
        chunk = self._finished_recordings.pop(name, None)
        store = self.s.store
        try:
            if chunk is None:
                raise RuntimeError(f"no audio for recording {name}")
            path = await asyncio.to_thread(store.save_recording, chunk, f"{self.call_id}-{name}")
            number = await asyncio.to_thread(
                store.create_ticket,
                call_id=self.call_id,
                caller=self.caller,
                reason=reason,
                audio_path=path,
                duration_ms=int(chunk.duration_s * 1000),
            )
        except Exception as exc:
            logger.error(
                "call %s: ticket could not be stored (audio kept for recovery): %s", self.channel_id, exc
            )
            self._failed_tickets.add(name)
            self.post(F.TicketCreated(None))
            return
        spool = self._spools.pop(name, None)
        if spool is not None:
            spool.close(discard=True)
        logger.info(
            "call %s: ticket %s stored (%s, %.1f s)", self.channel_id, number, reason, chunk.duration_s
        )
        self.post(F.TicketCreated(number))
        # Transcribe after the caller heard the number; this outlives the call.
        self.app.spawn(self._transcribe_ticket(number, chunk), f"transcribe-{number}")

    async def _transcribe_ticket(self, number: str, chunk: AudioChunk) -> None:
        rec = self.s.recognizer
        if rec is None:
            return
        try:
            result = await rec.transcribe(chunk)
            await asyncio.to_thread(self.s.store.set_ticket_transcript, number, result.text or "")
        except Exception as exc:
            logger.warning("ticket %s: transcription failed (audio kept): %s", number, exc)

    async def _save_draft(self, name: str) -> None:
        """Prompt re-recording: keep the take as a draft file (silence trimmed) and play it back."""
        chunk = self._finished_recordings.pop(name, None) if name else None
        path = None
        if chunk is not None:
            chunk = trim_silence(chunk)
            if chunk.duration_s >= 0.3:
                target = self.s.prompts.render_dir / "drafts" / f"{self.media_id}-{name}.wav"
                path = str(await asyncio.to_thread(write_wav, target, chunk))
        self.post(DraftSaved(name, path))  # type: ignore[arg-type]

    async def _keep_prompt(self, key: str, draft: str) -> None:
        prompts = self.s.prompts
        try:
            target = prompts.recordings_dir / f"{key}.wav"
            chunk = await asyncio.to_thread(read_audio, draft)
            await asyncio.to_thread(write_wav, target, chunk)
            prompts.forget(key)
            await prompts.audio(key)  # re-render now, so the next caller hears it
            ok = True
            logger.info("prompt %s re-recorded by phone", key)
        except Exception as exc:
            logger.error("prompt %s could not be saved: %s", key, exc)
            ok = False
        self.post(PromptKept(key, ok))  # type: ignore[arg-type]

    async def _lookup_dossier(self, code: str) -> None:
        try:
            info = await asyncio.to_thread(self.s.dossiers.lookup, code)
        except Exception as exc:
            logger.error("dossier look-up failed: %s", exc)
            info = None
        if info is None:
            self.post(F.DossierResult(code, False))
        else:
            self.post(F.DossierResult(code, True, info.title, info.status, spoken_date(info.updated_at)))

    async def _lookup_ticket(self, number: str) -> None:
        try:
            t = await asyncio.to_thread(self.s.store.ticket, number)
        except Exception as exc:
            logger.error("ticket look-up failed: %s", exc)
            t = None
        if t is None:
            self.post(F.TicketStatusResult(number, False))
        else:
            self.post(F.TicketStatusResult(number, True, STATUS_SPOKEN.get(t.status, t.status), t.reply_note))

    async def _radio(self, commune: str) -> None:
        path = None
        if self.s.radio is not None:
            try:
                path = await asyncio.to_thread(self.s.radio.latest_segment, commune)
            except Exception as exc:
                logger.warning("radio segment look-up failed: %s", exc)
        self.post(F.RadioResult(commune, path))

    async def _transfer(self, endpoint: str, timeout_s: int) -> None:
        """Ring every endpoint of the Dial string at once; the first to answer joins the caller's bridge.

        Each leg is originated with its own channel id (all in `owned`, so none is taken for a caller).
        A leg that cannot be originated (phone not registered: ARI 500) is skipped; the others are hung
        up as soon as one answers. No leg at all, or no answer in time: the caller leaves a message.
        """
        ari = self.s.ari
        legs = {PREFIX_OPERATOR + uuid.uuid4().hex[:12]: target for target in dial_targets(endpoint)}
        answers: dict[asyncio.Future, str] = {}
        for op_id in legs:
            self.operator_legs.add(op_id)
            self.app.owned[op_id] = self
            answers[self.app.expect(op_id)] = op_id  # before originating: StasisStart may come first
        try:
            results = await asyncio.gather(
                *(
                    ari.originate(
                        target,
                        op_id,
                        app_args=f"operator,{self.channel_id}",
                        timeout_s=timeout_s,
                        caller_id=self.caller,
                    )
                    for op_id, target in legs.items()
                ),
                return_exceptions=True,
            )
            failed = []
            for (op_id, target), result in zip(legs.items(), results, strict=True):
                if isinstance(result, BaseException):
                    logger.info("call %s: operator %s cannot ring: %s", self.channel_id, target, result)
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
            logger.info("call %s: %s answered", self.channel_id, legs[winner])
            await asyncio.gather(*(self._drop_operator_leg(op_id) for op_id in losers))
            await ari.remove_from_bridge(self.bridge_id, self.media_id)
            await ari.add_to_bridge(self.bridge_id, winner)
        except Exception as exc:
            self._stop_ring_back()
            logger.info("call %s: transfer to %s not answered: %s", self.channel_id, endpoint, exc)
            self.operator_id = None
            await asyncio.gather(*(self._drop_operator_leg(op_id) for op_id in list(self.operator_legs)))
            self.post(F.TransferResult(False))
            return
        self.post(F.TransferResult(True))

    async def _drop_operator_leg(self, op_id: str) -> None:
        """Hang up one operator leg (ringing or not created) and forget it."""
        self.app.waiters.pop(op_id, None)
        with contextlib.suppress(Exception):
            await self.s.ari.hangup(op_id)
        # Forgotten only once hung up: a call ending meanwhile hangs up whatever is still listed.
        self.operator_legs.discard(op_id)
        self.app.owned.pop(op_id, None)

    def _ring_back(self, seconds: float) -> None:
        """Ringing tone while the operator's phone rings, queued after the "please hold" prompt."""
        if self._player is not None:
            tone = ringback(seconds)

            async def source() -> AudioChunk:
                return tone

            self._player.play(RINGBACK_PLAYBACK, source)

    def _stop_ring_back(self) -> None:
        if self._player is not None:
            self._player.stop(RINGBACK_PLAYBACK)


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
