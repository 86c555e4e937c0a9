"""What enters the operators' review queue: pure rules over one call's turns, in the order they were logged.

An utterance enters when it was not understood, when the hotline had to ask "A or B?", or when it was
understood by a hair (the best intent led the runner-up by less than `low_margin`). A call that fell
back to the keypad or to an operator after a failed attempt enters once, with the last words heard,
unless one of its utterances is already queued (the operator then sees that one). The same words twice
in one call enter once: a caller repeating a phrase the hotline does not know is one lesson, not two.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from ivr import flow as F
from ivr.enums import Failure, TurnAction, TurnKind, failed

A = TypeVar("A")  # the audio kept with an utterance (an AudioChunk at run time; anything in tests)

Guesses = list[tuple[str, float]]  # (intent id, score), best first


class ReviewReason(StrEnum):
    """Why an item is in the queue (`review_items.reason`): add, never rename."""

    NOT_UNDERSTOOD = "not_understood"
    CLARIFY = "clarify"  # two intents too close: the caller was asked which one
    LOW_MARGIN = "low_margin"  # answered, but the runner-up was close
    FALLBACK = "fallback"  # the call went on by keypad or to an operator after a failure


class ReviewStatus(StrEnum):
    """Where an item stands (`review_items.status`): add, never rename."""

    OPEN = "open"
    TAUGHT = "taught"  # added as an example of an intent
    OUT_OF_SCOPE = "out_of_scope"  # not something the hotline should answer
    RECOGNITION_ERROR = "recognition_error"  # the recognizer misheard: no phrasing to teach
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class Candidate(Generic[A]):
    """An item to queue: the turn it comes from, why, what was heard, the best guesses."""

    seq: int | None
    reason: ReviewReason
    transcript: str
    guesses: Guesses
    audio: A | None


def same_words(text: str) -> str:
    """The key under which two transcripts count as the same words (case, spacing, NFC)."""
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def needs_guesses(turn: F.Turn) -> bool:
    """Whether the rules need the matcher's guesses for this turn (only speech with words does)."""
    return turn.kind == TurnKind.SPEECH and bool(turn.transcript.strip())


class CallReview(Generic[A]):
    """The rules' memory for one call; `turn` is called for every turn written to the call log."""

    def __init__(self, low_margin: float) -> None:
        self.low_margin = low_margin
        self.queued: set[str] = set()  # transcripts already queued in this call (same_words)
        self.failed = False  # a failed attempt since the last understood utterance
        self.fell_back = False  # the fallback item was considered (once per call)
        self.last_heard: tuple[int | None, str, Guesses, A | None] | None = None  # last words not understood

    def turn(
        self, seq: int | None, turn: F.Turn, guesses: Guesses, audio: A | None = None
    ) -> Candidate[A] | None:
        """The item this turn adds to the queue, if any (`guesses` and `audio` for speech turns)."""
        if turn.kind == TurnKind.SPEECH:
            return self._speech(seq, turn, guesses, audio)
        if turn.action is not None and turn.action.startswith("fail:"):
            self.failed = True
            return None
        if self.failed and not self.fell_back and self._continues_without_speech(turn):
            self.fell_back = True
            if self.queued:  # one of its utterances is in the queue already: that one tells the story
                return None
            seq0, text, old_guesses, old_audio = self.last_heard or (seq, "", [], None)
            return Candidate(seq0, ReviewReason.FALLBACK, text, old_guesses, old_audio)
        return None

    @staticmethod
    def _continues_without_speech(turn: F.Turn) -> bool:
        """A keypad choice of an intent, or a call passed to an operator."""
        keyed_choice = turn.kind == TurnKind.DTMF and turn.intent is not None
        return keyed_choice or turn.action == TurnAction.TRANSFER

    def _speech(
        self, seq: int | None, turn: F.Turn, guesses: Guesses, audio: A | None
    ) -> Candidate[A] | None:
        text = turn.transcript.strip()
        if not text:  # no words: nothing to teach (the fallback rule still sees the call)
            return None
        reason = self._reason(turn, guesses)
        if reason is None:
            self.failed = False
            return None
        if reason is ReviewReason.NOT_UNDERSTOOD:
            self.failed = True
            self.last_heard = (seq, text, guesses, audio)
        key = same_words(text)
        if key in self.queued:
            return None
        self.queued.add(key)
        return Candidate(seq, reason, text, guesses, audio)

    def _reason(self, turn: F.Turn, guesses: Guesses) -> ReviewReason | None:
        if turn.action == TurnAction.CLARIFY:
            return ReviewReason.CLARIFY
        if turn.intent is None or turn.action == failed(Failure.NOT_UNDERSTOOD):
            return ReviewReason.NOT_UNDERSTOOD
        if len(guesses) >= 2 and guesses[0][1] - guesses[1][1] < self.low_margin:
            return ReviewReason.LOW_MARGIN
        return None
