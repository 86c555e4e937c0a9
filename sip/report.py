"""What the hotline logged about a test call (transcripts, intents, actions), read from its call log."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.exc import SQLAlchemyError

from core.db import engine_for, session_factory
from ivr.settings import IvrConfig
from ivr.store import wait_call_report


def call_log_report(settings: IvrConfig, sip_call_id: str, timeout: float = 10.0) -> tuple[dict | None, str]:
    """What the hotline recognized and decided for this SIP call, from the call log: (report, why none).

    The application stores each call with the SIP Call-ID of the caller's leg, so the caller finds its
    call without asking Asterisk; we wait (bounded) until the application has closed the call.
    """
    if not sip_call_id:
        return None, "no SIP Call-ID (the call was not placed)"
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None, "no call log yet (the hotline application has never run with these settings)"
    engine = engine_for(settings)
    try:
        report = wait_call_report(session_factory(engine), sip_call_id, timeout=timeout)
    except SQLAlchemyError as exc:
        return None, f"call log unreadable: {type(exc).__name__}: {str(exc).splitlines()[0]}"
    finally:
        engine.dispose()
    if report is None:
        return None, "the call is not in the call log (it did not reach the hotline application)"
    if report["ended_at"] is None:
        return report, f"the application had not closed the call after {timeout:.0f} s"
    return report, ""


def describe_report(report: dict) -> str:
    """A few human-readable lines: the outcome and each turn (transcripts are stored masked)."""
    degraded = " (keypad only)" if report["degraded"] else ""
    lines = [f"hotline: call {report['id']} outcome {report['outcome']}{degraded}"]
    for t in report["turns"]:
        heard = f'"{t["transcript"]}"' if t["transcript"] else (f"keys {t['dtmf']}" if t["dtmf"] else "")
        score = f" {t['score']:.2f}" if t["score"] is not None else ""
        latency = f", answered after {t['response_ms']} ms" if t["response_ms"] is not None else ""
        intent = f"intent {t['intent']}{score}" if t["intent"] else ""
        decided = " ".join(x for x in (intent, t["action"] or "") if x)
        lines.append(f"  {t['seq']}. {t['kind']} {heard} -> {decided or '-'}{latency}".rstrip())
    return "\n".join(lines)
