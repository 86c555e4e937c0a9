"""The audit log as the call side writes to it: what was changed by phone, and by which seat.

The log itself is the console's (`console.data.audit`, a layer above this one); the service that
assembles the product passes a sink that writes there (`hotline.service`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol


class CallAuditAction(StrEnum):
    """Audit actions written by the call side (labels in console.labels.ACTIONS_VI); stored: never rename."""

    RECORD_PROMPT_BY_PHONE = "record_prompt_phone"  # a prompt recording replaced from extension 1089
    PROMPT_PIN_LOCKED = "prompt_pin_locked"  # wrong PINs reached a limit: the extension waits
    RESTORE_PROMPT_RECORDING = "restore_prompt_audio"  # a kept recording put back (hotline prompts restore)


RECORD_PROMPT_BY_PHONE = CallAuditAction.RECORD_PROMPT_BY_PHONE
PROMPT_PIN_LOCKED = CallAuditAction.PROMPT_PIN_LOCKED
RESTORE_PROMPT_RECORDING = CallAuditAction.RESTORE_PROMPT_RECORDING


class AuditSink(Protocol):
    """Writes one audit entry in its own transaction; raises when it could not be written."""

    def record(self, who: str, action: CallAuditAction, target: str, detail: str) -> None: ...
