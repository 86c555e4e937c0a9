"""Unicode NFC, one tone-mark placement for Vietnamese syllables, and diacritic folding.

Vietnamese text is typed with two tone-mark placements for the rhymes oa, oe, uy (and others
without a final consonant): the "classic" one (hòa, khỏe, thủy) and the "new" one (hoà, khoẻ,
thuỷ). `canonical_tones` maps every syllable to the CLASSIC placement, the one most keyboards
produce by default and most public-service documents use:

- a vowel carrying a modifier (â ă ê ô ơ ư) takes the mark (the last one in ươ: người, thuở);
- otherwise, three vowels: the middle one (ngoài, khuỷu);
- two vowels: the second when a final consonant follows (hoàn, quyết, huỳnh), else the first
  (hòa, thủy, khỏe, mùa, mía);
- "qu" and "gi" (before another vowel) are initial consonants (quý, giữ), so qúy -> quý.

Words that are not Vietnamese syllables are left untouched (apart from NFC).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# The five tone marks as combining characters: grave, acute, tilde, hook above, dot below.
TONE_MARKS = frozenset("\u0300\u0301\u0303\u0309\u0323")
_VOWELS = frozenset("aeiouy")
# Letters plus combining marks (a tone mark typed after a consonant is still part of the word).
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")
_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D", "ð": "d", "Ð": "D"})


def nfc(s: str) -> str:
    """Unicode NFC (composed characters), the one form every string in the product uses."""
    return unicodedata.normalize("NFC", s)


@lru_cache(maxsize=65536)
def canonical_word(word: str) -> str:
    """One syllable (letters only) with its tone mark moved to the classic position."""
    decomposed = unicodedata.normalize("NFD", word)
    tone = None
    bases: list[str] = []
    for ch in decomposed:
        if ch in TONE_MARKS:
            if tone is not None and tone != ch:
                return nfc(word)  # two different tones: not a Vietnamese syllable
            tone = ch
        elif unicodedata.combining(ch):
            if not bases:
                return nfc(word)
            bases[-1] += ch
        else:
            bases.append(ch)
    if tone is None:
        return nfc(word)
    lower = [b[0].lower() for b in bases]
    n = len(bases)
    first = 0
    if n >= 3 and lower[0] == "q" and lower[1] == "u":
        first = 2  # qu- is an initial consonant
    elif n >= 3 and lower[0] == "g" and lower[1] == "i" and lower[2] in _VOWELS:
        first = 2  # gi- before another vowel is an initial consonant
    vowels = [i for i in range(first, n) if lower[i] in _VOWELS]
    if not vowels or vowels[-1] - vowels[0] + 1 != len(vowels) or len(vowels) > 3:
        return nfc(word)  # no vowel, split vowels or too many: leave it alone
    has_coda = vowels[-1] < n - 1
    modified = [i for i in vowels if len(bases[i]) > 1]
    if modified:
        pos = modified[-1]
    elif len(vowels) == 3:
        pos = vowels[1]
    elif len(vowels) == 2:
        pos = vowels[1] if has_coda else vowels[0]
    else:
        pos = vowels[0]
    bases[pos] += tone
    return nfc("".join(bases))


def _canonical_match(m: re.Match[str]) -> str:
    return canonical_word(m.group(0))


def canonical_tones(s: str) -> str:
    """NFC text with every syllable's tone mark in the classic place (hoà -> hòa, thuỷ -> thủy)."""
    return _WORD.sub(_canonical_match, nfc(s))


def fold_tones(s: str) -> str:
    """Remove every diacritic (tones and vowel marks), đ -> d; letter case is kept."""
    decomposed = unicodedata.normalize("NFD", s.translate(_FOLD_EXTRA))
    return nfc("".join(ch for ch in decomposed if not unicodedata.combining(ch)))
