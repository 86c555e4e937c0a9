"""The console object every route shares (built once by `install`): settings, database, cookie signer, login
limiter, catalog view, editors and the page templates."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import quote

from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from broadcast.communes import load_communes
from broadcast.settings import BroadcastConfig
from console.audit_vi import AuditWords, detail_vi, target_vi, who_vi
from console.auth import CookieSigner, load_secret
from console.data.catalog import CatalogView
from console.data.login_attempts import LoginLimiter
from console.decision_vi import reason_vi
from console.edit.intents import IntentEditor
from console.edit.prompts import PromptTextEditor
from console.labels import (
    CALLER_WITHHELD_VI,
    GONE_CHOICE_VI,
    KIND_VI,
    OUTCOME_VI,
    TICKET_REASON_VI,
    TICKET_STATUS_VI,
    action_label,
    prompt_label,
)
from console.template_blanks import template_vi
from core.clock import format_local

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from console.data.sessions import Login

from ivr.review_store import open_review_count
from ivr.settings import IvrConfig
from ivr.store import CallStore
from ivr.ticket_rules import ticket_rules

PREFIX = "/console"
RADIO = PREFIX + "/truyen-thanh"  # the radio newsroom: editors, commune accounts, the province's view
TEMPLATES_DIR = Path(__file__).resolve().parent / "templates"


class ConsoleConfig(IvrConfig, BroadcastConfig, Protocol):
    """What the console reads: the hotline's settings, and the province whose communes tickets name."""


class LoginRequired(Exception):
    """Raised by the page guard; answered with a redirect to the login page."""

    def __init__(self, next_url: str) -> None:
        self.next_url = next_url


def local_time(value: dt.datetime | None, tz: dt.tzinfo, fmt: str = "%d/%m/%Y %H:%M") -> str:
    """Database times are naive UTC; operators read the configured zone's time."""
    return format_local(value, tz, fmt)


def number_vi(value: float | None, digits: int = 2) -> str:
    return "–" if value is None else f"{value:.{digits}f}".replace(".", ",")


class Console:
    """Everything the console's routes share; routes get it through `console.deps`."""

    def __init__(self, settings: ConsoleConfig, sessions: sessionmaker[Session]) -> None:
        self.settings = settings
        self.sessions = sessions
        self.signer = CookieSigner(load_secret(settings))
        self.limiter = LoginLimiter(sessions)
        self.catalog = CatalogView(settings)
        self.intent_editor = IntentEditor(settings, on_change=self.catalog.invalidate)
        self.prompt_editor = PromptTextEditor(settings)
        self.recordings_dir = (settings.data_dir / settings.ivr.recordings_dir).resolve()
        # Ticket writes with the categories and deadlines of `ivr.tickets`, as calls make them.
        rules = ticket_rules(settings.ivr.tickets, settings.locale.time_zone)
        self.tickets = CallStore(sessions, self.recordings_dir, rules)
        self.working_days = rules.calendar  # also the radio's default airing deadline
        self.secure_cookies = settings.web.public_url.startswith("https://")
        self.env = Environment(
            loader=FileSystemLoader(str(TEMPLATES_DIR)), autoescape=select_autoescape(["html"])
        )
        self.tz = settings.locale.tz
        self.env.filters["local"] = lambda value, fmt="%d/%m/%Y %H:%M": local_time(value, self.tz, fmt)
        self.env.filters["num"] = number_vi
        self.env.filters["action"] = action_label
        self.env.globals.update(
            prefix=PREFIX,
            tz=settings.locale.tz,
            status_vi=TICKET_STATUS_VI,
            reason_vi=TICKET_REASON_VI,
            outcome_vi=OUTCOME_VI,
            kind_vi=KIND_VI,
            withheld_vi=CALLER_WITHHELD_VI,
            topic=self.topic,
            commune=self.commune,
            review_open=self.review_open,
            audit_target=lambda target: target_vi(target, self.audit_words),
            audit_detail=lambda detail: detail_vi(detail, self.audit_words),
            audit_who=who_vi,
            prompt_label=prompt_label,
            decision_reason=reason_vi,
            template_vi=template_vi,
        )

    @property
    def audit_words(self) -> AuditWords:
        """How the audit page names what entries store by id (settings are read once, at start)."""
        tickets = self.settings.ivr.tickets
        categories = {c.id: c.title for c in tickets.categories}
        agencies = {a.id: a.title for a in tickets.agencies}
        return AuditWords(
            self.topic,
            lambda key: categories.get(key, GONE_CHOICE_VI),
            lambda key: agencies.get(key, GONE_CHOICE_VI),
            self.commune,
        )

    def topic(self, intent_id: str | None) -> str:
        """The title operators know a topic by; a topic no longer in the catalog shows as "Chủ đề đã xóa"."""
        if not intent_id:
            return "–"
        catalog = self.catalog.state().catalog
        if catalog is None or intent_id not in catalog:
            return "Chủ đề đã xóa"
        return catalog.get(intent_id).title

    def review_open(self) -> int:
        """Items of the review queue waiting for an operator (the dashboard's tile)."""
        with self.sessions() as s:
            return open_review_count(s)

    def commune(self, code: str | None) -> str:
        """A ticket's commune as operators know it, "Xã Anh Sơn (17329)"; the code alone if unknown."""
        if not code:
            return ""
        try:
            found = load_communes(self.settings.broadcast.province).by_code(int(code))
        except Exception:  # the list is for reading; a ticket still shows its code
            found = None
        return f"{found.name} ({code})" if found is not None else code

    def communes(self) -> list[tuple[str, str]]:
        """(code, name) of every commune and ward of the province, for choosing a ticket's commune."""
        try:
            index = load_communes(self.settings.broadcast.province)
        except Exception:  # the list is for choosing; tickets keep their codes without it
            return []
        return [(str(c.code), c.name) for c in index.communes]

    def render(
        self,
        name: str,
        login: Login | None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
        **values: Any,
    ) -> HTMLResponse:
        html = self.env.get_template(name).render(login=login, **values)
        return HTMLResponse(
            html,
            status_code=status_code,
            headers={
                "Cache-Control": "no-store",  # pages carry personal data: never kept by a shared cache
                "X-Frame-Options": "DENY",
                "Referrer-Policy": "same-origin",
                **(headers or {}),
            },
        )

    def set_cookie(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            self.signer.sign(value),
            max_age=max_age,
            path=PREFIX,
            httponly=True,
            samesite="lax",
            secure=self.secure_cookies,
        )


def login_redirect(exc: LoginRequired) -> RedirectResponse:
    return RedirectResponse(f"{PREFIX}/login?next={quote(exc.next_url, safe='/')}", status_code=303)


def safe_next(next_url: str | None) -> str:
    """Only redirect back into the console (never to another site)."""
    if (
        next_url
        and next_url.startswith(PREFIX + "/")
        and not next_url.startswith("//")
        and "\\" not in next_url
    ):
        return next_url
    return PREFIX + "/"
