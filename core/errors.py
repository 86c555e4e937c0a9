"""Error types shared by every area: a machine-readable code plus a human message."""

from __future__ import annotations


class HotlineError(Exception):
    """Base error: `code` is stable for machines, `message` is for people."""

    code = "error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return self.message


class ConfigError(HotlineError):
    """A configuration file or environment override is wrong; the message names file, line and key."""

    code = "config"


class AudioError(HotlineError):
    """Audio that cannot be read, decoded or converted."""

    code = "audio"
