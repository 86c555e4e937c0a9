"""The end of turn by words, swept: premature cut-offs against the wait of a finished caller, per rule.

One pass of the product's `CallListener` (real Silero, segmenter, `vietasr` with the padding at each
pause) over the turn sets records, for every pause of every utterance, the transcript the words judge
would read and how long that silence lasted before the caller spoke again. Each rule — an intent score,
an example-ending length, the continuation check, the unsure timer, the short pause — is then replayed
on those records: at each pause its verdict ends the turn (complete), waits for the unsure timer or the
ceiling, and the turn ends at the first pause whose silence reaches that. So the whole curve costs one
recognition of the sets, and the thresholds are chosen from it, not by hand (`best`: the shortest wait
with cut-offs within target); `replayed` sweeps new rules on the records of an earlier run.

Replaying at a longer short pause than recorded keeps only the pauses that long and moves their
judgement later by the difference (the transcript is the same audio plus padding); the judgement's wall
time is measured in the pass and reported apart, as in `bench.turn`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from itertools import product
from typing import Any

from bench import turn_sets
from bench.stats import pct
from bench.turn_sets import Paused, chunks

RECORD_PAUSE_MS = 200  # the short pause of the recording pass (the smallest one replayed)
CEILING_MS = 1200  # `max_silence_ms`: an incomplete turn ends at this much silence
PAUSE_MS = (200, 250)
INTENT_SCORES = (0.7, 0.8, 0.85, 0.9, 1.01)  # 1.01: the intent rule off
TAIL_WORDS = (0, 2, 3, 4)
CONTINUE_WORDS = (0, 1, 2, 3)  # 0: the continuation check off
CONTINUE_SHARES = (0.01, 0.5, 0.67)  # words go on in at least this share of the examples holding them
UNSURE_MS = (600, 800, 1000, 1200)
TARGET_CUTOFFS = 0.02


@dataclass(frozen=True, slots=True)
class PauseRecord:
    fired_ms: int  # stream time at which the pause was judged (its silence began RECORD_PAUSE_MS before)
    silence_ms: float  # how long that silence lasted before the caller spoke again (inf: never)
    text: str  # the transcript the words judge read


def record(utterances: list[Paused]) -> tuple[list[list[PauseRecord]], list[float]]:
    """Every pause of every utterance through the product's listener, and the judgements' wall times."""
    from bench.turn_listener import ListenerEndpointer
    from ivr.turn_text import Verdict

    media = "HOTLINE_IVR__MEDIA__"
    overrides = {
        f"{media}DETECTOR": "silero",
        f"{media}TURN__MODEL": "text",
        f"{media}TURN__MIN_SILENCE_MS": str(RECORD_PAUSE_MS),
        f"{media}TURN__UNSURE_SILENCE_MS": "4900",
        f"{media}TURN__MAX_SILENCE_MS": "5000",  # longer than any tail: only the replay ends turns
        f"{media}TURN__TIMEOUT_MS": "5000",
    }
    ListenerEndpointer.judge_ms = []
    out: list[list[PauseRecord]] = []
    for u in utterances:
        ep = ListenerEndpointer(overrides, words=True)
        texts: list[tuple[int, str]] = []
        clock = {"ms": 0}

        def judge(text: str, code_digits: int = 0, texts: Any = texts, clock: Any = clock) -> Verdict:
            texts.append((clock["ms"], text))
            return Verdict.INCOMPLETE

        ep.listener.text_turn = judge
        pauses: list[list[float]] = []  # [fired, silence start, silence length]
        for chunk in chunks(u.audio):
            clock["ms"] = chunk.timestamp_ms + 20
            before = len(texts)
            ep.process(chunk)
            seg = ep.listener.segmenter
            if len(texts) > before:
                fired = texts[-1][0]
                pauses.append([fired, fired - RECORD_PAUSE_MS, float("inf")])
            elif pauses and pauses[-1][2] == float("inf") and seg.in_speech and seg.silent_ms == 0:
                pauses[-1][2] = chunk.timestamp_ms - pauses[-1][1]
        ep.close()
        out.append([PauseRecord(int(p[0]), p[2], t) for p, (_, t) in zip(pauses, texts, strict=False)])
    return out, list(ListenerEndpointer.judge_ms)


def _verdicts(
    texts: set[str], intent_score: float, tail_words: int, continue_words: int = 0, share: float = 0.5
) -> dict[str, str]:
    from bench.turn_listener import TEST_CATALOG, _settings
    from intents.catalog import load_catalog
    from intents.matcher import Matcher
    from ivr.turn_text import Endings, Intent, TextTurnSettings, WordsJudge, judge_transcript

    settings = _settings(())
    matcher = _matchers(TEST_CATALOG, settings, load_catalog, Matcher)
    shipped = _matchers(turn_sets.ROOT / "config" / "intents", settings, load_catalog, Matcher)
    pairs = [(i.id, ex) for m in (shipped, matcher) for i in m.catalog.intents for ex in i.examples]
    prepare = WordsJudge._prepare(matcher)
    endings = Endings.learn(pairs, prepare, matcher.dialect.closing, tail_words, continue_words, share)
    rule = TextTurnSettings(intent_score, 0.3, tail_words, continue_words)
    out = {}
    for text in texts:
        if text not in _MATCHED:
            d = matcher.match(text)
            clear = d.intent is not None and not d.clarify
            _MATCHED[text] = (prepare(text), Intent(d.score, d.score - d.runner_up_score, clear))
        words, intent = _MATCHED[text]
        out[text] = str(judge_transcript(words, endings, intent, settings=rule))
    return out


_MATCHED: dict[str, Any] = {}  # transcript -> (prepared words, intent): the same for every rule


_MATCHERS: dict[Any, Any] = {}


def _matchers(path: Any, settings: Any, load_catalog: Any, matcher_cls: Any) -> Any:
    if path not in _MATCHERS:
        _MATCHERS[path] = matcher_cls(load_catalog(path), settings)
    return _MATCHERS[path]


def replay(
    records: list[PauseRecord], verdicts: dict[str, str], pause_ms: int, unsure_ms: int
) -> float | None:
    """When the rule ends this utterance's turn (stream ms), None if it never does."""
    shift = pause_ms - RECORD_PAUSE_MS
    for p in records:
        if p.silence_ms < pause_ms:
            continue  # too short a pause to be judged at this setting
        verdict = verdicts.get(p.text, "unsure") if p.text else "unsure"
        if verdict == "complete":
            return p.fired_ms + shift
        limit = unsure_ms if verdict == "unsure" else CEILING_MS
        if p.silence_ms >= limit:
            return p.fired_ms - RECORD_PAUSE_MS + limit
    return None


def _finite(ms: float) -> float | None:
    return None if ms == float("inf") else ms


def sweep(
    paused: list[Paused],
    paused_rec: list[list[PauseRecord]],
    complete: list[Paused],
    complete_rec: list[list[PauseRecord]],
) -> list[dict[str, Any]]:
    texts = {p.text for recs in paused_rec + complete_rec for p in recs if p.text}
    rows = []
    for score, tail, cont, share in product(INTENT_SCORES, TAIL_WORDS, CONTINUE_WORDS, CONTINUE_SHARES):
        if (cont and not tail and score > 1) or (not cont and share != CONTINUE_SHARES[0]):
            continue  # nothing to hold back, or the share of a check that is off
        verdicts = _verdicts(texts, score, tail, cont, share)
        for pause_ms, unsure_ms in product(PAUSE_MS, UNSURE_MS):
            cut, waits, finished_cut, finished_waits = 0, [], 0, []
            by_kind: dict[str, list[int]] = {}
            for u, recs in zip(paused, paused_rec, strict=True):
                end = replay(recs, verdicts, pause_ms, unsure_ms)
                counts = by_kind.setdefault(u.kind, [0, 0])
                counts[1] += 1
                if end is not None and end < u.speech_end_ms:
                    cut += 1
                    counts[0] += 1
                elif end is not None:
                    waits.append(end - u.speech_end_ms)
            for u, recs in zip(complete, complete_rec, strict=True):
                end = replay(recs, verdicts, pause_ms, unsure_ms)
                if end is not None and end < u.speech_end_ms:
                    finished_cut += 1
                elif end is not None:
                    finished_waits.append(end - u.speech_end_ms)
            rows.append(
                {
                    "intent_score": score if score <= 1 else None,
                    "tail_words": tail,
                    "continue_words": cont,
                    "continue_share": share if cont else None,
                    "pause_ms": pause_ms,
                    "unsure_ms": unsure_ms,
                    "premature_share": round(cut / len(paused), 4),
                    "premature_by_kind": {k: f"{c[0]}/{c[1]}" for k, c in by_kind.items()},
                    "paused_wait_p50_ms": pct(waits, 0.5),
                    "finished_cut_share": round(finished_cut / len(complete), 4),
                    "finished_wait_p50_ms": pct(finished_waits, 0.5),
                    "finished_wait_p95_ms": pct(finished_waits, 0.95),
                }
            )
    return rows


def best(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The shortest wait of a finished caller among the rules within the cut-off target (none cut)."""
    ok = [r for r in rows if r["premature_share"] <= TARGET_CUTOFFS and r["finished_cut_share"] == 0]
    key = lambda r: (r["finished_wait_p50_ms"] or 1e9, r["finished_wait_p95_ms"] or 1e9)  # noqa: E731
    return min(ok, key=key) if ok else None


def replayed(saved: dict[str, Any]) -> list[dict[str, Any]]:
    """The rules replayed on the records of an earlier `run()` (its "transcripts"): a new rule is swept
    without recognizing the sets again."""
    inf = float("inf")
    recs = {
        name: [PauseRecord(int(f), inf if s is None else float(s), t) for f, s, t in v]
        for name, v in saved["transcripts"].items()
    }
    paused = turn_sets.paused_utterances()
    complete = turn_sets.complete_utterances()
    return sweep(paused, [recs[u.name] for u in paused], complete, [recs[u.name] for u in complete])


def run() -> dict[str, object]:
    started = time.perf_counter()
    paused = turn_sets.paused_utterances()
    complete = turn_sets.complete_utterances()
    paused_rec, judged_paused = record(paused)
    complete_rec, judged_complete = record(complete)
    judged = judged_paused + judged_complete
    rows = sweep(paused, paused_rec, complete, complete_rec)
    return {
        "sets": {"paused_utterances": len(paused), "complete_utterances": len(complete)},
        "record_pause_ms": RECORD_PAUSE_MS,
        "ceiling_ms": CEILING_MS,
        "judge_ms_p50_p95": [pct(judged, 0.5), pct(judged, 0.95)],
        "record_seconds": round(time.perf_counter() - started, 1),
        "best_within_target": best(rows),
        "rules": rows,
        "transcripts": {
            u.name: [[p.fired_ms, _finite(p.silence_ms), p.text] for p in recs]
            for u, recs in zip(paused + complete, paused_rec + complete_rec, strict=True)
        },
    }


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
