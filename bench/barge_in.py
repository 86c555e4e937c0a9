"""Barge-in while a prompt plays: the background rule's margin swept (`voice.echo`, `background_margin_db`),
without and with the echo canceller (`voice.aec`, `echo_cancel`).

The noise-only sets and the speech-over-noise trials of `bench.turn` (22 minutes of line hiss, street,
babble, wind, engine and our own echo, moderate and loud; the six recordings spoken over the moderate noise
while a prompt plays), through the product's `CallListener` with Silero and the echo rule, at each margin:
false barge-ins per 10 minutes of noise, and how soon a real caller's speech interrupts.
"""

from __future__ import annotations

import time

from bench import turn, turn_sets

MARGINS_DB = (0.0, 4.0, 5.0, 6.0, 8.0, 10.0, 12.0)
MEDIA = "HOTLINE_IVR__MEDIA__"


def run(margins: tuple[float, ...] = MARGINS_DB) -> dict[str, object]:
    from bench.turn_listener import factory

    noise = turn_sets.noises(120.0)
    prompt = turn_sets.prompt_playback(120.0)
    barge_noise = [n for n in noise if n.level != "loud"]  # the line alone, and moderate noise
    out: dict[str, object] = {"noise_minutes": round(sum(n.audio.duration_s for n in noise) / 60, 1)}
    for key, cancel in (("background_margin_db", False), ("with_echo_cancel", True)):
        sweep: dict[str, object] = {}
        for margin in margins:
            started = time.perf_counter()
            make = factory(
                {
                    f"{MEDIA}TURN__MODEL": "none",
                    f"{MEDIA}DETECTOR": "silero",
                    f"{MEDIA}BARGE_IN__BACKGROUND_MARGIN_DB": str(margin),
                    f"{MEDIA}BARGE_IN__ECHO_CANCEL": str(cancel).lower(),
                }
            )
            sweep[f"{margin:g}"] = {
                "false_barge_ins": turn.false_barge_ins(make, noise, prompt),
                "barge_in_delay": turn.barge_in_delay(make, barge_noise, prompt),
                "seconds": round(time.perf_counter() - started, 1),
            }
            print(f"   barge_in: margin {margin:g} dB, echo canceller {cancel} done", flush=True)
        out[key] = sweep
    return out
