"""A call's turns into the call log, each answer's latency measured to its first audio.

The flow reports a turn when it decides the answer; the latency the caller feels ends when the first
frame of that answer goes out, so such a turn is held until the player starts it (or the call ends).
Rows go to the call log (`ivr.calllog`), which writes them off the call's path.
A key flood cannot fill the call log: a run of `*` (repeat) is one row holding its keys, and a call
writes at most `TURN_BURST` rows at once, then one per `TURN_REFILL_S` seconds.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

from core.masking import mask_personal
from ivr import flow as F
from ivr import metrics
from ivr.enums import TurnAction, TurnKind

logger = logging.getLogger(__name__)

REPLAY_KEYS_MAX = 64  # keys one coalesced `*` row shows (the call log's dtmf column holds 64)
TURN_BURST = 30  # rows a call may write at once (a real caller needs seconds per turn) ...
TURN_REFILL_S = 1.0  # ... then one more per this many seconds


def _is_replay(turn: F.Turn) -> bool:
    return turn.kind == TurnKind.DTMF and turn.action == TurnAction.REPLAY


class TurnSink(Protocol):
    """Where a call's turn rows go (`ivr.calllog.CallLog`): handed over at once, written later."""

    def turn(self, channel: str, seq: int, turn: F.Turn) -> None: ...


class TurnLog:
    """Numbers the turns of one call and hands them to the call log, with measured answer latencies."""

    def __init__(
        self,
        call: str,
        sink: TurnSink,
        *,
        clock: Callable[[], float] = time.monotonic,
        observer: Callable[[int, F.Turn], None] | None = None,
    ) -> None:
        self.call = call  # the caller's channel id: the call log's key, and for logs
        self._sink = sink
        self._observer = observer  # told every turn written, with its number (the review queue)
        self._clock = clock
        self._seq = 0
        self._pending: tuple[F.Turn, int] | None = None  # turn waiting for its answer's first audio
        self._replays: F.Turn | None = None  # the `*` run in progress, its keys in `dtmf`
        self._budget = float(TURN_BURST)  # rows the call may write now
        self._budget_at = clock()
        self.dropped = 0  # turns not written: over the budget
        self.input_ended: float | None = None  # monotonic time of the last end of speech or key

    def log(self, turn: F.Turn, first_play: int | None) -> None:
        """Write a turn; one with a response time waits for the first audio of `first_play`."""
        if _is_replay(turn):
            if self._replays is None:
                self._replays = turn
            elif len(self._replays.dtmf) < REPLAY_KEYS_MAX:
                self._replays = replace(self._replays, dtmf=self._replays.dtmf + turn.dtmf)
            return
        self._flush_replays()
        if turn.response_ms is not None and first_play is not None:
            self._flush_pending(None)
            self._pending = (turn, first_play)
        else:
            self._write(turn)

    def playback_started(self, playback_id: int, at: float) -> None:
        """The player sent the first frame of a playback at monotonic time `at`."""
        if self._pending is not None and self._pending[1] == playback_id:
            self._flush_pending(at)

    def flush(self, first_audio: float | None) -> None:
        """Write every held turn (the call ends): the answer waiting for its audio, the `*` run."""
        self._flush_pending(first_audio)
        self._flush_replays()
        if self.dropped:
            logger.warning(
                "call %s: %d turns over the call log's rate were not written", self.call, self.dropped
            )
            self.dropped = 0

    def _flush_pending(self, first_audio: float | None) -> None:
        """Write the held turn; its latency is end of speech (or key) -> first audio of the answer."""
        if self._pending is None:
            return
        turn, _ = self._pending
        self._pending = None
        if first_audio is not None and self.input_ended is not None:
            measured = int(round((first_audio - self.input_ended) * 1000))
            turn = replace(turn, response_ms=max(0, measured))
            metrics.answered(turn.kind, max(0, measured) / 1000)  # the same figure as the call log's
        self._write(turn)

    def _flush_replays(self) -> None:
        if self._replays is not None:
            turn, self._replays = self._replays, None
            self._write(turn)

    def _spend(self) -> bool:
        """Take one row from the call's budget (refilled with time); False when it is spent."""
        now = self._clock()
        self._budget = min(float(TURN_BURST), self._budget + (now - self._budget_at) / TURN_REFILL_S)
        self._budget_at = now
        if self._budget < 1:
            return False
        self._budget -= 1
        return True

    def _write(self, turn: F.Turn) -> None:
        if not self._spend():
            self.dropped += 1
            return
        self._seq += 1
        seq = self._seq
        logger.info(
            "call %s turn %d: %s %s -> %s %s (%s ms)",
            self.call,
            seq,
            turn.kind,
            mask_personal(turn.transcript or turn.dtmf),
            turn.intent,
            turn.action or "",
            turn.response_ms,
        )
        self._sink.turn(self.call, seq, turn)
        if self._observer is not None:
            self._observer(seq, turn)
