"""Radio on demand by phone: the hotline's `radio` action asks this for a commune's latest segment."""

from __future__ import annotations

import logging

from broadcast.communes import UnknownCommune
from broadcast.service import BroadcastService
from core.db import engine_for, session_factory

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


def radio_source(settings) -> PhoneRadio:  # settings: hotline.settings.Settings
    return PhoneRadio(BroadcastService(settings, session_factory(engine_for(settings))))
