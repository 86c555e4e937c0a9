"""Masking of personal data (phone, ID and dossier numbers) in log lines and stored transcripts."""

from __future__ import annotations

import logging
import re

# Runs of 9+ digits (phone numbers, 12-digit CCCD numbers), possibly with spaces/dots/dashes inside,
# keep their last 3 digits: enough for an operator to match a caller, not enough to identify one.
_LONG_NUMBER = re.compile(r"(?<![\w.\-])(\+?\d[\d .\-]{7,}\d)(?![\w])")


def mask_personal(text: str) -> str:
    """Mask phone and ID numbers: '0912 345 678' -> '*******678'."""

    def _mask(m: re.Match[str]) -> str:
        digits = re.sub(r"\D", "", m.group(1))
        if len(digits) < 9:
            return m.group(1)
        return "*" * (len(digits) - 3) + digits[-3:]

    return _LONG_NUMBER.sub(_mask, text)


class MaskingFilter(logging.Filter):
    """Masks personal numbers in every record before any handler formats it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken %-format must not lose the log line
            message = f"{record.msg!r} {record.args!r}"
        masked = mask_personal(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        return True
