"""Phone hotline under load: N simultaneous real SIP calls, end of speech -> first answer audio.

Starts its own Asterisk (free loopback ports, throwaway data directory) and the hotline application,
then for N in (1, 5, 10, 20, 30) places N calls at once with the real pjsua2 caller. Each caller waits for
the greeting, says a real recorded question, and hangs up after the answer. A call is correct when the call
log shows the expected intent. Latency is measured by the caller on what it heard.

Two ways of placing N calls: a burst (the default: N calls start within `STAGGER_S`, so their N questions
come within a few seconds of each other, the worst case for the recognizer) and `--steady` (calls come and
go, about N up at once, each at its own point of the call; the middle N of 3N calls are measured). The
callers' processes start before a round. Each level reports how long every core was saturated and the
recognizer's longest queue, so a slow answer can be told from a busy machine.

Each entry of `VARIANTS` (settings overrides, as environment variables) runs every level against the same
Asterisk in the same run, so the fixed end-pointer and an end-of-turn model are compared under the same
machine load. CPU is reported per level and per call (the calls-per-core curve); `--profile=N[,M]` samples
the application's threads during those levels (`bench.sampler`).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bench.stats import Saturation, loadavg, pct, proc_cpu_s

ROOT = Path(__file__).resolve().parents[1]
CLIP = ROOT / "tests" / "fixtures" / "speech" / "binh_north_male.wav"
CATALOG = ROOT / "tests" / "fixtures" / "ivr" / "intents"
EXPECTED = "coach"
LEVELS = (1, 5, 10, 20, 30)
STAGGER_S = 4.0  # call starts spread over this many seconds (simultaneous calls, not speaking in unison)
# --steady: a bench call lasts about this long (greeting, question, answer and what follows it): calls
# dialled this long / N apart keep about N up at once, each at its own point of the call, as on a real line
STEADY_CALL_S = 29.0  # measured: 28.7 s, the question ending 16.5 s in (`call_s`, `asked_at_s`)
# name -> settings overrides. The old end-pointing (energy detector, 600 ms of silence, no end-of-turn
# judgement) is pinned so that it stays the baseline whatever the defaults; "shipped" is
# config/hotline.yaml as it is.
VARIANTS: dict[str, dict[str, str]] = {
    "fixed_600ms": {
        "HOTLINE_IVR__MEDIA__DETECTOR": "energy",
        "HOTLINE_IVR__MEDIA__TURN__MODEL": "none",
        "HOTLINE_IVR__MEDIA__ENDPOINT_SILENCE_MS": "600",
    },
    # the previous round's end of turn by words: no example endings, the final transcript recognized after
    # the turn ends, the silence after a pause recognized too
    "words_before": {
        "HOTLINE_IVR__MEDIA__TURN__TAIL_WORDS": "0",
        "HOTLINE_IVR__MEDIA__TURN__SPECULATIVE": "false",
    },
    # example endings without speculation: what the speculative final transcript saves
    "words_not_speculative": {"HOTLINE_IVR__MEDIA__TURN__SPECULATIVE": "false"},
    # the shipped end of turn without this round's capacity work: Silero run on silence too, the
    # recognizer's jobs first come first served, audio that waited sent one 200 ms batch per job
    "shipped_before_capacity": {
        "HOTLINE_IVR__MEDIA__SILERO__SILENT_BELOW_DB": "-120",
        "HOTLINE_IVR__ASR_ANSWER_FIRST": "false",
    },
    # the shipped end of turn before the capacity round of issue 11: the short pause judged at 250 ms, all
    # the silence inside an utterance fed to the recognizer
    "previous_shipped": {
        "HOTLINE_IVR__MEDIA__TURN__MIN_SILENCE_MS": "250",
        "HOTLINE_IVR__MEDIA__ASR_SILENCE_MS": "0",
    },
    # the player's 60 ms lead of before echo cancellation (sent as a burst at each prompt's start)
    "lead_60ms": {"HOTLINE_IVR__MEDIA__PLAYBACK_LEAD_MS": "60"},
    "shipped": {},
}


def _turn_counts() -> tuple[dict[str, float], tuple[float, float, float]]:
    """The application's turn-end counters by reason, and the judgement histogram's (count, sum) with the
    judgements that came after the timeout."""
    from core.metrics import REGISTRY

    ends = {
        r: REGISTRY.get_sample_value("hotline_turn_ends_total", {"reason": r}) or 0.0
        for r in ("turn", "silence", "max_length")
    }
    count = REGISTRY.get_sample_value("hotline_turn_judgement_seconds_count") or 0.0
    total = REGISTRY.get_sample_value("hotline_turn_judgement_seconds_sum") or 0.0
    late = REGISTRY.get_sample_value("hotline_turn_judgements_late_total") or 0.0
    return ends, (count, total, late)


def question_script():
    """The bench caller: waits out the greeting, asks the recorded question, hears the answer, hangs up."""
    from sip.script import CallScript

    return (
        CallScript()
        .wait_for_audio(timeout=20)
        .wait_for_silence(1.0, timeout=60)
        .play(CLIP)
        .wait_for_audio(timeout=15)
        .wait_for_silence(1.0, timeout=60)
        .hangup()
    )


def hotline_env(tmp: Path, **extra: str) -> dict[str, str]:
    """Environment for a throwaway hotline under `tmp`: its own Asterisk on free loopback ports."""
    from tests.ivr.conftest import loopback_env

    return {
        **loopback_env(tmp, rtp_ports=400),  # room for the 30-call level
        "HOTLINE_IVR__MAX_RECOGNITIONS": "32",
        "HOTLINE_IVR__FLOW__RECORDING_NOTICE": "false",
        "HOTLINE_INTENTS__CATALOG_DIR": str(CATALOG),
        **extra,
    }


class _App:
    def __init__(self, settings) -> None:
        self.settings = settings
        self.app = None
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._main, name="hotline-loop", daemon=True)

    def _main(self) -> None:
        from hotline.service import build_hotline_services
        from ivr.startup import run_hotline

        async def main() -> None:
            self.loop = asyncio.get_running_loop()
            self.stop = asyncio.Event()

            def ready(app) -> None:
                self.app = app
                self._ready.set()

            services = await build_hotline_services(self.settings)
            await run_hotline(self.settings, self.stop, services=services, on_ready=ready)

        asyncio.run(main())

    def start(self) -> None:
        self.thread.start()
        if not self._ready.wait(300):
            raise RuntimeError("hotline application did not start")
        deadline = time.monotonic() + 30
        while not self.app.s.ari.connected.is_set():
            if time.monotonic() > deadline:
                raise RuntimeError("application did not connect to ARI")
            time.sleep(0.05)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(60)


def run(
    levels: tuple[int, ...] = LEVELS,
    stagger_s: float = STAGGER_S,
    variants: dict[str, dict[str, str]] | None = None,
    profile_level: int | tuple[int, ...] | None = None,
    single_rounds: int = 1,
    steady: bool = False,
) -> dict:
    """`steady`: calls come and go (about N up at once, see STEADY_CALL_S) rather than N starting within
    `stagger_s` of each other, their questions all within a few seconds (the burst)."""
    from asterisk.process import start
    from hotline.settings import load_settings

    variants = variants if variants is not None else VARIANTS
    tmp = Path(tempfile.mkdtemp(prefix="bench-ivr-"))
    env = hotline_env(tmp)  # once: the ports are picked free now and shared by every variant
    base = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    handle = start(base)
    out: dict = {
        "clip": CLIP.name,
        "arrivals": "steady" if steady else "burst",
        "stagger_s": None if steady else stagger_s,
        "steady_call_s": STEADY_CALL_S if steady else None,
        "single_call_rounds": single_rounds,
        "asr_workers": base.voice.asr.workers,
        "load_before": loadavg(),
        "variants": {},
    }
    try:
        for name, extra in variants.items():
            settings = load_settings(ROOT / "config" / "hotline.yaml", env={**env, **extra})
            out["variants"][name] = {
                "settings": extra,
                "endpoint_silence_ms": settings.ivr.media.endpoint_silence_ms,
                "levels": _run_levels(
                    settings, handle, levels, stagger_s, profile_level, single_rounds, steady=steady
                ),
            }
    finally:
        handle.stop()
    out["load_after"] = loadavg()
    return out


def _ready_callers(count: int) -> tuple[list, float]:
    """`count` caller processes, started and loaded (pjsua2 too), and the CPU seconds that took: a phone's
    start-up costs the hotline's machine nothing, so it happens before a round. Their CPU during the calls
    is counted."""
    from sip.caller import ReadyCaller

    callers = [ReadyCaller() for _ in range(count)]
    try:
        for c in callers:
            c.wait_ready()
    except BaseException:
        for c in callers:
            c.close()
        raise
    return callers, sum(proc_cpu_s(c.pid) for c in callers)


def _dial(callers: list, target, script, spacing_s: float) -> list:
    """Each caller calls, the i-th i * spacing_s after the first; their results in that order."""

    def one(i: int):
        time.sleep(spacing_s * i)
        return callers[i].call(target, script, timeout=180)

    try:
        with ThreadPoolExecutor(max_workers=len(callers)) as pool:
            return list(pool.map(one, range(len(callers))))
    finally:
        for c in callers:
            c.close()


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def _calls_up(results: list, measured: list) -> list[int]:
    """For each measured call: how many calls were connected when its caller finished the question."""
    spans = [(r.answered_at, r.answered_at + r.duration_s) for r in results if r.connected]
    return [sum(1 for a, b in spans if a <= asked <= b) for asked in _asked(measured)]


def _asked(results: list) -> list[float]:
    """When each caller finished the question (unix time)."""
    return [r.answered_at + r.played[0]["speech_end_s"] for r in results if r.connected and r.played]


def _talking_max(results: list) -> int:
    """The most callers speaking at the same moment: what the recognizer's load follows."""
    spans = [
        (r.answered_at + played["started_s"], r.answered_at + played["finished_s"])
        for r in results
        for played in r.played
    ]
    return max((sum(1 for a, b in spans if a <= start <= b) for start, _ in spans), default=0)


def _run_levels(
    settings,
    handle,
    levels: tuple[int, ...],
    stagger_s: float,
    profile_level: int | tuple[int, ...] | None,
    single_rounds: int = 1,
    steady: bool = False,
) -> dict[str, dict]:
    """`single_rounds`: the 1-call level is that many calls one after the other (a p50 of one is one
    measurement). `steady`: calls come and go (see STEADY_CALL_S) instead of all starting within
    `stagger_s`."""
    from sqlalchemy import select

    from bench.sampler import StackSampler
    from core.db import engine_for, session_factory
    from ivr.models import Call
    from sip.script import CallTarget
    from voice.pool import pool_figures

    app = _App(settings)
    out: dict[str, dict] = {}
    try:
        app.start()
        target = CallTarget.from_handle(handle)
        factory = session_factory(engine_for(settings))
        script = question_script()
        for n in levels:
            profiled = profile_level if isinstance(profile_level, tuple) else (profile_level,)
            sampler = StackSampler().start() if n in profiled else None
            ends0, judged0 = _turn_counts()
            kids0 = os.times()

            rounds = single_rounds if n == 1 else 1
            # steady: 3n calls dialled STEADY_CALL_S / n apart, so about n are up at once after the first
            # n; only the middle n (placed while the others come and go) are measured
            count, spacing = n, stagger_s / max(1, n - 1)
            if steady and n > 1:
                count, spacing = 3 * n, STEADY_CALL_S / n
            results: list = []
            measured: list = []
            wall = cpu_app = cpu_ast = started_cpu = 0.0
            saturation: list[Saturation] = []
            for _ in range(rounds):
                callers, started = _ready_callers(count)
                cpu0, ast0, t0 = time.process_time(), proc_cpu_s(handle.pid or 0), time.monotonic()
                with Saturation(lambda: pool_figures()["asr"]["queued"]) as sampled:
                    placed = _dial(callers, target, script, spacing)
                saturation.append(sampled)
                wall += time.monotonic() - t0
                cpu_app += time.process_time() - cpu0
                cpu_ast += proc_cpu_s(handle.pid or 0) - ast0
                started_cpu += started
                results += placed
                measured += placed[n : 2 * n] if count == 3 * n else placed
            if sampler is not None:
                sampler.stop()
            kids = os.times()
            cpu_callers = kids.children_user - kids0.children_user
            cpu_callers += kids.children_system - kids0.children_system - started_cpu
            deadline = time.monotonic() + 20
            while app.app.sessions and time.monotonic() < deadline:
                time.sleep(0.1)
            heard = [r.latencies[0] for r in measured if r.latencies and r.latencies[0] is not None]
            correct = 0
            server: list[float] = []
            with factory() as s:
                for r in measured:
                    if not r.channel_id:
                        continue
                    row = s.scalars(select(Call).where(Call.channel_id == r.channel_id)).first()
                    turns = [t for t in (row.turns if row else []) if t.kind == "speech"]
                    if turns and turns[0].intent == EXPECTED:
                        correct += 1
                        if turns[0].response_ms is not None:
                            server.append(turns[0].response_ms / 1000)
            out[str(n)] = {
                "calls": n,
                "rounds": rounds,
                "connected": sum(r.connected for r in results),
                "completed_correctly": correct / len(measured),
                "latency_p50_s": pct(heard, 0.5),
                "latency_p95_s": pct(heard, 0.95),
                "latency_mean_s": statistics.fmean(heard) if heard else None,
                "server_latency_p50_s": pct(server, 0.5),
                "server_latency_p95_s": pct(server, 0.95),
                "wall_s": round(wall, 1),
                "cpu_app_cores": round(cpu_app / wall, 2),  # hotline process (ARI, media, ASR, TTS)
                "cpu_asterisk_cores": round(cpu_ast / wall, 2),
                # the pjsua2 test callers (same machine), without their processes' start-up before the round
                "cpu_callers_cores": round(cpu_callers / wall, 2),
                # CPU-seconds one call costs the server side (application + Asterisk): the calls-per-core
                # curve is this against the level.
                "cpu_app_s_per_call": round(cpu_app / len(results), 2),
                "cpu_server_s_per_call": round((cpu_app + cpu_ast) / len(results), 2),
                "load_after": loadavg(),
                "errors": [r.error for r in results if r.error][:3],
                **Saturation.report(saturation),
                # how long a call lasted, and how far into it the caller finished the question (median)
                "call_s": _median([r.duration_s for r in measured if r.connected]),
                "asked_at_s": _median([r.played[0]["speech_end_s"] for r in measured if r.played]),
                "talking_at_once_max": _talking_max(results),
            }
            if count != n:
                up = _calls_up(results, measured)
                out[str(n)].update(placed=count, measured=len(measured), calls_up_min=min(up, default=0))
                out[str(n)]["calls_up_median"] = statistics.median(up) if up else 0
            ends1, judged1 = _turn_counts()
            # How the callers' utterances ended (at the short pause by a verdict, or by a timer), and the
            # words' judgement wall time (mean) at this level.
            out[str(n)]["turn_ends"] = {k: ends1[k] - ends0[k] for k in ends1}
            count = judged1[0] - judged0[0]
            out[str(n)]["judgement_mean_s"] = round((judged1[1] - judged0[1]) / count, 3) if count else None
            out[str(n)]["judgements"] = count
            # after timeout_ms: a timer ended the turn
            out[str(n)]["judgements_late"] = judged1[2] - judged0[2]
            if sampler is not None:
                out[str(n)]["profile"] = sampler.report()
    finally:
        app.close() if app.app is not None else None
    return out


if __name__ == "__main__":
    import json
    import sys

    args = sys.argv[1:]
    stagger, profile, chosen, rounds, steady = STAGGER_S, None, None, 1, False
    while args and args[0].startswith("--"):
        key, _, value = args.pop(0).partition("=")
        if key == "--stagger":
            stagger = float(value)
        elif key == "--profile":  # e.g. --profile=10,20
            profile = tuple(int(v) for v in value.split(","))
        elif key == "--single-rounds":  # the 1-call level as this many calls in turn
            rounds = int(value)
        elif key == "--variants":  # e.g. --variants=fixed_600ms,shipped
            chosen = {name: VARIANTS[name] for name in value.split(",")}
        elif key == "--steady":  # calls come and go, about N up at once
            steady = True
    lv = tuple(int(a) for a in args) or LEVELS
    result = run(lv, stagger, chosen, profile_level=profile, single_rounds=rounds, steady=steady)
    print(json.dumps(result, indent=2, ensure_ascii=False))
