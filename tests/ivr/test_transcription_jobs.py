"""Complaint transcription as a job, with the real recognizer on a real clip: stored with its ticket, run
again after a restart, once only, retried after a recognizer failure (SQLite, the call application's
runner); on PostgreSQL a job worker transcribes with a recognizer of its own."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import select

from core.db import engine_for, session_factory
from core.jobs import InProcessJob, JobStatus
from hotline.db import upgrade
from ivr import store as S
from ivr.transcription import call_runner, in_own_loop, on_loop, transcribe_ticket, transcription_tasks
from tests.conftest import FIXTURES
from voice.asr import Recognizer, ulaw_chunk
from voice.audio import read_audio, resample, ulaw_encode

pytestmark = pytest.mark.slow

CLIP = FIXTURES / "speech" / "ly_north_female.wav"  # says "... logic ... tương tự ..." (test_call_e2e)
DEADLINE_S = 60.0


class Counting:
    """The real recognizer, counting its transcriptions; `fail` makes the next ones raise like a crash."""

    def __init__(self, real: Recognizer) -> None:
        self.real = real
        self.calls = 0
        self.fail = 0

    async def transcribe(self, chunk):
        self.calls += 1
        if self.fail:
            self.fail -= 1
            raise RuntimeError("injected ASR engine failure")
        return await self.real.transcribe(chunk)


@pytest.fixture(scope="module")
def telephone_clip():
    return ulaw_chunk(ulaw_encode(resample(read_audio(CLIP), 8000).array()))


def _ticket(store: S.CallStore, clip, jobs) -> int:
    path = store.save_recording(clip, "call-feedback")
    number = store.create_ticket(
        call_id=None, caller="0912345678", reason="feedback", audio_path=path,
        duration_ms=int(clip.duration_s * 1000), jobs=jobs,
    )  # fmt: skip
    ticket = store.ticket(number)
    assert ticket is not None
    return ticket.id


async def _transcript(store: S.CallStore, ticket_id: int) -> str:
    deadline = time.monotonic() + DEADLINE_S
    while not (ticket := store.ticket_by_id(ticket_id)).transcript:
        assert time.monotonic() < deadline, "never transcribed"
        await asyncio.sleep(0.05)
    return ticket.transcript


def _jobs(store: S.CallStore) -> list[tuple[str, int]]:
    with store.factory() as s:
        return [(r.status, r.attempts) for r in s.scalars(select(InProcessJob).order_by(InProcessJob.id))]


async def test_a_transcription_left_by_a_restart_runs_once_and_a_failure_is_retried(settings, telephone_clip):
    upgrade(settings.database_url)
    store = S.CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")
    real = Recognizer.from_settings(settings, engine="vietasr")
    counting = Counting(real)
    loop = asyncio.get_running_loop()
    try:
        dead = call_runner(store, counting, loop)
        dead.close()  # the application stopped before its job thread took the ticket
        first = await asyncio.to_thread(_ticket, store, telephone_clip, dead)
        assert store.ticket_by_id(first).transcript == "" and _jobs(store) == [("queued", 0)]

        restarted = call_runner(store, counting, loop)
        assert await asyncio.to_thread(restarted.recover) == 1
        text = await _transcript(store, first)
        assert "logic" in text or "tương tự" in text, text
        assert counting.calls == 1
        # Run once more (a retry after the worker died having stored it): nothing is transcribed again.
        assert not await asyncio.to_thread(transcribe_ticket, store, on_loop(counting, loop), first)
        assert counting.calls == 1 and store.ticket_by_id(first).transcript == text

        # The recognizer crashes on the first attempt: the job is tried again and stores the transcript.
        counting.fail = 1
        restarted.retry_wait_seconds = 0.01
        second = await asyncio.to_thread(_ticket, store, telephone_clip, restarted)
        assert (
            "logic" in await _transcript(store, second) or "tương tự" in store.ticket_by_id(second).transcript
        )
        deadline = time.monotonic() + DEADLINE_S
        while _jobs(store)[1] != (JobStatus.SUCCEEDED, 2):
            assert time.monotonic() < deadline, _jobs(store)
            await asyncio.sleep(0.02)
        assert counting.calls == 3
        restarted.close()
    finally:
        real.close()


def test_on_postgresql_a_job_worker_transcribes_with_its_own_recognizer(postgres, settings, telephone_clip):
    from core.jobs_procrastinate import ProcrastinateRunner

    url = postgres.create_database(template=postgres.migrated())
    engine = None
    try:
        from core.db import make_engine

        engine = make_engine(url)
        store = S.CallStore(session_factory(engine), settings.data_dir / "recordings-pg")
        recognizers: list[Recognizer] = []

        def recognizer() -> Recognizer:  # built on the first job, as `hotline jobs run` does
            if not recognizers:
                recognizers.append(Recognizer.from_settings(settings, engine="vietasr"))
            return recognizers[0]

        runner = ProcrastinateRunner(url, transcription_tasks(lambda: store, in_own_loop(recognizer)))
        ticket_id = _ticket(store, telephone_clip, runner)

        async def drain() -> None:
            async with runner.app.open_async():
                await asyncio.wait_for(
                    runner.app.run_worker_async(wait=False, install_signal_handlers=False), DEADLINE_S
                )

        asyncio.run(drain())
        text = store.ticket_by_id(ticket_id).transcript
        assert "logic" in text or "tương tự" in text, text
        with store.factory() as s:
            [job] = runner.list_jobs(s)
        assert (job.task, job.status, job.args) == (
            S.TRANSCRIBE_TASK,
            JobStatus.SUCCEEDED,
            {"ticket_id": ticket_id},
        )
        for r in recognizers:
            r.close()
    finally:
        if engine is not None:
            engine.dispose()
        postgres.drop_database(url)
