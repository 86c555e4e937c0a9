"""What calls share, built once at start-up: settings, ARI, prompts, call log, understanding, ASR admission.

Also how a call's flow is built from the current intent catalog (`build_flow`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from intents.watcher import CatalogWatcher
from ivr import flow as F
from ivr.admission import AsrAdmission
from ivr.ari import AriClient
from ivr.prompts import Prompts
from ivr.rtp import PortPool
from ivr.store import CallStore, DossierSource

if TYPE_CHECKING:
    from ivr.prompt_history import PromptHistory
    from ivr.prompt_pin import PromptPin
    from ivr.settings import IvrConfig
    from ivr.ticket_status import TicketStatusByPhone

logger = logging.getLogger(__name__)


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
    # Guesses by phone are limited across calls; without these, ticket status and prompt re-recording by
    # phone refuse to work rather than work without limits, history or audit.
    tickets: TicketStatusByPhone | None = None
    prompt_pin: PromptPin | None = None
    prompt_history: PromptHistory | None = None
    asr: AsrAdmission = field(default_factory=AsrAdmission)  # the one ASR admission control of all calls
