"""Acronyms said letter by letter, mapped back to the reading table's abbreviations.

Callers say "xê xê xê đê" or "cờ cờ cờ đờ" for CCCD and "bê hát i tê" for BHYT, and the recognizer
writes the letter names as it heard them, often without tones. The same table that tells the voice how
to read an abbreviation (config/abbreviations.yaml) tells the matcher what such a run of letter names
means: CCCD is "căn cước công dân" on both sides, VNeID (whose table reading is itself a spelling) is
"vneid" on both sides.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from voice.text.matching import normalize_for_matching
from voice.text.table import TextTable, load_table
from voice.text.tones import fold_tones

# How Vietnamese speakers (and the recognizer after them) name letters: the school names (bê, xê, đê),
# the spelling-reform names (bờ, cờ, đờ), the consonant-only halves the recognizer splits off (lờ, mờ,
# nờ, rờ), and the English names used for brand acronyms (ai, đi, vi). Compared without tones, because
# the recognizer drops them.
_NAMES: dict[str, str] = {
    "a": "A",
    "á": "A",
    "ây": "A",
    "bê": "B",
    "bờ": "B",
    "bi": "B",
    "xê": "C",
    "cờ": "C",
    "si": "C",
    "đê": "D",
    "đờ": "D",
    "dê": "D",
    "đi": "D",
    "e": "E",
    "ê": "E",
    "ép": "F",
    "ép phờ": "F",
    "phờ": "F",
    "gờ": "G",
    "giê": "G",
    "hát": "H",
    "hờ": "H",
    "hắt": "H",
    "i": "IY",
    "ai": "I",
    "gi": "GJ",
    "ca": "K",
    "e lờ": "L",
    "lờ": "L",
    "en lờ": "L",
    "em mờ": "M",
    "em": "M",
    "mờ": "M",
    "en nờ": "N",
    "en": "N",
    "nờ": "N",
    "nê": "N",
    "o": "O",
    "ô": "O",
    "ơ": "O",
    "pê": "P",
    "pờ": "P",
    "pi": "P",
    "qui": "Q",
    "quy": "Q",
    "cu": "Q",
    "kiu": "Q",
    "e rờ": "R",
    "rờ": "R",
    "ét xì": "S",
    "ét": "S",
    "ết": "S",
    "tê": "T",
    "tờ": "T",
    "ti": "T",
    "u": "U",
    "ư": "U",
    "vê": "V",
    "vờ": "V",
    "vi": "V",
    "vê kép": "W",
    "vê đúp": "W",
    "ích xì": "X",
    "ích": "X",
    "y": "IY",
    "i dài": "Y",
    "y dài": "Y",
    "i cờ rét": "Y",
    "dét": "Z",
    "zét": "Z",
}
MIN_LETTERS = 3  # two-letter runs ("bờ đê", "a i") are too often ordinary words
_FOLD_LETTERS = str.maketrans("ĐĂÂÊÔƠƯ", "DAAEOOU")


def letter_key(written: str) -> str:
    """An abbreviation as the plain letters a speller names: VNeID -> VNEID, HĐND -> HDND."""
    return fold_tones(written).upper().translate(_FOLD_LETTERS)


def letter_names(table: TextTable) -> dict[str, frozenset[str]]:
    """Spoken letter name (1-2 syllables, without tones) -> the letters it can stand for."""
    names: dict[str, set[str]] = {}
    pairs = list(_NAMES.items()) + [(words, letter_key(letter)) for letter, words in table.letters.items()]
    for name, letters in pairs:
        key = fold_tones(" ".join(normalize_for_matching(name).split()))
        if key and key.count(" ") < 2:
            names.setdefault(key, set()).update(letters)
    return {k: frozenset(v) for k, v in names.items()}


def _is_spelling(words: str, names: Mapping[str, frozenset[str]]) -> bool:
    return all(fold_tones(w) in names for w in words.split())


@dataclass(frozen=True)
class AcronymReader:
    """Finds runs of spoken letter names and written acronyms in matching tokens; returns their meaning."""

    names: Mapping[str, frozenset[str]]
    trie: Mapping[str, object]  # letter -> subtree; the key "" holds the meaning of a complete acronym
    written: Mapping[str, tuple[str, ...]]  # "cccd" -> ("căn", "cước", "công", "dân")
    longest_key: int

    @classmethod
    def from_table(cls, table: TextTable) -> AcronymReader:
        names = letter_names(table)
        trie: dict[str, object] = {}
        written: dict[str, tuple[str, ...]] = {}
        longest = 0
        for key, words in table.abbreviations.items():
            letters = letter_key(key)
            if len(letters) < MIN_LETTERS or not letters.isascii() or not letters.isalpha():
                continue
            spelled = _is_spelling(normalize_for_matching(words), names)
            meaning = tuple(normalize_for_matching(key if spelled else words).split())
            written.setdefault(normalize_for_matching(key), meaning)
            node = trie
            for ch in letters:
                node = node.setdefault(ch, {})  # type: ignore[assignment]  # nested dict of the same shape
            node.setdefault("", meaning)
            longest = max(longest, len(letters))
        return cls(names=names, trie=trie, written=written, longest_key=longest)

    def _longest(self, folded: Sequence[str], start: int) -> tuple[int, tuple[str, ...]] | None:
        """The longest acronym spelled from `start`: (end index, meaning), trying every reading of a name."""
        best: tuple[int, tuple[str, ...]] | None = None
        stack: list[tuple[Mapping[str, object], int, int]] = [(self.trie, start, 0)]
        while stack:
            node, j, depth = stack.pop()
            meaning = node.get("")
            if meaning is not None and depth >= MIN_LETTERS and (best is None or j > best[0]):
                best = (j, meaning)  # type: ignore[assignment]  # leaves hold tuples of words
            if depth >= self.longest_key:
                continue
            for size in (1, 2):
                if j + size > len(folded):
                    break
                for letter in self.names.get(" ".join(folded[j : j + size]), ()):
                    child = node.get(letter)
                    if isinstance(child, dict):
                        stack.append((child, j + size, depth + 1))
        return best

    def read(self, tokens: Sequence[str], *, spoken: bool = True) -> list[str]:
        """Tokens with written acronyms (and, if `spoken`, spelled-out ones) replaced by their meaning."""
        folded = [fold_tones(t) for t in tokens] if spoken else []
        out: list[str] = []
        i = 0
        while i < len(tokens):
            hit = self._longest(folded, i) if spoken and folded[i] in self.names else None
            if hit is not None:
                out.extend(hit[1])
                i = hit[0]
                continue
            out.extend(self.written.get(tokens[i], (tokens[i],)))
            i += 1
        return out


_readers: dict[int, tuple[TextTable, AcronymReader]] = {}
_lock = threading.Lock()


def acronym_reader(table: TextTable | None = None) -> AcronymReader:
    """The reader for `table` (default: the configured reading table), built once per loaded table."""
    table = table if table is not None else load_table()
    with _lock:
        hit = _readers.get(id(table))
        if hit is not None and hit[0] is table:
            return hit[1]
    reader = AcronymReader.from_table(table)
    with _lock:
        _readers[id(table)] = (table, reader)
    return reader
