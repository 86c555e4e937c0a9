"""A message left through the dialplan fallback, over real SIP, becomes a ticket.

The real Asterisk with no application connected: Stasis() fails, the dialplan apologizes, rings the
(unregistered) operator seats, then records a message. The application's importer turns it into a
ticket with the caller the dialplan wrote beside it; the spool is left empty.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from sqlalchemy import select

from core.db import engine_for, session_factory
from hotline.db import upgrade
from ivr.fallback_messages import import_messages
from ivr.models import Ticket
from ivr.store import CallStore
from sip.caller import call
from tests.support import fallback_message_script
from voice.audio import read_audio

pytestmark = [pytest.mark.asterisk, pytest.mark.slow]


def test_a_message_left_while_the_application_is_down_becomes_a_ticket(asterisk, settings, tmp_path):
    messages = asterisk.handle.messages_dir
    assert messages is not None
    before = set(messages.iterdir())
    script = fallback_message_script()
    result = call(asterisk.target(), script, record=tmp_path / "heard.wav", timeout=120)
    assert result.connected, result.summary()
    asterisk.wait_clean(timeout=10)  # the channel is gone: Asterisk has closed the recording

    new = sorted(set(messages.iterdir()) - before)
    assert [p.suffix for p in new] == [".caller", ".wav"], asterisk.log_text()[-3000:]
    upgrade(settings.database_url)
    factory = session_factory(engine_for(settings))
    store = CallStore(factory, settings.data_dir / "recordings")
    # The session's Asterisk keeps messages other tests left: import this one alone, from a spool of its own.
    spool = tmp_path / "messages"
    spool.mkdir()
    new = [Path(shutil.move(p, spool / p.name)) for p in new]
    imported = import_messages(store, spool, quiet_s=0.0)

    assert len(imported) == 1 and imported[0].chunk.duration_s > 2.0
    with factory() as s:
        t = s.scalars(select(Ticket).where(Ticket.number == imported[0].ticket)).one()
    # The test caller's endpoint presents itself as "caller": the sidecar carried it to the ticket.
    assert t.reason == "message" and t.caller == "caller" and t.call_id is None
    stored = Path(t.audio_path)
    assert stored.is_relative_to(settings.data_dir / "recordings")
    assert abs(read_audio(stored).duration_s - imported[0].chunk.duration_s) < 0.05
    assert not any(p.exists() for p in new), "the spool keeps nothing once imported"
