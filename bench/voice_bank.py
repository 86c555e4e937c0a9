"""Word bank benchmark: join quality of composed numbers, their intelligibility, and a week's coverage.

No voice talent has recorded the bank on this machine, so every unit of config/word_bank.yaml is
rendered once with espeak-ng and saved as its recording: the figures measure the mechanism (cuts,
levels, pauses, coverage accounting), not a human voice.

- joins: numbers, dates and ticket numbers composed at 8 kHz from the bank; the largest sample step
  at any cut (full scale = 1; a click is a step of several hundredths), and per sentence the spread of
  the parts' loudness (LU; the target is within 1 LU). The same pieces joined raw (no trim, level or
  fade) for comparison.
- intelligibility: the recognizer's character error rate on those sentences, composed from the bank
  and synthesized whole by espeak, both at 8 kHz (the telephone path).
- coverage: a seeded week of calls played through `ivr.prompts.Prompts` with the bank and some fixed
  prompts recorded, logged as the call side logs them, read back as the dashboard reads them.

`python -m bench.voice_bank` prints the result; `make bench` stores it under "bank" in
bench/results/voice.json.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import random
import statistics
import tempfile
from pathlib import Path

RATE = 8000
SEED = 13
NUMBERS = 60  # composed number sentences measured
CALLS_PER_DAY = 30


def _settings(tmp: Path):
    from hotline.settings import load_settings

    env = {
        **os.environ,
        "HOTLINE_PATHS__CACHE_DIR": str(tmp / "cache"),
        "HOTLINE_PATHS__DATA_DIR": str(tmp / "data"),
        "HOTLINE_IVR__PROMPTS_DIR": str(tmp / "recordings"),
    }
    return load_settings(env=env)


def _sentences(rng: random.Random) -> list[str]:
    out = []
    for i in range(NUMBERS):
        kind = i % 4
        if kind == 0:
            out.append(f"Phiếu số {rng.randint(1, 999_999)}: đang được xử lý.")
        elif kind == 1:
            out.append(
                f"Cập nhật ngày {rng.randint(1, 28):02d}/{rng.randint(1, 12):02d}/{rng.randint(2020, 2030)}."
            )
        elif kind == 2:
            out.append(
                f"{rng.choice([15, 21, 24, 25, 105, 1_000_000, 2_500_000, rng.randint(10, 99_999)])} đồng."
            )
        else:
            digits = ", ".join(str(rng.randint(0, 9)) for _ in range(6))
            out.append(f"Số phiếu của anh chị là: {digits}.")
    return out


async def _record_bank(prompts, synth, keys_texts: dict[str, str]) -> None:
    from voice.audio import write_wav

    prompts.recordings_dir.mkdir(parents=True, exist_ok=True)
    for key, text in keys_texts.items():
        write_wav(prompts.recordings_dir / f"{key}.wav", await synth.synthesize(text, sample_rate=16000))


def _joins(composer, made_list) -> dict:
    import numpy as np

    from voice.audio import read_audio, resample, to_mono
    from voice.joins import join, join_steps, loudness

    steps, spreads, raw_steps = [], [], []
    for made in made_list:
        x = made.audio.array().astype(np.float32) / 32768.0
        levels = [loudness(x[a:b], RATE) for a, b in made.spans]
        finite = [v for v in levels if np.isfinite(v)]
        spreads.append(max(finite) - min(finite) if finite else 0.0)
        from voice.joins import Joined

        steps.append(join_steps(Joined(made.audio, made.spans)))
        raw = []
        for part in made.parts:
            if part.key is None:
                continue
            chunk = resample(to_mono(read_audio(composer.path(part.key))), RATE)
            raw.append(chunk.array().astype(np.float32) / 32768.0)
        if raw:
            raw_steps.append(join_steps(join(raw, [0.0] * len(raw), RATE)))
    within = sum(1 for s in spreads if s <= 1.0)
    return {
        "sentences": len(made_list),
        "max_join_step": round(max(steps), 5),
        "raw_max_join_step": round(max(raw_steps), 5) if raw_steps else None,
        "loudness_spread_lu_median": round(statistics.median(spreads), 2),
        "loudness_spread_lu_max": round(max(spreads), 2),
        "sentences_within_1_lu": within,
    }


def _cer(settings, refs: list[str], chunks) -> float:
    from rapidfuzz.distance import Levenshtein

    from voice.asr import Recognizer
    from voice.text import normalize_for_matching

    def norm(text: str) -> str:
        return " ".join(normalize_for_matching(text).split())

    recognizer = Recognizer.from_settings(settings, engine="vietasr")

    async def all_texts():
        return [(await recognizer.transcribe(c)).text for c in chunks]

    try:
        hyps = asyncio.run(all_texts())
    finally:
        recognizer.close()
    errors = sum(Levenshtein.distance(norm(r), norm(h)) for r, h in zip(refs, hyps, strict=True))
    return errors / sum(len(norm(r)) for r in refs)


async def _week(settings, synth, prompts, rng: random.Random) -> dict:
    """Seven days of calls: greeting, a question, an answer or a ticket status, goodbye; logged, read back."""
    from console.data.voice_coverage import prompt_namer, voice_coverage
    from core.db import engine_for, session_factory
    from hotline.db import upgrade
    from ivr.store import CallStore

    upgrade(settings.database_url)
    store = CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")
    answers = {
        "Để làm thẻ căn cước, anh chị mang giấy khai sinh tới công an xã.": "answer:cccd",
        "Anh chị tải ứng dụng VNeID và đăng ký tài khoản định danh mức hai.": "answer:vneid",
    }
    prompts.name_texts(answers)
    start = dt.datetime(2026, 11, 2, 1, 0)  # a fixed week (UTC)
    for day in range(7):
        for n in range(CALLS_PER_DAY):
            at = start + dt.timedelta(days=day, minutes=17 * n)
            call = store.start_call(f"bench-{day}-{n}", "", at=at)
            plays: list[tuple[str | None, str | None]] = [("greeting", None), ("speak_or_press", None)]
            if rng.random() < 0.5:
                plays.append((None, rng.choice(list(answers))))
            else:
                status = rng.choice(["đang được xử lý", "đã có trả lời", "đã xử lý xong"])
                plays.append(
                    (
                        None,
                        prompts.texts.templates.ticket_status.format(
                            digits=", ".join(str(rng.randint(0, 9)) for _ in range(6)), status=status
                        ),
                    )
                )
            plays.append(("goodbye", None))
            for key, text in plays:
                if key is not None:
                    chunk = await prompts.audio(key)
                    share, label = prompts.human_share(key=key), key
                else:
                    assert text is not None
                    chunk = await prompts.text_audio(text)
                    share, label = prompts.human_share(text=text), prompts.label_of(text)
                ms = int(chunk.duration_s * 1000)
                store.log_play(call, label, ms, int(ms * share), at=at)
    templates = {f: getattr(prompts.texts.templates, f) for f in prompts.texts.templates.__dataclass_fields__}
    name = prompt_namer(prompts.texts.prompts, templates, lambda i: i or "")
    with store.factory() as s:
        cov = voice_coverage(s, start, start + dt.timedelta(days=7), name)
    return {
        "calls": 7 * CALLS_PER_DAY,
        "recorded": "greeting and goodbye, and every word bank unit; other prompts and answers synthesized",
        "human_share": round(cov.share or 0.0, 3),
        "heard_minutes": round(cov.heard_s / 60, 1),
        "per_prompt": [
            {"prompt": r.prompt, "plays": r.plays, "human_share": round(r.share, 3)} for r in cov.rows
        ],
    }


def run() -> dict:
    from ivr.prompts import Prompts
    from voice.tts import Synthesizer

    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="bench-bank-") as tmp_name:
        tmp = Path(tmp_name)
        settings = _settings(tmp)
        with Synthesizer.from_settings(settings) as synth:

            async def main() -> dict:
                prompts = Prompts(settings, synth)
                assert prompts.bank is not None
                await _record_bank(prompts, synth, prompts.bank.texts())
                composer = prompts.composer()
                assert composer is not None
                refs = _sentences(rng)
                made = [await composer.compose(t) for t in refs]
                complete = [(r, m) for r, m in zip(refs, made, strict=True) if m is not None]
                whole = [await synth.synthesize(r, sample_rate=RATE) for r, _ in complete]
                missing = sorted(
                    {w for _, m in complete for p in m.parts if p.key is None for w in p.text.split()}
                )
                await _record_bank(
                    prompts, synth, {k: prompts.texts.prompts[k] for k in ("greeting", "goodbye")}
                )
                week = await _week(settings, synth, prompts, rng)
                return {
                    "complete": complete,
                    "whole": whole,
                    "missing": missing,
                    "composer": composer,
                    "week": week,
                }

            got = asyncio.run(main())
        complete = got["complete"]
        joins = _joins(got["composer"], [m for _, m in complete])
        refs = [r for r, _ in complete]
        cer_bank = _cer(settings, refs, [m.audio for _, m in complete])
        cer_whole = _cer(settings, refs, got["whole"])
    return {
        "word_bank": "every unit of config/word_bank.yaml rendered by espeak-ng and saved as its recording "
        "(stands in for a voice talent)",
        "joins": {**joins, "words_synthesized": got["missing"]},
        "intelligibility_8k": {
            "recognizer": "vietasr",
            "sentences": len(refs),
            "cer_word_bank": round(cer_bank, 4),
            "cer_espeak_whole": round(cer_whole, 4),
        },
        "coverage_week": got["week"],
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
