"""Fallback messages (recorded by the dialplan while the application was down) into tickets.

Real files and a real SQLite database; the real dialplan and Record() are in
test_fallback_messages_e2e.py.
"""

from __future__ import annotations

import asyncio
import os
import time

import numpy as np
import pytest
from sqlalchemy import text

from core.db import engine_for, session_factory
from hotline.db import upgrade
from ivr import store as S
from ivr.fallback_messages import caller_of, import_messages, watch_messages
from tests import support
from voice.audio import AudioChunk, write_wav


@pytest.fixture
def store(settings):
    upgrade(settings.database_url)
    return S.CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")


def speech_like(seconds: float) -> AudioChunk:
    t = np.arange(int(8000 * seconds)) / 8000
    return AudioChunk.from_array((4000 * np.sin(2 * np.pi * 300 * t)).astype(np.int16), 8000)


def leave(directory, name: str, chunk: AudioChunk, caller: str | None, age_s: float = 60.0):
    wav = write_wav(directory / f"{name}.wav", chunk)
    if caller is not None:
        (directory / f"{name}.caller").write_text(caller)
    then = time.time() - age_s
    for path in directory.glob(f"{name}.*"):
        os.utime(path, (then, then))
    return wav


@pytest.mark.parametrize(
    "sidecar, caller",
    [
        ("+84912345678 ", "0912345678"),  # a carrier's number in the international form
        ("84912345678 Nguyen", "0912345678"),
        (" ", ""),  # withheld: the trunk cleared the caller id
        ("goipxa 0912345678", "0912345678"),  # a GSM gateway: its own user, the caller in the name
        ("caller Caller", "caller"),  # the test caller of our own Asterisk
        ("anonymous Anonymous", ""),
    ],
)
def test_the_caller_comes_from_the_dialplans_sidecar(tmp_path, sidecar, caller):
    path = tmp_path / "x.caller"
    path.write_text(sidecar)
    assert caller_of(path) == caller


def test_finished_messages_become_tickets_and_leave_the_spool(store, tmp_path):
    spool = tmp_path / "messages"
    spool.mkdir()
    leave(spool, "hotline-1.0", speech_like(3.0), "+84912345678 ")
    leave(spool, "hotline-2.0", speech_like(0.3), " ")  # hung up at the beep
    leave(spool, "hotline-3.0", AudioChunk(bytes(32000), 8000), " ")  # two seconds of nothing
    recording = leave(spool, "hotline-4.0", speech_like(2.0), "0987654321 ", age_s=1.0)  # still recording
    (spool / "hotline-5.0.caller").write_text("0911111111 ")  # the caller hung up before the beep
    old = time.time() - 3600
    os.utime(spool / "hotline-5.0.caller", (old, old))
    (spool / "hotline-6.0.wav").write_bytes(b"not audio at all")
    os.utime(spool / "hotline-6.0.wav", (old, old))

    imported = import_messages(store, spool)

    assert len(imported) == 1 and abs(imported[0].chunk.duration_s - 3.0) < 0.01
    t = store.ticket(imported[0].ticket)
    assert (t.reason, t.caller, t.caller_masked, t.call_id) == ("message", "0912345678", "*******678", None)
    assert t.audio_path.startswith(str(store.recordings_dir)) and os.path.isfile(t.audio_path)
    # Only the message still being recorded is left, with its sidecar.
    assert sorted(p.name for p in spool.iterdir()) == ["hotline-4.0.caller", recording.name]


def test_a_message_whose_ticket_cannot_be_stored_waits_for_the_next_pass(store, tmp_path):
    spool = tmp_path / "messages"
    spool.mkdir()
    leave(spool, "hotline-1.0", speech_like(2.0), "0912345678 ")
    with store.factory() as s, s.begin():  # the database refuses every insert
        s.execute(text("ALTER TABLE tickets RENAME TO tickets_away"))
    assert import_messages(store, spool) == []
    assert sorted(p.name for p in spool.iterdir()) == ["hotline-1.0.caller", "hotline-1.0.wav"]
    assert not list(store.recordings_dir.rglob("*.wav")), "no recording without its ticket"
    with store.factory() as s, s.begin():
        s.execute(text("ALTER TABLE tickets_away RENAME TO tickets"))
    (imported,) = import_messages(store, spool)
    assert store.ticket(imported.ticket).caller == "0912345678" and not list(spool.iterdir())


class FakeTranscriber:
    def __init__(self) -> None:
        self.heard: list[float] = []

    async def transcribe(self, chunk):
        self.heard.append(chunk.duration_s)
        return type("Result", (), {"text": "đèn đường ở xóm 3 bị hỏng, số tôi 0912345678"})()


async def test_the_running_application_imports_and_transcribes_them(store, tmp_path):
    spool = tmp_path / "messages"
    spool.mkdir()
    leave(spool, "hotline-1.0", speech_like(2.0), "0912345678 ")
    transcriber = FakeTranscriber()
    task = asyncio.create_task(watch_messages(store, spool, transcriber, poll_s=0.05))
    try:
        await support.until(lambda: transcriber.heard and not list(spool.iterdir()), limit_s=10.0)
        leave(spool, "hotline-2.0", speech_like(1.5), " ")  # a second one, found by the next pass
        await support.until(lambda: len(transcriber.heard) == 2, limit_s=10.0)
    finally:
        task.cancel()
    with store.factory() as s:
        rows = s.execute(text("SELECT transcript FROM tickets ORDER BY id")).scalars().all()
    assert rows[0] == "đèn đường ở xóm 3 bị hỏng, số tôi *******678"


async def test_with_a_job_runner_each_message_is_transcribed_by_its_ticket_s_job(store, tmp_path):
    from sqlalchemy import select

    from core.jobs import InProcessJob
    from ivr.transcription import call_runner

    spool = tmp_path / "messages"
    spool.mkdir()
    leave(spool, "hotline-3.0", speech_like(2.0), "0912345678 ")
    transcriber = FakeTranscriber()
    runner = call_runner(store, transcriber, asyncio.get_running_loop())
    task = asyncio.create_task(watch_messages(store, spool, transcriber, poll_s=0.05, jobs=runner))
    try:
        await support.until(lambda: transcriber.heard and not list(spool.iterdir()), limit_s=10.0)

        def job_done() -> bool:
            with store.factory() as s:
                return s.scalar(select(InProcessJob.status)) == "succeeded"

        await support.until(job_done, limit_s=10.0)
    finally:
        task.cancel()
        runner.close()
    with store.factory() as s:
        rows = s.execute(text("SELECT transcript FROM tickets ORDER BY id")).scalars().all()
        jobs = [(j.task, j.attempts) for j in s.scalars(select(InProcessJob))]
    assert rows == ["đèn đường ở xóm 3 bị hỏng, số tôi *******678"]
    assert jobs == [("ticket_transcribe", 1)] and transcriber.heard == [2.0]


def test_messages_are_imported_by_one_process_at_a_time(db_settings, tmp_path):
    """Several call workers see Asterisk's spool: while one imports, another's pass does nothing, and
    workers importing at once store each message once (advisory lock on PostgreSQL, file lock on SQLite)."""
    import threading

    from ivr.fallback_messages import import_exclusively, import_lock
    from ivr.models import Ticket

    upgrade(db_settings.database_url)
    engines = [engine_for(db_settings) for _ in range(3)]  # one per "worker": their own connections
    stores = [S.CallStore(session_factory(e), db_settings.data_dir / "recordings") for e in engines]
    spool = tmp_path / "messages"
    spool.mkdir()
    for n in range(4):
        leave(spool, f"hotline-1765000000.{n}", speech_like(1.5), "0912345678 ")
    with import_lock(stores[0], spool) as got:
        assert got
        assert import_exclusively(stores[1], spool) is None  # another holds the lock: nothing imported
        assert len(list(spool.glob("*.wav"))) == 4
    results: list = []
    start = threading.Barrier(2)

    def worker(store):
        start.wait()
        results.append(import_exclusively(store, spool))

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores[1:]]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    imported = [m for r in results if r for m in r]
    with session_factory(engines[0])() as s:
        tickets = s.scalars(select_tickets(Ticket)).all()
    assert len(imported) == 4 and len(tickets) == 4, (results, tickets)
    assert not list(spool.glob("*.wav"))
    for e in engines:
        e.dispose()


def select_tickets(model):
    from sqlalchemy import select

    return select(model).where(model.reason == "message")
