"""Start-up of the ARI application: the services calls share, built once, then `run_hotline`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from asterisk.handle import handle_for
from core.db import engine_for, session_factory
from ivr import flow as F
from ivr import ticket_gauge
from ivr.admission import AsrAdmission
from ivr.app import Hotline
from ivr.ari import AriClient, AriConfig
from ivr.attempts import AttemptLog
from ivr.calllog import CallLog
from ivr.fallback_messages import messages_dir, watch_messages
from ivr.ids import SPOOL_DIR
from ivr.prompt_history import PromptHistory
from ivr.prompt_pin import PromptPin, pin_limit
from ivr.prompts import Prompts
from ivr.review_queue import ReviewQueue
from ivr.review_store import ReviewStore
from ivr.rtp import PortPool
from ivr.services import RadioSource, Services, Understanding, build_flow, duty_rota, team_sentences
from ivr.store import CallStore, SqlDossierSource, recover_spool, seed_dossiers
from ivr.ticket_rules import ticket_rules
from ivr.ticket_status import TicketStatusByPhone, ticket_limit
from ivr.turn_taking import TurnTaking

if TYPE_CHECKING:
    from ivr.audit import AuditSink
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

CALL_LOG_JOURNAL = "spool/call-log.jsonl"  # under the data directory: call log rows the database refused


def call_log_journal(worker: str | None) -> str:
    """The call log's journal under the data directory: one per call worker, since workers on one machine
    share the directory and a journal is replayed and removed by the process that wrote it."""
    if worker is None:
        return CALL_LOG_JOURNAL
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", worker)
    return CALL_LOG_JOURNAL.replace(".jsonl", f"-{safe}.jsonl")


def ari_config(settings: IvrConfig) -> AriConfig:

    handle = handle_for(settings)
    return AriConfig(
        url=handle.ari_url,
        user=handle.ari_user,
        password=handle.ari_password,
        app=settings.ivr.app_name,
        max_backoff_s=settings.ivr.reconnect_max_seconds,
    )


def _prompt_pin(settings: IvrConfig) -> str:
    """The prompt re-recording PIN from var/asterisk/secrets.json ("" when there is none: refused)."""
    try:
        secrets = handle_for(settings).secrets
    except Exception as exc:
        logger.error("prompt re-recording by phone unavailable: no PIN (%s)", exc)
        return ""
    return secrets.prompt_pin if secrets is not None else ""


async def build_services(
    settings: IvrConfig,
    *,
    recognizer: Any = "auto",
    synth: Any = "auto",
    ari: AriClient | None = None,
    radio: RadioSource | None = None,
    communes: F.CommuneFinder | None = None,
    audit: AuditSink | None = None,
    commune_names: Iterable[str] = (),
    worker: str | None = None,
) -> Services:
    """Everything calls share, on a database whose schema is current.

    Failures of optional parts are logged and the hotline runs degraded. `radio` plays commune radio by
    phone, `communes` tells which commune a caller means (for its digital technology team) and `audit`
    writes to the console's audit log (prompts re-recorded by phone are refused without it); the
    service that assembles the product passes all three, and `commune_names` (word bank units).
    `worker` (a call worker beside others, ivr.workers.worker_id): its calls carry that id, and at start
    only the calls left open and recordings interrupted under that id are closed and recovered; the other
    workers' are live.
    """
    factory = session_factory(engine_for(settings))
    rules = ticket_rules(settings.ivr.tickets, settings.locale.time_zone)
    store = CallStore(factory, settings.data_dir / settings.ivr.recordings_dir, rules, worker=worker)
    ticket_gauge.watch(store.count_overdue)
    calllog = CallLog(store, settings.data_dir / call_log_journal(worker))
    await _recover(store, calllog)
    if synth == "auto":
        try:
            from voice.tts import Synthesizer

            synth = Synthesizer.from_settings(settings)
        except Exception as exc:
            logger.error("speech synthesis unavailable (%s): only recorded prompts can play", exc)
            synth = None
    if recognizer == "auto":
        try:
            from voice.asr import Recognizer

            recognizer = Recognizer.from_settings(settings)
        except Exception as exc:
            logger.error("speech recognition unavailable (%s): calls use the keypad menu", exc)
            recognizer = None
    understanding = Understanding(settings)
    try:
        await asyncio.to_thread(understanding.load)
    except Exception as exc:
        logger.error("intent catalog unavailable (%s): calls use the keypad menu", exc)
    prompts = Prompts(settings, synth, commune_names=commune_names)
    catalog = understanding.catalog
    menus: list[str] = []
    if catalog is not None:
        flow = build_flow(settings, catalog, understanding.matcher, prompts)
        menus = flow.keypad_menu_texts()
    started = time.monotonic()
    report = await prompts.prepare(menus)
    bad = {k: v for k, v in report.items() if v != "ok"}
    logger.info(
        "prompts ready in %.1f s (%d fixed, %d menus, %d failed)",
        time.monotonic() - started,
        len(prompts.texts.prompts),
        len(menus),
        len(bad),
    )
    attempts = AttemptLog(factory)
    review = settings.ivr.review
    review_queue = ReviewQueue(
        ReviewStore(factory, settings.data_dir / review.audio_dir),
        call_id=calllog.call_id,
        matcher=lambda: understanding.current()[1],
        low_margin=review.low_margin,
    )
    limits = settings.ivr.attempts
    media = settings.ivr.media
    turn_taking = await asyncio.to_thread(TurnTaking.load, settings, lambda: understanding.current()[1])
    return Services(
        settings=settings,
        ari=ari or AriClient(ari_config(settings)),
        prompts=prompts,
        store=store,
        dossiers=SqlDossierSource(factory),
        understanding=understanding,
        recognizer=recognizer,
        ports=PortPool(media.port_start, media.port_end),
        calllog=calllog,
        radio=radio,
        communes=communes,
        rota=duty_rota(settings),
        tickets=TicketStatusByPhone(store, attempts, ticket_limit(limits)),
        prompt_pin=PromptPin(_prompt_pin(settings), attempts, pin_limit(limits), audit),
        prompt_history=PromptHistory.from_settings(settings, audit),
        asr=AsrAdmission.from_settings(settings),
        review=review_queue,
        turn_taking=turn_taking,
    )


async def _recover(store: CallStore, calllog: CallLog) -> None:
    """What an earlier run left: the call log's journal, calls left open, interrupted recordings (a call
    worker's: its own only, `store.worker`). Each step may fail (a locked database, a full disk): it is
    logged and calls are answered all the same."""
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("call log journal", calllog.recover),
        ("calls left open", store.close_orphans),
        ("demo dossiers", lambda: seed_dossiers(store.factory)),
        ("interrupted recordings", lambda: recover_spool(store, store.recordings_dir / SPOOL_DIR)),
    ]
    for what, step in steps:
        try:
            done = await asyncio.to_thread(step)
        except Exception as exc:
            logger.error("start-up: %s not handled (%s); the hotline answers anyway", what, exc)
            continue
        if what == "calls left open" and done:
            logger.warning("%d calls were left open by an earlier crash: marked interrupted", done)
        elif what == "interrupted recordings" and done:
            logger.warning("%d interrupted recordings recovered as tickets: %s", len(done), ", ".join(done))


async def _warm_up(app: Hotline) -> None:
    fn = getattr(app.s.recognizer, "warm_up", None)
    try:
        if fn is not None:
            await fn()
    except Exception as exc:
        logger.warning("speech recognizer warm-up failed: %s", exc)
        return
    app.asr_loaded = True


def start_background(
    app: Hotline, settings: IvrConfig, services: Services, *, fallback_messages: bool
) -> Any:
    """What runs beside the calls: intent hot reload, recognizer warm-up, answers rendered ahead and (with
    `fallback_messages`) messages left while the application was down imported as tickets. Returns the
    intent watcher (stopped by `close_services`)."""
    watcher = services.understanding.watcher
    if watcher is not None:
        watcher.start()  # hot reload of config/intents/ (no-op when intents.hot_reload is off)
    if services.recognizer is not None:
        app.spawn(_warm_up(app), "asr-warm-up")
    catalog = services.understanding.current()[0]
    if catalog is not None:
        # Answers are fixed text too: render them in the background so no caller waits for TTS.
        items = F.menu_from_catalog(catalog)
        answers = [t for i in items for t in (i.answer, i.follow_up) if t]
        services.prompts.name_texts(
            {
                t: f"{kind}:{i.id}"
                for i in items
                for kind, t in (("answer", i.answer), ("follow_up", i.follow_up))
                if t
            }
        )
        answers += team_sentences(settings, services.prompts, services.communes)
        app.spawn(services.prompts.prerender_texts(answers), "prerender-answers")
    spool = messages_dir(settings) if fallback_messages else None
    if spool is not None:  # messages callers left while the application was down become tickets
        watch = watch_messages(services.store, spool, services.recognizer, jobs=services.jobs)
        app.spawn(watch, "fallback-messages")
    services.calllog.start_writer()
    if services.review is not None:
        services.review.start_writer()
    return watcher


async def close_services(services: Services, watcher: Any) -> None:
    """After the calls ended: the call log's last rows written or journaled, engines closed."""
    await services.calllog.close()
    if services.review is not None:
        await services.review.close()
    if watcher is not None:
        await watcher.stop()
    await services.ari.close()
    for part in (services.recognizer, getattr(services.prompts, "synth", None), services.turn_taking):
        close = getattr(part, "close", None)
        if close is not None:
            with contextlib.suppress(Exception):
                close()


async def run_hotline(
    settings: IvrConfig,
    stop_event: asyncio.Event,
    *,
    services: Services | None = None,
    on_ready: Callable[[Hotline], None] | None = None,
) -> None:
    """Run the ARI application until `stop_event` is set (what `hotline run` starts)."""
    if services is None:
        services = await build_services(settings)
    app = Hotline(services)
    watcher = start_background(app, settings, services, fallback_messages=True)
    if on_ready is not None:
        on_ready(app)
    logger.info("hotline application %r starting (ARI %s)", settings.ivr.app_name, services.ari.cfg.url)
    try:
        await app.run(stop_event)
    finally:
        await close_services(services, watcher)
    logger.info("hotline application stopped (%d calls handled)", app.finished_sessions)
