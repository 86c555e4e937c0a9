"""Masking of personal data (phone, ID and dossier numbers) in log lines and stored transcripts, and of the
radio's device tokens in logged addresses."""

from __future__ import annotations

import logging
import re
import unicodedata

# Runs of 9+ digits (phone numbers, 12-digit CCCD numbers), possibly with spaces/dots/dashes inside,
# keep their last 3 digits: enough for an operator to match a caller, not enough to identify one.
_LONG_NUMBER = re.compile(r"(?<![\w.\-])(\+?\d[\d .\-]{7,}\d)(?![\w])")
MIN_DIGITS = 9  # the shortest personal number masked (a mobile number without its 0)

# A caller reads a number out digit by digit, and the recognizer writes the words: "không chín một
# hai ba bốn năm sáu bảy tám". The words, with the forms speakers and recognizers use: toneless
# (a recognizer or a keyboard without diacritics), regional and after "mươi" (mốt, tư, lăm/nhăm,
# linh/lẻ for zero, bẩy), and the drawn-out "khôông" of Nghệ An speech.
SPOKEN_DIGIT_WORDS: dict[str, str] = {
    "không": "0", "khôông": "0", "khong": "0", "linh": "0", "lẻ": "0", "le": "0",
    "một": "1", "mốt": "1", "mot": "1",
    "hai": "2",
    "ba": "3",
    "bốn": "4", "tư": "4", "bon": "4", "tu": "4",
    "năm": "5", "lăm": "5", "nhăm": "5", "nam": "5", "lam": "5", "nham": "5",
    "sáu": "6", "sau": "6",
    "bảy": "7", "bẩy": "7", "bay": "7",
    "tám": "8", "tam": "8",
    "chín": "9", "chin": "9",
}  # fmt: skip
# Words of a number read in groups ("chín mươi mốt", "ba trăm"): part of the run, no digit of their own.
_NUMBER_JOINERS = ("mươi", "mười", "trăm", "muoi", "tram")
_TOKEN = "|".join(
    sorted((re.escape(w) for w in (*SPOKEN_DIGIT_WORDS, *_NUMBER_JOINERS)), key=len, reverse=True)
)
_SEP = r"[\s,.;:\-]+"
# Numerals may lead ("0912 ba bốn..."), but a run starts at a word: runs of numerals are _LONG_NUMBER's.
_SPOKEN_RUN = re.compile(
    rf"(?<!\w)(?:\d+{_SEP})*(?:{_TOKEN})(?:{_SEP}(?:{_TOKEN}|\d+))*(?!\w)", re.IGNORECASE
)


# A commune's device token (broadcast.airing: "tt_" and 43 URL-safe characters) in a logged address
# (`?token=` for players that cannot set headers) is a credential: kept out of every log line.
_DEVICE_TOKEN = re.compile(r"\btt_[A-Za-z0-9_-]{16,}")


def _masked(digits: str) -> str:
    return "*" * (len(digits) - 3) + digits[-3:]


def _mask_spoken(m: re.Match[str]) -> str:
    """A run of digit words (numerals may be mixed in) with 9+ digits in all becomes '*******678'."""
    run = m.group(0)
    digits: list[str] = []
    words = 0
    for token in re.findall(r"\w+", run):
        if token.isdigit():
            digits.append(token)
        elif (digit := SPOKEN_DIGIT_WORDS.get(token.lower())) is not None:
            digits.append(digit)
            words += 1
    joined = "".join(digits)
    # Runs of numerals alone are _LONG_NUMBER's: "ports 10000, 10999" is no phone number.
    if words == 0 or len(joined) < MIN_DIGITS:
        return run
    return _masked(joined)


def mask_personal(text: str) -> str:
    """Mask phone and ID numbers, written or spoken: '0912 345 678' and 'không chín một hai ba bốn năm
    sáu bảy tám' -> '*******678'."""

    def _mask(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) < MIN_DIGITS:
            return m.group(1)
        return _masked(digits)

    if not text:
        return text
    # Decomposed accents (some keyboards and recognizers) would hide a digit word from the pattern.
    text = _SPOKEN_RUN.sub(_mask_spoken, unicodedata.normalize("NFC", text))
    text = _DEVICE_TOKEN.sub("tt_***", text)
    return _LONG_NUMBER.sub(_mask, text)


class MaskingFilter(logging.Filter):
    """Masks personal numbers in every record before any handler formats it: the message, and the
    traceback and stack of an exception (a failed insert prints the caller's number in its text)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format must not lose the log line
            message = f"{record.msg!r} {record.args!r}"
        masked = mask_personal(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            # Formatters print exc_text when it is set, so the traceback is formatted once, here.
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_personal(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_personal(record.stack_info)
        return True
