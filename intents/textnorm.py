"""Matching-side text preparation: shared Vietnamese normalization, dialect mapping, filler removal."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# The shared normalizer (numbers as words, canonical tone placement) lives in voice/.
from voice.text import fold_tones, normalize_for_matching
from voice.text.spelling import AcronymReader, acronym_reader

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Prepared:
    """One text made ready for matching: with tones, and with tones folded away."""

    original: str
    toned: str
    folded: str

    @property
    def tokens(self) -> tuple[str, ...]:
        return tuple(self.toned.split())

    @property
    def empty(self) -> bool:
        return not self.toned


def _phrase_table(items: Iterable[tuple[str, str]]) -> dict[tuple[str, ...], tuple[str, ...]]:
    table: dict[tuple[str, ...], tuple[str, ...]] = {}
    for src, dst in items:
        key = tuple(normalize_for_matching(src).split())
        if key:
            table[key] = tuple(normalize_for_matching(dst).split())
    return table


def _rewrite(
    tokens: list[str],
    table: Mapping[tuple[str, ...], tuple[str, ...]],
    longest: int,
    folded_table: Mapping[tuple[str, ...], tuple[str, ...]] | None = None,
) -> list[str]:
    """Replace phrases left to right, longest match first, on whole-syllable boundaries.

    `folded_table` holds phrases of two or more syllables keyed without tones, so that "o mo" (ở mô
    with the tones the recognizer dropped) still maps; single syllables without tones are too ambiguous.
    """
    if not table:
        return tokens
    out: list[str] = []
    i = 0
    n = len(tokens)
    while i < n:
        for size in range(min(longest, n - i), 0, -1):
            phrase = tuple(tokens[i : i + size])
            repl = table.get(phrase)
            if repl is None and folded_table and size > 1:
                repl = folded_table.get(tuple(fold_tones(t) for t in phrase))
            if repl is not None:
                out.extend(repl)
                i += size
                break
        else:
            out.append(tokens[i])
            i += 1
    return out


class TextPreparer:
    """Turns caller or catalog text into comparable form; the same steps run on both sides."""

    def __init__(
        self,
        dialect: Mapping[str, str] | None = None,
        fillers: Iterable[str] = (),
        acronyms: AcronymReader | None = None,
    ) -> None:
        self._acronyms = acronyms if acronyms is not None else acronym_reader()
        self._dialect = _phrase_table((dialect or {}).items())
        folded: dict[tuple[str, ...], tuple[str, ...]] = {}
        for key, value in self._dialect.items():
            if len(key) > 1:
                folded.setdefault(tuple(fold_tones(t) for t in key), value)
        self._dialect_folded = folded
        self._fillers = _phrase_table((f, "") for f in fillers)
        self._dialect_len = max((len(k) for k in self._dialect), default=0)
        self._filler_len = max((len(k) for k in self._fillers), default=0)

    def prepare(self, text: str, *, keep_fillers: bool = False) -> Prepared:
        base = normalize_for_matching(text or "")
        # Spelled acronyms first: their letter names ("tê", "mờ") are dialect or ordinary words on their own.
        tokens = self._acronyms.read(base.split())
        tokens = _rewrite(tokens, self._dialect, self._dialect_len, self._dialect_folded)
        tokens = self._acronyms.read(tokens, spoken=False)  # "cccd" produced by a dialect alias
        if not keep_fillers:
            tokens = _rewrite(tokens, self._fillers, self._filler_len)
        toned = " ".join(tokens)
        return Prepared(original=text, toned=toned, folded=fold_tones(toned))

    def is_filler_only(self, text: str) -> bool:
        """True when the text has words but every one of them is a filler."""
        return bool(normalize_for_matching(text or "")) and self.prepare(text).empty
