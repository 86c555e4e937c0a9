"""The console reads every date in one zone: `locale.time_zone`, for pages and ticket deadlines alike."""

from __future__ import annotations

from zoneinfo import ZoneInfo


def test_ticket_deadlines_use_the_configured_zone(console_settings, monkeypatch):
    from console.context import Console
    from core.db import engine_for, session_factory
    from hotline.settings import load_settings
    from tests.console.helpers import ROOT

    monkeypatch.setenv("HOTLINE_LOCALE__TIME_ZONE", "Asia/Tokyo")
    settings = load_settings(ROOT / "config" / "hotline.yaml")
    console = Console(settings, session_factory(engine_for(console_settings)))
    assert console.tz == ZoneInfo("Asia/Tokyo")
    assert console.tickets.rules.tz == ZoneInfo("Asia/Tokyo")  # not the duty rota's own setting
    assert console.env.globals["tz"] == ZoneInfo("Asia/Tokyo")  # what the ticket list's standings use
