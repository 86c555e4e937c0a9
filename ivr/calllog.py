"""The call log, written off the call's path: a locked database or a full disk never costs a caller.

Calls hand their rows (call started, turns, rating, call ended) to one `CallLog`, which returns at once;
its writer task puts them into the database in order, in a thread. When the database refuses a write
(locked, disk full, gone), that row and every row after it go to a local journal instead: JSON lines,
appended and fsynced (0600: it holds caller numbers). Every `retry_s` seconds, and at start-up, the
journal is replayed into the database; each row is applied at most once (a replay cut half-way is
simply run again), then the journal is removed. Rows keep the time they happened, not the replay's.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol

from core.masking import mask_personal
from core.metrics import ErrorStage, count_error
from ivr import flow as F
from ivr import metrics
from ivr.enums import Outcome
from ivr.store import utcnow

logger = logging.getLogger(__name__)

RETRY_S = 10.0  # while rows wait in the journal: how often the database is tried again
BACKLOG_MAX = 10_000  # rows kept in memory when even the journal cannot be written (disk full)
CLOSE_TIMEOUT_S = 10.0  # at shutdown: rows still queued get this long to be written (or journaled)

Op = Literal["start", "turn", "play", "satisfaction", "end"]


class CallLogStore(Protocol):
    """The call log's tables (`ivr.store.CallStore`)."""

    def start_call(
        self, channel_id: str, caller: str, sip_call_id: str = "", *, at: datetime | None = None
    ) -> int: ...

    def call_id_of(self, channel_id: str) -> int | None: ...

    def has_turn(self, call_id: int, seq: int) -> bool: ...

    def log_turn(self, call_id: int, seq: int, turn: F.Turn, *, at: datetime | None = None) -> None: ...

    def log_play(
        self, call_id: int, prompt: str, audio_ms: int, human_ms: int, *, at: datetime | None = None
    ) -> None: ...

    def set_satisfaction(self, call_id: int, score: int) -> None: ...

    def end_call(
        self, call_id: int, outcome: Outcome, degraded: bool = False, *, at: datetime | None = None
    ) -> None: ...


@dataclass(frozen=True)
class Entry:
    """One row of the call log to write: what, for which caller channel, when it happened."""

    op: Op
    channel: str
    at: datetime
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps(
            {"op": self.op, "channel": self.channel, "at": self.at.isoformat(), **self.data},
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, line: str) -> Entry:
        raw = json.loads(line)
        op, channel, at = raw.pop("op"), raw.pop("channel"), datetime.fromisoformat(raw.pop("at"))
        if op not in ("start", "turn", "play", "satisfaction", "end") or not isinstance(channel, str):
            raise ValueError(f"not a call log entry: {op!r}")
        return cls(op, channel, at, raw)


class CallLog:
    """Writes every call's log rows in order, off the call's path (see the module docstring)."""

    def __init__(
        self, store: CallLogStore, journal: Path, *, retry_s: float = RETRY_S, backlog_max: int = BACKLOG_MAX
    ) -> None:
        self.store = store
        self.journal = journal
        self.retry_s = retry_s
        self.backlog_max = backlog_max
        self._queue: asyncio.Queue[Entry | None] = asyncio.Queue()
        self._ids: dict[str, int] = {}  # caller channel -> call row, while the call is open
        self._on_id: dict[str, Callable[[int], None]] = {}  # told the row id once it is written
        self._backlog: list[Entry] = []  # rows the journal could not take either, in order
        self._spooling = journal.exists()  # rows wait in the journal: new ones go after them
        self._last_try = 0.0  # monotonic time of the last attempt to replay
        self.journaled = 0  # rows that went to the journal (since start)
        self.dropped = 0  # rows lost: journal unwritable and the backlog full
        self._task: asyncio.Task[None] | None = None

    # --- what calls hand in (on the event loop; never blocks) ------------------------------------

    def start(
        self, channel: str, caller: str, sip_call_id: str = "", on_id: Callable[[int], None] | None = None
    ) -> None:
        """A call began; `on_id(call_id)` runs on the loop once its row exists (now, or after a replay)."""
        if on_id is not None:
            self._on_id[channel] = on_id
        metrics.call_started()
        self._put(Entry("start", channel, utcnow(), {"caller": caller, "sip_call_id": sip_call_id}))

    def turn(self, channel: str, seq: int, turn: F.Turn) -> None:
        self._put(Entry("turn", channel, utcnow(), {"seq": seq, "turn": dataclasses.asdict(turn)}))

    def play(self, channel: str, prompt: str, audio_ms: int, human_ms: int) -> None:
        """A prompt played: what it was (a key or label, never its text) and its human-voice part."""
        self._put(
            Entry("play", channel, utcnow(), {"prompt": prompt, "audio_ms": audio_ms, "human_ms": human_ms})
        )

    def satisfaction(self, channel: str, score: int) -> None:
        self._put(Entry("satisfaction", channel, utcnow(), {"score": score}))

    def end(self, channel: str, outcome: str, degraded: bool) -> None:
        metrics.call_ended(str(outcome))
        self._put(Entry("end", channel, utcnow(), {"outcome": str(outcome), "degraded": degraded}))

    def call_id(self, channel: str) -> int | None:
        """The call's row id, once written (None before, or while its rows wait in the journal)."""
        return self._ids.get(channel)

    def _put(self, entry: Entry) -> None:
        self._queue.put_nowait(entry)

    # --- the writer task ----------------------------------------------------------------------

    def start_writer(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="call-log")
        return self._task

    async def run(self) -> None:
        """Write queued rows until `close`; while rows wait in the journal, retry it every `retry_s`."""
        while True:
            try:
                if self._spooling:
                    entry = await asyncio.wait_for(self._queue.get(), timeout=self.retry_s)
                else:
                    entry = await self._queue.get()
            except TimeoutError:
                await self._try_replay()
                continue
            if entry is None:  # closing: one last try for rows still in the journal
                if self._spooling:
                    await self._try_replay()
                return
            try:
                await self._write(entry)
            except Exception:  # a bug here must not stop the call log for every later call
                logger.exception("call log: %s row of channel %s lost", entry.op, entry.channel)
                self.dropped += 1

    async def close(self) -> None:
        """Write what is queued (or journal it), then stop the writer."""
        self._queue.put_nowait(None)
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), CLOSE_TIMEOUT_S)
            except TimeoutError:
                self._task.cancel()
                logger.error("call log: %d rows not written at shutdown", self._queue.qsize())
            self._task = None

    async def _write(self, entry: Entry) -> None:
        if self._spooling and time.monotonic() - self._last_try >= self.retry_s:
            await self._try_replay()
        if self._spooling:
            self._spool(entry)
            return
        known = dict(self._ids)
        try:
            call_id = await asyncio.to_thread(self._apply, entry, known, False)
        except Exception as exc:  # the database refused: the caller never notices, the row is kept
            count_error(ErrorStage.DATABASE)
            logger.error(
                "call log: database unavailable (%s): rows go to %s until it takes writes again",
                mask_personal(str(exc).splitlines()[0] if str(exc) else type(exc).__name__),
                self.journal,
            )
            self._spooling = True
            self._last_try = time.monotonic()
            self._spool(entry)
            return
        if entry.op == "start" and call_id is not None:
            self._started(entry.channel, call_id)
        elif entry.op == "end":
            self._ended(entry.channel)

    def _started(self, channel: str, call_id: int) -> None:
        """The call's row exists: remember it while the call lasts, and tell the call."""
        self._ids[channel] = call_id
        on_id = self._on_id.pop(channel, None)
        if on_id is not None:
            on_id(call_id)

    def _ended(self, channel: str) -> None:
        self._ids.pop(channel, None)
        self._on_id.pop(channel, None)

    # --- applying rows (blocking: in a thread) --------------------------------------------------

    def _apply(self, entry: Entry, ids: dict[str, int], replay: bool) -> int | None:
        """Write one row; returns the call's row id (None: no row for that call). On replay, rows
        already there are skipped, so a replay cut half-way can run again."""
        store, d, channel = self.store, entry.data, entry.channel
        if entry.op == "start":
            # Already there when replayed, or when a call is adopted again after a restart.
            call_id = store.call_id_of(channel)
            if call_id is None:
                call_id = store.start_call(
                    channel, d.get("caller", ""), d.get("sip_call_id", ""), at=entry.at
                )
            ids[channel] = call_id
            return call_id
        call_id = ids.get(channel)
        if call_id is None and replay:
            call_id = store.call_id_of(channel)
        if call_id is None:
            logger.warning("call log: no call row for channel %s: %s row dropped", channel, entry.op)
            return None
        if entry.op == "turn":
            seq = int(d["seq"])
            if not (replay and store.has_turn(call_id, seq)):
                store.log_turn(call_id, seq, F.Turn(**d["turn"]), at=entry.at)
        elif entry.op == "play":  # on replay a play may be counted twice: a coverage figure, not a record
            store.log_play(call_id, str(d["prompt"]), int(d["audio_ms"]), int(d["human_ms"]), at=entry.at)
        elif entry.op == "satisfaction":
            store.set_satisfaction(call_id, int(d["score"]))
        else:
            store.end_call(call_id, Outcome(d["outcome"]), bool(d.get("degraded")), at=entry.at)
        return call_id

    # --- the journal ----------------------------------------------------------------------------

    def _spool(self, entry: Entry) -> None:
        """Append a row to the journal (fsynced); if that fails too, keep it in memory (bounded)."""
        self.journaled += 1
        if not self._backlog:
            try:
                self._append(entry)
                return
            except OSError as exc:
                logger.error("call log: journal %s not writable (%s): rows kept in memory", self.journal, exc)
        if len(self._backlog) >= self.backlog_max:
            self.dropped += 1
            return
        self._backlog.append(entry)

    def _append(self, entry: Entry) -> None:
        new = not self.journal.exists()
        self.journal.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.journal, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, (entry.to_json() + "\n").encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
        if new:
            _fsync_dir(self.journal.parent)

    def _read_journal(self) -> list[Entry]:
        if not self.journal.exists():
            return []
        entries = []
        with open(self.journal, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                try:
                    entries.append(Entry.from_json(line))
                except (ValueError, KeyError, TypeError, AttributeError) as exc:  # cut by a crash
                    logger.warning("call log: %s:%d: unreadable row skipped (%s)", self.journal, n, exc)
        return entries

    def replay(self) -> tuple[dict[str, int], set[str]]:
        """Apply the journal and the in-memory backlog to the database, in order, then remove them
        (blocking). Returns the row ids of the calls it started, and the channels of calls it ended.
        Raises if the database refuses; what was applied stays applied and is skipped next time."""
        entries = [*self._read_journal(), *self._backlog]
        ids = dict(self._ids)
        started: dict[str, int] = {}
        ended: set[str] = set()
        for entry in entries:
            call_id = self._apply(entry, ids, True)
            if call_id is not None and entry.op == "start":
                started[entry.channel] = call_id
            elif entry.op == "end":
                ended.add(entry.channel)
        self.journal.unlink(missing_ok=True)
        if entries:
            _fsync_dir(self.journal.parent)
            logger.warning("call log: %d rows replayed from the journal into the database", len(entries))
        return started, ended

    def recover(self) -> int:
        """At start-up (blocking): calls an earlier process left open in the journal are closed there as
        interrupted, then the journal is replayed if the database takes it (else the writer retries).
        Returns the rows replayed."""
        entries = self._read_journal()
        open_channels = {e.channel for e in entries if e.op == "start"} - {
            e.channel for e in entries if e.op == "end"
        }
        for channel in sorted(open_channels):
            self._append(
                Entry("end", channel, utcnow(), {"outcome": str(Outcome.INTERRUPTED), "degraded": False})
            )
        if not entries:
            return 0
        try:
            self.replay()
        except Exception as exc:
            logger.error(
                "call log: journal not replayed at start (%s): retried every %g s", exc, self.retry_s
            )
            self._spooling = True
            return 0
        self._spooling = False
        return len(entries) + len(open_channels)

    async def _try_replay(self) -> None:
        self._last_try = time.monotonic()
        backlog = len(self._backlog)
        try:
            started, ended = await asyncio.to_thread(self.replay)
        except Exception as exc:
            logger.info("call log: database still unavailable (%s)", type(exc).__name__)
            return
        del self._backlog[:backlog]  # only the writer adds to it, and it waited for this replay
        self._spooling = bool(self._backlog)
        for channel, call_id in started.items():
            self._started(channel, call_id)
        for channel in ended:
            self._ended(channel)


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
