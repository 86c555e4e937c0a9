"""The hotline application: ARI events, call media, recognition, matching and the call log around `CallFlow`.

One `CallSession` task per call. It owns the call's bridge, externalMedia channel, RTP port,
timers and recognizer stream, and releases all of them in `finally`, whatever ended the call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from core.masking import mask_personal
from ivr import flow as F
from ivr.actions import CallActions
from ivr.ari import AriClient, AriError, channel_of
from ivr.ids import OUR_PREFIXES, PREFIX_BRIDGE, PREFIX_MEDIA, PREFIX_OPERATOR, SPOOL_DIR
from ivr.media import Endpointer, PortPool, Recorder, RtpEndpoint, RtpPlayer, VadConfig
from ivr.prompt_admin import KeepPrompt, SaveDraft
from ivr.prompts import Prompts
from ivr.store import CallStore, DossierSource, mask_caller
from voice.audio import TELEPHONE_RATE, AudioChunk

if TYPE_CHECKING:
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

ASR_BATCH_SAMPLES = TELEPHONE_RATE // 5  # feed the recognizer 200 ms at a time
MIN_VOICED_MS = 300  # a recording with less voice than this is empty


class RadioSource(Protocol):
    """Latest published radio segment for a commune code (the broadcast area provides it)."""

    def latest_segment(self, commune: str) -> str | None: ...


class Understanding:
    """The current intent catalog and matcher; swapped whole on reload, so calls keep a consistent pair."""

    def __init__(self, settings: IvrConfig) -> None:
        self.settings = settings
        self.catalog: Any = None
        self.matcher: Any = None
        self.watcher: Any = None

    def load(self) -> None:
        """Load the catalog (blocking); with hot reload, through the intents area's CatalogWatcher."""
        from intents.watcher import CatalogWatcher

        self.watcher = CatalogWatcher(self.settings)
        self.catalog, self.matcher = self.watcher.current()

    def current(self) -> tuple[Any, Any]:
        """The catalog and matcher now serving, as one pair (a call keeps the pair it started with)."""
        if self.watcher is not None:
            return self.watcher.current()
        return self.catalog, self.matcher


def flow_config(settings: IvrConfig) -> F.FlowConfig:
    f = settings.ivr.flow
    return F.FlowConfig(
        recording_notice=f.recording_notice,
        no_input_ms=int(f.no_input_seconds * 1000),
        max_attempts=f.max_attempts,
        digit_timeout_ms=int(f.digit_timeout_seconds * 1000),
        menu_digit_timeout_ms=int(f.menu_digit_timeout_seconds * 1000),
        feedback_max_seconds=f.feedback_max_seconds,
        feedback_min_ms=int(f.feedback_min_seconds * 1000),
        operator_endpoint=f.operator_endpoint,
        transfer_timeout_s=f.transfer_timeout_seconds,
        rating=f.rating,
        max_call_ms=int(f.max_call_minutes * 60_000),
        barge_in=f.barge_in,
    )


def menu_prompts(catalog: Any) -> dict[str, str]:
    """Spoken keypad menus from the catalog (top level and each group)."""
    out: dict[str, str] = {}
    fn = getattr(catalog, "menu_prompt", None)
    if fn is None:
        return out
    try:
        out[""] = fn(None)
        menu = getattr(catalog, "menu", None)
        for g in getattr(menu, "groups", ()) or ():
            out[str(g.digit)] = fn(g.digit)
    except Exception as exc:
        logger.warning("catalog menu prompts unavailable (%s): using generated menus", exc)
    return out


def build_flow(settings: IvrConfig, catalog: Any, matcher: Any, prompts: Prompts) -> F.CallFlow:
    def match(text: str) -> Any:
        return matcher.match(text)

    return F.CallFlow(
        F.menu_from_catalog(catalog),
        match,
        flow_config(settings),
        prompts.texts.templates,
        menu_prompts=menu_prompts(catalog),
    )


@dataclass
class Services:
    """What calls share: one of each, created at start-up."""

    settings: IvrConfig
    ari: AriClient
    prompts: Prompts
    store: CallStore
    dossiers: DossierSource
    understanding: Understanding
    recognizer: Any | None  # voice.asr.Recognizer; None: speech recognition unavailable (keypad only)
    ports: PortPool
    radio: RadioSource | None = None
    asr_slots: asyncio.Semaphore = field(default_factory=lambda: asyncio.Semaphore(8))


class Hotline:
    """Routes ARI events to call sessions; re-syncs with Asterisk after every (re)connection."""

    def __init__(self, services: Services) -> None:
        self.s = services
        self.sessions: dict[str, CallSession] = {}  # caller channel id -> session
        self.owned: dict[str, CallSession] = {}  # our media/operator channel id -> session
        self.waiters: dict[str, asyncio.Future] = {}  # channel id -> its StasisStart
        self.background: set[asyncio.Task] = set()
        self.finished_sessions = 0

    # --- events ---------------------------------------------------------------------------------

    def on_event(self, ev: dict[str, Any]) -> None:
        kind = ev.get("type")
        ch = channel_of(ev)
        cid = ch.get("id")
        if not isinstance(cid, str):
            return
        if kind == "StasisStart":
            waiter = self.waiters.pop(cid, None)
            if waiter is not None and not waiter.done():
                waiter.set_result(ev)
                return
            if cid.startswith(OUR_PREFIXES) or cid in self.owned:
                return  # our own externalMedia/operator channel: never a caller
            args = ev.get("args") or []
            if args and args[0] == "operator":
                return
            if cid not in self.sessions:
                self._start_session(ch, [str(a) for a in args])
        elif kind == "StasisEnd":
            if cid in self.sessions:
                self.sessions[cid].post(F.Hangup())
            elif cid in self.owned:
                self.owned[cid].channel_gone(cid)
        elif kind == "ChannelDtmfReceived":
            session = self.sessions.get(cid)
            digit = ev.get("digit")
            if session is not None and isinstance(digit, str):
                session.post(F.Dtmf(digit))
        elif kind == "ChannelDestroyed":
            waiter = self.waiters.pop(cid, None)
            if waiter is not None and not waiter.done():
                waiter.set_exception(AriError(f"channel {cid} destroyed ({ev.get('cause_txt', '')})"))
            if cid in self.owned:
                self.owned[cid].channel_gone(cid)
            elif cid in self.sessions:
                self.sessions[cid].post(F.Hangup())

    def expect(self, channel_id: str) -> asyncio.Future:
        fut: asyncio.Future = asyncio.get_running_loop().create_future()
        self.waiters[channel_id] = fut
        return fut

    def _start_session(self, channel: dict[str, Any], args: list[str]) -> None:
        session = CallSession(self, channel, args)
        self.sessions[session.channel_id] = session
        task = asyncio.create_task(session.run(), name=f"call-{session.channel_id}")
        self.background.add(task)
        task.add_done_callback(self.background.discard)

    def spawn(self, coro: Any, name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    # --- (re)connection -------------------------------------------------------------------------

    async def resync(self) -> None:
        """After (re)connecting: adopt callers still in our Stasis app, end sessions whose channel is gone,
        and remove media channels and bridges nobody owns."""
        channels = await self.s.ari.channels()
        present = {c.get("id") for c in channels}
        for cid, session in list(self.sessions.items()):
            if cid not in present and session.started:
                logger.info("call %s vanished while disconnected", cid)
                session.post(F.Hangup())
        for ch in channels:
            cid = ch.get("id", "")
            if cid.startswith((PREFIX_MEDIA, PREFIX_OPERATOR)) and cid not in self.owned:
                logger.info("removing orphan channel %s", cid)
                await self.s.ari.hangup(cid)
                continue
            dialplan = ch.get("dialplan") or {}
            in_our_app = (
                dialplan.get("app_name") == "Stasis"
                and str(dialplan.get("app_data", "")).split(",")[0] == self.s.settings.ivr.app_name
            )
            if (
                in_our_app
                and not cid.startswith(OUR_PREFIXES)
                and cid not in self.sessions
                and cid not in self.owned
                and ch.get("state") in ("Up", "Ring", "Ringing")
            ):
                logger.info("adopting call %s still in Stasis", cid)
                self._start_session(ch, [])
        owned_bridges = {s.bridge_id for s in self.sessions.values()}
        for b in await self.s.ari.bridges():
            bid = b.get("id", "")
            if bid.startswith(PREFIX_BRIDGE) and bid not in owned_bridges:
                logger.info("removing orphan bridge %s", bid)
                await self.s.ari.destroy_bridge(bid)

    async def run(self, stop: asyncio.Event) -> None:
        try:
            await self.s.ari.run(self.on_event, stop, on_connect=self.resync)
        finally:
            for session in list(self.sessions.values()):
                session.post(F.Hangup())
            # Calls end (and store their tickets) first; background work such as pre-rendering is cancelled.
            calls = [
                t
                for t in self.background
                if not t.done() and t.get_name().startswith(("call-", "transcribe-"))
            ]
            if calls:
                await asyncio.wait(calls, timeout=15)
            rest = [t for t in self.background if not t.done()]
            for t in rest:
                t.cancel()
            if rest:
                await asyncio.wait(rest, timeout=5)


class CallSession(CallActions):
    """One call: sets up media, runs the flow, executes its commands, tears everything down."""

    def __init__(self, app: Hotline, channel: dict[str, Any], args: list[str]) -> None:
        self.app = app
        self.s = app.s
        self.channel_id: str = channel["id"]
        caller = channel.get("caller") or {}
        self.caller: str = str(caller.get("number") or "")
        # Exported by the dialplan and listed in ari.conf `channelvars`: the caller's own key to this call.
        self.sip_call_id: str = str((channel.get("channelvars") or {}).get("SIP_CALL_ID") or "")
        self.args = args
        token = uuid.uuid4().hex[:12]
        self.bridge_id = PREFIX_BRIDGE + token
        self.media_id = PREFIX_MEDIA + token
        self.operator_id: str | None = None  # the operator leg that answered (bridged with the caller)
        self.operator_legs: set[str] = set()  # operator channels not yet released (ringing or answered)
        self.queue: asyncio.Queue[F.Event] = asyncio.Queue()
        self.started = False
        self.call_id: int | None = None
        self._t0 = time.monotonic()
        self._timers: dict[str, asyncio.TimerHandle] = {}
        self._turn_seq = 0
        self._listening = False
        self._vad: Endpointer | None = None
        self._utt_queue: asyncio.Queue | None = None
        self._utt_task: asyncio.Task | None = None
        self._recorders: dict[str, Recorder] = {}
        self._recording_names: dict[str, str] = {}
        self._finished_recordings: dict[str, AudioChunk] = {}
        self._spools: dict[str, Recorder] = {}  # finished recordings whose spool file is still on disk
        self._endpoint: RtpEndpoint | None = None
        self._player: RtpPlayer | None = None
        self._port: int | None = None
        self._tasks: set[asyncio.Task] = set()
        self._caller_gone = False
        self._operator_left = False  # the call ends because the operator hung up: the caller is still on
        self._failed_tickets: set[str] = set()  # recordings whose spool must survive for recovery
        self._hangup_sent = False
        self._speech_end_mono: float | None = None
        self._pending_turn: tuple[F.Turn, int] | None = None  # turn waiting for its answer's first audio
        self.flow: F.CallFlow | None = None

    # --- plumbing -------------------------------------------------------------------------------

    def now_ms(self) -> int:
        return int((time.monotonic() - self._t0) * 1000)

    def post(self, event: F.Event) -> None:
        self.queue.put_nowait(event)

    def channel_gone(self, cid: str) -> None:
        if cid == self.operator_id:
            if self.flow is not None and self.flow.state is F.State.BRIDGED:
                logger.info("operator left call %s: ending it", self.channel_id)
                # The teardown hangs up the caller's leg (a hang-up task spawned here would be cancelled
                # with the session's other tasks before it ran).
                self._operator_left = True
                self.post(F.Hangup())
        elif cid == self.media_id and not self._caller_gone:
            logger.warning("media channel of call %s went away", self.channel_id)

    def _spawn(self, coro: Any, name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=f"{name}-{self.channel_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- lifecycle ------------------------------------------------------------------------------

    async def run(self) -> None:
        masked = mask_caller(self.caller)
        logger.info("call %s from %s", self.channel_id, masked)
        try:
            await self._setup()
            self.started = True
            if self.args[:1] == ["prompt-admin"]:
                from ivr.prompt_admin import PromptAdminFlow

                self.flow = PromptAdminFlow()  # type: ignore[assignment]
            else:
                catalog, matcher = self.s.understanding.current()
                self.flow = build_flow(self.s.settings, catalog, matcher, self.s.prompts)
                if self.s.recognizer is None or matcher is None:
                    self.flow.degraded = True
            await self._feed(F.CallStarted(self.caller))
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
            logger.exception("call %s failed", self.channel_id)
        finally:
            await asyncio.shield(self._teardown())

    async def _setup(self) -> None:
        ari, media = self.s.ari, self.s.settings.ivr.media
        self.call_id = await asyncio.to_thread(
            self.s.store.start_call, self.channel_id, self.caller, self.sip_call_id
        )
        await ari.answer(self.channel_id)
        sock, self._port = self.s.ports.bind(media.bind_host)
        self._endpoint = RtpEndpoint(sock, self._port, media.format, on_frame=self._on_frame)
        await self._endpoint.start()
        self._player = RtpPlayer(
            self._endpoint,
            lead_ms=media.playback_lead_ms,
            on_started=self._on_play_started,
            on_finished=lambda pid, ok: self.post(F.PlaybackFinished(pid, ok)),
        )
        self._player.start()
        await ari.create_bridge(self.bridge_id, name=f"hotline {self.channel_id}")
        self.app.owned[self.media_id] = self
        started = self.app.expect(self.media_id)
        host = media.advertised_host or media.bind_host
        resp = await ari.external_media(self.media_id, f"{host}:{self._port}", media.format)
        variables = (resp or {}).get("channelvars") or {}
        rhost, rport = variables.get("UNICASTRTP_LOCAL_ADDRESS"), variables.get("UNICASTRTP_LOCAL_PORT")
        if rhost and rport:
            self._endpoint.set_remote(str(rhost), int(rport))
        # The media channel must be in Stasis before it can join the bridge (else 422).
        await asyncio.wait_for(started, timeout=5)
        await ari.add_to_bridge(self.bridge_id, self.channel_id)
        await ari.add_to_bridge(self.bridge_id, self.media_id)
        self._vad = Endpointer(
            VadConfig(
                rate=TELEPHONE_RATE,
                threshold_db=media.speech_threshold_db,
                noise_margin_db=media.noise_margin_db,
                min_speech_ms=media.min_speech_ms,
                silence_ms=media.endpoint_silence_ms,
                max_utterance_ms=int(media.max_utterance_seconds * 1000),
                preroll_ms=media.preroll_ms,
            )
        )

    async def _teardown(self) -> None:
        ari = self.s.ari
        for handle in self._timers.values():
            handle.cancel()
        self._timers.clear()
        self._stop_utterance()
        # Tickets being stored must finish (a complaint is never lost); other tasks are cancelled.
        pending = [t for t in self._tasks if not t.done() and t.get_name().startswith("ticket")]
        if pending:
            await asyncio.wait(pending, timeout=15)
        for t in list(self._tasks):
            if not t.done():
                t.cancel()
        # Taken now: a cancelled transfer no longer changes them, and every leg still listed is hung up.
        operator_legs = sorted(self.operator_legs | ({self.operator_id} if self.operator_id else set()))
        self._flush_turn(None)
        for rec in list(self._recorders.values()):  # still recording at the very end: keep for recovery
            rec.close(discard=False)
        for name, rec in self._spools.items():  # finished, not stored (too short, prompt drafts)
            rec.close(discard=name not in self._failed_tickets)
        steps: list[tuple[str, Callable[[], Any]]] = []
        if self._player is not None:
            steps.append(("player", self._player.close))
        steps += [
            ("media channel", lambda: ari.hangup(self.media_id)),
            ("bridge", lambda: ari.destroy_bridge(self.bridge_id)),
        ]
        for op_id in operator_legs:
            steps.append(("operator channel", lambda op_id=op_id: ari.hangup(op_id)))
        if not self._caller_gone:
            steps.append(("caller channel", lambda: ari.hangup(self.channel_id)))
        for what, step in steps:
            try:
                result = step()
                if asyncio.iscoroutine(result):
                    await asyncio.wait_for(result, timeout=5)
            except Exception as exc:
                logger.debug("teardown of %s for call %s: %s", what, self.channel_id, exc)
        if self._endpoint is not None:
            stats = self._endpoint.stats
            if stats.garbage or stats.foreign:
                logger.warning(
                    "call %s: %d garbage and %d foreign RTP packets ignored",
                    self.channel_id,
                    stats.garbage,
                    stats.foreign,
                )
            self._endpoint.close()
        if self._port is not None:
            self.s.ports.release(self._port)
        self.app.owned.pop(self.media_id, None)
        self.app.waiters.pop(self.media_id, None)
        for op_id in operator_legs:
            self.app.owned.pop(op_id, None)
            self.app.waiters.pop(op_id, None)
        self.operator_legs.clear()
        self.app.sessions.pop(self.channel_id, None)
        if self.call_id is not None:
            outcome = getattr(self.flow, "outcome", F.Outcome.PROMPT_ADMIN) if self.flow else F.Outcome.FAILED
            degraded = bool(getattr(self.flow, "degraded", False))
            try:
                await asyncio.to_thread(self.s.store.end_call, self.call_id, outcome, degraded)
            except Exception as exc:
                logger.error("call %s: could not close the call log: %s", self.channel_id, exc)
        self.app.finished_sessions += 1
        logger.info("call %s ended (%s)", self.channel_id, getattr(self.flow, "outcome", "setup failed"))

    # --- flow -----------------------------------------------------------------------------------

    async def _feed(self, event: F.Event) -> None:
        assert self.flow is not None
        if isinstance(event, F.SpeechEnded):
            self._speech_end_mono = time.monotonic()
        elif isinstance(event, F.Dtmf):
            self._speech_end_mono = time.monotonic()
        cmds = self.flow.handle(event, self.now_ms())
        await self._execute(cmds)

    async def _execute(self, cmds: list[F.Command]) -> None:
        first_play = next((c.playback_id for c in cmds if isinstance(c, F.Play)), None)
        for c in cmds:
            try:
                await self._do(c, first_play)
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("call %s: command %s failed", self.channel_id, type(c).__name__)

    async def _do(self, c: F.Command, first_play: int | None) -> None:
        if isinstance(c, F.Play):
            assert self._player is not None
            self._player.play(c.playback_id, self._source(c))
        elif isinstance(c, F.StopPlayback):
            if self._player is not None:
                self._player.stop(c.playback_id)
        elif isinstance(c, F.Listen):
            self._set_listening(c.on)
        elif isinstance(c, F.SetTimer):
            self._set_timer(c.name, c.at_ms)
        elif isinstance(c, F.CancelTimer):
            handle = self._timers.pop(c.name, None)
            if handle is not None:
                handle.cancel()
        elif isinstance(c, F.LogTurn):
            if c.turn.response_ms is not None and first_play is not None:
                self._flush_turn(None)
                self._pending_turn = (c.turn, first_play)
            else:
                self._write_turn(c.turn)
        elif isinstance(c, F.StartRecording):
            self._start_recording(c.name, c.max_seconds)
        elif isinstance(c, F.StopRecording):
            self._stop_recording(c.name)
        elif isinstance(c, F.CreateTicket):
            self._spawn(self._create_ticket(c.recording, c.reason), "ticket")
        elif isinstance(c, F.LookupDossier):
            self._spawn(self._lookup_dossier(c.code), "dossier")
        elif isinstance(c, F.LookupTicket):
            self._spawn(self._lookup_ticket(c.number), "ticket-status")
        elif isinstance(c, F.PlayRadio):
            self._spawn(self._radio(c.commune), "radio")
        elif isinstance(c, F.Transfer):
            self._spawn(self._transfer(c.endpoint, c.timeout_s), "transfer")
        elif isinstance(c, F.SetSatisfaction):
            if self.call_id is not None:
                await asyncio.to_thread(self.s.store.set_satisfaction, self.call_id, c.score)
        elif isinstance(c, SaveDraft):
            self._spawn(self._save_draft(c.recording), "draft")
        elif isinstance(c, KeepPrompt):
            self._spawn(self._keep_prompt(c.key, c.path), "keep-prompt")
        elif isinstance(c, F.HangUp):
            self._hangup_sent = True
            self._spawn(self.s.ari.hangup(self.channel_id), "hangup")

    def _source(self, c: F.Play) -> Callable[[], Any]:
        prompts = self.s.prompts
        if c.key is not None:
            key = c.key
            return lambda: prompts.audio(key)
        if c.file is not None:
            path = c.file
            return lambda: prompts.file_audio(path)
        text = c.text or ""
        return lambda: prompts.text_audio(text)

    def _set_timer(self, name: str, at_ms: int) -> None:
        old = self._timers.pop(name, None)
        if old is not None:
            old.cancel()
        delay = max(0.0, (at_ms - self.now_ms()) / 1000)
        self._timers[name] = asyncio.get_running_loop().call_later(delay, self.post, F.TimerFired(name))

    # --- call log -------------------------------------------------------------------------------

    def _write_turn(self, turn: F.Turn) -> None:
        if self.call_id is None:
            return
        self._turn_seq += 1
        seq, call_id = self._turn_seq, self.call_id
        logger.info(
            "call %s turn %d: %s %s -> %s %s (%s ms)",
            self.channel_id,
            seq,
            turn.kind,
            mask_personal(turn.transcript or turn.dtmf),
            turn.intent,
            turn.action or "",
            turn.response_ms,
        )
        self._spawn(asyncio.to_thread(self.s.store.log_turn, call_id, seq, turn), "turn")

    def _on_play_started(self, playback_id: int, at: float) -> None:
        if self._pending_turn is not None and self._pending_turn[1] == playback_id:
            self._flush_turn(at)

    def _flush_turn(self, first_audio: float | None) -> None:
        """Write the held turn; its latency is end of speech (or key) -> first audio of the answer."""
        if self._pending_turn is None:
            return
        turn, _ = self._pending_turn
        self._pending_turn = None
        if first_audio is not None and self._speech_end_mono is not None:
            measured = int(round((first_audio - self._speech_end_mono) * 1000))
            turn = F.Turn(**{**turn.__dict__, "response_ms": max(0, measured)})
        self._write_turn(turn)

    # --- caller audio: VAD, recognition, recording ---------------------------------------------

    def _on_frame(self, frame: np.ndarray) -> None:
        silence_ms = self.s.settings.ivr.flow.record_silence_seconds * 1000
        for rec in list(self._recorders.values()):
            rec.add(frame)
            if rec.full.is_set() or rec.trailing_silence_ms >= silence_ms:
                self._stop_recording(self._recording_names[rec.name])
        if not self._listening or self._vad is None:
            return
        for ev in self._vad.process(frame):
            if ev.kind == "start":
                self.post(F.SpeechStarted())
                self._begin_utterance(ev.audio)
            elif ev.kind == "audio":
                if self._utt_queue is not None:
                    self._utt_queue.put_nowait(ev.audio)
            else:
                self.post(F.SpeechEnded())
                if self._utt_queue is not None:
                    self._utt_queue.put_nowait(None)
                self._utt_queue = None
                self._utt_task = None

    def _set_listening(self, on: bool) -> None:
        if on == self._listening:
            return
        self._listening = on
        if self._vad is not None:
            self._vad.reset()
        if not on:
            self._stop_utterance()

    def _stop_utterance(self) -> None:
        if self._utt_task is not None and not self._utt_task.done():
            self._utt_task.cancel()
        self._utt_task = None
        self._utt_queue = None

    def _begin_utterance(self, preroll: np.ndarray | None) -> None:
        self._stop_utterance()
        queue: asyncio.Queue = asyncio.Queue()
        if preroll is not None and preroll.size:
            queue.put_nowait(preroll)
        self._utt_queue = queue
        self._utt_task = self._spawn(self._recognize(queue), "asr")

    async def _recognize(self, queue: asyncio.Queue) -> None:
        rec = self.s.recognizer
        if rec is None:
            self.post(F.EngineFailure("asr", "no recognizer"))
            return
        slots = self.s.asr_slots
        if slots.locked():
            logger.warning(
                "call %s: all %s recognition slots busy: keypad fallback",
                self.channel_id,
                self.s.settings.ivr.max_recognitions,
            )
            self.post(F.EngineFailure("pool", "recognition slots saturated"))
            return
        await slots.acquire()
        stream = None
        try:
            stream = rec.open_stream(TELEPHONE_RATE)
            buf: list[np.ndarray] = []
            size = 0
            while True:
                item = await queue.get()
                if item is None:
                    ended = time.monotonic()  # end of speech: the recognizer's latency counts from here
                    break
                buf.append(item)
                size += item.size
                if size >= ASR_BATCH_SAMPLES:
                    await stream.accept(AudioChunk.from_array(np.concatenate(buf), TELEPHONE_RATE))
                    buf, size = [], 0
            if buf:
                await stream.accept(AudioChunk.from_array(np.concatenate(buf), TELEPHONE_RATE))
            result = await asyncio.wait_for(stream.finish(), timeout=self.s.settings.ivr.asr_timeout_seconds)
            stream = None
            asr_ms = int((time.monotonic() - ended) * 1000)
            self.post(F.AsrFinal(result.text or "", getattr(result, "confidence", None), asr_ms))
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            logger.warning("call %s: speech recognition failed: %s", self.channel_id, exc)
            self.post(F.EngineFailure("asr", str(exc)))
        finally:
            if stream is not None:
                with contextlib.suppress(Exception):
                    stream.close()
            slots.release()

    def _start_recording(self, name: str, max_seconds: int) -> None:
        spool = self.s.store.recordings_dir / SPOOL_DIR / f"{self.call_id}-{self.media_id}-{name}.raw"
        rec = Recorder(f"{self.channel_id}-{name}", max_seconds, spool=spool)
        self._recorders[rec.name] = rec
        self._recording_names[rec.name] = name

    def _stop_recording(self, name: str) -> None:
        key = f"{self.channel_id}-{name}"
        rec = self._recorders.pop(key, None)
        if rec is None:
            return
        self._recording_names.pop(key, None)
        self._finished_recordings[name] = rec.chunk()
        self._spools[name] = rec
        rec.close(discard=False)  # kept until the ticket holding this audio is committed
        # A recording without voice is empty, however long it ran.
        duration = rec.duration_ms if rec.voiced_ms >= MIN_VOICED_MS else 0
        self.post(F.RecordingFinished(name, duration, ok=True))
