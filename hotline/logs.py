"""Logging set-up: console and JSON-lines handlers, personal numbers masked (core.masking)."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING

from core.masking import MaskingFilter

if TYPE_CHECKING:
    from hotline.settings import Settings


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:  # as the masking filter left it (core.masking.MaskingFilter)
            entry["exc"] = record.exc_text
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
        path.chmod(0o600)  # log lines name calls and tickets: the hotline user's alone, like the data
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
