"""The PIN of the prompt re-recording extension, checked by the application and counted across calls.

Asterisk's Authenticate() in the dialplan forgot every wrong PIN when the call ended, so six digits
could be tried call after call. Here each try is reserved in `phone_attempts` before the comparison;
past `pin_failures` wrong PINs from one seat, or `pin_failures_total` from all seats, within the window,
the PIN is not even compared and the caller hears that the extension is locked. Reaching a limit is
audited, so operators see that someone is guessing.
"""

from __future__ import annotations

import hmac
import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from ivr.attempts import AttemptKind, AttemptLog, Limit
from ivr.audit import PROMPT_PIN_LOCKED
from ivr.enums import PinVerdict

if TYPE_CHECKING:
    from ivr.audit import AuditSink
    from ivr.settings import AttemptSettings

logger = logging.getLogger(__name__)


def seat_of(channel_name: str, seats: tuple[str, ...]) -> str:
    """The operator seat a channel comes from ("PJSIP/operator2-0000001a" -> "operator2"), or "" when it
    is not one. Asterisk names the channel after the endpoint that authenticated: a caller cannot choose
    it, unlike the caller id."""
    tech, _, rest = channel_name.partition("/")
    endpoint = rest.rpartition("-")[0]
    return endpoint if tech == "PJSIP" and endpoint in seats else ""


def pin_limit(settings: AttemptSettings) -> Limit:
    return Limit(
        AttemptKind.PROMPT_PIN,
        settings.pin_failures,
        timedelta(minutes=settings.window_minutes),
        total=settings.pin_failures_total,
    )


class PromptPin:
    """Checks a keyed PIN for a seat (blocking: calls run it in a thread)."""

    def __init__(self, pin: str, attempts: AttemptLog, limit: Limit, audit: AuditSink | None = None) -> None:
        self.pin = pin
        self.attempts = attempts
        self.limit = limit
        self.audit = audit

    def check(self, seat: str, entered: str) -> PinVerdict:
        """The verdict for `entered` keyed on `seat` (its PJSIP endpoint, e.g. operator2)."""
        if not self.pin:
            return PinVerdict.UNAVAILABLE
        attempt = self.attempts.begin(self.limit, seat)
        if attempt is None:
            logger.warning("prompt PIN from %s refused unchecked: too many wrong PINs", seat)
            return PinVerdict.LOCKED
        if hmac.compare_digest(entered.encode(), self.pin.encode()):
            self.attempts.succeeded(attempt)
            logger.info("prompt PIN accepted from %s", seat)
            return PinVerdict.OK
        mine, everyone = self.attempts.failures(self.limit, seat), self.attempts.failures(self.limit)
        logger.warning("wrong prompt PIN from %s (%d in the window, %d from all seats)", seat, mine, everyone)
        if mine >= self.limit.per_source or (self.limit.total is not None and everyone >= self.limit.total):
            self._audit_lock(seat, mine, everyone)
        return PinVerdict.WRONG

    def _audit_lock(self, seat: str, mine: int, everyone: int) -> None:
        minutes = int(self.limit.window.total_seconds() // 60)
        detail = f"{mine} wrong PINs from {seat}, {everyone} from all seats within {minutes} min"
        logger.warning("prompt re-recording locked: %s", detail)
        if self.audit is None:
            return
        try:
            self.audit.record(seat, PROMPT_PIN_LOCKED, "extension:prompt", detail)
        except Exception as exc:  # the lock holds anyway: it lives in phone_attempts
            logger.error("could not audit the prompt PIN lock-out: %s", exc)
