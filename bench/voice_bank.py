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
- coverage: a seeded week of calls (answers and follow-ups, clarifying questions, keypad menus, ticket
  statuses and numbers, commune teams) played through `ivr.prompts.Prompts`, logged as the call side logs
  them, read back as the dashboard reads them; twice: with the bank and the greeting and goodbye recorded,
  and with everything on the studio's script sheet recorded (strict pieces with the studio's note), what
  was still not wholly a human voice named with the words synthesized.

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


def _week_plays(catalog, templates, communes: list[str], rng: random.Random) -> list[list[tuple]]:
    """A seeded week of calls as the flow would play them: (prompt key, None) or (None, dynamic text).

    Each call: greeting and invitation; then a spoken question answered (with its follow-up), a clarifying
    question naming two topics, the keypad menus down to an answer, a ticket's status, a complaint left
    (its ticket number read), or the commune team rung; then the goodbye.
    """
    from ivr.services import menu_prompts
    from ivr.store import STATUS_SPOKEN
    from voice.text import spell_digits

    intents = [i for i in catalog.intents if i.answer.strip()]
    menus = menu_prompts(catalog)
    groups = sorted(k for k in menus if k)
    calls = []
    for _ in range(7 * CALLS_PER_DAY):
        plays: list[tuple] = [("greeting", None), ("speak_or_press", None)]
        r = rng.random()
        if r < 0.40:
            intent = rng.choice(intents)
            plays += [(None, intent.answer)] + ([(None, intent.follow_up)] if intent.follow_up else [])
            plays.append(("anything_else", None))
        elif r < 0.55:
            a, b = rng.sample(intents, 2)
            plays += [(None, templates.clarify.format(a=a.title, b=b.title)), (None, a.answer)]
            plays.append(("anything_else", None))
        elif r < 0.70:
            plays += [("keypad_menu_intro", None), (None, menus[""])]
            if groups:
                plays.append((None, menus[rng.choice(groups)]))
            plays += [(None, rng.choice(intents).answer), ("anything_else", None)]
        elif r < 0.85:
            number = spell_digits(str(rng.randint(100_000, 999_999)))
            status = rng.choice(list(STATUS_SPOKEN.values()))
            plays.append(("ticket_ask", None))
            plays.append((None, templates.ticket_status.format(digits=number, status=status)))
        elif r < 0.95:
            number = spell_digits(str(rng.randint(100_000, 999_999)))
            plays += [("feedback_intro", None), ("beep", None), ("feedback_saved", None)]
            plays.append((None, templates.ticket_number.format(digits=number)))
        else:
            name = rng.choice(communes)
            words = name[:1].lower() + name[1:]  # "xã Anh Sơn", as the flow says it
            plays += [("team_ask", None), (None, templates.team_connect.format(commune=words))]
        plays.append(("goodbye", None))
        calls.append(plays)
    return calls


async def _week(settings, prompts, calls: list[list[tuple]], recorded: str) -> dict:
    """The week played through `prompts`, logged as the call side logs it, read back as the dashboard does;
    what was not wholly a human voice is named, with the words synthesized."""
    from console.data.voice_coverage import prompt_namer, voice_coverage
    from core.db import engine_for, session_factory
    from hotline.db import upgrade
    from ivr.store import CallStore

    upgrade(settings.database_url)
    store = CallStore(session_factory(engine_for(settings)), settings.data_dir / "recordings")
    start = dt.datetime(2026, 11, 2, 1, 0)  # a fixed week (UTC)
    short: dict[str, dict] = {}  # prompt label -> plays and words not recorded
    composer = prompts.composer()
    for n, plays in enumerate(calls):
        at = start + dt.timedelta(days=n // CALLS_PER_DAY, minutes=17 * (n % CALLS_PER_DAY))
        call = store.start_call(f"bench-{n}", "", at=at)
        for key, text in plays:
            if key is not None:
                chunk = await prompts.audio(key)
                share, label = prompts.human_share(key=key), key
            else:
                chunk = await prompts.text_audio(text)
                share, label = prompts.human_share(text=text), prompts.label_of(text)
            ms = int(chunk.duration_s * 1000)
            store.log_play(call, label, ms, int(ms * share), at=at)
            if share < 0.999:
                row = short.setdefault(label, {"plays": 0, "share": [], "words": set()})
                row["plays"] += 1
                row["share"].append(share)
                if text is not None and composer is not None:
                    row["words"].update(composer.plan_text(text).missing)
    templates = {f: getattr(prompts.texts.templates, f) for f in prompts.texts.templates.__dataclass_fields__}
    titles = {i.id: i.title for i in prompts._catalog.intents} if prompts._catalog is not None else {}
    name = prompt_namer(prompts.texts.prompts, templates, lambda i: titles.get(i or "", i or ""))
    with store.factory() as s:
        cov = voice_coverage(s, start, start + dt.timedelta(days=7), name)
    return {
        "calls": len(calls),
        "recorded": recorded,
        "human_share": round(cov.share or 0.0, 3),
        "heard_minutes": round(cov.heard_s / 60, 1),
        "per_prompt": [
            {"prompt": r.prompt, "plays": r.plays, "human_share": round(r.share, 3)} for r in cov.rows
        ],
        "not_wholly_human": [
            {
                "prompt": name(label),
                "plays": row["plays"],
                "human_share_mean": round(statistics.mean(row["share"]), 3),
                "words_synthesized": sorted(row["words"]),
            }
            for label, row in sorted(short.items())
        ],
    }


async def _record_everything(prompts, synth, catalog, communes: list[str]) -> int:
    """Every piece the studio's script sheet lists, rendered by espeak-ng and accepted as a studio take
    (with the note of the text read, as the strict pieces need); returns how many."""
    from ivr.recordables import recordables
    from ivr.take_notes import write_note
    from ivr.template_units import template_units
    from ivr.topic_units import topic_units
    from ivr.word_bank import bank_units

    assert prompts.bank is not None
    bank = bank_units(prompts.bank, communes)
    texts = prompts.texts.prompts
    fragments = template_units(prompts.texts.templates, [*texts.values(), *(u.text for u in bank)])
    items = [r for r in recordables(texts, bank, topic_units(catalog), fragments) if r.key != "beep"]
    await _record_bank(prompts, synth, {r.key: r.text for r in items})
    for r in items:
        write_note(prompts.recordings_dir, r.key, r.text, by="bench", source="upload")
    return len(items)


def run() -> dict:
    from broadcast.communes import load_communes
    from intents.catalog import load_catalog
    from ivr.prompts import Prompts
    from ivr.services import menu_prompts
    from voice.tts import Synthesizer

    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="bench-bank-") as tmp_name:
        tmp = Path(tmp_name)
        settings = _settings(tmp / "bank")
        full_settings = _settings(tmp / "all")
        catalog = load_catalog(settings.path(settings.intents.catalog_dir))
        communes = [c.name for c in load_communes(settings.broadcast.province).communes]
        with Synthesizer.from_settings(settings) as synth:

            async def main() -> dict:
                prompts = Prompts(settings, synth, commune_names=communes)
                assert prompts.bank is not None
                prompts.use_catalog(catalog, menu_prompts(catalog))
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
                calls = _week_plays(catalog, prompts.texts.templates, communes, rng)
                week = await _week(
                    settings,
                    prompts,
                    calls,
                    "greeting and goodbye, and the word bank file's units; other prompts, answers, menus, "
                    "titles and template fragments synthesized",
                )
                everything = Prompts(full_settings, synth, commune_names=communes)
                everything.use_catalog(catalog, menu_prompts(catalog))
                pieces = await _record_everything(everything, synth, catalog, communes)
                week_all = await _week(
                    full_settings,
                    everything,
                    calls,
                    f"everything on the studio's script sheet ({pieces} pieces; the beep stays a tone)",
                )
                return {
                    "complete": complete,
                    "whole": whole,
                    "missing": missing,
                    "composer": composer,
                    "week": week,
                    "week_all": week_all,
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
        "coverage_week_everything_recorded": got["week_all"],
    }


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
