"""The call application's Prometheus metrics (served by `/metrics`, see `core.metrics`).

Recorded at the seams that already know each fact: the call log's start and end (active calls, outcomes),
the turn log when an answer's first audio goes out (latency), the ARI client's connection loop.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

from core.metrics import PREFIX, REGISTRY
from ivr.enums import Outcome, TurnKind

CALLS_ACTIVE = Gauge(PREFIX + "calls_active", "Calls in the application now", registry=REGISTRY)
CALLS = Counter(
    PREFIX + "calls",
    "Calls ended, by outcome (the value stored in calls.outcome)",
    ["outcome"],
    registry=REGISTRY,
)
for _outcome in Outcome:
    if _outcome != Outcome.IN_PROGRESS:  # never an ending
        CALLS.labels(_outcome.value)  # present at 0: rates and ratios need the series to exist

# End of the caller's speech (or key) to the first audio of the answer. A key is answered in a few
# tenths of a second, speech after the 600 ms end-pointer and recognition: the buckets cover 0.2-3 s.
LATENCY_BUCKETS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0, 1.25, 1.5, 2.0, 2.5, 3.0, 5.0)
ANSWER_LATENCY = Histogram(
    PREFIX + "answer_latency_seconds",
    "End of the caller's speech or key to the first audio of the answer",
    ["input"],
    buckets=LATENCY_BUCKETS,
    registry=REGISTRY,
)
for _kind in (TurnKind.SPEECH, TurnKind.DTMF):
    ANSWER_LATENCY.labels(_kind.value)

# How each caller utterance ended: "turn" (judged finished at a short pause), "silence" (a silence timer:
# the ceiling, the unsure timer or the fixed end-point), "max_length". Many "silence" ends where "turn" was
# expected mean callers wait the timers.
TURN_ENDS = Counter(
    PREFIX + "turn_ends", "Caller utterances ended, by what ended them", ["reason"], registry=REGISTRY
)
for _reason in ("turn", "silence", "max_length"):
    TURN_ENDS.labels(_reason)
# A short pause to the verdict of the words so far (one recognizer job: it grows with the machine's load).
# Every verdict that comes back is observed, also those too late to end the turn (after `timeout_ms` a
# timer has taken over); those are counted apart as well: the share of judgements lost to the load.
TURN_JUDGEMENT = Histogram(
    PREFIX + "turn_judgement_seconds",
    "A short pause in the caller's speech to the verdict of the words so far, late ones included",
    buckets=(0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.6, 1.0, 2.0, 5.0),
    registry=REGISTRY,
)
TURN_JUDGEMENTS_LATE = Counter(
    PREFIX + "turn_judgements_late",
    "Verdicts of the words at a pause that came after turn.timeout_ms (a timer ended the turn instead)",
    registry=REGISTRY,
)
# Per call whose line was seen to return our prompt (`voice.aec`), how much quieter echo cancellation made
# it while our prompts played: the median of its 20 ms chunks (the caller talking over a prompt does not
# hide the echo's figure). Cancelled well: 20-40 dB; a few dB means an echo path the canceller cannot
# follow (the level rules still guard barge-in). The count against all calls: the share of echoing lines.
ECHO_CANCELLED = Histogram(
    PREFIX + "echo_cancelled_db",
    "Per call: how much quieter echo cancellation made the line while our prompts played, median (dB)",
    buckets=(0.0, 3.0, 6.0, 10.0, 15.0, 20.0, 25.0, 30.0, 40.0),
    registry=REGISTRY,
)

ARI_CONNECTED = Gauge(
    PREFIX + "ari_connected",
    "1 while the application's event connection to Asterisk is up",
    registry=REGISTRY,
)
ARI_RECONNECTS = Counter(
    PREFIX + "ari_reconnects", "Connections to Asterisk made again after one was lost", registry=REGISTRY
)


def call_started() -> None:
    CALLS_ACTIVE.inc()


def call_ended(outcome: str) -> None:
    CALLS_ACTIVE.dec()
    CALLS.labels(outcome).inc()


def answered(kind: str, seconds: float) -> None:
    """An answer's first audio went out `seconds` after the input (`kind`: speech or dtmf) ended."""
    ANSWER_LATENCY.labels(kind).observe(seconds)


def echo_cancelled(db: float) -> None:
    ECHO_CANCELLED.observe(db)


def turn_ended(reason: str) -> None:
    TURN_ENDS.labels(reason).inc()


def turn_judged(seconds: float, *, late: bool = False) -> None:
    """A verdict of the words at a pause came back `seconds` after the pause; `late`: after the timeout."""
    TURN_JUDGEMENT.observe(seconds)
    if late:
        TURN_JUDGEMENTS_LATE.inc()
