"""The call's turn log on a real SQLite call log: latency held for the first audio, key floods bounded."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.db import engine_for, session_factory
from hotline.db import upgrade
from ivr import flow as F
from ivr import turns
from ivr.calllog import CallLog
from ivr.enums import TurnAction, TurnKind
from ivr.models import Turn
from ivr.store import CallStore
from ivr.turns import TurnLog
from tests.support import FakeCallLog

STAR = F.Turn(kind=TurnKind.DTMF, dtmf="*", action=TurnAction.REPLAY)


@pytest.fixture
def store(settings):
    upgrade(settings.database_url)
    return CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")


def rows(store: CallStore, call_id: int) -> list[Turn]:
    with store.factory() as s:
        return list(s.scalars(select(Turn).where(Turn.call_id == call_id).order_by(Turn.seq)))


async def test_a_star_flood_is_one_row_holding_its_keys(store, tmp_path):
    calllog = CallLog(store, tmp_path / "journal.jsonl")
    calllog.start_writer()
    calllog.start("chan-stars", "0912345678")
    log = TurnLog("chan-stars", calllog)
    for _ in range(500):
        log.log(STAR, None)
    log.log(F.Turn(kind=TurnKind.DTMF, dtmf="1", intent="cccd"), None)
    for _ in range(3):
        log.log(STAR, None)
    log.flush(None)
    calllog.end("chan-stars", "answered", False)
    await calllog.close()
    call_id = store.call_id_of("chan-stars")
    got = [(r.seq, r.dtmf, r.action) for r in rows(store, call_id)]
    assert got == [(1, "*" * 64, "replay"), (2, "1", None), (3, "***", "replay")]


def test_a_call_writes_a_bounded_number_of_rows_whatever_the_keys():
    now = [0.0]
    sink = FakeCallLog()
    log = TurnLog("chan-keys", sink, clock=lambda: now[0])
    for i in range(1000):  # 1000 invalid keys within 10 s
        now[0] = i / 100
        log.log(F.Turn(kind=TurnKind.DTMF, dtmf="9", action=TurnAction.INVALID), None)
    log.flush(None)
    assert turns.TURN_BURST <= len(sink.rows) <= turns.TURN_BURST + 11
    # A caller at a human pace loses nothing.
    calm = FakeCallLog()
    log = TurnLog("chan-calm", calm, clock=lambda: now[0])
    for i in range(200):
        now[0] = 100 + 2 * i
        log.log(F.Turn(kind=TurnKind.DTMF, dtmf="1", intent="cccd"), None)
    assert len(calm.rows) == 200
