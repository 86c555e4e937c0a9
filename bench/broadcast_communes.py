"""One bulletin for every commune of the province, each greeting its own: time for all 130 on this machine.

The weekly column (sample 01, default template) published with `publish_each_commune`: the shared body is
synthesized once, each commune's version gets its own greeting and closing, assembly, loudness pass and MP3.
Compared with one version rendered from scratch (what each commune would cost without the reuse).
TTS render cache off, `broadcast.workers` 2. `BENCH_COMMUNES=10` times fewer communes (a quick look).
`python -m bench.broadcast_communes` prints the result; `make bench BENCH=communes` stores it in
bench/results/communes.json.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "broadcast" / "samples" / "01-dich-vu-cong-truc-tuyen.md"
PROVINCE_COMMUNES = 130  # Nghệ An after the 1 July 2025 reorganization


def _communes(index, wanted: int) -> list:
    """`wanted` communes of the province; a dataset with fewer is cycled (names repeat, greetings too)."""
    units = list(index.communes)
    return [units[i % len(units)] for i in range(wanted)]


def run() -> dict:
    from broadcast.bulletin import parse_bulletin
    from broadcast.render import EncoderHint, RenderOptions, SpeechRenderer, render_bulletin
    from broadcast.service import BroadcastService
    from core.db import engine_for, session_factory
    from hotline.db import upgrade
    from hotline.settings import load_settings

    wanted = int(os.environ.get("BENCH_COMMUNES", PROVINCE_COMMUNES))
    with tempfile.TemporaryDirectory(prefix="bench-communes-") as tmp:
        env = {
            "HOTLINE_PATHS__DATA_DIR": f"{tmp}/var",
            "HOTLINE_PATHS__CACHE_DIR": f"{tmp}/var/cache",
            "HOTLINE_VOICE__TTS__CACHE": "false",  # measure synthesis, not the render cache
            "HOTLINE_BROADCAST__WORKERS": "2",
        }
        settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
        upgrade(settings.database_url)
        svc = BroadcastService(settings, session_factory(engine_for(settings)))
        bulletin = parse_bulletin(SAMPLE.read_text(encoding="utf-8"), SAMPLE.name)
        units = _communes(svc.communes, wanted)

        # Baseline: one commune's version from scratch (its own synthesis of everything).
        started = time.perf_counter()
        render_bulletin(bulletin, settings, Path(tmp) / "alone", options=RenderOptions(commune=units[0].slug))
        alone_s = time.perf_counter() - started

        speech = SpeechRenderer(settings, reuse=True)
        hint = EncoderHint()
        per_commune: list[float] = []
        attempts: list[int] = []
        started = time.perf_counter()
        try:
            for unit in units:
                t0 = time.perf_counter()
                seg = svc.publish(bulletin, RenderOptions(commune=unit.slug), speech=speech, hint=hint)
                per_commune.append(time.perf_counter() - t0)
                attempts.append(int(svc.sidecar_of(seg).get("mp3_attempts", 0)))
        finally:
            speech.close()
        total_s = time.perf_counter() - started
        info = svc.sidecar_of(seg)
    rest = per_commune[1:] or per_commune
    return {
        "what": "one bulletin (sample 01, the weekly column) for each commune, with its own greeting",
        "communes": wanted,
        "dataset_communes": len(svc.communes),
        "cpu_cores": os.cpu_count(),
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "audio_seconds": info["duration_s"],
        "sentences_per_version": info["sentences"],
        "sentences_synthesized": speech.synthesized,
        "one_version_from_scratch_s": round(alone_s, 2),
        "total_s": round(total_s, 1),
        "first_commune_s": round(per_commune[0], 2),
        "per_commune_after_first_s": {
            "mean": round(statistics.fmean(rest), 2),
            "median": round(statistics.median(rest), 2),
            "max": round(max(rest), 2),
        },
        "projected_without_reuse_s": round(alone_s * wanted, 1),
        "mp3_attempts": {
            "first": attempts[0],
            "mean_after_first": round(statistics.fmean(attempts[1:] or attempts), 2),
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
