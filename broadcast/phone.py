"""The hotline's phone side of the communes: radio on demand (a commune's latest segment), the emergency
notice said after the greeting, and which commune a caller means (by the keypad code radio uses, or by
name) for its digital technology team."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path

from broadcast.communes import CommuneIndex, UnknownCommune, load_communes
from broadcast.schedule import emergencies_now
from broadcast.service import BroadcastService, utcnow
from core.db import engine_for, session_factory
from core.errors import ConfigError

logger = logging.getLogger(__name__)


class PhoneRadio:
    """Looks up the newest current segment of a commune given by keypad code or by name."""

    def __init__(self, service: BroadcastService) -> None:
        self.service = service

    def latest_segment(self, commune: str) -> str | None:
        """Path of the MP3 to play, or None (unknown commune, or nothing published for it yet)."""
        try:
            found = self.service.communes.resolve(commune)
        except UnknownCommune as exc:
            logger.info("radio by phone: %s", exc)
            return None
        segment = self.service.latest(found)
        if segment is None:
            return None
        path = self.service.path_of(segment)
        return str(path) if path.is_file() else None

    def current_emergency(self, now: dt.datetime | None = None) -> str | None:
        """Path of the newest emergency notice for the whole province airing now (its `expires`, else
        `broadcast.schedule.emergency_hours`), said to every caller after the greeting; None: none.

        Only province-wide ones: the hotline does not know a caller's commune when it greets them.
        """
        now = now or utcnow()
        hours = self.service.settings.broadcast.schedule.emergency_hours
        segments = [
            s
            for s in self.service.list_segments(now=now)
            if s.priority == "emergency" and s.communes is None and s.commune_code is None
        ]
        for segment in emergencies_now(segments, now, hours):
            path = self.service.path_of(segment)
            if path.is_file():
                return str(path)
        return None


def radio_source(settings) -> PhoneRadio:  # settings: hotline.settings.Settings
    return PhoneRadio(BroadcastService(settings, session_factory(engine_for(settings))))


class PhoneCommunes:
    """Which commune a caller means: a code keyed or said (as for radio), or a name in what was said."""

    def __init__(self, index: CommuneIndex) -> None:
        self.index = index

    def __call__(self, text: str) -> tuple[str, str] | None:
        """(code, name) of the commune, e.g. ("17329", "Xã Anh Sơn"); None when none is recognized."""
        text = text.strip()
        found = self.index.by_code(int(text)) if text.isdigit() else self.index.find_in(text)
        return (str(found.code), found.name) if found is not None else None


def commune_finder(settings) -> PhoneCommunes:  # settings: hotline.settings.Settings
    return PhoneCommunes(load_communes(settings.broadcast.province))


def radio_keys(catalog_dir: Path) -> list[str] | None:
    """The keys a caller presses to reach radio by phone (["9"], or a sub-menu's ["3", "2"]), read from
    the intent catalog the hotline uses; None when the catalog has no radio key or cannot be read."""
    from intents.catalog import load_catalog

    try:
        catalog = load_catalog(catalog_dir)
    except ConfigError as exc:
        logger.warning("radio keypad keys unknown: %s", exc)
        return None
    for intent in catalog.intents:
        if intent.action == "radio" and intent.digit:
            return intent.digit.split(".")
    return None
