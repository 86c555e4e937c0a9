"""The call's turn log on a real SQLite call log: latency held for the first audio, key floods bounded."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from core.db import engine_for, session_factory
from hotline.db import upgrade
from ivr import flow as F
from ivr import turns
from ivr.enums import TurnAction, TurnKind
from ivr.models import Turn
from ivr.store import CallStore
from ivr.turns import TurnLog

STAR = F.Turn(kind=TurnKind.DTMF, dtmf="*", action=TurnAction.REPLAY)


@pytest.fixture
def store(settings):
    upgrade(settings.database_url)
    return CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")


class Writes:
    """Runs the turn log's writes as tasks, like the call session, and waits for them."""

    def __init__(self) -> None:
        self.tasks: list[asyncio.Task[None]] = []

    def spawn(self, coro, name: str) -> asyncio.Task[None]:
        task = asyncio.create_task(coro, name=name)
        self.tasks.append(task)
        return task

    async def done(self) -> None:
        await asyncio.gather(*self.tasks)


def rows(store: CallStore, call_id: int) -> list[Turn]:
    with store.factory() as s:
        return list(s.scalars(select(Turn).where(Turn.call_id == call_id).order_by(Turn.seq)))


async def test_a_star_flood_is_one_row_holding_its_keys(store):
    call_id = store.start_call("chan-stars", "0912345678")
    writes = Writes()
    log = TurnLog("chan-stars", call_id, store, writes.spawn)
    for _ in range(500):
        log.log(STAR, None)
    log.log(F.Turn(kind=TurnKind.DTMF, dtmf="1", intent="cccd"), None)
    for _ in range(3):
        log.log(STAR, None)
    log.flush(None)
    await writes.done()
    got = [(r.seq, r.dtmf, r.action) for r in rows(store, call_id)]
    assert got == [(1, "*" * 64, "replay"), (2, "1", None), (3, "***", "replay")]


async def test_a_call_writes_a_bounded_number_of_rows_whatever_the_keys():
    class CountingStore:
        def __init__(self) -> None:
            self.turns = 0

        def log_turn(self, call_id, seq, turn) -> None:
            self.turns += 1

    now = [0.0]
    counting = CountingStore()
    writes = Writes()
    log = TurnLog("chan-keys", 1, counting, writes.spawn, clock=lambda: now[0])
    for i in range(1000):  # 1000 invalid keys within 10 s
        now[0] = i / 100
        log.log(F.Turn(kind=TurnKind.DTMF, dtmf="9", action=TurnAction.INVALID), None)
    log.flush(None)
    await writes.done()
    assert turns.TURN_BURST <= counting.turns <= turns.TURN_BURST + 11
    # A caller at a human pace loses nothing.
    calm = CountingStore()
    log = TurnLog("chan-calm", 1, calm, writes.spawn, clock=lambda: now[0])
    for i in range(200):
        now[0] = 100 + 2 * i
        log.log(F.Turn(kind=TurnKind.DTMF, dtmf="1", intent="cccd"), None)
    await writes.done()
    assert calm.turns == 200
