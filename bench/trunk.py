"""Calls through a carrier trunk vs. calls straight to the hotline's Asterisk.

The simulated A-law carrier of the tests (a second Asterisk, tests/ivr/carrier.py) sits in front of the
hotline. Calls go one at a time, alternating: a citizen registered at the carrier dials the hotline's
number (A-law, through the register trunk) and the hotline's own test phone dials the hotline extension
(mu-law, no trunk). Each waits for the greeting, says the same real question and hangs up after the
answer. Measured by the caller on what it heard (its recording): time from the INVITE to the answer
and to the first sound of the greeting, and from the end of its speech to the first answer audio.
"""

from __future__ import annotations

import statistics
import tempfile
from pathlib import Path

from bench.ivr import CATALOG, CLIP, _App
from bench.stats import pct
from sip.measure import first_audio_after

CALLS = 6  # per path


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _summary(results: list) -> dict:
    setup = [r.answered_at - r.started_at for r in results if r.connected and r.answered_at]
    greet = []
    for r in results:  # the first sound in what the caller recorded, counted from the INVITE
        first = first_audio_after(r.recording) if r.recording and Path(r.recording).exists() else None
        if first is not None:
            greet.append(r.recording_started_at + first - r.started_at)
    heard = [r.latencies[0] for r in results if r.latencies and r.latencies[0] is not None]
    return {
        "calls": len(results),
        "connected": sum(r.connected for r in results),
        "answered_after_dialling_s_p50": _round(pct(setup, 0.5)),
        "greeting_heard_after_dialling_s_p50": _round(pct(greet, 0.5)),
        "answer_latency_p50_s": pct(heard, 0.5),
        "answer_latency_p95_s": pct(heard, 0.95),
        "answer_latency_mean_s": round(statistics.fmean(heard), 3) if heard else None,
    }


def run(calls: int = CALLS) -> dict:
    from sip.caller import call
    from sip.script import CallScript, CallTarget
    from tests.ivr.carrier import CITIZEN, REGISTER_DID, trunk_lab
    from tests.ivr.conftest import free_rtp_range

    tmp = Path(tempfile.mkdtemp(prefix="bench-trunk-"))
    app_rtp = free_rtp_range(100)
    env = {
        "HOTLINE_IVR__FLOW__RECORDING_NOTICE": "false",
        "HOTLINE_INTENTS__CATALOG_DIR": str(CATALOG),
        "HOTLINE_IVR__MEDIA__PORT_START": str(app_rtp[0]),
        "HOTLINE_IVR__MEDIA__PORT_END": str(app_rtp[1]),
    }
    script = (CallScript().wait_for_audio(timeout=20).wait_for_silence(1.0, timeout=60).play(CLIP)
              .wait_for_audio(timeout=15).wait_for_silence(1.0, timeout=60).hangup())  # fmt: skip
    with trunk_lab(tmp, (free_rtp_range(), free_rtp_range()), env) as lab:
        app = _App(lab.settings)
        try:
            app.start()
            paths: dict[str, tuple[CallTarget, list]] = {
                "through_carrier_alaw": (lab.carrier.target(CITIZEN, REGISTER_DID), []),
                "direct_ulaw": (CallTarget.from_handle(lab.handle), []),
            }
            for _ in range(calls):
                for target, results in paths.values():
                    results.append(call(target, script, timeout=120))
        finally:
            if app.app is not None:
                app.close()
    return {"clip": CLIP.name, **{name: _summary(results) for name, (_, results) in paths.items()}}


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
