"""Ticket status by phone on a real SQLite file: the reply goes only to the number that opened the ticket,
and wrong numbers are limited per caller across calls (each "call" below opens the database afresh)."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from core.db import engine_for, session_factory
from hotline.db import upgrade
from ivr.attempts import AttemptKind, AttemptLog, Limit
from ivr.store import CallStore
from ivr.ticket_status import TicketStatusByPhone, ticket_limit
from tests.support import Clock

OWNER, STRANGER = "0912345678", "0987654321"
REPLY = "Đường thôn 3 đã được sửa xong."
T0 = Clock().now  # a fixed time: nothing depends on today's date


@pytest.fixture
def db(settings):
    upgrade(settings.database_url)
    return settings


@pytest.fixture
def any_db(db_settings):
    """Settings on each back-end (SQLite, PostgreSQL), migrated."""
    upgrade(db_settings.database_url)
    return db_settings


def a_call(settings, clock: Clock) -> TicketStatusByPhone:
    """What one call uses: its own connection to the database, as a new call (or a restart) would."""
    factory = session_factory(engine_for(settings))
    store = CallStore(factory, settings.data_dir / "recordings")
    return TicketStatusByPhone(store, AttemptLog(factory, clock), ticket_limit(settings.ivr.attempts))


def open_ticket(settings, caller: str, reply: str = REPLY) -> str:
    store = CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")
    number = store.create_ticket(
        call_id=None, caller=caller, reason="feedback", audio_path=None, duration_ms=0
    )
    if reply:
        store.reply_ticket(number, reply)
    return number


def test_only_the_number_that_opened_the_ticket_hears_the_reply(db):
    clock = Clock()
    number = open_ticket(db, OWNER)
    mine = a_call(db, clock).lookup(number, OWNER)
    assert mine.found and mine.reply_note == REPLY and mine.status == "đã có trả lời"
    for caller in (STRANGER, ""):  # another number, a withheld one
        other = a_call(db, clock).lookup(number, caller)
        assert other.found and other.status == "đã có trả lời"
        assert other.reply_note == "" and other.reply_withheld
    unanswered = open_ticket(db, OWNER, reply="")
    assert not a_call(db, clock).lookup(unanswered, STRANGER).reply_withheld  # nothing to withhold


def test_a_ticket_whose_number_was_purged_reads_its_reply_to_nobody(db):
    number = open_ticket(db, "")  # withheld when opened (or blanked by the retention purge)
    result = a_call(db, Clock()).lookup(number, "")
    assert result.found and result.reply_note == "" and result.reply_withheld


def test_wrong_numbers_lock_the_caller_out_across_calls_then_the_window_passes(db):
    clock = Clock()
    limit = db.ivr.attempts.ticket_failures
    own = open_ticket(db, OWNER)
    taken = {own}
    for n in range(limit):  # one guess per call, each call hanging up and calling again
        guess = next(f"{100000 + n * 7919 + k}" for k in range(50) if f"{100000 + n * 7919 + k}" not in taken)
        result = a_call(db, clock).lookup(guess, OWNER)
        assert not result.found and not result.locked
        clock.now += timedelta(minutes=1)
    locked = a_call(db, clock).lookup(own, OWNER)  # even a right number is not looked up now
    assert locked.locked and not locked.found and locked.reply_note == ""
    assert a_call(db, clock).lookup(own, OWNER).locked  # and stays so in the next call
    assert a_call(db, clock).lookup(own, STRANGER).found  # another caller is not locked out
    clock.now += timedelta(minutes=db.ivr.attempts.window_minutes)  # the first failures age out
    again = a_call(db, clock).lookup(own, OWNER)
    assert again.found and again.reply_note == REPLY


def test_someone_elses_ticket_counts_as_a_failure_and_withheld_callers_share_one_count(db):
    clock = Clock()
    limit = db.ivr.attempts.ticket_failures
    other = open_ticket(db, STRANGER)
    for _ in range(limit):
        assert a_call(db, clock).lookup(other, "").found
    assert a_call(db, clock).lookup(other, "").locked  # a withheld caller, whoever it is
    own = open_ticket(db, OWNER)
    for _ in range(limit + 3):  # one's own ticket, read again and again: never a failure
        assert a_call(db, clock).lookup(own, OWNER).reply_note == REPLY


def test_parallel_calls_cannot_all_slip_in_under_the_limit(any_db):
    """The attempt is reserved before the look-up: eight calls at once, a limit of three (also from
    several machines sharing a PostgreSQL server)."""
    limit = Limit(AttemptKind.TICKET, 3, timedelta(hours=1))
    logs = [AttemptLog(session_factory(engine_for(any_db)), Clock()) for _ in range(8)]
    got: list[int | None] = []
    start = threading.Barrier(len(logs))

    def guess(log: AttemptLog) -> None:
        start.wait(timeout=10)
        got.append(log.begin(limit, STRANGER))

    threads = [threading.Thread(target=guess, args=(log,)) for log in logs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(got) == 8 and sum(a is not None for a in got) == 3
    assert logs[0].failures(limit, STRANGER) == 3


def test_old_attempts_are_deleted_not_kept(db):
    clock = Clock()
    log = AttemptLog(session_factory(engine_for(db)), clock)
    limit = Limit(AttemptKind.TICKET, 5, timedelta(minutes=10))
    log.begin(limit, STRANGER)
    clock.now += timedelta(minutes=11)
    log.begin(limit, OWNER)
    from sqlalchemy import func, select

    from ivr.models import PhoneAttempt

    with log.factory() as s:
        rows = s.execute(select(PhoneAttempt.who, func.count()).group_by(PhoneAttempt.who)).all()
    assert len(rows) == 1 and rows[0][0] != OWNER  # the number is stored hashed, never as it is
