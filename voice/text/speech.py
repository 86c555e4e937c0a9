"""Text as it should be spoken: numbers, dates, times, money, phone numbers, codes, abbreviations.

`normalize_for_speech` runs a fixed series of passes over the text. Each pass turns one kind of
written form into Vietnamese words (which contain no digits), so later passes cannot re-read what an
earlier pass produced; the order matters (document numbers before dates, dates before ranges, ...).
Every pattern is anchored at token starts and has no nested open-ended repetition, so the work is
linear in the length of the text (10,000 characters take milliseconds).
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

from voice.text import patterns as P
from voice.text import phones
from voice.text.numbers import (
    NORTH,
    NumberStyle,
    decimal_to_words,
    digits_to_words,
    grouped_digits,
    number_to_words,
    ordinal_to_words,
    roman_to_int,
)
from voice.text.table import TextTable, load_table
from voice.text.tones import canonical_tones, fold_tones

logger = logging.getLogger(__name__)


def _month_words(month: int, style: NumberStyle) -> str:
    return "tư" if month == 4 else number_to_words(month, style)


class _Normalizer:
    """One normalization run: the table, the number style and the passes in order."""

    def __init__(self, table: TextTable, style: NumberStyle) -> None:
        self.t = table
        self.style = style
        self.r = table.reading

    def num(self, n: int) -> str:
        return number_to_words(n, self.style)

    # -- helpers ---------------------------------------------------------------------------------

    def spell(self, letters: str) -> str:
        """Letters by their Vietnamese names: DTI -> đê tê i."""
        out = []
        for ch in letters:
            words = self.t.letters.get(ch) or self.t.letters.get(fold_tones(ch).upper())
            out.append(words if words else ch)
        return " ".join(out)

    def alnum(self, token: str, *, by_char: bool) -> str:
        """A token of letters and digits: letter runs spelled (or from the table), digit runs read."""
        parts = []
        for run in P.RUNS.findall(token):
            if run[0].isdigit():
                if by_char or len(run) > 2 or (len(run) > 1 and run[0] == "0"):
                    parts.append(digits_to_words(run))
                else:
                    parts.append(self.num(int(run)))
            elif not by_char and run in self.t.abbreviations:
                parts.append(self.t.abbreviations[run])
            else:
                parts.append(self.spell(run))
        return " ".join(parts)

    # -- passes ----------------------------------------------------------------------------------

    def clean(self, s: str) -> str:
        s = canonical_tones(s)
        keep = self.t.keep_chars
        s = "".join(
            " " if ch not in keep and unicodedata.category(ch) in P.DROP_CATEGORIES else ch for ch in s
        )
        return s.replace("\t", " ").replace("\r\n", "\n").replace("\r", "\n")

    def web(self, m: re.Match[str]) -> str:
        text = m.group(0)
        lower = text.lower()
        if lower.startswith(("http://", "https://", "ftp://")):
            text = text.split("://", 1)[1]
        body = text.rstrip("/.")
        end = "." if text[len(body) :].endswith(".") else ""  # a sentence-final dot stays a full stop
        out = []
        for part in P.WEB_PART.findall(body):
            low = part.lower()
            if low in self.t.web:
                if self.t.web[low]:
                    out.append(self.t.web[low])
            elif part == ".":
                out.append(self.r.dot)
            elif part == "/":
                out.append(self.r.web_slash)
            elif part == "_":
                out.append(self.r.underscore)
            elif part in self.t.symbols:
                out.append(self.t.symbols[part])
            elif part == "-":
                out.append(self.r.hyphen)
            elif part.isdigit():
                out.append(digits_to_words(part))
            elif part.isalpha():
                # A plain word is left for the speech engine; letter clusters without a vowel are spelled.
                vowels = sum(c in "aeiouy" for c in low)
                out.append(low if vowels and len(part) > 2 else self.spell(part.upper()))
        return " " + " ".join(out) + end + " "

    def _document_number(self, number: str) -> str:
        # A leading zero is part of the number as written (01-KL/TW is "không một"): keep it.
        return digits_to_words(number) if len(number) > 1 and number[0] == "0" else self.num(int(number))

    def _document_code(self, code: str) -> list[str]:
        """QĐ-UBND, NĐ-CP, KL/TW: each part from the codes table, else the abbreviations, else spelled."""
        words = []
        for i, part in enumerate(re.split(r"([\-/.])", code)):
            if i % 2:
                sep = {"-": self.r.document_hyphen, "/": self.r.slash, ".": self.r.dot}[part]
                if sep:
                    words.append(sep)
            elif part in self.t.document_codes:
                words.append(self.t.document_codes[part])
            elif part in self.t.abbreviations:
                words.append(self.t.abbreviations[part])
            else:
                words.append(
                    self.alnum(part, by_char=False) if any(c.isdigit() for c in part) else self.spell(part)
                )
        return words

    def document(self, m: re.Match[str]) -> str:
        number, year, code = m.group(1), m.group(2), m.group(3)
        words = [self._document_number(number)]
        if year:
            words += [self.r.document_year, self.num(int(year))]
        words.append(self.r.slash)
        return " ".join(words + self._document_code(code))

    def party_document(self, m: re.Match[str]) -> str:
        # 57-NQ/TW: the number, then the type and the issuing body joined by "trên".
        return " ".join(
            [self._document_number(m.group(1)), *self._document_code(m.group(2) + "/" + m.group(3))]
        )

    def road(self, m: re.Match[str]) -> str:
        words = [self.t.roads[m.group(1)], self.num(int(m.group(2)))]
        if m.group(3):
            words.append(self.spell(m.group(3)))
        return " ".join(words)

    def chainage(self, m: re.Match[str]) -> str:
        km, metres = self.num(int(m.group(1))), self.num(int(m.group(2)))
        return f"{self.t.units.get('km', 'ki lô mét')} {km} {self.r.plus} {metres}"

    def code(self, m: re.Match[str]) -> str:
        token = m.group(0)
        if token in self.t.abbreviations:
            return self.t.abbreviations[token]
        if not any(c.isdigit() for c in token) or not any(c.isalpha() for c in token):
            return token  # dates, numbers, plain abbreviations: later passes
        words = []
        for i, part in enumerate(re.split(r"([.\-])", token)):
            if i % 2:
                words.append(self.r.dot if part == "." else self.r.hyphen)
            else:
                words.append(self.alnum(part, by_char=True))
        return (
            ", ".join(words)
            .replace(f", {self.r.dot}, ", f" {self.r.dot} ")
            .replace(f", {self.r.hyphen}, ", f", {self.r.hyphen} ")
        )

    def abbreviation(self, m: re.Match[str]) -> str:
        return self.t.abbreviations[m.group(0)]

    def place_prefix(self, m: re.Match[str]) -> str:
        # "TP. Vinh": the dot after a place prefix does not end the sentence.
        prefix = m.group(1)
        return (self.t.abbreviations.get(prefix) or P.PLACE_WORDS.get(prefix, prefix)) + " "

    def _date(self, day: int, month: int, year: int | None, before: str) -> str | None:
        if not (1 <= day <= 31 and 1 <= month <= 12):
            return None
        words = [] if P.DAY_WORD.search(before) else ["ngày"]
        words += [self.num(day), "tháng", _month_words(month, self.style)]
        if year is not None:
            words += ["năm", self.num(year)]
        return " ".join(words)

    def day_range(self, m: re.Match[str]) -> str:
        # 15-20/12: the first day shares the month of the second ("từ ngày mười lăm đến ngày hai mươi ...").
        first, last, month = int(m.group(1)), int(m.group(3)), int(m.group(4))
        year = int(m.group(5)) if m.group(5) else None
        before = m.string[max(0, m.start() - 8) : m.start()]
        if not (1 <= first < last <= 31):
            return m.group(0)
        tail = self._date(last, month, year, "")
        if tail is None:
            return m.group(0)
        lead = "" if P.DAY_WORD.search(before) else "ngày "
        return f"{lead}{self.num(first)} {self.r.range} {tail}"

    def full_date(self, m: re.Match[str]) -> str:
        before = m.string[max(0, m.start() - 8) : m.start()]
        words = self._date(int(m.group(1)), int(m.group(3)), int(m.group(4)), before)
        return words if words else m.group(0)

    def day_month(self, m: re.Match[str]) -> str:
        before = m.string[max(0, m.start() - 12) : m.start()]
        day, month = int(m.group(1)), int(m.group(2))
        if P.ADDRESS_CONTEXT.search(before):
            return m.group(0)  # số 12/3: a house number, read as "mười hai trên ba"
        if not P.DATE_CONTEXT.search(before):
            # Without "ngày"/"từ"/"đến" before it: 2/9, 30/4 are dates, but 1/2, 3/4 are fractions
            # and 24/7 means "all the time".
            if (day < month <= 4) or (day, month) == (24, 7) or P.FRACTION_AFTER.match(m.string, m.end()):
                return m.group(0)
        words = self._date(day, month, None, before)
        return words if words else m.group(0)

    def fraction(self, m: re.Match[str]) -> str:
        return f"{self.num(int(m.group(1)))} phần {self.num(int(m.group(2)))}"

    def month(self, m: re.Match[str]) -> str:
        return f"{m.group(1)} {_month_words(int(m.group(2)), self.style)}"

    def month_year(self, m: re.Match[str]) -> str:
        month, year = int(m.group(1)), int(m.group(2))
        if not (1 <= month <= 12 and 1000 <= year <= 2999):
            return m.group(0)
        before = m.string[max(0, m.start() - 8) : m.start()]
        words = [] if P.MONTH_WORD.search(before) else ["tháng"]
        return " ".join(words + [_month_words(month, self.style), "năm", self.num(year)])

    def weekday_range(self, m: re.Match[str]) -> str:
        end = m.group(2)
        end_words = "chủ nhật" if end == "CN" else "thứ " + self.num(int(end[1]))
        return f"thứ {ordinal_to_words(int(m.group(1)), self.style)} {self.r.range} {end_words}"

    def weekday(self, m: re.Match[str]) -> str:
        return "thứ " + ordinal_to_words(int(m.group(1)), self.style)

    def _clock(self, hour: int, minute: int | None, second: int | None = None) -> str:
        words = [self.num(hour), "giờ"]
        if minute:
            words += [self.num(minute), "phút"]
        if second:
            words += [self.num(second), "giây"]
        return " ".join(words)

    def time_h(self, m: re.Match[str]) -> str:
        hour = int(m.group(1))
        minute = int(m.group(2)) if m.group(2) else None
        if minute is not None and (hour > 24 or minute > 59):
            return m.group(0)
        if m.group(0)[len(m.group(1))] == "g" and minute is None:
            return m.group(0)
        return self._clock(hour, minute)

    def time_colon(self, m: re.Match[str]) -> str:
        hour, minute = int(m.group(1)), int(m.group(2))
        second = int(m.group(3)) if m.group(3) else None
        if hour > 24 or minute > 59 or (second is not None and second > 59):
            return m.group(0)
        return self._clock(hour, minute, second)

    def ordinal(self, m: re.Match[str]) -> str:
        return f"{m.group(1)} {ordinal_to_words(int(m.group(2)), self.style)}"

    def roman(self, m: re.Match[str]) -> str:
        value = roman_to_int(m.group(2))
        if value is None:
            return m.group(0)
        word = m.group(1)
        spoken = ordinal_to_words(value, self.style) if word.lower() == "thứ" else self.num(value)
        year = f" năm {self.num(int(m.group(3)))}" if m.group(3) else ""
        return f"{word} {spoken}{year}"

    def dollar_before(self, m: re.Match[str]) -> str:
        return f"{m.group(2)} {self.t.symbols.get(m.group(1), m.group(1))}"

    def unit(self, m: re.Match[str]) -> str:
        return f"{m.group(1)}{m.group(2)} {self.t.units[m.group(3)]}"

    def compound_unit(self, m: re.Match[str]) -> str:
        return self.t.units[m.group(0)]

    def version(self, m: re.Match[str]) -> str:
        parts = m.group(1).split(".")
        return "phiên bản " + f" {self.r.dot} ".join(self._integer(p) for p in parts)

    def long_digits(self, m: re.Match[str]) -> str:
        digits = m.group(1)
        if digits[0] != "0" and len(digits) <= 15 and P.MONEY_AFTER.match(m.string, m.end()):
            return self.num(int(digits))
        if len(digits) == 12:
            return grouped_digits(digits, (3, 3, 3, 3))  # citizen ID (CCCD): province, sex/century, ...
        return grouped_digits(digits) if len(digits) > 4 else digits_to_words(digits)

    def number(self, m: re.Match[str]) -> str:
        token = m.group(0)
        for thousands, separator in ((P.VN_THOUSANDS, "."), (P.EN_THOUSANDS, ",")):
            grouped = thousands.fullmatch(token)
            if grouped:
                integer, fraction = grouped.group(1).replace(separator, ""), grouped.group(2)
                return decimal_to_words(integer, fraction, self.style) if fraction else self.num(int(integer))
        parts = re.split(r"([.,])", token)
        if len(parts) == 1:
            return self._integer(token)
        if len(parts[0]) > 1 and parts[0][0] == "0" and "," not in token:
            # 0238.3844 (a landline), 000.11: a leading zero makes it a number to dial or a code, read
            # digit by digit in its written groups, never a decimal ("phẩy") or thousands.
            return phones.digit_groups(parts[::2], self.r.dot)
        if len(parts) == 3:
            return decimal_to_words(parts[0], parts[2], self.style)
        # Several groups (versions, addresses): each group read, joined by "chấm" / "phẩy";
        # a group with a leading zero makes it a code, read digit by digit (000.11.22).
        read = digits_to_words if any(len(p) > 1 and p[0] == "0" for p in parts[::2]) else self._integer
        return " ".join(
            (self.r.dot if p == "." else "phẩy") if i % 2 else read(p) for i, p in enumerate(parts)
        )

    def _integer(self, digits: str) -> str:
        if (len(digits) > 2 and digits[0] == "0") or len(digits) > 15:
            return digits_to_words(digits)
        return self.num(int(digits))

    def alnum_token(self, m: re.Match[str]) -> str:
        token = m.group(0)
        if not any(c.isalpha() for c in token):
            return token
        return self.alnum(token, by_char=False)

    def capitals(self, m: re.Match[str]) -> str:
        word = m.group(0)
        if not word.isupper():
            return word
        folded = fold_tones(word).lower()
        if P.SYLLABLE.fullmatch(folded):
            return word.lower()  # HÀ NỘI, THÔNG BÁO: words in capitals, not abbreviations
        return self.spell(word)

    def symbol(self, m: re.Match[str]) -> str:
        return f" {self.t.symbols[m.group(0)]} "

    # -- the whole run ---------------------------------------------------------------------------

    def run(self, s: str) -> str:
        t = self.t
        s = self.clean(s)
        s = P.LIST_NUMBER.sub(r"\1\2, ", s)
        s = P.PHONE_KEY.sub(lambda m: m.group(1) + ("sao" if m.group(2) == "*" else "thăng"), s)
        s = P.EMAIL.sub(self.web, s)
        s = P.URL.sub(self.web, s)
        s = P.DOCUMENT.sub(self.document, s)
        s = P.PARTY_DOCUMENT.sub(self.party_document, s)
        if t.road_re is not None:
            s = t.road_re.sub(self.road, s)
        s = P.CHAINAGE.sub(self.chainage, s)
        s = P.WEEKDAY_RANGE.sub(self.weekday_range, s)
        s = P.WEEKDAY.sub(self.weekday, s)
        s = P.VERSION.sub(self.version, s)
        s = P.CODE.sub(self.code, s)
        s = P.PLACE_PREFIX.sub(self.place_prefix, s)
        if t.abbreviation_re is not None:
            s = t.abbreviation_re.sub(self.abbreviation, s)
        s = P.DAY_RANGE.sub(self.day_range, s)
        s = P.FULL_DATE.sub(self.full_date, s)
        s = P.AREA_CODE_PHONE.sub(phones.area_code, s)
        s = P.PHONE.sub(lambda m: phones.phone(m, self.r.plus), s)
        s = P.TOLL_FREE.sub(phones.toll_free, s)
        s = P.CALL_CONTEXT.sub(phones.call_number, s)
        s = P.SERVICE_ALONE.sub(phones.service_alone, s)
        s = P.RANGE.sub(f" {self.r.range} ", s)
        s = P.WEEKDAY_WORD_RANGE.sub(f" {self.r.range} ", s)
        s = P.MONTH_YEAR.sub(self.month_year, s)
        s = P.DAY_MONTH.sub(self.day_month, s)
        s = P.FRACTION.sub(self.fraction, s)
        s = P.MONTH.sub(self.month, s)
        s = P.TIME_H.sub(self.time_h, s)
        s = P.TIME_COLON.sub(self.time_colon, s)
        s = P.ROMAN_CONTEXT.sub(self.roman, s)
        s = P.ORDINAL.sub(self.ordinal, s)
        s = P.DOLLAR_BEFORE.sub(self.dollar_before, s)
        if t.unit_re is not None:
            s = t.unit_re.sub(self.unit, s)
        if t.compound_unit_re is not None:
            s = t.compound_unit_re.sub(self.compound_unit, s)
        s = P.LONG_DIGITS.sub(self.long_digits, s)
        s = P.SLASH_NUMBERS.sub(f" {self.r.slash} ", s)
        s = P.NEGATIVE.sub("âm ", s)
        s = P.NUMBER.sub(self.number, s)
        s = P.ALNUM.sub(self.alnum_token, s)
        s = P.WORD.sub(self.capitals, s)
        if t.symbol_re is not None:
            s = t.symbol_re.sub(self.symbol, s)
        s = P.PER.sub(lambda m: " một " + t.units.get(m.group(1), m.group(1)), s)  # đồng/tháng, đ/kg
        s = P.SLASH_WORDS.sub(" ", s)
        s = P.DASH_WORDS.sub(lambda m: " " if m.group(0).strip() == m.group(0) else ", ", s)
        s = P.MARKUP.sub(" ", s)
        return _tidy(s)


def _tidy(s: str) -> str:
    s = P.SPACES.sub(" ", s)
    s = P.SPACE_BEFORE_PUNCT.sub(r"\1", s)
    s = P.REPEATED_COMMA.sub(", ", s)
    s = P.LINES.sub("\n", s).strip()
    if not any(ch.isalnum() for ch in s):
        return ""
    return "\n".join(line.strip(" ,") for line in s.split("\n") if line.strip(" ,"))


def _table_for(abbreviations: TextTable | Mapping[str, str] | str | Path | None) -> TextTable:
    if abbreviations is None:
        return load_table()
    if isinstance(abbreviations, TextTable):
        return abbreviations
    if isinstance(abbreviations, (str, Path)):
        return load_table(abbreviations)
    return load_table().with_abbreviations(abbreviations)


def normalize_for_speech(
    s: str,
    abbreviations: TextTable | Mapping[str, str] | str | Path | None = None,
    *,
    style: NumberStyle = NORTH,
) -> str:
    """Vietnamese text with everything written out as words a speech engine reads correctly.

    `abbreviations`: None for the configured table (config/abbreviations.yaml), a loaded TextTable,
    a path to another table file, or a mapping of extra abbreviations added to the configured table.
    `style`: regional number words (NORTH: nghìn, linh; SOUTH: ngàn, lẻ).
    Text with nothing speakable (only punctuation or emoji) gives "".
    """
    if not s:
        return ""
    if not isinstance(s, str):
        raise TypeError(f"text must be str, got {type(s).__name__}")
    return _Normalizer(_table_for(abbreviations), style).run(s)
