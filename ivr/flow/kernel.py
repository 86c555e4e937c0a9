"""The kernel every call flow shares: dispatch through a transition table, prompts, timers, commands.

A flow subclasses `FlowKernel`, declares its `GLOBAL` handlers (any state but the end), its `TABLE`
of `(state, event) -> handler` and its `AFTER` continuations, and works through the kernel's small
API (`say`, `set_timer`, `log`, `end`...). `handle(event, now_ms)` returns the commands one event
causes, in order; time is passed in, so nothing here reads a clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar, Generic, Literal, TypeVar

from ivr.enums import Continuation, Outcome, Timer
from ivr.flow.commands import (
    CancelTimer,
    Command,
    HangUp,
    Listen,
    LogTurn,
    Play,
    SetTimer,
    StopPlayback,
    Turn,
)
from ivr.flow.events import (
    AsrFinal,
    AsrPartial,
    Event,
    EventKey,
    PlaybackFinished,
    SpeechEnded,
    SpeechStarted,
    TimerFired,
)

S = TypeVar("S", bound=StrEnum)

# One thing to say: ("key", prompt key) / ("text", sentence) / ("file", audio path), or a ready Play.
# An empty or None value is skipped.
Item = tuple[Literal["key", "text", "file"], str | None] | Play
# A table entry: called with the flow and the event (unbound methods and small functions alike).
Handler = Callable[[Any, Any], None]
# (state, event class or timer) -> handler
Table = Mapping[tuple[StrEnum, EventKey], Handler]

SPEECH_EVENTS = (SpeechStarted, SpeechEnded, AsrPartial, AsrFinal)


@dataclass
class Attempts:
    """Failed attempts against a limit: `miss()` counts one and says whether the limit is now passed."""

    limit: int
    count: int = 0

    def miss(self) -> bool:
        self.count += 1
        return self.count > self.limit

    def reset(self) -> None:
        self.count = 0


@dataclass
class _Said:
    items: list[Play]
    after: Continuation | None  # continuation run when the last item finished


class FlowKernel(Generic[S]):
    """State, prompt queue, timers and command list of one call; subclasses bring the tables."""

    state: S
    degraded: bool

    GLOBAL: ClassVar[Mapping[EventKey, Handler]]  # handlers that apply in every state but ENDED
    TABLE: ClassVar[Table]
    AFTER: ClassVar[Mapping[Continuation, Callable[[Any], None]]]

    def __post_init__(self) -> None:
        self._next_id = 0
        self._queue: deque[Play] = deque()  # requested and not finished, in play order
        self._after: Continuation | None = None
        self._last_say: _Said | None = None
        self._listening = False
        self._timers: dict[Timer, int] = {}
        self._now = 0
        self._out: list[Command] = []

    # --- public ---------------------------------------------------------------------------------

    def handle(self, event: Event, now_ms: int) -> list[Command]:
        """Feed one event; returns the commands it causes (possibly none)."""
        self._now = now_ms
        self._out = []
        if self.state == self._ended():
            return []
        if self._accepts(event):
            self._dispatch(event)
            self._handled()
        out, self._out = self._out, []
        return out

    @property
    def listening(self) -> bool:
        return self._listening

    def timer_due(self, name: Timer) -> int | None:
        return self._timers.get(name)

    @property
    def outcome(self) -> Outcome:
        """How the call ends if it ends now (for `HangUp` and the call log)."""
        raise NotImplementedError

    def _ended(self) -> S:
        """The final state: every event after it is ignored."""
        raise NotImplementedError

    # --- dispatch -------------------------------------------------------------------------------

    def _accepts(self, event: Event) -> bool:
        """Speech events count only while the flow listens (late results of a stopped turn are dropped)."""
        return self._listening or not isinstance(event, SPEECH_EVENTS)

    def _dispatch(self, event: Event) -> None:
        key: EventKey
        if isinstance(event, PlaybackFinished):
            self._played(event)  # the prompt queue is the kernel's own
            return
        if isinstance(event, TimerFired):
            timer = self._fired(event.name)
            if timer is None:
                return  # cancelled, re-armed or not ours: stale
            key = timer
        else:
            key = type(event)
        handler = self.GLOBAL.get(key) or self.TABLE.get((self.state, key))
        if handler is not None:
            handler(self, event)

    def _handled(self) -> None:
        """Runs after every event the flow took (hook)."""

    def _fired(self, name: str) -> Timer | None:
        try:
            timer = Timer(name)
        except ValueError:
            return None
        due = self._timers.get(timer)
        if due is None or self._now < due:
            return None
        del self._timers[timer]
        return timer

    # --- commands -------------------------------------------------------------------------------

    def emit(self, *cmds: Command) -> None:
        self._out.extend(cmds)

    def log(self, turn: Turn) -> None:
        self.emit(LogTurn(turn))

    def set_timer(self, name: Timer, delay_ms: int) -> None:
        at = self._now + delay_ms
        self._timers[name] = at
        self.emit(SetTimer(name, at))

    def cancel_timer(self, name: Timer) -> None:
        if self._timers.pop(name, None) is not None:
            self.emit(CancelTimer(name))

    def cancel_all_timers(self) -> None:
        for name in list(self._timers):
            self.cancel_timer(name)

    def set_listening(self, on: bool) -> None:
        """Speech recognition on or off (never on once the flow is degraded to the keypad)."""
        on = on and not self.degraded
        if on != self._listening:
            self._listening = on
            self.emit(Listen(on))

    # --- prompts --------------------------------------------------------------------------------

    @property
    def _barge_in(self) -> bool:
        """Whether prompts may be interrupted at all (a flow may turn it off by configuration)."""
        return True

    def play_item(
        self,
        *,
        key: str | None = None,
        text: str | None = None,
        file: str | None = None,
        barge_in: bool = True,
    ) -> Play:
        self._next_id += 1
        return Play(self._next_id, key=key, text=text, file=file, barge_in=barge_in and self._barge_in)

    def _play_of(self, item: Item) -> Play | None:
        if isinstance(item, Play):
            return item
        kind, value = item
        if not value:
            return None
        if kind == "key":
            return self.play_item(key=value)
        if kind == "text":
            return self.play_item(text=value)
        return self.play_item(file=value)

    @property
    def playing_item(self) -> Play | None:
        return self._queue[0] if self._queue else None

    @property
    def nothing_playing(self) -> bool:
        return not self._queue

    def stop_current(self) -> None:
        """Stop what plays and what is queued; the pending continuation is dropped too."""
        for item in self._queue:
            self.emit(StopPlayback(item.playback_id))
        self._queue.clear()
        self._after = None

    def say(self, items: Iterable[Item], after: Continuation | None, *, remember: bool = True) -> None:
        """Play items in order, then run the continuation `after` (at once when there is nothing to say).

        What plays is stopped first and the no-input wait ends; `remember` keeps it for `repeat`.
        """
        plays = [p for p in map(self._play_of, items) if p is not None]
        self.stop_current()
        self.cancel_timer(Timer.NO_INPUT)
        if remember:
            self._last_say = _Said(plays, after)
        if not plays:
            self._continue(after)
            return
        # All items are requested at once (the player queues them and can prepare the next one while
        # the first plays); the continuation runs when the last one has finished.
        self._queue.extend(plays)
        self._after = after
        self.emit(*plays)

    def repeat(self) -> bool:
        """Say the last remembered sequence again (False: nothing said yet)."""
        if self._last_say is None:
            return False
        said = self._last_say
        fresh: list[Item] = [
            self.play_item(key=p.key, text=p.text, file=p.file, barge_in=p.barge_in) for p in said.items
        ]
        self.say(fresh, said.after)
        return True

    def _continue(self, after: Continuation | None) -> None:
        step = self.AFTER.get(after) if after is not None else None
        if step is not None:
            step(self)

    def _played(self, ev: PlaybackFinished) -> None:
        if ev.playback_id not in [p.playback_id for p in self._queue]:
            return  # a playback we already stopped
        # Playbacks finish in order: anything queued before this one is over too.
        item = None
        while self._queue:
            item = self._queue.popleft()
            if item.playback_id == ev.playback_id:
                break
        if not ev.ok and item is not None and self._playback_failed(item):
            return
        if self._queue:
            return
        after, self._after = self._after, None
        self._continue(after)

    def _playback_failed(self, item: Play) -> bool:
        """A prompt could not be played; True when the flow took another way (hook: by default, move on)."""
        return False

    # --- the end --------------------------------------------------------------------------------

    def end(self) -> None:
        """Hang up now with the call's outcome."""
        self.cancel_all_timers()
        self.set_listening(False)
        self.state = self._ended()
        self.emit(HangUp(self.outcome))

    def _gone(self) -> None:
        """The channel went away: forget prompts and timers, nothing more to say or do."""
        self._queue.clear()
        self.cancel_all_timers()
        self._listening = False
        self.state = self._ended()
