"""End of turn from the words so far: has the caller finished their request, by what they said?

Smart Turn hears Vietnamese mid-sentence hesitations as finished (README, turn-taking), so at a short
pause the hotline reads the recognizer's transcript of the utterance so far instead, as LiveKit's turn
detector does from text. The transcript is

* `COMPLETE` when it asks for one intent clearly (the matcher's score and lead over the runner-up) and
  does not end on a word that never ends a request, when it ends with a word that closes Vietnamese
  requests (không, chưa, đâu, nào, gì, mô, răng, ạ, nhé...), or when its last words are the last words
  of a catalog example ("... huấn luyện viên"): callers end their requests the way the examples do;
* `INCOMPLETE` when its last word never ends a request but often stands inside one (của, và, cho, the
  "hồ" of "hồ sơ"...), or while a code is said and it holds fewer digits than a code has;
* `UNSURE` otherwise, and also when the intent or the example ending would call it complete but its last
  words go on in an example of the catalog ("... áp dụng logic tương tự" is an example, and so is
  "... logic tương tự với người khác"): a request that is already whole while the caller may well be
  saying a longer one is what cut callers off mid-sentence (README, turn-taking), and only the timer can
  tell those apart.

Which words close and which dangle is learnt from the intent catalog's examples (after the dialect
table, so "ở mô" counts as "ở đâu"), plus the dialect table's `closing` particles (which the matcher
drops as fillers): a new catalog brings its own vocabulary, and nothing here is a word list.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from voice.text import digits_from_speech

if TYPE_CHECKING:
    from intents.matcher import Matcher

# A word closes requests when it ends at least this many catalog examples, of this many intents (a
# particle ends requests of every topic; the last syllable of a term, "dân" of "công dân", a few) ...
CLOSING_MIN_FINAL = 5
CLOSING_MIN_INTENTS = 5
# ... and at least this share of the examples holding it end with it (on the shipped catalog: không,
# đâu, gì, nào, sao; "xã" ends 16 examples of 9 intents but stands inside 22 more).
CLOSING_MIN_SHARE = 0.45
# A word dangles when it never ends an example but occurs in at least this many.
DANGLING_MIN_USES = 3
# Words may go on when at least this share of the examples holding them go on after them ("logic tương
# tự" ends one example of the test catalog and goes on in another: 1 of 2; "hồ sơ" of the shipped one goes on
# in most of the examples holding it).
CONTINUING_MIN_SHARE = 0.5


class Verdict(StrEnum):
    COMPLETE = "complete"  # answer now
    INCOMPLETE = "incomplete"  # listen on, up to the ceiling
    UNSURE = "unsure"  # the words do not tell: the shorter silence timer decides


@dataclass(frozen=True, slots=True)
class Endings:
    """Words that close a request and words that cannot end one (normalized, dialect mapped)."""

    closing: frozenset[str]
    dangling: frozenset[str]
    # The last `TextTurnSettings.tail_words` words of every example (fewer for a shorter example).
    tails: frozenset[tuple[str, ...]] = frozenset()
    # Every run of `TextTurnSettings.continue_words` words that some example goes on after.
    continuing: frozenset[tuple[str, ...]] = frozenset()

    @classmethod
    def learn(
        cls,
        examples: Iterable[tuple[str, str]],
        prepare: Callable[[str], str],
        particles: Iterable[str] = (),
        tail_words: int = 0,
        continue_words: int = 0,
        continue_share: float = CONTINUING_MIN_SHARE,
    ) -> Endings:
        """From the catalog's (intent, example) pairs, each example put through `prepare` (normalization
        and dialect), and the dialect table's closing particles; `tail_words`: learn the examples' last
        words too (0: not); `continue_words`: learn the runs of this many words that at least
        `continue_share` of the examples holding them go on after (0: not)."""
        final: Counter[str] = Counter()
        tails: set[tuple[str, ...]] = set()
        goes_on: Counter[tuple[str, ...]] = Counter()  # examples holding these words that go on after them
        holding: Counter[tuple[str, ...]] = Counter()  # examples holding these words
        uses: Counter[str] = Counter()
        topics: dict[str, set[str]] = {}
        for intent, example in examples:
            words = prepare(example).split()
            if not words:
                continue
            final[words[-1]] += 1
            # A one-word example ("có") would make every transcript ending in that word complete: single
            # words are the closing rule's, which weighs how often they end requests.
            if tail_words and len(words) >= min(2, tail_words):
                tails.add(tuple(words[-tail_words:]))
            if continue_words:
                n = continue_words
                runs = [tuple(words[i - n : i]) for i in range(n, len(words) + 1)]
                holding.update(set(runs))
                goes_on.update(set(runs[:-1]))
            topics.setdefault(words[-1], set()).add(intent)
            uses.update(set(words))
        closing = {
            w
            for w, n in final.items()
            if n >= CLOSING_MIN_FINAL
            and len(topics[w]) >= CLOSING_MIN_INTENTS
            and n / uses[w] >= CLOSING_MIN_SHARE
        }
        closing |= {w for p in particles for w in prepare(p).split()[-1:]}
        dangling = {w for w, n in uses.items() if n >= DANGLING_MIN_USES and not final[w]} - closing
        continuing = {run for run, n in goes_on.items() if n / holding[run] >= continue_share}
        return cls(frozenset(closing), frozenset(dangling), frozenset(tails), frozenset(continuing))

    def ends_like_example(self, tokens: list[str]) -> bool:
        """The transcript's last words are the last words of an example (or a whole short example)."""
        return any(tuple(tokens[-len(tail) :]) == tail for tail in self.tails if len(tokens) >= len(tail))

    def may_go_on(self, tokens: list[str]) -> bool:
        """An example goes on after the transcript's last words (they stand inside a longer request)."""
        if not self.continuing:
            return False
        n = len(next(iter(self.continuing)))
        return len(tokens) >= n and tuple(tokens[-n:]) in self.continuing


@dataclass(frozen=True, slots=True)
class Intent:
    """The matcher's view of the transcript: its best intent's score and lead over the runner-up."""

    score: float
    margin: float
    clear: bool  # an intent was chosen (not out of scope, no clarifying question)


@dataclass(frozen=True, slots=True)
class TextTurnSettings:
    intent_score: float = 0.9  # a clear intent scoring at least this ...
    intent_margin: float = 0.3  # ... and leading the runner-up by this much is a finished request
    tail_words: int = 0  # the transcript ends with an example's last this many words: finished (0: off)
    # ... unless an example goes on after its last this many words: then unsure, the timer decides (0: off)
    continue_words: int = 0


def judge_transcript(
    words: str,
    endings: Endings,
    intent: Intent | None = None,
    *,
    code_digits: int = 0,
    settings: TextTurnSettings | None = None,
) -> Verdict:
    """`words`: the transcript so far, normalized and dialect mapped (fillers kept); `intent`: its match
    (None: not matched, e.g. while a code is said); `code_digits`: a code of this many digits is being
    said (0: not a code)."""
    s = settings or TextTurnSettings()
    tokens = words.split()
    if not tokens:
        return Verdict.UNSURE
    if code_digits:
        return Verdict.COMPLETE if len(digits_from_speech(words)) >= code_digits else Verdict.INCOMPLETE
    last = tokens[-1]
    if last in endings.dangling:
        return Verdict.INCOMPLETE
    if last in endings.closing:
        return Verdict.COMPLETE
    if endings.may_go_on(tokens):
        # Whole as it stands, but the catalog's callers go on from here: neither rule below may end it.
        return Verdict.UNSURE
    if endings.tails and endings.ends_like_example(tokens):
        return Verdict.COMPLETE
    if (
        intent is not None
        and intent.clear
        and intent.score >= s.intent_score
        and intent.margin >= s.intent_margin
    ):
        return Verdict.COMPLETE
    return Verdict.UNSURE


class WordsJudge:
    """The verdict on one transcript with the catalog now serving; its endings are learnt once per catalog
    (a reloaded catalog brings a new matcher, and new endings with it)."""

    def __init__(
        self, current: Callable[[], Matcher | None], settings: TextTurnSettings | None = None
    ) -> None:
        self.current = current
        self.settings = settings or TextTurnSettings()
        self._learnt: tuple[Matcher, Endings] | None = None

    def endings(self, matcher: Matcher) -> Endings:
        if self._learnt is None or self._learnt[0] is not matcher:
            examples = ((intent.id, ex) for intent in matcher.catalog.intents for ex in intent.examples)
            endings = Endings.learn(
                examples,
                self._prepare(matcher),
                matcher.dialect.closing,
                self.settings.tail_words,
                self.settings.continue_words,
            )
            self._learnt = (matcher, endings)
        return self._learnt[1]

    @staticmethod
    def _prepare(matcher: Matcher) -> Callable[[str], str]:
        return lambda text: matcher.preparer.prepare(text, keep_fillers=True).toned

    def __call__(self, text: str, code_digits: int = 0) -> Verdict:
        matcher = self.current()
        if matcher is None:
            return Verdict.UNSURE
        intent = None
        if not code_digits:
            d = matcher.match(text)
            intent = Intent(d.score, d.score - d.runner_up_score, d.intent is not None and not d.clarify)
        words = self._prepare(matcher)(text)
        return judge_transcript(
            words, self.endings(matcher), intent, code_digits=code_digits, settings=self.settings
        )
