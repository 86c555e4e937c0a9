"""The review queue, fed off the call's path: calls hand in every turn they log, a writer task decides.

Like the call log (`ivr.calllog`), handing a turn in returns at once; one writer task takes the turns in
order and, in a thread, asks the matcher for its best guesses, applies the queue's rules
(`ivr.review_rules`) and writes what enters: the audio the recognizer heard, then the row. Unlike the
call log there is no journal: a queue item lost to a locked database costs a lesson, never a call.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ivr import flow as F
from ivr.review_rules import CallReview, Guesses, needs_guesses
from ivr.store import utcnow

if TYPE_CHECKING:
    from ivr.review_store import ReviewStore
    from voice.audio import AudioChunk

logger = logging.getLogger(__name__)

CLOSE_TIMEOUT_S = 10.0  # at shutdown: turns still queued get this long
QUEUE_MAX = 10_000  # turns waiting for the writer; beyond this new ones are dropped (counted)


@dataclass(frozen=True)
class _Turn:
    channel: str
    seq: int | None
    turn: F.Turn | None  # None: the call ended
    audio: AudioChunk | None
    at: datetime


class ReviewQueue:
    """Feeds the review queue from the calls' turns (see the module docstring).

    `call_id(channel)` gives the call's row id (the call log's), `matcher()` the matcher now serving.
    """

    def __init__(
        self,
        store: ReviewStore,
        *,
        call_id: Callable[[str], int | None],
        matcher: Callable[[], Any],
        low_margin: float,
    ) -> None:
        self.store = store
        self.call_id = call_id
        self.matcher = matcher
        self.low_margin = low_margin
        self._queue: asyncio.Queue[_Turn | None] = asyncio.Queue()
        self._calls: dict[str, CallReview[AudioChunk]] = {}
        self._task: asyncio.Task[None] | None = None
        self.queued = 0  # items written since start
        self.dropped = 0  # turns or items lost (queue full, database refused)

    # --- what calls hand in (on the event loop; never blocks) ------------------------------------

    def turn(self, channel: str, seq: int | None, turn: F.Turn, audio: AudioChunk | None = None) -> None:
        """A turn was written to the call log; `audio`: the utterance of a speech turn."""
        self._put(_Turn(channel, seq, turn, audio, utcnow()))

    def end(self, channel: str) -> None:
        """The call ended: its rules' memory goes."""
        self._put(_Turn(channel, None, None, None, utcnow()))

    def _put(self, item: _Turn) -> None:
        if self._queue.qsize() >= QUEUE_MAX:
            self.dropped += 1
            return
        self._queue.put_nowait(item)

    # --- the writer task ------------------------------------------------------------------------

    def start_writer(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name="review-queue")
        return self._task

    async def run(self) -> None:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            try:
                await self._handle(item)
            except Exception:  # a bug or a refused write must not stop the queue for later calls
                logger.exception("review queue: a turn of channel %s not considered", item.channel)
                self.dropped += 1

    async def close(self) -> None:
        self._queue.put_nowait(None)
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), CLOSE_TIMEOUT_S)
            except TimeoutError:
                self._task.cancel()
            self._task = None

    async def _handle(self, item: _Turn) -> None:
        if item.turn is None:
            self._calls.pop(item.channel, None)
            return
        rules = self._calls.setdefault(item.channel, CallReview(self.low_margin))
        turn = item.turn
        if needs_guesses(turn):  # the matcher and the files: in a thread
            await asyncio.to_thread(self._consider, rules, item, turn)
        else:
            candidate = rules.turn(item.seq, turn, [])
            if candidate is not None:
                await asyncio.to_thread(self._write, item, candidate)

    def _consider(self, rules: CallReview[AudioChunk], item: _Turn, turn: F.Turn) -> None:
        candidate = rules.turn(item.seq, turn, self._guesses(turn.transcript), item.audio)
        if candidate is not None:
            self._write(item, candidate)

    def _guesses(self, text: str) -> Guesses:
        matcher = self.matcher()
        fn = getattr(matcher, "guesses", None)
        return list(fn(text)) if fn is not None else []

    def _write(self, item: _Turn, candidate: Any) -> None:
        self.store.add(
            call_id=self.call_id(item.channel),
            turn_seq=candidate.seq,
            at=item.at,
            reason=candidate.reason,
            transcript=candidate.transcript,
            guesses=candidate.guesses,
            audio=candidate.audio,
        )
        self.queued += 1
