"""A bulletin read by a person: the time and memory from the uploaded file to the mastered MP3.

The real Vietnamese recordings of tests/fixtures/speech, one after another with half a second between
them, make readings of 5 and 20 minutes (the longest `broadcast.reading_max_minutes` allows by default),
encoded as Opus in Ogg the way a browser sends them. Timed apart: decoding (ffmpeg), the studio's checks,
trimming and levelling at the radio's 44.1 kHz, and the mastering of the weekly column around it (sample
01, default template: jingles, music bed, loudness, true peak, MP3 measured after decoding). Memory is
the process's peak resident size after each stage (ffmpeg's own processes not counted; lengths run
shortest first, so each peak is its own). scipy is imported before timing, as in a running server.
`BENCH_READING_MINUTES=1,3` other lengths. `python -m bench.broadcast_reading` prints the result;
`make bench BENCH=reading` stores it in bench/results/reading.json.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "broadcast" / "samples" / "01-dich-vu-cong-truc-tuyen.md"
SPEECH = ROOT / "tests" / "fixtures" / "speech"
RATE = 24000  # the fixtures' own rate


def _reading(minutes: float, out: Path) -> Path:
    """`minutes` of real speech as an Opus file (what a browser records)."""
    from voice.audio import AudioChunk, read_audio, resample, to_mono, write_wav

    clips = [resample(to_mono(read_audio(p)), RATE).array() for p in sorted(SPEECH.glob("*.wav"))]
    gap = np.zeros(RATE // 2, dtype=np.int16)
    pieces, total, n = [], 0, 0
    while total < minutes * 60 * RATE:
        clip = clips[n % len(clips)]
        pieces += [clip, gap]
        total += len(clip) + len(gap)
        n += 1
    wav = write_wav(out.with_suffix(".wav"), AudioChunk.from_array(np.concatenate(pieces), RATE))
    cmd = ["ffmpeg", "-nostdin", "-y", "-v", "error", "-i", str(wav), "-c:a", "libopus", "-b:a", "48k"]
    subprocess.run([*cmd, str(out)], check=True, timeout=600)
    wav.unlink()
    return out


def _peak_rss_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _one(settings, bulletin, minutes: float, tmp: Path) -> dict:
    from broadcast.reading import Reading
    from broadcast.render import render_bulletin
    from console.edit.takes import decode, process

    path = _reading(minutes, tmp / f"doc-{minutes:g}.ogg")
    limit = settings.broadcast.reading_max_minutes * 60
    started = time.perf_counter()
    chunk = decode(path, max_seconds=limit + 1)
    decoded = time.perf_counter()
    take = process(chunk, "", settings.ivr.studio, rate=settings.broadcast.sample_rate, max_seconds=limit)
    del chunk
    checked = time.perf_counter()
    take_peak = _peak_rss_mb()
    reading = Reading(take.chunk, "upload", take.recorded_s)
    del take
    result = render_bulletin(bulletin, settings, tmp / "out", reading=reading)
    done = time.perf_counter()
    render_peak = _peak_rss_mb()
    return {
        "minutes": minutes,
        "file_mb": round(path.stat().st_size / 1e6, 2),
        "decode_s": round(decoded - started, 2),
        "checks_trim_level_s": round(checked - decoded, 2),
        "mastering_s": round(done - checked, 2),
        "total_s": round(done - started, 2),
        "peak_rss_after_checks_mb": take_peak,
        "peak_rss_after_mastering_mb": render_peak,
        "programme_s": result.info["duration_s"],
        "loudness_lufs": result.info["loudness_lufs"],
        "true_peak_dbtp": result.info["true_peak_dbtp"],
        "mp3_attempts": result.info["mp3_attempts"],
    }


def run() -> dict:
    import scipy.signal  # noqa: F401 (loaded once by a running server; not part of a reading's time)

    from broadcast.bulletin import parse_bulletin
    from hotline.settings import load_settings

    lengths = sorted(float(m) for m in os.environ.get("BENCH_READING_MINUTES", "5,20").split(",") if m)
    with tempfile.TemporaryDirectory(prefix="bench-reading-") as tmp:
        env = {"HOTLINE_PATHS__DATA_DIR": f"{tmp}/var", "HOTLINE_PATHS__CACHE_DIR": f"{tmp}/var/cache"}
        settings = load_settings(ROOT / "config" / "hotline.yaml", env=env)
        bulletin = parse_bulletin(SAMPLE.read_text(encoding="utf-8"), SAMPLE.name)
        runs = [_one(settings, bulletin, m, Path(tmp)) for m in lengths]
    return {"readings": runs, "load_average": list(os.getloadavg())}


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
