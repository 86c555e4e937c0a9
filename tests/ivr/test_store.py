"""Call log, tickets, dossiers and retention purge on a real SQLite file and a real PostgreSQL database
(migrated with alembic)."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import inspect, select

from core.db import engine_for, session_factory
from hotline.db import upgrade
from ivr import store as S
from ivr.enums import Outcome, TurnKind
from ivr.flow import Turn
from ivr.models import Call, Ticket
from ivr.retention import purge
from voice.audio import AudioChunk, read_audio


@pytest.fixture
def db(db_settings):
    """Settings, sessions and the call store on each back-end (`db_url`: SQLite, PostgreSQL)."""
    settings = db_settings
    upgrade(settings.database_url)
    engine = engine_for(settings)
    factory = session_factory(engine)
    yield settings, factory, S.CallStore(factory, settings.data_dir / "recordings")
    engine.dispose()  # PostgreSQL: the pool's connections are closed, not left to the end of the session


def test_migration_creates_ivr_branch(db):
    settings, factory, _ = db
    names = set(inspect(factory.kw["bind"]).get_table_names())
    assert {"calls", "call_turns", "tickets", "dossiers"} <= names
    if settings.database_url.startswith("sqlite:///"):  # the default: a file under data_dir
        assert (settings.data_dir / "hotline.db").is_file()


def test_ivr_migrations_match_the_models_and_the_ticket_commune_downgrades(tmp_path):
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from core.db import make_engine
    from hotline.db import alembic_config

    url = f"sqlite:///{tmp_path / 'h.db'}"
    upgrade(url)
    engine = make_engine(url)
    tables = {"calls", "call_turns", "tickets", "ticket_replies", "dossiers", "prompt_plays"}
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Ticket.metadata)
        assert "commune" in {c["name"] for c in inspect(conn).get_columns("tickets")}
    assert [d for d in diff if any(re.search(rf"\b{t}\b", repr(d)) for t in tables)] == []
    command.downgrade(alembic_config(url), "ivr_0002_sip_call_id")
    with engine.connect() as conn:
        assert "commune" not in {c["name"] for c in inspect(conn).get_columns("tickets")}
        assert "sip_call_id" in {c["name"] for c in inspect(conn).get_columns("calls")}
    engine.dispose()


def test_a_ticket_for_a_communes_team_keeps_the_commune(db):
    _, factory, store = db
    cid = store.start_call("chan-team", "0912345678")
    number = store.create_ticket(
        call_id=cid, caller="0912345678", reason="callback", audio_path=None, duration_ms=0, commune="17329"
    )
    plain = store.create_ticket(
        call_id=cid, caller="0912345678", reason="message", audio_path=None, duration_ms=0
    )
    assert store.ticket(number).commune == "17329" and store.ticket(plain).commune is None


def test_call_and_turns_are_committed_and_masked(db):
    _, factory, store = db
    cid = store.start_call("chan-1", "0912345678")
    store.log_turn(
        cid,
        1,
        Turn(
            kind="speech",
            transcript="số tôi là 0912 345 678",
            confidence=0.8,
            intent="cccd",
            score=0.9,
            response_ms=640,
        ),
    )
    store.set_satisfaction(cid, 5)
    store.end_call(cid, "answered")
    with factory() as s:  # a fresh session: everything was committed
        call = s.get(Call, cid)
        assert call.caller == "0912345678" and call.caller_masked == "*******678"
        assert len(call.caller_hash) == 64 and call.outcome == "answered" and call.satisfaction == 5
        assert call.turns[0].transcript == "số tôi là *******678"
        assert call.turns[0].response_ms == 640


def test_one_caller_is_one_stored_number_whatever_form_it_came_in_and_withheld_is_empty(db):
    from core.callerid import national_caller

    _, factory, store = db
    forms = ["+84912345678", "0084 912 345 678", "912345678", "sip:0912345678@10.0.0.1;user=phone"]
    ids = [store.start_call(f"chan-{i}", national_caller(f) or "") for i, f in enumerate(forms)]
    withheld = store.start_call("chan-anon", national_caller("anonymous", "Anonymous") or "")
    with factory() as s:
        stored = {
            (c.caller, c.caller_masked, c.caller_hash)
            for c in s.scalars(select(Call).where(Call.id.in_(ids)))
        }
        anon = s.get(Call, withheld)
    # One caller: one number, one masked form, one hash (repeat callers are counted as one).
    assert len(stored) == 1
    ((caller, masked, digest),) = stored
    assert caller == "0912345678" and masked == "*******678" and digest == S.hash_caller("0912345678")
    # Withheld: no number, nothing to mask, and no hash (withheld callers are not one repeat caller).
    assert (anon.caller, anon.caller_masked, anon.caller_hash) == ("", "", "")


def test_orphan_calls_closed_after_crash(db):
    _, factory, store = db
    cid = store.start_call("chan-2", "100")
    assert store.close_orphans() == 1
    with factory() as s:
        assert s.get(Call, cid).outcome == "interrupted"


def test_enum_outcomes_and_kinds_are_stored_as_their_strings(db):
    _, factory, store = db
    cid = store.start_call("chan-enum", "100")
    with factory() as s:
        assert s.get(Call, cid).outcome == "in_progress"
    store.log_turn(cid, 1, Turn(kind=TurnKind.SPEECH, transcript="xin chào", asr_ms=180))
    store.end_call(cid, Outcome.NOT_UNDERSTOOD)
    with factory() as s:
        call = s.get(Call, cid)
        assert call.outcome == "not_understood" and type(call.outcome) is str
        assert call.turns[0].kind == "speech" and type(call.turns[0].kind) is str
        assert call.turns[0].asr_ms == 180


def test_ticket_with_audio_reply_and_close(db):
    settings, _, store = db
    cid = store.start_call("chan-3", "0987654321")
    chunk = AudioChunk.from_array(np.zeros(8000, np.int16), 8000)
    path = store.save_recording(chunk, "3-rec1")
    assert path.is_file() and not list(path.parent.glob(".*.part"))
    assert read_audio(path).rate == 8000
    number = store.create_ticket(
        call_id=cid, caller="0987654321", reason="feedback", audio_path=path, duration_ms=1000
    )
    assert len(number) == S.TICKET_DIGITS and number.isdigit()
    store.set_ticket_transcript(number, "đường hỏng, gọi 0987654321")
    t = store.reply_ticket(number, "Đã sửa xong.", "answered")
    assert t.status == "answered"
    t = store.ticket(number)
    assert t.transcript == "đường hỏng, gọi *******321" and t.latest_reply == "Đã sửa xong."
    closed = store.reply_ticket(number, "", "closed")
    assert closed.closed_at is not None and closed.latest_reply == "Đã sửa xong."
    with pytest.raises(S.StoreError):
        store.reply_ticket(number, "x", "bogus")
    with pytest.raises(S.StoreError):
        store.reply_ticket("000000", "x")


def test_a_ticket_gets_its_topics_category_agency_and_a_due_date_in_working_days(db):
    from datetime import date, datetime

    _, _, store = db
    received = datetime(2027, 2, 3, 2, 0)  # Wed 3/2/2027 09:00 in Vietnam, the day before Tết
    land = store.create_ticket(
        call_id=None, caller="0912345678", reason="feedback", audio_path=None, duration_ms=0,
        topic="land", at=received,
    )  # fmt: skip
    back = store.create_ticket(
        call_id=None, caller="0912345678", reason="callback", audio_path=None, duration_ms=0, at=received
    )
    t = store.ticket(land)
    # The default settings know no topics: the default category and its 5 working days after Tết.
    assert (t.category, t.agency, t.due_date) == ("khac", "", date(2027, 2, 17))
    assert (store.ticket(back).category, store.ticket(back).due_date) == ("goi_lai", date(2027, 2, 11))
    rules = S.CallStore(store.factory, store.recordings_dir, _shipped_rules())
    t = rules.ticket(rules.create_ticket(
        call_id=None, caller="", reason="feedback", audio_path=None, duration_ms=0, topic="land", at=received
    ))  # fmt: skip
    assert (t.category, t.agency, t.due_date) == ("dat_dai", "so_nnmt", date(2027, 2, 24))  # 10 days
    # Another category moves the deadline, still counted from the day received.
    moved = rules.assign_ticket(t.number, category="lua_dao", assignee="lan", commune="17329")
    assert (moved.due_date, moved.assignee, moved.commune) == (date(2027, 2, 12), "lan", "17329")
    assert rules.assign_ticket(t.number, commune="").commune is None
    with pytest.raises(S.StoreError):
        rules.assign_ticket(t.number, status="closed")


def _shipped_rules():
    from hotline.settings import load_settings
    from ivr.ticket_rules import ticket_rules
    from tests.conftest import ROOT

    settings = load_settings(ROOT / "config" / "hotline.yaml", env={})
    return ticket_rules(settings.ivr.tickets, settings.locale.time_zone)


def test_replies_are_a_history_and_the_first_answer_marks_the_ticket_handled(db):
    from datetime import datetime

    _, _, store = db
    number = store.create_ticket(
        call_id=None, caller="0912345678", reason="feedback", audio_path=None, duration_ms=0
    )
    t0 = datetime(2027, 3, 1, 2, 0)
    store.reply_ticket(number, "", "in_progress", author="lan", at=t0)
    store.reply_ticket(number, "Đã chuyển điện lực.", "answered", author="lan", at=t0 + timedelta(days=1))
    store.reply_ticket(number, "", "in_progress", author="minh", at=t0 + timedelta(days=2))  # reopened
    t = store.reply_ticket(number, "Đã sửa xong.", "closed", author="minh", at=t0 + timedelta(days=3))
    assert [(r.author, r.status, r.text) for r in t.replies] == [
        ("lan", "in_progress", ""),
        ("lan", "answered", "Đã chuyển điện lực."),
        ("minh", "in_progress", ""),
        ("minh", "closed", "Đã sửa xong."),
    ]
    # The caller hears the newest reply; handled is the first answer, not the final close.
    assert t.latest_reply == "Đã sửa xong." and t.handled_at == t0 + timedelta(days=1)
    assert t.closed_at == t0 + timedelta(days=3)


def test_overdue_tickets_are_counted_for_monitoring(db):
    from datetime import datetime

    from prometheus_client.parser import text_string_to_metric_families

    from core import metrics
    from ivr import ticket_gauge

    _, _, store = db
    received = datetime(2027, 3, 1, 2, 0)  # Monday 1/3/2027 09:00 in Vietnam: due Monday 8/3 (5 working days)
    numbers = [
        store.create_ticket(
            call_id=None, caller="0912345678", reason="feedback", audio_path=None, duration_ms=0, at=received
        )
        for _ in range(3)
    ]
    store.reply_ticket(numbers[0], "Đã xử lý.", "answered", author="lan", at=received + timedelta(days=2))
    due_day_evening = datetime(2027, 3, 8, 16, 0)  # 23:00 local on the due day: not overdue yet
    assert store.count_overdue(now=due_day_evening) == 0
    assert store.count_overdue(now=due_day_evening + timedelta(hours=1)) == 2  # 00:00 local on the 9th

    def scraped() -> list[float]:
        families = text_string_to_metric_families(metrics.render().decode())
        return [s.value for f in families if f.name == "hotline_tickets_overdue" for s in f.samples]

    ticket_gauge.watch(lambda: store.count_overdue(now=due_day_evening + timedelta(days=1)))
    try:
        assert scraped() == [2.0]
    finally:
        ticket_gauge.watch(None)
    assert scraped() == []  # no call store in this process: no sample, not a false 0


def test_the_migration_keeps_each_reply_note_as_the_first_reply(db_url, tmp_path):
    from alembic import command
    from sqlalchemy import text

    from core.db import make_engine
    from hotline.db import alembic_config

    url = db_url
    upgrade(url)
    command.downgrade(alembic_config(url), "ivr_0004_phone_attempts")
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(
            "INSERT INTO tickets (number, caller, caller_masked, reason, duration_ms, transcript, status,"
            " reply_note, created_at, updated_at) VALUES ('123456', '', '', 'feedback', 0, '', 'answered',"
            " 'Đã xử lý.', '2026-11-02 01:00:00', '2026-11-03 01:00:00')"
        ))  # fmt: skip
    upgrade(url)
    factory = session_factory(engine)
    t = S.CallStore(factory, tmp_path).ticket("123456")
    assert t.latest_reply == "Đã xử lý." and [r.status for r in t.replies] == ["answered"]
    assert str(t.handled_at) == "2026-11-03 01:00:00" and t.due_date is None
    engine.dispose()


def test_ticket_numbers_unique(db):
    _, _, store = db
    numbers = {
        store.create_ticket(call_id=None, caller="", reason="message", audio_path=None, duration_ms=0)
        for _ in range(50)
    }
    assert len(numbers) == 50


def test_dossiers_seeded_once_and_looked_up(db):
    _, factory, _ = db
    assert S.seed_dossiers(factory) == len(S.SEED_DOSSIERS)
    assert S.seed_dossiers(factory) == 0
    src = S.SqlDossierSource(factory)
    info = src.lookup("1001")
    assert info.title == "đăng ký khai sinh" and "kết quả" in info.status
    assert src.lookup("9999") is None
    assert S.spoken_date(info.updated_at).startswith("ngày ")


def test_purge_respects_retention(db):
    _, factory, store = db
    old_call = store.start_call("old", "0911111111")
    new_call = store.start_call("new", "0922222222")
    store.log_turn(old_call, 1, Turn(kind="dtmf", dtmf="1"))
    path = store.save_recording(AudioChunk.from_array(np.zeros(800, np.int16), 8000), "old")
    number = store.create_ticket(
        call_id=old_call,
        caller="0911111111",
        reason="feedback",
        audio_path=path,
        duration_ms=100,
        transcript="nội dung",
    )
    now = S.utcnow()
    with factory() as s, s.begin():
        s.get(Call, old_call).started_at = now - timedelta(days=400)
        s.scalar(select(Ticket).where(Ticket.number == number)).created_at = now - timedelta(days=400)
    counts = purge(factory, recording_days=90, transcript_days=365)
    assert counts == {
        "recordings": 1,
        "ticket_transcripts": 1,
        "turns": 1,
        "calls": 1,
        "review_audio": 0,
        "review_transcripts": 0,
    }
    assert not path.exists()
    t = store.ticket(number)
    assert t.audio_path is None and t.transcript == "" and t.call_id is None and t.status == "new"
    with factory() as s:
        assert s.get(Call, new_call) is not None and s.get(Call, old_call) is None


def test_cli_lists_and_replies(db, monkeypatch):
    from typer.testing import CliRunner

    from hotline.cli import app

    _, _, store = db
    cid = store.start_call("chan-cli", "0912345678")
    store.log_turn(cid, 1, Turn(kind="speech", transcript="làm căn cước", intent="cccd", score=0.9))
    store.end_call(cid, "answered")
    number = store.create_ticket(
        call_id=cid,
        caller="0912345678",
        reason="feedback",
        audio_path=None,
        duration_ms=0,
        transcript="đèn đường hỏng",
    )
    runner = CliRunner()
    r = runner.invoke(app, ["calls", "list", "--json"])
    assert r.exit_code == 0, r.output
    rows = json.loads(r.output)
    assert rows[0]["caller"] == "*******678" and rows[0]["turns"] == 1
    r = runner.invoke(app, ["calls", "show", str(cid)])
    assert "làm căn cước" in r.output and "cccd" in r.output and "0912345678" not in r.output
    r = runner.invoke(app, ["tickets", "reply", number, "Đã báo điện lực."])
    assert r.exit_code == 0 and r.output.strip() == f"Phiếu số {number}: Đã trả lời"
    r = runner.invoke(app, ["tickets", "show", number, "--json"])
    assert json.loads(r.output)["reply_note"] == "Đã báo điện lực."
    r = runner.invoke(app, ["tickets", "close", number])
    assert "Đã đóng" in r.output
    r = runner.invoke(app, ["tickets", "list", "--status", "closed"])
    assert number in r.output
    r = runner.invoke(app, ["calls", "purge"])
    assert r.exit_code == 0 and "purged" in r.output


def test_recording_spool_survives_a_crash_and_becomes_a_ticket(db, tmp_path):
    from ivr.recorder import Recorder
    from voice.audio import AudioChunk

    _, _, store = db
    cid = store.start_call("chan-crash", "0912000111")
    spool_dir = store.recordings_dir / ".incoming"
    rec = Recorder("r", max_seconds=60, rate=8000, spool=spool_dir / f"{cid}-hl-media-x-rec1.raw")
    tone = AudioChunk.from_array((3000 * np.sin(np.arange(160) / 3)).astype(np.int16), 8000)
    for _ in range(100):  # 2 s of audio, then the process "dies" (no close, no ticket)
        rec.add(tone)
    spooled = (spool_dir / f"{cid}-hl-media-x-rec1.raw").stat().st_size
    assert spooled >= 2 * 8000 * 2 - Recorder.SPOOL_EVERY * 320  # all but the last half second is on disk
    short = Recorder("s", max_seconds=60, rate=8000, spool=spool_dir / "7-hl-media-y-rec1.raw")
    short.add(tone)
    short.close(discard=False)  # 20 ms: not worth a ticket
    numbers = S.recover_spool(store, spool_dir)
    assert len(numbers) == 1 and not list(spool_dir.glob("*.raw"))
    t = store.ticket(numbers[0])
    assert t.reason == "recovered" and t.call_id == cid and t.caller == "0912000111"
    assert abs(read_audio(t.audio_path).duration_s - spooled / 16000) < 0.01
    assert S.recover_spool(store, spool_dir) == [] and S.recover_spool(store, tmp_path / "none") == []


def test_call_report_by_channel(db):
    _, factory, store = db
    cid = store.start_call("chan-report", "0912345678")
    store.log_turn(cid, 1, Turn(kind="dtmf", dtmf="1", intent="cccd", response_ms=20))
    rep = S.call_report(factory, channel_id="chan-report")
    assert rep["id"] == cid and rep["caller"] == "*******678" and rep["turns"][0]["intent"] == "cccd"
    assert S.call_report(factory, channel_id="nope") is None


def test_call_report_by_sip_call_id_waits_until_the_call_is_closed(db):
    import threading
    import time

    _, factory, store = db
    cid = store.start_call("chan-sip", "0912345678", sip_call_id="a84b4c76e66710@127.0.0.1")
    store.log_turn(cid, 1, Turn(kind="speech", transcript="gọi 0912345678", intent="coach", score=0.9))
    closer = threading.Timer(0.5, store.end_call, args=(cid, "answered"))
    closer.start()
    began = time.monotonic()
    rep = S.wait_call_report(factory, "a84b4c76e66710@127.0.0.1", timeout=10)
    closer.join()
    assert 0.4 < time.monotonic() - began < 5
    assert rep["id"] == cid and rep["ended_at"] is not None and rep["outcome"] == "answered"
    assert rep["sip_call_id"] == "a84b4c76e66710@127.0.0.1"
    assert rep["turns"][0]["intent"] == "coach" and "0912345678" not in rep["turns"][0]["transcript"]
    # A Call-ID the application never saw: None after the short appearance wait, not the full timeout.
    began = time.monotonic()
    assert S.wait_call_report(factory, "unknown@127.0.0.1", timeout=10, appear_timeout=0.3) is None
    assert time.monotonic() - began < 2
    # Still open when the wait ends: returned as it is.
    open_id = store.start_call("chan-open", "100", sip_call_id="open@127.0.0.1")
    rep = S.wait_call_report(factory, "open@127.0.0.1", timeout=0.3)
    assert rep["id"] == open_id and rep["ended_at"] is None


def test_tickets_created_at_once_by_several_writers_get_distinct_numbers_and_none_is_lost(db, monkeypatch):
    import random
    import threading
    from types import SimpleNamespace

    _, factory, store = db
    # Numbers drawn from 1,000 instead of 900,000: writers collide often, so the unique index and the
    # redraw are what keeps numbers apart (the numbers each writer holds are still distinct).
    draws = []
    rng = random.Random(15)

    def randbelow(_n: int) -> int:
        draws.append(1)
        return rng.randrange(1000)

    monkeypatch.setattr(S, "secrets", SimpleNamespace(randbelow=randbelow))
    writers, each = 4, 50
    start = threading.Barrier(writers, timeout=30)
    made: list[list[str]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            start.wait()
            for _ in range(each):
                made[i].append(store.create_ticket(
                    call_id=None, caller="0912345678", reason="message", audio_path=None, duration_ms=0
                ))  # fmt: skip
        except BaseException as exc:  # reported below, with the writer's other tickets
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert errors == [] and not any(t.is_alive() for t in threads)
    numbers = [n for ns in made for n in ns]
    assert len(numbers) == writers * each == len(set(numbers))
    assert len(draws) > len(numbers)  # some draws collided and were drawn again
    with factory() as s:
        stored = list(s.scalars(select(Ticket.number)))
    assert sorted(stored) == sorted(numbers)


def test_a_worker_closes_and_recovers_only_its_own_calls(db):
    """Call workers share the database and the recordings directory: a restarted worker closes the calls
    its killed predecessor left and recovers its recordings, never those of a live worker."""
    settings, factory, _ = db
    recordings = settings.data_dir / "recordings"
    mine = S.CallStore(factory, recordings, worker="host-b:8094")
    other = S.CallStore(factory, recordings, worker="host-b:8095")
    dead = mine.start_call("chan-dead", "0912000111")
    live = other.start_call("chan-live", "0912000222")
    assert mine.worker_of(dead) == "host-b:8094" and other.worker_of(live) == "host-b:8095"
    spool = recordings / ".incoming"
    spool.mkdir(parents=True)
    tone = (3000 * np.sin(np.arange(16000) / 3)).astype("<i2").tobytes()  # 2 s
    for cid in (dead, live):
        (spool / f"{cid}-hl-media-x-rec1.raw").write_bytes(tone)
    assert mine.close_orphans() == 1
    numbers = S.recover_spool(mine, spool)
    assert len(numbers) == 1 and mine.ticket(numbers[0]).call_id == dead
    assert [p.name for p in spool.glob("*.raw")] == [f"{live}-hl-media-x-rec1.raw"]  # still being written
    with factory() as s:
        rows = {c.channel_id: c for c in s.scalars(select(Call))}
    assert rows["chan-dead"].outcome == Outcome.INTERRUPTED and rows["chan-dead"].ended_at is not None
    assert rows["chan-live"].ended_at is None and rows["chan-live"].outcome == Outcome.IN_PROGRESS
    # The one application (no worker id) closes whatever is open, as before.
    assert S.CallStore(factory, recordings).close_orphans() == 1
