"""The call log off the call's path, on a real SQLite file and a PostgreSQL database that another
connection locks."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import stat
import time
from datetime import datetime

import pytest
from sqlalchemy import event, select

from core.db import make_engine, session_factory
from hotline.db import upgrade
from ivr import flow as F
from ivr.calllog import CallLog, Entry
from ivr.enums import TurnKind
from ivr.models import Call
from ivr.store import CallStore
from tests.support import until


@pytest.fixture
def db(db_settings):
    """The call log's tables on each back-end (a migrated SQLite file, a PostgreSQL database); a locked
    database or table fails a write in 0.2 s."""
    settings = db_settings
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)

    @event.listens_for(engine, "connect")
    def short_lock_wait(dbapi_conn, _record):  # after the product's settings: fail fast when locked
        if settings.database_url.startswith("sqlite"):
            dbapi_conn.execute("PRAGMA busy_timeout=200")
        else:
            dbapi_conn.execute("SET lock_timeout = '200ms'")
            dbapi_conn.commit()

    yield CallStore(session_factory(engine), settings.data_dir / "recordings"), settings.database_url
    engine.dispose()


class Lock:
    """Another process's write transaction on the database (what a stuck writer or a backup does): the
    whole SQLite file, or on PostgreSQL the call log's tables (read, not written, by others meanwhile)."""

    def __init__(self, url: str) -> None:
        if url.startswith("sqlite"):
            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=5)
            self.conn.execute("BEGIN IMMEDIATE")
            return
        import psycopg
        from sqlalchemy.engine import make_url

        u = make_url(url)
        self.conn = psycopg.connect(
            host=u.host, port=u.port, user=u.username, password=u.password, dbname=u.database
        )
        self.conn.execute("LOCK TABLE calls, call_turns, prompt_plays IN EXCLUSIVE MODE")

    def release(self) -> None:
        self.conn.rollback()
        self.conn.close()


def calls(store: CallStore) -> list[Call]:
    with store.factory() as s:
        found = list(s.scalars(select(Call).order_by(Call.id)))
        for c in found:
            _ = c.turns
        return found


async def test_a_locked_database_costs_the_call_nothing_and_loses_no_row(db, tmp_path):
    store, path = db
    journal = tmp_path / "spool" / "call-log.jsonl"
    calllog = CallLog(store, journal, retry_s=0.2)
    calllog.start_writer()
    ids: list[int] = []
    lock = Lock(path)
    try:
        began = time.monotonic()
        calllog.start("chan-locked", "0912345678", "sip-1", on_id=ids.append)
        calllog.turn("chan-locked", 1, F.Turn(kind=TurnKind.DTMF, dtmf="1", intent="cccd"))
        calllog.satisfaction("chan-locked", 4)
        calllog.end("chan-locked", "answered", False)
        handed_in_s = time.monotonic() - began
        await until(lambda: calllog.journaled >= 4, limit_s=10)
        assert calls(store) == [] and ids == []
        # The rows wait on disk, readable by this user only (they hold the caller's number).
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600
        lines = [json.loads(line) for line in journal.read_text().splitlines()]
        assert [row["op"] for row in lines] == ["start", "turn", "satisfaction", "end"]
        written_at = datetime.fromisoformat(lines[0]["at"])
    finally:
        lock.release()
    await until(lambda: not journal.exists(), limit_s=10)
    await until(lambda: bool(ids), limit_s=2)
    [call] = calls(store)
    assert handed_in_s < 0.05  # the call never waited for the database
    assert ids == [call.id] and call.channel_id == "chan-locked" and call.sip_call_id == "sip-1"
    assert call.outcome == "answered" and call.satisfaction == 4 and call.started_at == written_at
    assert [(t.seq, t.dtmf, t.intent) for t in call.turns] == [(1, "1", "cccd")]
    # Back to normal: the next call goes straight to the database.
    calllog.start("chan-next", "100")
    await until(lambda: calllog.call_id("chan-next") is not None, limit_s=5)
    await calllog.close()
    assert calllog.journaled == 4 and not journal.exists()


async def test_rows_of_a_call_that_began_before_the_lock_join_it_after(db, tmp_path):
    store, path = db
    calllog = CallLog(store, tmp_path / "journal.jsonl", retry_s=0.2)
    calllog.start_writer()
    calllog.start("chan-mid", "0912345678")
    await until(lambda: calllog.call_id("chan-mid") is not None, limit_s=5)
    lock = Lock(path)
    try:
        for seq in (1, 2):
            calllog.turn("chan-mid", seq, F.Turn(kind=TurnKind.DTMF, dtmf=str(seq)))
        calllog.end("chan-mid", "answered", False)
        await until(lambda: calllog.journaled >= 3, limit_s=10)
    finally:
        lock.release()
    await calllog.close()
    [call] = calls(store)
    assert [t.dtmf for t in call.turns] == ["1", "2"] and call.ended_at is not None


async def test_a_journal_the_disk_refuses_keeps_rows_in_memory_until_the_database_returns(db, tmp_path):
    store, path = db
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    calllog = CallLog(store, blocker / "journal.jsonl", retry_s=0.2)  # its directory cannot exist
    calllog.start_writer()
    lock = Lock(path)
    try:
        calllog.start("chan-full", "0912345678")
        calllog.end("chan-full", "abandoned", False)
        await until(lambda: calllog.journaled >= 2, limit_s=10)
    finally:
        lock.release()
    await until(lambda: len(calls(store)) == 1 and calls(store)[0].ended_at is not None, limit_s=10)
    await calllog.close()
    assert calls(store)[0].outcome == "abandoned" and calllog.dropped == 0


def test_a_replay_cut_half_way_applies_each_row_once(db, tmp_path):
    store, _ = db
    journal = tmp_path / "journal.jsonl"
    at = datetime(2026, 1, 2, 3, 4, 5)
    entries = [
        Entry("start", "chan-r", at, {"caller": "0912345678", "sip_call_id": ""}),
        *(
            Entry("turn", "chan-r", at, {"seq": n, "turn": {"kind": "dtmf", "dtmf": str(n)}})
            for n in range(1, 4)
        ),
        Entry("end", "chan-r", at, {"outcome": "answered", "degraded": False}),
    ]
    journal.write_text("".join(e.to_json() + "\n" for e in entries) + '{"op": "turn", "chan')  # torn tail

    class FailingAfter:
        """The real store, failing once after two turns (the database went away mid-replay)."""

        def __init__(self) -> None:
            self.turns = 0

        def __getattr__(self, name):
            return getattr(store, name)

        def log_turn(self, *args, **kwargs):
            self.turns += 1
            if self.turns == 3:
                raise sqlite3.OperationalError("database is locked")
            return store.log_turn(*args, **kwargs)

    with pytest.raises(sqlite3.OperationalError):
        CallLog(FailingAfter(), journal).replay()
    assert journal.exists()
    started, ended = CallLog(store, journal).replay()
    assert not journal.exists() and ended == {"chan-r"} and list(started) == ["chan-r"]
    [call] = calls(store)
    assert [t.dtmf for t in call.turns] == ["1", "2", "3"] and call.outcome == "answered"
    assert call.started_at == at and all(t.at == at for t in call.turns)


def test_calls_an_earlier_run_left_open_in_the_journal_are_closed_as_interrupted(db, tmp_path):
    store, path = db
    journal = tmp_path / "journal.jsonl"
    at = datetime(2026, 1, 2, 3, 4, 5)
    started = Entry("start", "chan-crash", at, {"caller": "100", "sip_call_id": ""})
    journal.write_text(started.to_json() + "\n")
    lock = Lock(path)
    try:
        assert CallLog(store, journal).recover() == 0  # the database is locked at start: kept for later
    finally:
        lock.release()
    assert '"op": "end"' in journal.read_text()
    assert CallLog(store, journal).recover() == 2
    [call] = calls(store)
    assert call.outcome == "interrupted" and call.ended_at is not None and not journal.exists()


async def test_a_call_adopted_again_after_a_restart_keeps_its_row(db, tmp_path):
    store, _ = db
    first = store.start_call("chan-adopted", "100")
    calllog = CallLog(store, tmp_path / "journal.jsonl")
    calllog.start_writer()
    calllog.start("chan-adopted", "100")
    await calllog.close()
    assert [c.id for c in calls(store)] == [first] and not (tmp_path / "journal.jsonl").exists()


def test_flow_turns_survive_the_journal_unchanged():
    turn = F.Turn(kind=TurnKind.SPEECH, transcript="làm căn cước", confidence=0.8, intent="cccd", score=0.9)
    entry = Entry("turn", "c", datetime(2026, 1, 1), {"seq": 1, "turn": dataclasses.asdict(turn)})
    again = Entry.from_json(entry.to_json())
    assert F.Turn(**again.data["turn"]) == turn and again.at == entry.at


async def test_prompts_played_are_logged_with_their_human_share_also_through_the_journal(db, tmp_path):
    from ivr.models import PromptPlay

    store, path = db
    calllog = CallLog(store, tmp_path / "journal.jsonl", retry_s=0.2)
    calllog.start_writer()
    calllog.start("chan-p", "0912345678")
    calllog.play("chan-p", "greeting", 3200, 3200)
    lock = Lock(path)  # the next rows go to the journal, then are replayed
    calllog.play("chan-p", "template:ticket_number", 5000, 4000)
    calllog.end("chan-p", "answered", False)
    await until(lambda: calllog.journaled >= 2, limit_s=10)
    lock.release()
    await until(lambda: not calllog.journal.exists(), limit_s=10)
    await calllog.close()
    with store.factory() as s:
        rows = [
            (p.prompt, p.audio_ms, p.human_ms) for p in s.scalars(select(PromptPlay).order_by(PromptPlay.id))
        ]
    assert rows == [("greeting", 3200, 3200), ("template:ticket_number", 5000, 4000)]
