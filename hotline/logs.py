"""Logging set-up and masking of personal data (phone, ID and dossier numbers) in log lines."""

from __future__ import annotations

import json
import logging
import re
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.settings import Settings

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


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def setup_logging(settings: Settings | None = None, *, verbose: bool = False) -> None:
    level = "DEBUG" if verbose else (settings.logging.level if settings else "INFO")
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_hotline", False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    handlers[0].setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    if settings and settings.logging.json_file:
        path = settings.path(settings.logging.json_file)
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = logging.FileHandler(path, encoding="utf-8")
        fh.setFormatter(JsonFormatter())
        handlers.append(fh)
    for handler in handlers:
        handler._hotline = True  # type: ignore[attr-defined]
        if settings is None or settings.privacy.mask_in_logs:
            handler.addFilter(MaskingFilter())
        root.addHandler(handler)
    root.setLevel(level)
    if not verbose:  # third-party chatter at INFO is noise for operators
        for name in ("alembic", "httpx", "httpcore", "websockets"):
            logging.getLogger(name).setLevel(logging.WARNING)
