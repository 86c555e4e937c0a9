"""Pick the intent behind a caller's words: fuzzy examples + weighted keywords, tone-insensitive fallback."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any

import numpy as np
from rapidfuzz import fuzz, process

from core.config import PROJECT_ROOT
from intents.catalog import Catalog, load_dialect
from intents.models import DialectFile
from intents.settings import IntentSettings
from intents.textnorm import Prepared, TextPreparer

logger = logging.getLogger(__name__)

# Scores from the tone-folded pass count a little less: folding merges words that differ only by tone.
FOLDED_PENALTY = 0.92
# How example similarity and keyword evidence combine into the final score (see `_combine`).
FUZZY_FLOOR = 0.25  # example similarity at or below this is no evidence at all
KEYWORD_SHARE = 0.5  # how far keywords alone can lift the score
CHAR_SHARE = 0.5  # example similarity = this share of character similarity + the rest syllable overlap
FOLDED_KEYWORD_PENALTY = 0.8  # a keyword found only without tones ("lấp lại" is not "lặp lại") counts less
FUZZY_KEYWORD_CUTOFF = 88  # a keyword (8+ letters) spelled this close counts ("cang cuoc" for "can cuoc")
FUZZY_KEYWORD_PENALTY = 0.75  # ... but only this share of its weight
SET_DISCOUNT = 0.9  # an example contained whole in a longer utterance counts a little less than a full match


class Why(StrEnum):
    """What a reason of a decision says (its code): screens word it from the code and its values."""

    NO_WORDS = "no_words"  # nothing was said or typed
    ONLY_FILLERS = "only_fillers"  # only filler words ("à ừ dạ alo")
    EXAMPLE = "example"  # the closest example of the best intent, with its similarity
    KEYWORDS = "keywords"  # keywords of the best intent found in the text
    RUNNER_UP = "runner_up"  # the second best intent and its score
    BELOW_THRESHOLD = "below_threshold"  # the best score is under the threshold: out of scope
    WITHIN_MARGIN = "within_margin"  # the two best are within the margin: the caller is asked which one


class KeywordHow(StrEnum):
    """How a keyword was found in the text."""

    EXACT = "exact"
    SPLIT_WORD = "split_word"  # a name the recognizer split ("vss id" for "vssid")
    TONES_IGNORED = "tones_ignored"
    APPROXIMATE = "approximate"  # spelled almost like it ("cang cuoc" for "can cuoc")


_HOW_EN = {KeywordHow.EXACT: "", KeywordHow.SPLIT_WORD: ", split word",
           KeywordHow.TONES_IGNORED: ", tones ignored", KeywordHow.APPROXIMATE: ", approximate"}  # fmt: skip


@dataclass(frozen=True)
class KeywordHit:
    phrase: str  # as written in the catalog
    weight: float  # 0..1, after the penalty of `how`
    how: KeywordHow


@dataclass(frozen=True)
class Reason:
    """One reason of a decision: a code and the values it speaks of; `str()` is the English of logs and the
    command line, the console words it in Vietnamese from the same fields."""

    code: Why
    intent: str | None = None  # EXAMPLE, KEYWORDS, RUNNER_UP: the intent it is about
    # EXAMPLE: similarity; RUNNER_UP: its score; BELOW_THRESHOLD: the threshold; WITHIN_MARGIN: the margin
    value: float = 0.0
    example: str = ""  # EXAMPLE: the closest example, as written
    where: str = ""  # EXAMPLE: its file and line in the catalog
    tones_ignored: bool = False  # EXAMPLE: matched only with tones folded
    keywords: tuple[KeywordHit, ...] = ()  # KEYWORDS

    def __str__(self) -> str:
        match self.code:
            case Why.NO_WORDS:
                return "no words"
            case Why.ONLY_FILLERS:
                return "only filler words"
            case Why.EXAMPLE:
                tones = " (tones ignored)" if self.tones_ignored else ""
                return f"example {self.example!r} ({self.where}) similarity {self.value:.2f}{tones}"
            case Why.KEYWORDS:
                return "keywords: " + ", ".join(
                    f"{k.phrase} ({k.weight:.2f}{_HOW_EN[k.how]})" for k in self.keywords
                )
            case Why.RUNNER_UP:
                return f"runner-up {self.intent} {self.value:.2f}"
            case Why.BELOW_THRESHOLD:
                return f"below threshold {self.value:g}: out of scope"
            case Why.WITHIN_MARGIN:
                return f"within margin {self.value:g} of the runner-up: ask which one"
        raise AssertionError(self.code)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["keywords"] = [asdict(k) for k in self.keywords]
        d["text"] = str(self)
        return d


@dataclass(frozen=True)
class Decision:
    """The matcher's verdict on one utterance; `intent` is None when it is out of scope."""

    intent: str | None
    score: float
    runner_up: str | None
    runner_up_score: float
    clarify: bool
    reasons: tuple[Reason, ...] = ()
    candidate: str | None = None  # best intent even when rejected (for logs and tuning)
    text: str = ""  # the text as matched (normalized, dialect mapped, fillers removed)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reasons"] = [r.to_dict() for r in self.reasons]
        return d


@dataclass(frozen=True)
class _Keyword:
    toned: str  # " căn cước " (padded for whole-word search)
    folded: str
    weight: float
    phrase: str
    multi: bool  # more than one syllable


@dataclass
class _IntentIndex:
    keywords: list[_Keyword] = field(default_factory=list)


class _SyllableIndex:
    """IDF-weighted bag of (tone-folded) syllables per example, for a word-level similarity.

    Character similarity alone rates "cuoc goi gia danh" close to "can cuoc cong dan" (shared letters);
    weighting shared syllables by how few intents use them makes rare, telling words ("khai", "sinh",
    "thue") count and everyday ones ("lam", "o", "dau") count little.
    """

    def __init__(self, folded: list[str], owners: np.ndarray) -> None:
        vocab: dict[str, int] = {}
        for text in folded:
            for syl in text.split():
                vocab.setdefault(syl, len(vocab))
        n_intents = int(owners.max()) + 1 if len(owners) else 1
        seen = np.zeros((n_intents, max(1, len(vocab))), dtype=bool)
        rows = np.zeros((len(folded), max(1, len(vocab))), dtype=np.float32)
        for i, text in enumerate(folded):
            for syl in set(text.split()):
                rows[i, vocab[syl]] = 1.0
                seen[owners[i], vocab[syl]] = True
        df = seen.sum(axis=0)
        self.idf = np.log(1.0 + n_intents / np.maximum(df, 1)).astype(np.float32)
        self.unknown_idf = float(np.log(1.0 + n_intents))  # a word no example has: as telling as the rarest
        self.vocab = vocab
        self.matrix = rows * self.idf  # (examples, vocabulary)
        self.weights = self.matrix.sum(axis=1)
        self.long_examples = np.asarray([t.count(" ") >= 2 for t in folded], dtype=np.float32)

    def similarity(self, folded: str, *, long_query: bool = False) -> np.ndarray:
        """Weighted Dice overlap (0..1) of the query's syllables with every example's.

        For a query of three words or more, an example found whole inside it also counts (discounted):
        callers wrap the same request in more words than any example has.
        """
        q = np.zeros(self.matrix.shape[1], dtype=np.float32)
        unknown = 0.0
        for syl in set(folded.split()):
            k = self.vocab.get(syl)
            if k is None:
                unknown += self.unknown_idf
            else:
                q[k] = 1.0
        common = self.matrix @ q
        q_weight = float((q * self.idf).sum()) + unknown
        dice = 2.0 * common / np.maximum(q_weight + self.weights, 1e-6)
        if not long_query:
            return dice
        contained = SET_DISCOUNT * common / np.maximum(self.weights, 1e-6) * self.long_examples
        return np.maximum(dice, contained)


class Matcher:
    """Matches text against one catalog; immutable, so a reload builds a new Matcher and swaps it."""

    def __init__(
        self,
        catalog: Catalog,
        settings: Any = None,
        *,
        dialect: DialectFile | None = None,
    ) -> None:
        self.catalog = catalog
        intents_settings, dialect_path = _resolve_settings(settings)
        self.settings: IntentSettings = intents_settings
        if dialect is None:
            dialect = load_dialect(dialect_path) if dialect_path is not None else DialectFile()
        self.dialect = dialect
        self.preparer = TextPreparer(dialect.words, dialect.fillers)
        self._ids = list(catalog.ids)
        toned: list[str] = []
        folded: list[str] = []
        owners: list[int] = []
        self._example_text: list[tuple[str, int]] = []
        for k, intent in enumerate(catalog.intents):
            for j, ex in enumerate(intent.examples):
                p = self.preparer.prepare(ex)
                if p.empty:  # an example made only of fillers: keep the fillers rather than nothing
                    p = self.preparer.prepare(ex, keep_fillers=True)
                toned.append(p.toned)
                folded.append(p.folded)
                owners.append(k)
                self._example_text.append((ex, j))
        self._owners = np.asarray(owners, dtype=np.intp)
        self._words = _SyllableIndex(folded, self._owners)
        self._toned_sorted = [_sorted_words(t) for t in toned]
        self._folded_sorted = [_sorted_words(f) for f in folded]
        self._starts = np.flatnonzero(np.r_[True, self._owners[1:] != self._owners[:-1]])
        self._index: list[_IntentIndex] = []
        for intent in catalog.intents:
            idx = _IntentIndex()
            for phrase, weight in intent.keywords.items():
                p = self.preparer.prepare(phrase, keep_fillers=True)
                if p.empty:
                    continue
                idx.keywords.append(_Keyword(f" {p.toned} ", f" {p.folded} ", weight, phrase, " " in p.toned))
            self._index.append(idx)
        # Keywords of 8+ letters and several syllables may match approximately; grouped by syllable count
        # so that one vectorized comparison per length covers the whole utterance.
        groups: dict[int, tuple[list[str], list[tuple[int, int]]]] = {}
        for k, idx in enumerate(self._index):
            for ki, keyword in enumerate(idx.keywords):
                phrase = keyword.folded.strip()
                if keyword.multi and len(phrase) >= 8:
                    phrases, owners_ = groups.setdefault(phrase.count(" ") + 1, ([], []))
                    phrases.append(phrase)
                    owners_.append((k, ki))
        self._approx = groups

    # -------------------------------------------------------------------------------------------
    def prepare(self, text: str) -> Prepared:
        return self.preparer.prepare((text or "")[: self.settings.max_text_chars])

    def match(self, text: str) -> Decision:
        """Decide which intent `text` asks for (or none, or clarify between the two best)."""
        p = self.prepare(text)
        if p.empty:
            why = Why.ONLY_FILLERS if (text or "").strip() else Why.NO_WORDS
            return Decision(None, 0.0, None, 0.0, False, (Reason(why),), None, "")
        scores, best_example, keyword_hits = self._score(p)
        order = np.argsort(-scores, kind="stable")
        b, r = int(order[0]), int(order[1]) if len(order) > 1 else None
        best, best_score = self._ids[b], float(scores[b])
        runner, runner_score = (self._ids[r], float(scores[r])) if r is not None else (None, 0.0)
        reasons = self._reasons(b, best_example, keyword_hits)
        if runner is not None:
            reasons.append(Reason(Why.RUNNER_UP, runner, runner_score))
        th, margin = self.settings.threshold, self.settings.margin
        if best_score < th:
            reasons.append(Reason(Why.BELOW_THRESHOLD, value=th))
            return Decision(None, best_score, runner, runner_score, False, tuple(reasons), best, p.toned)
        clarify = runner is not None and runner_score >= th and best_score - runner_score < margin
        if clarify:
            reasons.append(Reason(Why.WITHIN_MARGIN, value=margin))
        return Decision(best, best_score, runner, runner_score, clarify, tuple(reasons), best, p.toned)

    def guesses(self, text: str, n: int = 3) -> list[tuple[str, float]]:
        """The `n` best intents for `text` with their scores, best first (for review and tuning)."""
        p = self.prepare(text)
        if p.empty or not self._ids:
            return []
        scores, _best, _hits = self._score(p)
        order = np.argsort(-scores, kind="stable")[:n]
        return [(self._ids[int(k)], round(float(scores[int(k)]), 3)) for k in order]

    # -------------------------------------------------------------------------------------------
    def _score(self, p: Prepared) -> tuple[np.ndarray, list[tuple[int, float, bool]], list[list[KeywordHit]]]:
        n = len(self._ids)
        toned = self._similarity(p.toned, self._toned_sorted)
        folded = self._similarity(p.folded, self._folded_sorted) * FOLDED_PENALTY
        chars = np.maximum(toned, folded)
        words = 100.0 * self._words.similarity(p.folded, long_query=p.toned.count(" ") >= 2)
        per_example = (CHAR_SHARE * chars + (1.0 - CHAR_SHARE) * words) / 100.0
        fuzzy = np.maximum.reduceat(per_example, self._starts).astype(np.float64)
        best_example: list[tuple[int, float, bool]] = []
        bounds = list(self._starts) + [len(per_example)]
        for k in range(n):
            lo, hi = int(bounds[k]), int(bounds[k + 1])
            j = lo + int(np.argmax(per_example[lo:hi]))
            best_example.append((j, float(per_example[j]), bool(folded[j] > toned[j])))
        q_toned, q_folded = f" {p.toned} ", f" {p.folded} "
        q_joined = _joined_ngrams(p.folded)
        near = self._near_keywords(p.folded.split())
        found: list[tuple[int, _Keyword, float, KeywordHow]] = []  # (intent, keyword, weight, how)
        for k, idx in enumerate(self._index):
            for ki, keyword in enumerate(idx.keywords):
                if keyword.toned in q_toned:
                    found.append((k, keyword, keyword.weight, KeywordHow.EXACT))
                elif not keyword.multi:
                    # One syllable: folding would confuse "thuế" with "thuê"; only a name split by the
                    # recognizer ("vss id" for "vssid") is also accepted.
                    if keyword.folded in q_joined:
                        found.append((k, keyword, keyword.weight * FOLDED_PENALTY, KeywordHow.SPLIT_WORD))
                elif keyword.folded in q_folded:
                    found.append(
                        (k, keyword, keyword.weight * FOLDED_KEYWORD_PENALTY, KeywordHow.TONES_IGNORED)
                    )
                elif (k, ki) in near:
                    found.append((k, keyword, keyword.weight * FUZZY_KEYWORD_PENALTY, KeywordHow.APPROXIMATE))
        # A keyword inside a longer keyword that also matched is not evidence of its own:
        # "mở cửa" (office hours) inside "mở cửa hàng" (opening a shop).
        longer = [kw_.folded for _, kw_, _, _ in found]
        miss = np.ones(n, dtype=np.float64)
        hits: list[list[KeywordHit]] = [[] for _ in range(n)]
        for k, keyword, weight, how in found:
            if any(keyword.folded in other and len(other) > len(keyword.folded) for other in longer):
                continue
            miss[k] *= 1.0 - weight
            hits[k].append(KeywordHit(keyword.phrase, round(weight, 3), how))
        kw = 1.0 - miss
        return _combine(fuzzy, kw), best_example, hits

    def _near_keywords(self, tokens: list[str]) -> set[tuple[int, int]]:
        """(intent, keyword) pairs spelled almost like a run of syllables ("cang cuoc" ~ "can cuoc")."""
        near: set[tuple[int, int]] = set()
        for n, (phrases, owners) in self._approx.items():
            if len(tokens) < n:
                continue
            grams = [" ".join(tokens[i : i + n]) for i in range(len(tokens) - n + 1)]
            cutoff = FUZZY_KEYWORD_CUTOFF
            scores = process.cdist(phrases, grams, scorer=fuzz.ratio, score_cutoff=cutoff, dtype=np.uint8)
            for row in np.flatnonzero(scores.max(axis=1) > 0):
                near.add(owners[int(row)])
        return near

    def _similarity(self, query: str, choices: list[str]) -> np.ndarray:
        """Character similarity (0..100) of the sorted words to every example's sorted words."""
        scores = process.cdist([_sorted_words(query)], choices, scorer=fuzz.ratio, dtype=np.float32)
        return scores[0]

    def _reasons(
        self, k: int, best_example: list[tuple[int, float, bool]], hits: list[list[KeywordHit]]
    ) -> list[Reason]:
        j, sim, by_fold = best_example[k]
        ex, ex_i = self._example_text[j]
        intent_id = self._ids[k]
        where = self.catalog.where(intent_id, "examples", ex_i)
        reasons = [Reason(Why.EXAMPLE, intent_id, sim, ex, where, by_fold)]
        if hits[k]:
            reasons.append(Reason(Why.KEYWORDS, intent_id, keywords=tuple(hits[k])))
        return reasons


def _sorted_words(text: str) -> str:
    return " ".join(sorted(text.split()))


def _joined_ngrams(folded: str) -> str:
    """Adjacent syllables glued together (" vssid etaxmobile "), to find names the recognizer split."""
    toks = folded.split()
    grams = ["".join(toks[i : i + n]) for n in (2, 3) for i in range(len(toks) - n + 1)]
    return " " + " ".join(toks + grams) + " "


def _combine(fuzzy: np.ndarray, keywords: np.ndarray) -> np.ndarray:
    """Calibrated score in [0, 1]: example similarity rescaled above a floor, lifted by keyword evidence."""
    base = np.clip((fuzzy - FUZZY_FLOOR) / (1.0 - FUZZY_FLOOR), 0.0, 1.0)
    return base + (1.0 - base) * KEYWORD_SHARE * keywords


def _resolve_settings(settings: Any) -> tuple[IntentSettings, Any]:
    if settings is None:
        return IntentSettings(), None
    if isinstance(settings, IntentSettings):  # without the whole Settings: paths from the project root
        path = settings.dialect_table
        return settings, path if path.is_absolute() else PROJECT_ROOT / path
    intents = settings.intents  # the whole Settings object
    return intents, settings.path(intents.dialect_table)
