"""The call's action runner against fakes that record what they were asked.

Ring-all transfer to operator seats: the real Asterisk, real phones and real timing are in
test_call_e2e.py (two agents, one answering); this covers the choices quickly: which legs ring, which one
wins, what is hung up and forgotten. Tickets: what is stored, and which spool is kept for recovery.
"""

from __future__ import annotations

import asyncio

import pytest

from ivr import flow as F
from ivr.actions import RINGBACK_PLAYBACK, ActionRunner, CallInfo, NoAnswer, first_answer
from ivr.app import Hotline
from ivr.ari import AriError
from ivr.ids import PREFIX_OPERATOR
from ivr.session import CallSession
from tests import support
from tests.support import FakeServices

UNREGISTERED = AriError('ARI POST /channels: 500 {"message":"Allocation failed"}', 500)


class FakeAri:
    """Records requests; `unregistered` endpoints fail to originate like a phone that is not registered."""

    def __init__(self, app_ref: list, unregistered: tuple[str, ...] = (), answer_at_once: str = "") -> None:
        self.app_ref = app_ref
        self.unregistered = set(unregistered)
        self.answer_at_once = answer_at_once  # its StasisStart comes before the originate response
        self.ringing: dict[str, str] = {}  # endpoint -> channel id
        self.requests: list[tuple] = []

    async def originate(self, endpoint, channel_id, *, app_args, timeout_s, caller_id=""):
        self.requests.append(("originate", endpoint, channel_id, app_args, timeout_s, caller_id))
        await asyncio.sleep(0)
        if endpoint in self.unregistered:
            raise UNREGISTERED
        self.ringing[endpoint] = channel_id
        if endpoint == self.answer_at_once:
            event = {"type": "StasisStart", "channel": {"id": channel_id}, "args": ["operator"]}
            self.app_ref[0].on_event(event)
        return {"id": channel_id}

    async def hangup(self, channel_id):
        self.requests.append(("hangup", channel_id))

    async def remove_from_bridge(self, bridge_id, channel_id):
        self.requests.append(("remove", bridge_id, channel_id))

    async def add_to_bridge(self, bridge_id, channel_id):
        self.requests.append(("add", bridge_id, channel_id))

    async def destroy_bridge(self, bridge_id):
        self.requests.append(("destroy_bridge", bridge_id))

    def hung_up(self) -> set[str]:
        return {r[1] for r in self.requests if r[0] == "hangup"}


class FakePlayer:
    def __init__(self) -> None:
        self.log: list[tuple[str, int]] = []

    def play(self, playback_id, source):
        self.log.append(("play", playback_id))

    def stop(self, playback_id):
        self.log.append(("stop", playback_id))

    def close(self):
        self.log.append(("close", 0))


def runner_for(session: CallSession, ari, *, player=None, store=None, recordings=None, call_id=None):
    """The session's action runner with explicit fakes (only what a test uses is given)."""
    return ActionRunner(
        CallInfo(session.channel_id, session.caller, session.bridge_id, session.media_id, call_id),
        ari=ari,
        store=store,
        dossiers=None,
        prompts=None,
        radio=None,
        transcriber=None,
        player=player or FakePlayer(),
        recordings=recordings,
        channels=session,
        post=session.post,
        spawn_background=session.app.spawn,
    )


# How a carrier trunk presents the caller: the session keeps it in the national form, 0912345678.
CARRIER_CALLER = {"number": "+84912345678", "name": ""}


def make_call(caller: dict | None = None, **ari_kw) -> tuple[Hotline, CallSession, FakeAri]:
    ref: list = []
    ari = FakeAri(ref, **ari_kw)
    app = Hotline(FakeServices(ari))  # type: ignore[arg-type]
    ref.append(app)
    session = CallSession(app, {"id": "caller-1", "caller": CARRIER_CALLER if caller is None else caller}, [])
    session.actions = runner_for(session, ari)
    app.sessions[session.channel_id] = session
    return app, session, ari


async def until(pred) -> None:
    await support.until(pred, limit_s=2.0, step_s=0.001)


def results(session: CallSession) -> list:
    out = []
    while not session.queue.empty():
        out.append(session.queue.get_nowait())
    return out


SEATS = "PJSIP/operator&PJSIP/operator2"


async def test_all_seats_ring_and_the_first_to_answer_gets_the_caller():
    app, session, ari = make_call()
    task = asyncio.create_task(session.actions.transfer(SEATS, 10))
    await until(lambda: len(ari.ringing) == 2)
    legs = dict(ari.ringing)
    originated = [r for r in ari.requests if r[0] == "originate"]
    assert [r[1] for r in originated] == ["PJSIP/operator", "PJSIP/operator2"]
    assert all(r[2].startswith(PREFIX_OPERATOR) and r[3:5] == ("operator,caller-1", 10) for r in originated)
    assert len(set(legs.values())) == 2 and set(legs.values()) <= set(app.owned)  # never taken for callers
    await until(lambda: ("play", RINGBACK_PLAYBACK) in session.actions.player.log)
    app.on_event({"type": "StasisStart", "channel": {"id": legs["PJSIP/operator2"]}, "args": ["operator"]})
    await asyncio.wait_for(task, 2)
    assert results(session) == [F.TransferResult(True)]
    assert session.actions.operator_id == legs["PJSIP/operator2"]
    # Seat 1 stopped ringing before the caller joined seat 2; the ringing tone stopped too.
    hangup_at = ari.requests.index(("hangup", legs["PJSIP/operator"]))
    assert ari.requests[hangup_at + 1 :] == [
        ("remove", session.bridge_id, session.media_id),
        ("add", session.bridge_id, legs["PJSIP/operator2"]),
    ]
    assert ("stop", RINGBACK_PLAYBACK) in session.actions.player.log
    assert session.actions.operator_legs == {legs["PJSIP/operator2"]}
    assert legs["PJSIP/operator"] not in app.owned and legs["PJSIP/operator"] not in app.waiters
    # The operator leaving ends the call, as with one seat (the flow decides; here: the leg is watched).
    assert app.owned[legs["PJSIP/operator2"]] is session


async def test_unregistered_seat_is_skipped_and_an_early_answer_is_not_lost():
    app, session, ari = make_call(unregistered=("PJSIP/operator",), answer_at_once="PJSIP/operator2")
    await asyncio.wait_for(session.actions.transfer(SEATS, 10), 2)
    assert results(session) == [F.TransferResult(True)]
    assert session.actions.operator_id == ari.ringing["PJSIP/operator2"]
    failed = next(r[2] for r in ari.requests if r[0] == "originate" and r[1] == "PJSIP/operator")
    assert (
        failed not in app.owned and failed not in app.waiters and failed not in session.actions.operator_legs
    )


async def test_no_seat_registered_means_a_message_at_once_without_ringing():
    app, session, ari = make_call(unregistered=("PJSIP/operator", "PJSIP/operator2"))
    await asyncio.wait_for(session.actions.transfer(SEATS, 10), 2)
    assert results(session) == [F.TransferResult(False)]
    assert session.actions.player.log == [("stop", RINGBACK_PLAYBACK)]  # never started
    assert (
        not app.owned
        and not app.waiters
        and not session.actions.operator_legs
        and session.actions.operator_id is None
    )


async def test_every_ringing_seat_cancelled_means_no_answer():
    # Asterisk ends each leg at the originate timeout (or a phone declines): ChannelDestroyed for all.
    app, session, ari = make_call(unregistered=("PJSIP/operator3",))
    task = asyncio.create_task(session.actions.transfer(SEATS + "&PJSIP/operator3", 10))
    await until(lambda: len(ari.ringing) == 2)
    for cid in ari.ringing.values():
        app.on_event({"type": "ChannelDestroyed", "channel": {"id": cid}, "cause_txt": "No answer"})
    await asyncio.wait_for(task, 2)
    assert results(session) == [F.TransferResult(False)]
    assert set(ari.ringing.values()) <= ari.hung_up()
    assert not app.owned and not app.waiters and not session.actions.operator_legs


@pytest.mark.parametrize(
    "caller, caller_id",
    [
        (CARRIER_CALLER, "0912345678"),
        ({"number": "sip:+842383123456@10.0.0.1;user=phone", "name": ""}, "02383123456"),
        ({"number": "caller", "name": "Caller"}, "caller"),  # our own test caller, as it is
        # Withheld: the operator's phone shows the Vietnamese label, never "anonymous" or a default user.
        ({"number": "anonymous", "name": "Anonymous"}, '"Số ẩn" <>'),
        ({}, '"Số ẩn" <>'),
    ],
)
async def test_seats_ring_with_the_callers_national_number(caller, caller_id):
    app, session, ari = make_call(caller, unregistered=("PJSIP/operator", "PJSIP/operator2"))
    await asyncio.wait_for(session.actions.transfer(SEATS, 10), 2)
    assert [r[5] for r in ari.requests if r[0] == "originate"] == [caller_id, caller_id]


async def test_the_operators_on_duty_are_who_the_rota_names_when_the_transfer_rings():
    import datetime as dt

    from ivr.duty import Hours, Rota, Shift

    weekdays = frozenset({"mon", "tue", "wed", "thu", "fri"})
    office = Shift(weekdays, Hours.parse("07:30-17:00"), SEATS)
    night = Shift(weekdays, Hours.parse("17:00-07:30"), "PJSIP/operator3")
    tet = frozenset({dt.date(2027, 2, 8)})
    rota = Rota([office, night], "", "Asia/Ho_Chi_Minh", tet.__contains__)
    vn = dt.timezone(dt.timedelta(hours=7))
    for moment, rung in [
        (dt.datetime(2027, 3, 1, 9, 0, tzinfo=vn), ["PJSIP/operator", "PJSIP/operator2"]),  # Monday morning
        (dt.datetime(2027, 3, 2, 6, 0, tzinfo=vn), ["PJSIP/operator3"]),  # Monday's night shift
        (dt.datetime(2027, 2, 8, 9, 0, tzinfo=vn), []),  # a Monday of Tết: nobody (no default), a message
    ]:
        app, session, ari = make_call(unregistered=("PJSIP/operator", "PJSIP/operator2", "PJSIP/operator3"))
        session.actions.rota, session.actions.clock = rota, lambda moment=moment: moment
        await asyncio.wait_for(session.actions.transfer("PJSIP/unused", 10, duty=True), 2)
        assert [r[1] for r in ari.requests if r[0] == "originate"] == rung, moment
        assert results(session) == [F.TransferResult(False)]
    # A transfer that is not to the operators (a commune's team) rings its own endpoint at any hour.
    app, session, ari = make_call(unregistered=("PJSIP/team",))
    session.actions.rota, session.actions.clock = rota, lambda: dt.datetime(2027, 3, 1, 9, 0, tzinfo=vn)
    await asyncio.wait_for(session.actions.transfer("PJSIP/team", 10), 2)
    assert [r[1] for r in ari.requests if r[0] == "originate"] == ["PJSIP/team"]


async def test_caller_hanging_up_while_seats_ring_hangs_up_every_leg():
    app, session, ari = make_call()
    await session.execute([F.Transfer(SEATS, 10)])
    await until(lambda: len(ari.ringing) == 2)
    await session.teardown()
    assert set(ari.ringing.values()) <= ari.hung_up()
    assert not app.owned and not app.waiters and not app.sessions
    await asyncio.sleep(0.01)  # the cancelled transfer posts nothing
    assert F.TransferResult(True) not in results(session)


async def test_first_answer_skips_failed_legs_and_times_out():
    loop = asyncio.get_running_loop()
    refused, answered, silent = loop.create_future(), loop.create_future(), loop.create_future()
    refused.set_exception(AriError("channel destroyed (Busy)"))
    answered.set_result({})
    assert await first_answer({refused: "a", answered: "b"}, 1.0) == "b"
    with pytest.raises(NoAnswer, match="within 0.05 s"):
        await first_answer({silent: "c"}, 0.05)
    assert silent.cancelled()  # nobody is left waiting on it
    late = loop.create_future()
    late.set_exception(AriError("channel destroyed (Cancel)"))
    with pytest.raises(NoAnswer, match="Cancel"):
        await first_answer({late: "d"}, 1.0)


# --- tickets --------------------------------------------------------------------------------------


class FakeStore:
    """Records what the runner stored; `fail` makes saving the audio fail like a full disk."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail
        self.log: list[tuple] = []

    def save_recording(self, chunk, name):
        self.log.append(("save", name, chunk.samples))
        if self.fail:
            raise OSError("No space left on device")
        return f"/recordings/{name}.wav"

    def create_ticket(self, **kw):
        self.log.append(("ticket", kw))
        return "4242"


class FakeRecordings:
    def __init__(self, **audio) -> None:
        self.audio = audio
        self.log: list[tuple[str, str]] = []

    def take_recording(self, name):
        self.log.append(("take", name))
        return self.audio.pop(name, None)

    def recording_stored(self, name):
        self.log.append(("stored", name))

    def keep_spool(self, name):
        self.log.append(("keep", name))


def ticket_call(store, recordings, caller=None):
    app, session, ari = make_call(caller)
    session.actions = runner_for(session, ari, store=store, recordings=recordings, call_id=7)
    return session


async def test_a_stored_ticket_releases_its_spool_and_reports_its_number():
    from voice.audio import AudioChunk

    store, recordings = FakeStore(), FakeRecordings(rec1=AudioChunk(bytes(16000), 8000))
    session = ticket_call(store, recordings)
    await session.actions.create_ticket("rec1", "feedback")
    assert results(session) == [F.TicketCreated("4242")]
    assert store.log[0] == ("save", "7-rec1", 8000)
    assert store.log[1][1] == {
        "call_id": 7,
        "caller": "0912345678",
        "reason": "feedback",
        "audio_path": "/recordings/7-rec1.wav",
        "duration_ms": 1000,
        "commune": None,
        "topic": None,
        "jobs": None,  # no job runner: transcribed in the call's background (the next test: with one)
    }
    assert recordings.log == [("take", "rec1"), ("stored", "rec1")]


async def test_with_a_job_runner_the_ticket_queues_its_transcription_and_the_call_transcribes_nothing():
    from voice.audio import AudioChunk

    class Heard:
        chunks: list = []

        async def transcribe(self, chunk):
            self.chunks.append(chunk)

    store, recordings = FakeStore(), FakeRecordings(rec1=AudioChunk(bytes(16000), 8000))
    session = ticket_call(store, recordings)
    runner, heard = object(), Heard()
    session.actions.jobs, session.actions.transcriber = runner, heard
    spawned: list[str] = []
    session.actions.spawn_background = lambda coro, name: (spawned.append(name), coro.close())
    await session.actions.create_ticket("rec1", "feedback")
    assert results(session) == [F.TicketCreated("4242")]
    assert store.log[1][1]["jobs"] is runner  # queued in the ticket's transaction (CallStore)
    assert spawned == [] and heard.chunks == []


async def test_a_withheld_callers_ticket_is_stored_without_a_number():
    from voice.audio import AudioChunk

    store, recordings = FakeStore(), FakeRecordings(rec1=AudioChunk(bytes(16000), 8000))
    session = ticket_call(store, recordings, {"number": "Restricted", "name": ""})
    await session.actions.create_ticket("rec1", "message")
    assert results(session) == [F.TicketCreated("4242")]
    assert store.log[1][1]["caller"] == ""


async def test_a_ticket_that_cannot_be_stored_keeps_its_spool_for_recovery():
    from voice.audio import AudioChunk

    store, recordings = FakeStore(fail=True), FakeRecordings(rec1=AudioChunk(bytes(16000), 8000))
    session = ticket_call(store, recordings)
    await session.actions.create_ticket("rec1", "message")
    await session.actions.create_ticket("rec2", "message")  # no audio at all
    assert results(session) == [F.TicketCreated(None, kept=True), F.TicketCreated(None)]
    assert recordings.log == [("take", "rec1"), ("keep", "rec1"), ("take", "rec2"), ("keep", "rec2")]


class LockedStore(FakeStore):
    """The database refuses the first `refusals` tickets (another writer holds it), then takes them."""

    def __init__(self, refusals: int) -> None:
        super().__init__()
        self.refusals = refusals

    def create_ticket(self, **kw):
        if self.refusals:
            self.refusals -= 1
            self.log.append(("refused", kw["reason"]))
            raise OSError("database is locked")
        return super().create_ticket(**kw)


async def test_a_ticket_the_database_refused_is_stored_once_it_works_again_without_a_restart(tmp_path):
    """Regression: a complaint refused by a locked database (or a full disk) waited in its spool until
    the next start of the service; it is now tried again in the background, and its spool then goes."""
    from voice.audio import AudioChunk

    spool = tmp_path / "7-rec1.raw"
    spool.write_bytes(bytes(16000))

    class Spooled(FakeRecordings):
        def keep_spool(self, name):
            super().keep_spool(name)
            return spool

    store, recordings = LockedStore(refusals=2), Spooled(rec1=AudioChunk(bytes(16000), 8000))
    session = ticket_call(store, recordings)
    session.actions.retry_s = 0.01
    await session.actions.create_ticket("rec1", "feedback")
    assert results(session) == [F.TicketCreated(None, kept=True)]  # the caller does not wait for it
    await support.until(lambda: any(e[0] == "ticket" for e in store.log), limit_s=2.0)
    stored = [e for e in store.log if e[0] == "ticket"]
    assert len(stored) == 1 and stored[0][1]["reason"] == "feedback" and stored[0][1]["duration_ms"] == 1000
    assert [e[0] for e in store.log].count("refused") == 2
    await support.until(lambda: not spool.exists(), limit_s=2.0)  # the audio is in the ticket's file now


async def test_a_call_back_ticket_refused_by_the_database_is_not_lost():
    store, recordings = LockedStore(refusals=1), FakeRecordings()
    session = ticket_call(store, recordings)
    session.actions.retry_s = 0.01
    await session.actions.create_ticket("", "callback")
    await support.until(lambda: any(e[0] == "ticket" for e in store.log), limit_s=2.0)
    assert [e for e in store.log if e[0] == "ticket"][0][1]["caller"] == "0912345678"


async def test_a_call_back_ticket_has_the_number_and_no_audio():
    store, recordings = FakeStore(), FakeRecordings()
    session = ticket_call(store, recordings)
    await session.actions.create_ticket("", "callback")
    assert results(session) == [F.TicketCreated("4242")]
    assert store.log == [
        ("ticket", {"call_id": 7, "caller": "0912345678", "reason": "callback", "audio_path": None,
                    "duration_ms": 0, "commune": None, "topic": None, "jobs": None}),
    ]  # fmt: skip
    assert recordings.log == []


async def test_a_ticket_for_a_communes_team_carries_the_commune():
    store, recordings = FakeStore(), FakeRecordings()
    session = ticket_call(store, recordings)
    await session.execute([F.CreateTicket("", "callback", commune="17329")])
    await until(lambda: store.log)
    assert store.log[0][1]["commune"] == "17329" and store.log[0][1]["reason"] == "callback"


async def test_a_message_cut_at_the_beep_becomes_a_call_back_and_its_spool_goes():
    from tests.support import sine
    from voice.audio import AudioChunk

    silence = AudioChunk(bytes(48000), 8000)  # 3 s of nothing: the caller hung up without a word
    store, recordings = FakeStore(), FakeRecordings(rec1=silence)
    session = ticket_call(store, recordings)
    await session.actions.create_ticket("rec1", "message", min_ms=800)
    assert results(session) == [F.TicketCreated("4242")]
    assert [entry[0] for entry in store.log] == ["ticket"]  # no audio saved
    assert store.log[0][1]["reason"] == "callback" and store.log[0][1]["caller"] == "0912345678"
    assert recordings.log == [("take", "rec1"), ("stored", "rec1")]
    # Something said: the message itself.
    store, recordings = FakeStore(), FakeRecordings(rec1=AudioChunk.from_array(sine(2.0, 8000), 8000))
    session = ticket_call(store, recordings)
    await session.actions.create_ticket("rec1", "message", min_ms=800)
    assert store.log[1][1]["reason"] == "message" and store.log[1][1]["duration_ms"] == 2000
    # Nothing said by a withheld number: no ticket at all, the flow is gone anyway.
    store, recordings = FakeStore(), FakeRecordings(rec1=silence)
    session = ticket_call(store, recordings, {"number": "anonymous", "name": ""})
    await session.actions.create_ticket("rec1", "message", min_ms=800)
    assert store.log == [] and results(session) == []
    assert recordings.log == [("take", "rec1"), ("stored", "rec1")]


async def test_a_tickets_audio_is_on_disk_before_its_spool_is_deleted(settings, monkeypatch):
    """Real store (SQLite file, recordings directory) and a real listener's spool: the WAV and the
    directory entry of its rename are fsynced before the spool, the only other copy, is deleted."""
    import os
    from pathlib import Path

    import numpy as np

    from core.db import engine_for, session_factory
    from hotline.db import upgrade
    from ivr.admission import AsrAdmission
    from ivr.listener import CallListener
    from ivr.store import CallStore
    from tests.ivr.test_listener import Hooks
    from voice.audio import AudioChunk

    upgrade(settings.database_url)
    store = CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")
    listener = CallListener(Hooks(), call="caller-1", rate=8000, admission=AsrAdmission(), recognizer=None)
    spool = store.recordings_dir / ".incoming" / "7-rec1.raw"
    listener.start_recording("rec1", 60, spool)
    voice = (3000 * np.sin(np.arange(8000) / 5)).astype(np.int16)
    for i in range(50):  # 1 s of voice, in 20 ms chunks
        listener.on_chunk(AudioChunk.from_array(voice[i * 160 : (i + 1) * 160], 8000))
    listener.stop_recording("rec1")
    assert spool.is_file()

    events: list[tuple[str, str]] = []
    real_fsync, real_unlink = os.fsync, Path.unlink

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        real_fsync(fd)

    def unlink(self, missing_ok=False):
        events.append(("unlink", str(self)))
        real_unlink(self, missing_ok=missing_ok)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(Path, "unlink", unlink)
    app, session, ari = make_call()
    call_id = store.start_call(session.channel_id, session.caller)
    session.actions = runner_for(session, ari, store=store, recordings=listener, call_id=call_id)
    await session.actions.create_ticket("rec1", "feedback")
    [created] = results(session)
    assert created.number is not None and not spool.exists()
    wav = Path(store.ticket(created.number).audio_path)
    deleted = events.index(("unlink", str(spool)))
    synced = [path for kind, path in events[:deleted] if kind == "fsync"]
    temp = [p for p in synced if p.startswith(str(wav.parent / f".{wav.name}.")) and p.endswith(".part")]
    assert len(temp) == 1, synced  # the data, under its writer's temporary name, before the rename
    assert str(wav.parent) in synced  # the rename
