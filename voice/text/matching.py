"""Normalization for matching caller speech against the intent catalog (fast; no tables loaded)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from voice.text.numbers import decimal_to_words, digits_to_words, number_to_words
from voice.text.table import load_table
from voice.text.tones import canonical_word, nfc

# A number as written: digits with optional dot/comma groups ("1.500.000", "2,5", "0912").
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_THOUSANDS = re.compile(r"\d{1,3}(?:\.\d{3})+")
_WORD = re.compile(r"(?:[^\W\d_]|[\u0300-\u036f])+")
_NOT_WORD = re.compile(r"[\W_]+")


_TIME = re.compile(r"(?<![\w.,:/])(\d{1,2})[h:](\d{2})?(?![\w:/]|[.,]\d)")
_DATE = re.compile(r"(?<![\w.,/])(\d{1,2})/(\d{1,2})(?:/(\d{4}))?(?![\w/]|[.,]\d)")


def _time_words(m: re.Match[str]) -> str:
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if hour > 24 or minute > 59:
        return m.group(0)
    words = f" {number_to_words(hour)} giờ "
    return words + (f"{number_to_words(minute)} " if minute else "")


def _date_words(m: re.Match[str]) -> str:
    day, month = int(m.group(1)), int(m.group(2))
    if not (1 <= day <= 31 and 1 <= month <= 12):
        return m.group(0)
    before = m.string[max(0, m.start() - 6) : m.start()].rstrip()
    lead = "" if before.endswith(("ngày", "mồng", "mùng")) else "ngày "
    words = f" {lead}{number_to_words(day)} tháng {'tư' if month == 4 else number_to_words(month)} "
    return words + (f"năm {number_to_words(int(m.group(3)))} " if m.group(3) else "")


def _number_words(m: re.Match[str]) -> str:
    return _token_words(m.group(0))


@lru_cache(maxsize=8192)
def _token_words(token: str) -> str:
    if _THOUSANDS.fullmatch(token):
        return f" {number_to_words(int(token.replace('.', '')))} "
    parts = re.split(r"[.,]", token)
    if len(parts) == 2 and "," in token:
        return f" {decimal_to_words(parts[0], parts[1])} "
    return " " + " ".join(_integer(p) for p in parts) + " "


def _integer(digits: str) -> str:
    # Leading zeros and very long runs are codes or phone numbers: read digit by digit.
    if (len(digits) > 1 and digits[0] == "0") or len(digits) > 9:
        return digits_to_words(digits)
    return number_to_words(int(digits))


# Spelling variants that mean the same word: i/y after h, k, l, m, t (lý/lí, kỹ/kĩ, tỷ/tỉ, mỹ/mĩ,
# hy/hi) become y; regional number words become the northern ones.
_I_OR_Y = re.compile(r"([hklmt])[iy]([\u0300\u0301\u0303\u0309\u0323]?)")
_SAME_WORD = {"ngàn": "nghìn", "nhăm": "lăm"}
_SYMBOLS = {"%": " phần trăm ", "‰": " phần nghìn ", "&": " và ", "+": " cộng "}
_SYMBOL = re.compile("[%‰&+]")


@lru_cache(maxsize=65536)
def matching_word(word: str) -> str:
    """One lowercase word in its matching form (canonical tones, one spelling of i/y variants)."""
    word = canonical_word(word)
    word = _SAME_WORD.get(word, word)
    if 2 <= len(word) <= 3 and word[0] in "hklmt":
        decomposed = unicodedata.normalize("NFD", word)
        m = _I_OR_Y.fullmatch(decomposed)
        if m:
            return unicodedata.normalize("NFC", m.group(1) + "y" + m.group(2))
    return word


def _matching(m: re.Match[str]) -> str:
    return matching_word(m.group(0))


def normalize_for_matching(s: str, *, expand_abbreviations: bool = False) -> str:
    """Lowercase NFC words with classic tone placement, numbers as words, no punctuation.

    "Số 5, phường Hưng Bình!" and "số năm phường hưng bình" give the same string; so do
    "hoà"/"hòa", "lí"/"lý", "một ngàn"/"1.000". With `expand_abbreviations`, table abbreviations
    (CCCD, UBND, ...) are first replaced by their words, so "CCCD" matches "căn cước công dân".
    """
    if not s:
        return ""
    return _normalize(s, expand_abbreviations)


@lru_cache(maxsize=4096)
def _normalize(s: str, expand_abbreviations: bool) -> str:
    s = nfc(s)
    if expand_abbreviations:
        table = load_table()
        if table.abbreviation_re is not None:
            s = table.abbreviation_re.sub(lambda m: " " + table.abbreviations[m.group(0)] + " ", s)
    s = s.lower()
    if any(c.isdigit() for c in s):
        s = _TIME.sub(_time_words, s)
        s = _DATE.sub(_date_words, s)
        s = _NUMBER.sub(_number_words, s)
    s = _SYMBOL.sub(lambda m: _SYMBOLS[m.group(0)], s)
    s = _WORD.sub(_matching, s)
    return " ".join(_NOT_WORD.sub(" ", s).split())
