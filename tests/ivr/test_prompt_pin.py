"""The prompt re-recording PIN on a real SQLite file: wrong PINs counted across calls, per seat and from all
seats, the lock-out audited in the console's audit log; only operator seats may use the extension."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from console.models import AuditEntry
from core.db import engine_for, session_factory
from hotline.db import upgrade
from hotline.service import ConsoleAudit
from ivr.attempts import AttemptLog
from ivr.audit import PROMPT_PIN_LOCKED
from ivr.enums import PinVerdict
from ivr.prompt_pin import PromptPin, pin_limit, seat_of
from tests.support import Clock

PIN = "482913"
T0 = Clock().now  # a fixed time: nothing depends on today's date


@pytest.fixture
def db(settings):
    upgrade(settings.database_url)
    return settings


def a_call(settings, clock: Clock, pin: str = PIN) -> PromptPin:
    """What one call to the extension uses: its own connection to the database."""
    factory = session_factory(engine_for(settings))
    limit = pin_limit(settings.ivr.attempts)
    return PromptPin(pin, AttemptLog(factory, clock), limit, ConsoleAudit(settings))


def audit_rows(settings) -> list[AuditEntry]:
    with session_factory(engine_for(settings))() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == PROMPT_PIN_LOCKED)))


def test_the_right_pin_opens_a_wrong_one_does_not(db):
    clock = Clock()
    assert a_call(db, clock).check("operator", PIN) is PinVerdict.OK
    assert a_call(db, clock).check("operator", PIN[:-1]) is PinVerdict.WRONG
    assert a_call(db, clock).check("operator", PIN + "0") is PinVerdict.WRONG
    assert a_call(db, clock, pin="").check("operator", "") is PinVerdict.UNAVAILABLE  # no PIN set up


def test_wrong_pins_lock_a_seat_out_across_calls_and_the_lock_is_audited(db):
    clock = Clock()
    limits = db.ivr.attempts
    for n in range(limits.pin_failures):  # one wrong PIN per call: hanging up does not reset the count
        assert a_call(db, clock).check("operator2", f"{n:06d}") is PinVerdict.WRONG
        clock.now += timedelta(minutes=1)
    assert a_call(db, clock).check("operator2", PIN) is PinVerdict.LOCKED  # not even compared now
    [entry] = audit_rows(db)
    assert entry.username == "operator2"
    assert f"{limits.pin_failures} wrong PINs from operator2" in entry.detail
    assert a_call(db, clock).check("operator", PIN) is PinVerdict.OK  # another seat still gets in
    clock.now += timedelta(minutes=limits.window_minutes)
    assert a_call(db, clock).check("operator2", PIN) is PinVerdict.OK  # the window has passed


def test_wrong_pins_from_every_seat_together_lock_the_extension_for_all(db):
    clock = Clock()
    limits = db.ivr.attempts
    seats = [f"operator{n}" for n in range(2, 2 + limits.pin_failures_total)]
    for seat in seats:  # one wrong PIN per seat: no seat reaches its own limit
        assert a_call(db, clock).check(seat, "000000") is PinVerdict.WRONG
    assert a_call(db, clock).check("operator", PIN) is PinVerdict.LOCKED
    assert len(audit_rows(db)) == 1


def test_only_an_operator_seats_channel_is_a_seat():
    seats = ("operator", "operator2")
    assert seat_of("PJSIP/operator-0000001a", seats) == "operator"
    assert seat_of("PJSIP/operator2-00000003", seats) == "operator2"
    assert seat_of("PJSIP/operator3-00000003", seats) == ""  # not a configured seat
    assert seat_of("PJSIP/caller-0000001b", seats) == ""
    assert seat_of("PJSIP/vnpt-00000004", seats) == ""  # a carrier trunk
    assert seat_of("Local/operator@hotline-operator-00000001;2", seats) == ""
    assert seat_of("", seats) == ""
