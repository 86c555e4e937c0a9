"""Pick the intent behind a caller's words: fuzzy examples + weighted keywords, tone-insensitive fallback."""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field
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


@dataclass(frozen=True)
class Decision:
    """The matcher's verdict on one utterance; `intent` is None when it is out of scope."""

    intent: str | None
    score: float
    runner_up: str | None
    runner_up_score: float
    clarify: bool
    reasons: tuple[str, ...] = ()
    candidate: str | None = None  # best intent even when rejected (for logs and tuning)
    text: str = ""  # the text as matched (normalized, dialect mapped, fillers removed)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["reasons"] = list(self.reasons)
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
            why = "only filler words" if (text or "").strip() else "no words"
            return Decision(None, 0.0, None, 0.0, False, (why,), None, "")
        scores, best_example, keyword_hits = self._score(p)
        order = np.argsort(-scores, kind="stable")
        b, r = int(order[0]), int(order[1]) if len(order) > 1 else None
        best, best_score = self._ids[b], float(scores[b])
        runner, runner_score = (self._ids[r], float(scores[r])) if r is not None else (None, 0.0)
        reasons = self._reasons(b, best_example, keyword_hits)
        if runner is not None:
            reasons.append(f"runner-up {runner} {runner_score:.2f}")
        th, margin = self.settings.threshold, self.settings.margin
        if best_score < th:
            reasons.append(f"below threshold {th:g}: out of scope")
            return Decision(None, best_score, runner, runner_score, False, tuple(reasons), best, p.toned)
        clarify = runner is not None and runner_score >= th and best_score - runner_score < margin
        if clarify:
            reasons.append(f"within margin {margin:g} of the runner-up: ask which one")
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
    def _score(self, p: Prepared) -> tuple[np.ndarray, list[tuple[int, float, bool]], list[list[str]]]:
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
        found: list[tuple[int, _Keyword, float, str]] = []  # (intent, keyword, weight, how it matched)
        for k, idx in enumerate(self._index):
            for ki, keyword in enumerate(idx.keywords):
                if keyword.toned in q_toned:
                    found.append((k, keyword, keyword.weight, ""))
                elif not keyword.multi:
                    # One syllable: folding would confuse "thuế" with "thuê"; only a name split by the
                    # recognizer ("vss id" for "vssid") is also accepted.
                    if keyword.folded in q_joined:
                        found.append((k, keyword, keyword.weight * FOLDED_PENALTY, ", split word"))
                elif keyword.folded in q_folded:
                    found.append((k, keyword, keyword.weight * FOLDED_KEYWORD_PENALTY, ", tones ignored"))
                elif (k, ki) in near:
                    found.append((k, keyword, keyword.weight * FUZZY_KEYWORD_PENALTY, ", approximate"))
        # A keyword inside a longer keyword that also matched is not evidence of its own:
        # "mở cửa" (office hours) inside "mở cửa hàng" (opening a shop).
        longer = [kw_.folded for _, kw_, _, _ in found]
        miss = np.ones(n, dtype=np.float64)
        hits: list[list[str]] = [[] for _ in range(n)]
        for k, keyword, weight, how in found:
            if any(keyword.folded in other and len(other) > len(keyword.folded) for other in longer):
                continue
            miss[k] *= 1.0 - weight
            hits[k].append(f"{keyword.phrase} ({weight:.2f}{how})")
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
        self, k: int, best_example: list[tuple[int, float, bool]], hits: list[list[str]]
    ) -> list[str]:
        j, sim, by_fold = best_example[k]
        ex, ex_i = self._example_text[j]
        intent_id = self._ids[k]
        reasons = [
            f"example {ex!r} ({self.catalog.where(intent_id, 'examples', ex_i)}) similarity {sim:.2f}"
            + (" (tones ignored)" if by_fold else "")
        ]
        if hits[k]:
            reasons.append("keywords: " + ", ".join(hits[k]))
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
