"""What calls share, built once at start-up: settings, ARI, prompts, call log, understanding, ASR admission.

Also how a call's flow is built from the current intent catalog (`build_flow`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from core.jobs import JobRunner
from intents.catalog import Catalog
from intents.watcher import CatalogWatcher
from ivr import flow as F
from ivr.admission import AsrAdmission
from ivr.ari import AriClient
from ivr.calllog import CallLog
from ivr.duty import HolidayCalendar, Rota
from ivr.prompts import Prompts
from ivr.rtp import PortPool
from ivr.settings import duty_zone
from ivr.store import CallStore, DossierSource

if TYPE_CHECKING:
    from ivr.prompt_history import PromptHistory
    from ivr.prompt_pin import PromptPin
    from ivr.review_queue import ReviewQueue
    from ivr.settings import IvrConfig
    from ivr.ticket_status import TicketStatusByPhone
    from ivr.turn_taking import TurnTaking

logger = logging.getLogger(__name__)


class RadioSource(Protocol):
    """Commune radio as the hotline plays it (the broadcast area provides it): a commune's latest
    segment, and the emergency notice callers hear after the greeting while it lasts."""

    def latest_segment(self, commune: str) -> str | None: ...

    def current_emergency(self) -> str | None: ...  # audio file of a province-wide emergency airing now


class Understanding:
    """The current intent catalog and matcher; swapped whole on reload, so calls keep a consistent pair."""

    def __init__(self, settings: IvrConfig) -> None:
        self.settings = settings
        self.catalog: Any = None
        self.matcher: Any = None
        self.watcher: Any = None

    def load(self) -> None:
        """Load the catalog (blocking); with hot reload, through the intents area's CatalogWatcher."""

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
        duty_rota=bool(settings.ivr.duty.rota),
        transfer_timeout_s=f.transfer_timeout_seconds,
        rating=f.rating,
        max_call_ms=int(f.max_call_minutes * 60_000),
        barge_in=f.barge_in,
        teams={str(t.commune): "&".join(t.ring) for t in settings.ivr.commune_teams},
    )


def duty_rota(settings: IvrConfig) -> Rota | None:
    """The rota of `ivr.duty` (Vietnam's public holidays computed offline), None when it has no shift."""
    duty = settings.ivr.duty
    if not duty.rota:
        return None
    shifts = [entry.shift() for entry in duty.rota]
    calendar = HolidayCalendar(duty.extra_holidays)
    return Rota(shifts, settings.ivr.flow.operator_endpoint, duty_zone(settings), calendar)


def team_sentences(settings: IvrConfig, prompts: Prompts, communes: F.CommuneFinder | None) -> list[str]:
    """What callers hear when their commune's team is rung (rendered ahead: no caller waits for TTS)."""
    find = communes or F.configured_codes(flow_config(settings).teams)
    out = []
    for team in settings.ivr.commune_teams:
        code, name = find(str(team.commune)) or (str(team.commune), "")
        words = F.commune_words(F.TeamLookup(code, code, name))
        out += [prompts.texts.templates.team_connect.format(commune=words)]
    return out


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


def build_flow(
    settings: IvrConfig,
    catalog: Any,
    matcher: Any,
    prompts: Prompts,
    communes: F.CommuneFinder | None = None,
) -> F.CallFlow:
    def match(text: str) -> Any:
        return matcher.match(text)

    menus = menu_prompts(catalog)
    # The catalog's sentences are spoken from their recordings (a no-op while the catalog is unchanged).
    prompts.use_catalog(catalog if isinstance(catalog, Catalog) else None, menus)
    return F.CallFlow(
        F.menu_from_catalog(catalog),
        match,
        flow_config(settings),
        prompts.texts.templates,
        menu_prompts=menus,
        communes=communes,
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
    calllog: CallLog  # the call log's rows, written off the calls' path
    radio: RadioSource | None = None
    communes: F.CommuneFinder | None = None  # which commune a caller means (None: the teams' codes only)
    rota: Rota | None = None  # who the operators on duty are, by hour and day (None: operator_endpoint)
    # Guesses by phone are limited across calls; without these, ticket status and prompt re-recording by
    # phone refuse to work rather than work without limits, history or audit.
    tickets: TicketStatusByPhone | None = None
    prompt_pin: PromptPin | None = None
    prompt_history: PromptHistory | None = None
    asr: AsrAdmission = field(default_factory=AsrAdmission)  # the one ASR admission control of all calls
    review: ReviewQueue | None = None  # what the hotline did not understand, for operators (None: off)
    turn_taking: TurnTaking | None = None  # speech detector and end-of-turn models (None: energy, timer)
    # Where tickets' transcription jobs are queued (ivr.transcription); None: transcribed in the background
    # of the call that made the ticket.
    jobs: JobRunner | None = None
