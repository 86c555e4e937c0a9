"""`python -m bench [NAME ...]`: run the benchmarks and write bench/results/<name>.json.

Results are measurements of this machine, not pass/fail tests; the README quotes them.
"""

from __future__ import annotations

import importlib
import json
import os
import platform
import sys
import time
import traceback
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"

# result file -> {key: module}; a module that does not exist yet is skipped.
SUITES: dict[str, dict[str, str]] = {
    "voice": {
        "asr": "bench.voice_asr",
        "tts": "bench.voice_tts",
        "text": "bench.voice_text",
        "bank": "bench.voice_bank",  # word bank: joins, intelligibility, a week of coverage
    },
    # Issue 13: espeak-ng's voice, rate, pitch and word gap chosen by recognizer round trip; the lexicon.
    "tts_tuning": {"": "bench.tts_tuning"},
    "intents": {"": "bench.intents"},
    "broadcast": {"": "bench.broadcast"},
    # Issue 14: one bulletin for all 130 communes of the province, each with its own greeting.
    "communes": {"": "bench.broadcast_communes"},
    # ... and a bulletin read by a person: upload to mastered MP3 for 5 and 20 minutes of reading.
    "reading": {"": "bench.broadcast_reading"},
    # Issue 11: end of speech to first answer over real SIP calls at 1/5/10/20/30 calls, per end-pointer
    # variant (the old ivr.json measured levels 1/5/10/20 only); end-of-turn quality offline.
    "latency": {"": "bench.ivr"},
    # ... and with calls that come and go (about N up at once) rather than all asking within seconds.
    "latency_steady": {"": "bench.ivr_steady"},
    # ... and the end of turn by words swept over its thresholds (the whole cut-offs / wait curve).
    "turn": {"": "bench.turn", "sweep": "bench.turn_sweep"},
    # ... and barge-in over voices and noise: the background rule's margin swept.
    "barge_in": {"": "bench.barge_in"},
    # ... and what the call listener feeds the recognizer: its CPU per call-second, word error unchanged.
    "asr_feed": {"": "bench.asr_feed"},
    # Calls per machine with 1/2/3 call workers behind HAProxy, and a worker killed mid-run.
    "workers": {"": "bench.workers"},
    "trunk": {"": "bench.trunk"},
    # Reliability campaigns (issue: security and reliability): each proves what a bad day loses (nothing).
    "fuzz": {"": "bench.fuzz"},
    "soak": {"": "bench.soak"},
    "crash": {"": "bench.crash"},
    "faults": {"": "bench.faults"},
    "bad_input": {"": "bench.bad_input"},
    # The managers' dashboard on 13 months of a busy call log.
    "dashboard": {"": "bench.dashboard"},
}


def machine() -> dict[str, object]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date": time.strftime("%Y-%m-%d"),
    }


def run_suite(name: str) -> dict[str, object] | None:
    result: dict[str, object] = {"machine": machine()}
    ran = False
    for key, module_name in SUITES[name].items():
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        started = time.perf_counter()
        try:
            data = module.run()
        except Exception as exc:  # one failing benchmark must not hide the others
            traceback.print_exc()
            data = {"error": f"{type(exc).__name__}: {exc}"}
        ran = True
        data["bench_seconds"] = round(time.perf_counter() - started, 1)
        if key:
            result[key] = data
        else:
            result.update(data)
    return result if ran else None


def main(argv: list[str]) -> int:
    names = argv or list(SUITES)
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(SUITES)}", file=sys.stderr)
        return 2
    RESULTS.mkdir(parents=True, exist_ok=True)
    for name in names:
        print(f"== bench {name}", flush=True)
        result = run_suite(name)
        if result is None:
            print(f"   (no benchmark for {name} yet)")
            continue
        path = RESULTS / f"{name}.json"
        path.write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
        print(f"   wrote {path.relative_to(RESULTS.parent.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
