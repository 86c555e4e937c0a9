"""Intent matching benchmark: accuracy and out-of-scope rejection (clean and with simulated recognizer
noise) on the labeled set, and matching latency. `run()` returns the figures; it writes nothing.

Run alone with `python -m bench.intents`.
"""

from __future__ import annotations

import json
import random
import time
import unicodedata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CASES = ROOT / "tests" / "intents" / "eval_cases.yaml"
SEED = 20251125
# Simulated recognizer errors, per syllable: the tone replaced by another one (or dropped), and the whole
# syllable dropped. "light" is a fair recognizer on a clear line; "heavy" a bad line.
NOISE_LEVELS = {"light": (0.15, 0.05), "heavy": (0.30, 0.10)}
TONES = ("", "\u0300", "\u0301", "\u0309", "\u0303", "\u0323")  # none, huyền, sắc, hỏi, ngã, nặng
VOWELS = set("aăâeêioôơuưy")


def flip_tone(syllable: str, rng: random.Random) -> str:
    """The same syllable with a different tone (possibly none), as a recognizer might mishear it."""
    decomposed = unicodedata.normalize("NFD", syllable)
    current = next((c for c in decomposed if c in TONES[1:]), "")
    base = [c for c in decomposed if c not in TONES[1:]]
    new = rng.choice([t for t in TONES if t != current])
    if new:
        # put the mark after the last vowel letter (with its own diacritics) of the vowel cluster
        plain = unicodedata.normalize("NFD", "".join(base))
        positions = [i for i, c in enumerate(plain) if c.lower() in VOWELS]
        if positions:
            i = (
                positions[0]
                if len(positions) == 1
                else positions[-1]
                if plain[-1].lower() not in VOWELS
                else positions[0]
            )
            j = i + 1
            while j < len(plain) and unicodedata.combining(plain[j]):
                j += 1
            plain = plain[:j] + new + plain[j:]
        return unicodedata.normalize("NFC", plain)
    return unicodedata.normalize("NFC", "".join(base))


def add_noise(text: str, rng: random.Random, tone_rate: float, drop_rate: float) -> str:
    """Recognizer-like corruption of `text`: tone flips and dropped syllables (at least one syllable kept)."""
    out = []
    for syl in text.split():
        if rng.random() < drop_rate:
            continue
        out.append(flip_tone(syl, rng) if rng.random() < tone_rate else syl)
    return " ".join(out) or text.split()[0]


# Character-level confusions a Vietnamese recognizer makes on telephone speech (and that Nghệ An speech
# invites: l/n, tr/ch, s/x, r/d/gi), as (written, misheard) pairs at the start or the end of a syllable.
INITIAL_CONFUSIONS = (
    ("tr", "ch"),
    ("ch", "tr"),
    ("gi", "d"),
    ("d", "gi"),
    ("r", "d"),
    ("s", "x"),
    ("x", "s"),
    ("l", "n"),
    ("n", "l"),
    ("v", "d"),
)
FINAL_CONFUSIONS = (("ng", "n"), ("n", "ng"), ("c", "t"), ("t", "c"), ("nh", "n"))
CONFUSION_RATE = 0.15  # per syllable: one consonant confused...
CONFUSION_TONE_RATE = 0.15  # ...and, independently, the tone flipped


def confuse(
    text: str, rng: random.Random, rate: float = CONFUSION_RATE, tone_rate: float = CONFUSION_TONE_RATE
) -> str:
    """Recognizer-style character noise: initial or final consonants confused, tones flipped."""
    out = []
    for syl in text.split():
        if rng.random() < rate:
            lower = syl.lower()
            pairs = [p for p in INITIAL_CONFUSIONS if lower.startswith(p[0])]
            tails = [p for p in FINAL_CONFUSIONS if lower.endswith(p[0])]
            if pairs and (not tails or rng.random() < 0.5):
                a, b = rng.choice(pairs)
                syl = b + syl[len(a) :]
            elif tails:
                a, b = rng.choice(tails)
                syl = syl[: len(syl) - len(a)] + b
        out.append(flip_tone(syl, rng) if rng.random() < tone_rate else syl)
    return " ".join(out)


def run() -> dict[str, Any]:
    from hotline.settings import load_settings
    from intents.catalog import load_catalog, load_dialect
    from intents.evaluate import Case, evaluate, load_cases
    from intents.matcher import Matcher

    settings = load_settings(ROOT / "config" / "hotline.yaml")
    cfg = settings.intents
    t0 = time.perf_counter()
    catalog = load_catalog(settings.path(cfg.catalog_dir))
    matcher = Matcher(catalog, cfg, dialect=load_dialect(settings.path(cfg.dialect_table)))
    load_s = time.perf_counter() - t0
    cases = load_cases(CASES, set(catalog.ids))

    def summary(report) -> dict[str, float]:
        return {
            "accuracy": round(report.accuracy, 4),
            "in_scope_accuracy": round(report.in_scope_accuracy, 4),
            "out_of_scope_rejection": round(report.rejection, 4),
            "clarify_rate": round(report.clarify_rate, 4),
        }

    result: dict[str, Any] = {
        "labeled_set": str(CASES.relative_to(ROOT)),
        "cases": len(cases),
        "out_of_scope_cases": sum(c.intent == "none" for c in cases),
        "catalog": {
            "intents": len(catalog.intents),
            "examples": sum(len(i.examples) for i in catalog.intents),
        },
        "threshold": cfg.threshold,
        "margin": cfg.margin,
        "clean": summary(evaluate(matcher, cases)),
        "asr_noise": {},
    }
    for name, (tone_rate, drop_rate) in NOISE_LEVELS.items():
        rng = random.Random(SEED)
        noisy = [Case(text=add_noise(c.text, rng, tone_rate, drop_rate), intent=c.intent) for c in cases]
        result["asr_noise"][name] = {
            "tone_flip_rate": tone_rate,
            "syllable_drop_rate": drop_rate,
            "seed": SEED,
            **summary(evaluate(matcher, noisy)),
        }

    rng = random.Random(SEED)
    confused = [Case(text=confuse(c.text, rng), intent=c.intent) for c in cases]
    result["asr_noise"]["consonants"] = {
        "consonant_confusion_rate": CONFUSION_RATE,
        "tone_flip_rate": CONFUSION_TONE_RATE,
        "seed": SEED,
        "kind": "character-level text noise (the labeled set has no audio): initial l/n, tr/ch, s/x, "
        "r/d/gi and final n/ng, c/t confused",
        **summary(evaluate(matcher, confused)),
    }

    texts = [c.text for c in cases]
    for t in texts[:20]:  # warm-up
        matcher.match(t)
    # Wall-clock time is what a caller waits (it includes other load on the machine); CPU time of the
    # matching thread shows the cost of the matcher itself.
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(5):
        for t in texts:
            w, c = time.perf_counter(), time.thread_time()
            matcher.match(t)
            cpu.append(time.thread_time() - c)
            wall.append(time.perf_counter() - w)
    long_text = " ".join(texts)[: cfg.max_text_chars * 2]
    long_times = []
    for _ in range(20):
        w = time.perf_counter()
        matcher.match(long_text)
        long_times.append(time.perf_counter() - w)

    def pct(values: list[float], p: float) -> float:
        values = sorted(values)
        return round(values[min(len(values) - 1, int(p * len(values)))] * 1000, 3)

    result["latency_ms"] = {
        "p50": pct(wall, 0.50),
        "p99": pct(wall, 0.99),
        "cpu_p50": pct(cpu, 0.50),
        "cpu_p99": pct(cpu, 0.99),
        "n": len(wall),
        "max_length_text_p50": pct(long_times, 0.50),  # an utterance cut at intents.max_text_chars
    }
    result["catalog_load_s"] = round(load_s, 3)
    return result


if __name__ == "__main__":
    print(json.dumps(run(), ensure_ascii=False, indent=2))
