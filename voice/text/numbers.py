"""Vietnamese reading of numbers: integers, digit strings, decimals, ordinals, Roman numerals."""

from __future__ import annotations

import re
from dataclasses import dataclass

DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
# Integers with more digits than this are read digit by digit (no names for such scales).
MAX_INT_DIGITS = 18


@dataclass(frozen=True)
class NumberStyle:
    """Regional choices in number reading; the defaults are the northern (Hanoi) forms."""

    thousand: str = "nghìn"  # southern: "ngàn"
    zero_ten: str = "linh"  # "linh" (north) or "lẻ" (south/centre): 105 = một trăm linh năm
    five: str = "lăm"  # after mươi: 25 = hai mươi lăm (colloquial: "nhăm")
    four: str = "bốn"  # after mươi: 24 = hai mươi bốn (also common: "tư")
    billion: str = "tỷ"  # also spelled "tỉ"


NORTH = NumberStyle()
SOUTH = NumberStyle(thousand="ngàn", zero_ten="lẻ")


def _triple(n: int, full: bool, style: NumberStyle) -> list[str]:
    """Words for 0 < n < 1000; `full` reads a zero hundreds digit ("không trăm") inside big numbers."""
    h, t, u = n // 100, n // 10 % 10, n % 10
    parts: list[str] = []
    if h or full:
        parts += [DIGITS[h], "trăm"]
    if t == 0:
        if u:
            if parts:
                parts.append(style.zero_ten)
            parts.append(DIGITS[u])
    elif t == 1:
        parts.append("mười")
        if u:
            parts.append("lăm" if u == 5 else DIGITS[u])
    else:
        parts += [DIGITS[t], "mươi"]
        if u == 1:
            parts.append("mốt")
        elif u == 4:
            parts.append(style.four)
        elif u == 5:
            parts.append(style.five)
        elif u:
            parts.append(DIGITS[u])
    return parts


def _below_billion(n: int, full: bool, style: NumberStyle) -> list[str]:
    parts: list[str] = []
    for value, name in ((n // 1_000_000, "triệu"), (n // 1000 % 1000, style.thousand), (n % 1000, "")):
        if value == 0:
            continue  # an all-zero group is skipped: 1.000.005 = một triệu không trăm linh năm
        parts += _triple(value, full, style)
        if name:
            parts.append(name)
        full = True
    return parts


def _int_words(n: int, style: NumberStyle) -> list[str]:
    if n >= 1_000_000_000:
        high, low = divmod(n, 1_000_000_000)
        parts = _int_words(high, style) + [style.billion]  # 10^12 = một nghìn tỷ
        if low:
            parts += _below_billion(low, True, style)
        return parts
    return _below_billion(n, False, style)


def number_to_words(n: int, style: NumberStyle = NORTH) -> str:
    """Vietnamese words for an integer: 21 -> hai mươi mốt, 105 -> một trăm linh năm."""
    n = int(n)
    if n < 0:
        return "âm " + number_to_words(-n, style)
    if n == 0:
        return "không"
    if len(str(n)) > MAX_INT_DIGITS:
        return digits_to_words(str(n))
    return " ".join(_int_words(n, style))


def digits_to_words(digits: str) -> str:
    """Read each digit on its own: "0912" -> không chín một hai (non-digits are skipped)."""
    return " ".join(DIGITS[int(c)] for c in digits if c.isdigit() and c.isascii())


def spell_digits(code: str) -> str:
    """A code read back digit by digit, never as a number: "1203" -> "một, hai, không, ba".

    The comma makes a short pause between digits; any other character is read as it is.
    """
    return ", ".join(DIGITS[int(ch)] if ch.isdigit() and ch.isascii() else ch for ch in code)


# Spoken digit words (with toneless and regional forms) -> digit, for codes said on the phone.
SPOKEN_DIGITS = {
    "không": "0",
    "khong": "0",
    "linh": "0",
    "lẻ": "0",
    "một": "1",
    "mốt": "1",
    "mot": "1",
    "hai": "2",
    "ba": "3",
    "bốn": "4",
    "tư": "4",
    "bon": "4",
    "năm": "5",
    "lăm": "5",
    "nam": "5",
    "sáu": "6",
    "sau": "6",
    "bảy": "7",
    "bẩy": "7",
    "bay": "7",
    "tám": "8",
    "tam": "8",
    "chín": "9",
    "chin": "9",
}


def digits_from_speech(text: str) -> str:
    """Digits in a transcript, from numerals or digit words: "một hai ba 4" -> "1234"."""
    out = []
    for token in re.findall(r"\w+", text.lower()):
        if token.isdigit():
            out.append(token)
        elif token in SPOKEN_DIGITS:
            out.append(SPOKEN_DIGITS[token])
    return "".join(out)


def grouped_digits(digits: str, sizes: tuple[int, ...] | None = None) -> str:
    """Digit-by-digit reading with a pause (comma) between groups, for phone and ID numbers."""
    digits = "".join(c for c in digits if c.isdigit() and c.isascii())
    if sizes is None:
        n = len(digits)
        if n <= 4:
            sizes = (n,)
        elif n == 10:
            sizes = (4, 3, 3)
        elif n == 11:
            sizes = (4, 3, 4)
        else:
            sizes = (3,) * (n // 3) + ((n % 3,) if n % 3 else ())
    groups, i = [], 0
    for size in sizes:
        if i >= len(digits):
            break
        groups.append(digits[i : i + size])
        i += size
    if i < len(digits):
        groups.append(digits[i:])
    return ", ".join(digits_to_words(g) for g in groups if g)


def fraction_digits_to_words(frac: str, style: NumberStyle = NORTH) -> str:
    """The part after the decimal comma: leading zeros as "không", the rest as a number (up to 3 digits)."""
    stripped = frac.lstrip("0")
    zeros = ["không"] * (len(frac) - len(stripped))
    if not stripped:
        return " ".join(zeros) or "không"
    rest = number_to_words(int(stripped), style) if len(stripped) <= 3 else digits_to_words(stripped)
    return " ".join(zeros + [rest])


def decimal_to_words(integer: str, frac: str, style: NumberStyle = NORTH) -> str:
    """2,5 -> hai phẩy năm; 3,14 -> ba phẩy mười bốn; 0,05 -> không phẩy không năm."""
    return f"{number_to_words(int(integer or '0'), style)} phẩy {fraction_digits_to_words(frac, style)}"


def ordinal_to_words(n: int, style: NumberStyle = NORTH) -> str:
    """The word after "thứ": 1 -> nhất, 4 -> tư, otherwise the cardinal (thứ hai, thứ mười)."""
    if n == 1:
        return "nhất"
    if n == 4:
        return "tư"
    return number_to_words(n, style)


_ROMAN = re.compile(r"M{0,3}(?:CM|CD|D?C{0,3})(?:XC|XL|L?X{0,3})(?:IX|IV|V?I{0,3})")
_ROMAN_VALUES = {"I": 1, "V": 5, "X": 10, "L": 50, "C": 100, "D": 500, "M": 1000}


def roman_to_int(s: str) -> int | None:
    """Value of a well-formed Roman numeral (I..MMMCMXCIX), or None."""
    if not s or not _ROMAN.fullmatch(s):
        return None
    total = 0
    for i, ch in enumerate(s):
        v = _ROMAN_VALUES[ch]
        total += -v if i + 1 < len(s) and _ROMAN_VALUES[s[i + 1]] > v else v
    return total or None
