"""One call: ARI set-up, the flow's events in and its commands out, and the teardown in `finally`.

The session owns the call's lifecycle (answer, bridge, externalMedia channel, RTP port, timers) and
dispatches the flow's commands; listening is the `CallListener`'s (it reports back through the hooks
below), what a call does beyond talking is the `ActionRunner`'s, the call log's turns the `TurnLog`'s.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from asterisk.secrets import operator_users
from core.callerid import national_caller
from core.masking import mask_personal
from core.metrics import ErrorStage, count_error
from ivr import flow as F
from ivr.actions import ActionRunner, CallEvent, CallInfo
from ivr.ari import AriError, mapping, text
from ivr.ids import PREFIX_BRIDGE, PREFIX_MEDIA, SPOOL_DIR
from ivr.listener import CallListener, ListenerSettings
from ivr.media import CallMedia
from ivr.orphans import to_fallback
from ivr.prompt_admin import CheckPin, KeepPrompt, PromptAdminFlow, SaveDraft
from ivr.prompt_pin import seat_of
from ivr.services import build_flow
from ivr.store import mask_caller
from ivr.turns import TurnLog
from voice import aec
from voice.asr.base import AsrResult
from voice.audio import AudioChunk
from voice.echo import EchoReference, EchoSettings

if TYPE_CHECKING:
    from ivr.app import Hotline

logger = logging.getLogger(__name__)

STEP_TIMEOUT_S = 5  # each ARI step of the teardown
TICKETS_TIMEOUT_S = 15  # tickets being stored when the call ends may take this long


class CallLogic(Protocol):
    """The call's state machine (`flow.CallFlow`, or `PromptAdminFlow` on the prompt extension)."""

    @property
    def state(self) -> str: ...

    def handle(self, event: Any, now_ms: int) -> list[Any]: ...


class CallSession:
    """One call: sets up media, runs the flow, executes its commands, tears everything down."""

    def __init__(self, app: Hotline, channel: dict[str, Any], args: list[str]) -> None:
        self.app = app
        self.s = app.s
        self.channel_id: str = channel["id"]
        # Fields of the event are taken only with the type ARI gives them: anything else reads as absent.
        caller = mapping(channel.get("caller"))
        number, name = text(caller.get("number")), text(caller.get("name"))
        self.caller: str = national_caller(number, name) or ""  # "": withheld
        # Exported by the dialplan and listed in ari.conf `channelvars`: the caller's own key to this call.
        self.sip_call_id: str = text(mapping(channel.get("channelvars")).get("SIP_CALL_ID"))
        # Asterisk names the channel after the endpoint that authenticated (the caller cannot choose it).
        self.channel_name = text(channel.get("name"))
        self.seat = ""  # the operator seat calling, if it is one (set up in _setup): may re-record prompts
        self.args = args
        # Where the channel is in the dialplan: a call that cannot be set up continues there, at the
        # `fallback` label (the dialplan's apology, operators, then a message), instead of being hung up.
        dialplan = mapping(channel.get("dialplan"))
        self.dialplan_at = (text(dialplan.get("context")), text(dialplan.get("exten")))
        token = uuid.uuid4().hex[:12]
        self.bridge_id = PREFIX_BRIDGE + token
        self.media_id = PREFIX_MEDIA + token
        self.queue: asyncio.Queue[CallEvent] = asyncio.Queue()
        self.started = False
        self.call_id: int | None = None
        self.flow: CallLogic | None = None
        self.media: CallMedia | None = None
        self.listener: CallListener | None = None
        self.actions: ActionRunner | None = None
        self.turns: TurnLog | None = None
        self._t0 = time.monotonic()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._tasks: set[asyncio.Task[Any]] = set()
        self._caller_gone = False
        self._operator_left = False  # the call ends because the operator hung up: the caller is still on
        self._ending = False  # the teardown runs: our own channels going away is expected

    # --- plumbing -------------------------------------------------------------------------------

    def now_ms(self) -> int:
        return int((time.monotonic() - self._t0) * 1000)

    def post(self, event: CallEvent) -> None:
        self.queue.put_nowait(event)

    def channel_gone(self, cid: str) -> None:
        """One of our channels (media, operator leg) left Stasis or was destroyed."""
        operator = self.actions.operator_id if self.actions is not None else None
        if cid == operator:
            if self.flow is not None and self.flow.state == F.State.BRIDGED:
                logger.info("operator left call %s: ending it", self.channel_id)
                # The teardown hangs up the caller's leg (a hang-up task spawned here would be cancelled
                # with the session's other tasks before it ran).
                self._operator_left = True
                self.post(F.Hangup())
        elif cid == self.media_id and not self._caller_gone and not self._ending:
            logger.warning("media channel of call %s went away", self.channel_id)

    def _spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task[Any]:
        task = asyncio.create_task(coro, name=f"{name}-{self.channel_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- the channel book (operator legs routed to this call: ActionRunner) -----------------------

    def expect(self, channel_id: str) -> asyncio.Future[Any]:
        return self.app.expect(channel_id)

    def stop_waiting(self, channel_id: str) -> None:
        self.app.waiters.pop(channel_id, None)

    def own(self, channel_id: str) -> None:
        self.app.owned[channel_id] = self

    def disown(self, channel_id: str) -> None:
        self.app.owned.pop(channel_id, None)

    # --- listener hooks -------------------------------------------------------------------------

    def on_speech_started(self) -> None:
        self.post(F.SpeechStarted())

    def on_speech_ended(self) -> None:
        self.post(F.SpeechEnded())

    def on_partial_transcript(self, result: AsrResult) -> None:
        logger.debug("call %s partial: %s", self.channel_id, mask_personal(result.text))
        self.post(F.AsrPartial(result.text))

    def on_tentative_transcript(self, text: str) -> None:
        """The words at a pause, before the turn is known to end: the answer they ask for is made ready
        (its audio read or synthesized into the prompt cache), so that it plays at once if the turn ends
        here. Speculative: the flow is not told, nothing is logged, no action runs."""
        flow = self.flow
        if not text or not isinstance(flow, F.CallFlow) or flow.state not in (F.State.INTRO, F.State.MAIN):
            return
        decision = flow.match(text)
        item = flow.asking.by_id.get(decision.intent or "")
        prompts = self.s.prompts
        if item is None or item.action or not item.answer or prompts.cached_text(item.answer) is not None:
            return
        self._spawn(self._prepare_answer(item.answer), "answer-ahead")

    async def _prepare_answer(self, text: str) -> None:
        try:
            await self.s.prompts.text_audio(text)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # played later the usual way, with its own error handling
            logger.debug("call %s: answer not prepared ahead: %s", self.channel_id, exc)

    def on_final_transcript(self, result: AsrResult, asr_ms: int) -> None:
        self.post(F.AsrFinal(result.text or "", result.confidence, asr_ms))

    def on_recognition_failed(self, stage: str, detail: str) -> None:
        count_error(ErrorStage.ASR_BUSY if stage == "pool" else ErrorStage.ASR)
        self.post(F.EngineFailure(stage, detail))

    def on_recording_finished(self, name: str, duration_ms: int) -> None:
        self.post(F.RecordingFinished(name, duration_ms, ok=True))

    # --- lifecycle ------------------------------------------------------------------------------

    async def run(self) -> None:
        logger.info("call %s from %s", self.channel_id, mask_caller(self.caller))
        # Handed to the call log, never awaited: a locked database or a full disk does not hold the answer.
        self.s.calllog.start(self.channel_id, self.caller, self.sip_call_id, on_id=self._call_logged)
        observer = self._turn_written if self.s.review is not None else None
        self.turns = TurnLog(self.channel_id, self.s.calllog, observer=observer)
        try:
            # Looked up while the call is set up: the greeting is not delayed by it.
            emergency = self._spawn(self._current_emergency(), "emergency")
            await self._setup()
            self.started = True
            self.flow = self._new_flow()
            notice = await emergency if isinstance(self.flow, F.CallFlow) else None
            await self._feed(F.CallStarted(self.caller, emergency=notice))
            while self.flow.state != F.State.ENDED:
                event = await self.queue.get()
                if isinstance(event, F.Hangup) and not self._operator_left:
                    self._caller_gone = True
                await self._feed(event)
        except asyncio.CancelledError:
            raise
        except AriError as exc:  # typically the caller hung up during set-up
            logger.warning("call %s: %s", self.channel_id, exc)
        except Exception:
            count_error(ErrorStage.CALL)
            logger.exception("call %s failed", self.channel_id)
        finally:
            await asyncio.shield(self.teardown())

    async def _current_emergency(self) -> str | None:
        """The province-wide emergency notice airing now, if any (a failing look-up costs only that)."""
        radio = self.s.radio
        if radio is None or self.args[:1] == ["prompt-admin"]:
            return None
        try:
            return await asyncio.to_thread(radio.current_emergency)
        except Exception as exc:  # the database or the radio side: the call goes on without it
            logger.warning("call %s: emergency notice look-up failed: %s", self.channel_id, exc)
            return None

    def _turn_written(self, seq: int, turn: F.Turn) -> None:
        """Every turn goes on to the review queue; a speech turn with the audio the recognizer heard."""
        review = self.s.review
        if review is None:
            return
        audio = None
        if turn.kind == F.TurnKind.SPEECH and self.listener is not None:
            audio = self.listener.take_utterance(turn.transcript)
        review.turn(self.channel_id, seq, turn, audio)

    def _call_logged(self, call_id: int) -> None:
        """The call's row is in the database (tickets link to it)."""
        self.call_id = call_id
        if self.actions is not None:
            self.actions.call = dataclasses.replace(self.actions.call, call_id=call_id)

    def _new_flow(self) -> CallLogic:
        if self.args[:1] == ["prompt-admin"]:
            if not self.seat:
                logger.warning("call %s: prompt re-recording refused: not an operator seat", self.channel_id)
            return PromptAdminFlow(allowed=bool(self.seat))
        catalog, matcher = self.s.understanding.current()
        flow = build_flow(self.s.settings, catalog, matcher, self.s.prompts, self.s.communes)
        if self.s.recognizer is None or matcher is None:
            flow.degraded = True
        return flow

    async def _media_format(self) -> str:
        """The RTP format to the application: the caller's own G.711 law when `auto`, so the bridge
        passes audio through without transcoding (A-law from the public network, mu-law from phones)."""
        configured = self.s.settings.ivr.media.format
        if configured != "auto":
            return configured
        try:
            native = await self.s.ari.variable(self.channel_id, "CHANNEL(audionativeformat)")
        except Exception as exc:  # the call goes on in mu-law: Asterisk transcodes
            logger.warning("call %s: codec unknown (%s): using ulaw", self.channel_id, exc)
            return "ulaw"
        return "alaw" if "alaw" in native and "ulaw" not in native else "ulaw"

    async def _setup(self) -> None:
        s = self.s
        ari, media_settings = s.ari, s.settings.ivr.media
        turns = self.turns
        assert turns is not None
        self.seat = seat_of(self.channel_name, operator_users(s.settings.ivr.asterisk.operator_seats))
        _, fmt = await asyncio.gather(ari.answer(self.channel_id), self._media_format())
        self.media = media = await CallMedia.open(
            s.ports,
            media_settings,
            fmt,
            on_play_started=turns.playback_started,
            on_play_finished=lambda pid, ok: self.post(F.PlaybackFinished(pid, ok)),
        )
        self.listener = self._new_listener(media)
        media.deliver_to(self.listener.on_chunk)
        self.actions = ActionRunner(
            CallInfo(self.channel_id, self.caller, self.bridge_id, self.media_id, self.call_id, self.seat),
            ari=ari,
            store=s.store,
            dossiers=s.dossiers,
            prompts=s.prompts,
            radio=s.radio,
            transcriber=s.recognizer,
            player=media.player,
            recordings=self.listener,
            channels=self,
            post=self.post,
            spawn_background=self.app.spawn,
            rota=s.rota,
            tickets=s.tickets,
            prompt_pin=s.prompt_pin,
            prompt_history=s.prompt_history,
            jobs=s.jobs,
        )
        await ari.create_bridge(self.bridge_id, name=f"hotline {self.channel_id}")
        self.app.owned[self.media_id] = self
        started = self.app.expect(self.media_id)
        host = media_settings.advertised_host or media_settings.bind_host
        resp = await ari.external_media(self.media_id, f"{host}:{media.port}", fmt)
        await self._expect_rtp_from(resp)
        # The media channel must be in Stasis before it can join the bridge (else 422).
        await asyncio.wait_for(started, timeout=5)
        await ari.add_to_bridge(self.bridge_id, self.channel_id)
        await ari.add_to_bridge(self.bridge_id, self.media_id)

    async def _expect_rtp_from(self, resp: dict[str, Any] | None) -> None:
        """Tell the endpoint where Asterisk's RTP comes from: only that source may take the port."""
        assert self.media is not None
        variables = (resp or {}).get("channelvars") or {}
        rhost, rport = variables.get("UNICASTRTP_LOCAL_ADDRESS"), variables.get("UNICASTRTP_LOCAL_PORT")
        if not (rhost and rport):  # not in the response (older Asterisk): ask for the variables
            try:
                rhost = await self.s.ari.variable(self.media_id, "UNICASTRTP_LOCAL_ADDRESS")
                rport = await self.s.ari.variable(self.media_id, "UNICASTRTP_LOCAL_PORT")
            except AriError as exc:
                logger.debug("call %s: RTP address of the media channel unknown: %s", self.channel_id, exc)
        if rhost and str(rport).isdigit():
            self.media.endpoint.set_remote(str(rhost), int(str(rport)))
        else:
            logger.warning(
                "call %s: Asterisk did not announce its RTP address: the first RTP stream is accepted",
                self.channel_id,
            )
            self.media.endpoint.accept_first_source()

    async def _to_dialplan_fallback(self) -> None:
        """The call could not be set up: the caller goes on in the dialplan at its `fallback` label
        (an apology, every operator seat, then a message), never to dead air or a hang-up."""
        context, exten = self.dialplan_at
        exten = exten or self.s.settings.ivr.asterisk.extension
        if await to_fallback(self.s.ari, self.channel_id, context, exten):
            logger.warning("call %s: set-up failed: handed to the dialplan's fallback", self.channel_id)

    async def teardown(self) -> None:
        """Release everything the call holds, in order, whatever ended it (each step guarded)."""
        self._ending = True
        # 1. No more input: timers, listening, recognition.
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        if self.listener is not None:
            self.listener.stop()
        # 2. Tickets being stored must finish (a complaint is never lost); other tasks are cancelled.
        pending = [t for t in self._tasks if not t.done() and t.get_name().startswith("ticket")]
        if pending:
            await asyncio.wait(pending, timeout=TICKETS_TIMEOUT_S)
        for t in list(self._tasks):
            if not t.done():
                t.cancel()
        # Taken now: a cancelled transfer no longer changes them, and every leg still listed is hung up.
        operator_legs = self.actions.operator_channels() if self.actions is not None else []
        # 3. The call log's held turn, and the recordings' spools.
        if self.turns is not None:
            self.turns.flush(None)
        if self.s.review is not None:
            self.s.review.end(self.channel_id)
        if self.listener is not None:
            self.listener.close()
        # 4. What we created in Asterisk, then the caller's leg unless it is gone.
        steps: list[tuple[str, Callable[[], Awaitable[Any]]]] = []
        if self.media is not None:
            steps.append(("player", self.media.stop_playback))
        ari = self.s.ari
        steps += [
            ("media channel", lambda: ari.hangup(self.media_id)),
            ("bridge", lambda: ari.destroy_bridge(self.bridge_id)),
        ]
        steps += [("operator channel", functools.partial(ari.hangup, op_id)) for op_id in operator_legs]
        if not self._caller_gone and not self.started and self.args[:1] != ["prompt-admin"]:
            steps.append(("caller channel", self._to_dialplan_fallback))
        elif not self._caller_gone:
            steps.append(("caller channel", lambda: ari.hangup(self.channel_id)))
        for what, step in steps:
            try:
                await asyncio.wait_for(step(), timeout=STEP_TIMEOUT_S)
            except Exception as exc:
                logger.debug("teardown of %s for call %s: %s", what, self.channel_id, exc)
        # 5. Our side: the RTP port, and the router's view of this call.
        if self.media is not None:
            self.media.close(self.channel_id)
        for cid in (self.media_id, *operator_legs):
            self.app.owned.pop(cid, None)
            self.app.waiters.pop(cid, None)
        if self.actions is not None:
            self.actions.operator_legs.clear()
        self.app.sessions.pop(self.channel_id, None)
        # 6. Close the call log (written by the call log's own task).
        outcome = getattr(self.flow, "outcome", F.Outcome.PROMPT_ADMIN) if self.flow else F.Outcome.FAILED
        self.s.calllog.end(self.channel_id, outcome, bool(getattr(self.flow, "degraded", False)))
        self.app.finished_sessions += 1
        logger.info("call %s ended (%s)", self.channel_id, getattr(self.flow, "outcome", "setup failed"))

    def _new_listener(self, media: CallMedia) -> CallListener:
        """The call's listener with the shared turn-taking models; the player reports what it sends,
        so our own prompt coming back from the line does not barge in."""
        s, cfg = self.s, self.s.settings.ivr.media
        tt = s.turn_taking
        barge = cfg.barge_in
        echo = EchoReference(
            EchoSettings(
                window_ms=barge.echo_window_ms,
                margin_db=barge.echo_margin_db,
                background_margin_db=barge.background_margin_db,
            ),
            canceller=aec.for_call(media.rate) if barge.echo_cancel else None,
        )
        media.player.on_frame = echo.played
        judge = tt.judge if tt is not None else None
        words = tt.words if tt is not None else None
        return CallListener(
            self,
            call=self.channel_id,
            rate=media.rate,
            admission=s.asr,
            recognizer=s.recognizer,
            settings=ListenerSettings.from_settings(s.settings.ivr, turn_model=(judge or words) is not None),
            detector=tt.detector() if tt is not None else None,
            turn=judge,
            echo=echo,
            text_turn=words,
        )

    # --- flow -----------------------------------------------------------------------------------

    async def _feed(self, event: CallEvent) -> None:
        assert self.flow is not None
        if isinstance(event, F.SpeechEnded | F.Dtmf) and self.turns is not None:
            self.turns.input_ended = time.monotonic()
        await self.execute(self.flow.handle(event, self.now_ms()))
        if self.listener is not None:  # a code said digit by digit may pause longer between groups
            self.listener.collecting_code = getattr(self.flow, "state", None) is F.State.COLLECT

    async def execute(self, cmds: list[Any]) -> None:
        """Carry out the flow's commands in order; a failing command is logged, the others still run."""
        first_play = next((c.playback_id for c in cmds if isinstance(c, F.Play)), None)
        for c in cmds:
            try:
                await self._do(c, first_play)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("call %s: command %s failed", self.channel_id, type(c).__name__)

    async def _do(self, c: Any, first_play: int | None) -> None:
        if isinstance(c, F.SetTimer):
            self._set_timer(c.name, c.at_ms)
        elif isinstance(c, F.CancelTimer):
            handle = self._timers.pop(c.name, None)
            if handle is not None:
                handle.cancel()
        elif isinstance(c, F.HangUp):
            self._spawn(self.s.ari.hangup(self.channel_id), "hangup")
        elif isinstance(c, F.LogTurn):
            assert self.turns is not None
            self.turns.log(c.turn, first_play)
        elif isinstance(c, F.Listen | F.StartRecording | F.StopRecording):
            self._listener_do(c)
        else:
            await self._action_do(c)

    def _listener_do(self, c: F.Listen | F.StartRecording | F.StopRecording) -> None:
        listener = self.listener
        assert listener is not None
        if isinstance(c, F.Listen):
            listener.listen(c.on)
        elif isinstance(c, F.StartRecording):
            spool = self.s.store.recordings_dir / SPOOL_DIR / f"{self.call_id}-{self.media_id}-{c.name}.raw"
            listener.start_recording(c.name, c.max_seconds, spool)
        else:
            listener.stop_recording(c.name)

    async def _action_do(self, c: Any) -> None:
        actions = self.actions
        assert actions is not None
        if isinstance(c, F.Play) and c.file is not None:
            path, prompts = c.file, self.s.prompts
            actions.player.play_stream(c.playback_id, lambda: prompts.file_stream(path))
        elif isinstance(c, F.Play):
            actions.player.play(c.playback_id, self._source(c))
        elif isinstance(c, F.StopPlayback):
            actions.player.stop(c.playback_id)
        elif isinstance(c, F.CreateTicket):
            self._spawn(actions.create_ticket(c.recording, c.reason, c.min_ms, c.commune, c.topic), "ticket")
        elif isinstance(c, F.LookupDossier):
            self._spawn(actions.lookup_dossier(c.code), "dossier")
        elif isinstance(c, F.LookupTicket):
            self._spawn(actions.lookup_ticket(c.number), "ticket-status")
        elif isinstance(c, F.PlayRadio):
            self._spawn(actions.radio(c.commune), "radio")
        elif isinstance(c, F.Transfer):
            self._spawn(actions.transfer(c.endpoint, c.timeout_s, c.duty), "transfer")
        elif isinstance(c, F.SetSatisfaction):
            self.s.calllog.satisfaction(self.channel_id, c.score)
        elif isinstance(c, CheckPin):
            self._spawn(actions.check_pin(c.pin), "check-pin")
        elif isinstance(c, SaveDraft):
            self._spawn(actions.save_draft(c.recording), "draft")
        elif isinstance(c, KeepPrompt):
            self._spawn(actions.keep_prompt(c.key, c.path), "keep-prompt")

    def _source(self, c: F.Play) -> Callable[[], Coroutine[Any, Any, AudioChunk]]:
        prompts = self.s.prompts
        if c.key is not None:
            key = c.key

            async def fixed() -> AudioChunk:
                chunk = await prompts.audio(key)
                self._played(key, chunk, prompts.human_share(key=key))
                return chunk

            return fixed
        text = c.text or ""

        async def dynamic() -> AudioChunk:
            chunk = await prompts.text_audio(text)
            self._played(prompts.label_of(text), chunk, prompts.human_share(text=text))
            return chunk

        return dynamic

    def _played(self, prompt: str, chunk: AudioChunk, share: float) -> None:
        """Coverage: what the caller is about to hear and how much of it is a human voice."""
        audio_ms = int(round(chunk.duration_s * 1000))
        self.s.calllog.play(self.channel_id, prompt, audio_ms, int(round(audio_ms * share)))

    def _set_timer(self, name: str, at_ms: int) -> None:
        old = self._timers.pop(name, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, (at_ms - self.now_ms()) / 1000)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, self.post, F.TimerFired(name))
