"""What the call listener feeds the streaming recognizer, and what that costs, offline.

The recognizer costs about as much per second of silence as per second of speech, so what it is fed is
what a call costs. The listener feeds it from an utterance's onset (with the pre-roll) to its end, and
of any silence inside an utterance at most `ivr.media.asr_silence_ms` (the rest held back, its last
`preroll_ms` fed if the caller speaks again; 0: all of it, as before). Two parts, each run with all
the silence fed (`asr_silence_ms: 0`) and with the setting as shipped, through the real `CallListener`
(config/hotline.yaml, its detector and end of turn from `ivr.turn_taking`), the real `vietasr` and, for
the end of turn by words, the intent matcher on the test catalog (`bench.turn_listener`):

* **a realistic call**: 60 s of a caller's line (hiss at -62 dBFS throughout, listening all the time as
  the hotline does, prompts and answers playing in between): a whole request, 8 s of answer, a request
  with a 900 ms pause in it, 8 s, a code read in four groups, 8 s, a request with a hesitation, then
  silence to the hang-up. Reported: the recognizer's CPU-seconds (thread CPU time of its jobs, which
  other load on the machine does not inflate) per second of call, and seconds of audio fed.
* **word and character error** of the final transcripts on the six recordings over the phone (whole,
  four levels each) and the 80 paused utterances of `bench.turn_sets`, with a 1.2 s fixed end-point so
  that each is one utterance; and how many final transcripts, and whole sequences of partial
  transcripts, are identical to those with all the silence fed (also at 400 ms, the next shorter).
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import numpy as np

from bench import turn_sets
from bench.turn_listener import _loop, _recognizer, _settings, _turn_taking
from voice.audio import AudioChunk

HELD = "shipped"
FED = "HOTLINE_IVR__MEDIA__ASR_SILENCE_MS"
VARIANTS: dict[str, dict[str, str]] = {"all_silence_fed": {FED: "0"}, HELD: {}}
# measured for quality only: the next shorter setting (why the default is what it is)
QUALITY_ONLY: dict[str, dict[str, str]] = {"asr_silence_400ms": {FED: "400"}}
# the end of turn in each mode (settings overrides)
MODES: dict[str, dict[str, str]] = {
    "words": {},  # config/hotline.yaml: Silero, end of turn by words, speculative
    "fixed_600ms": {
        "HOTLINE_IVR__MEDIA__DETECTOR": "energy",
        "HOTLINE_IVR__MEDIA__TURN__MODEL": "none",
        "HOTLINE_IVR__MEDIA__ENDPOINT_SILENCE_MS": "600",
    },
}
WHOLE = {"HOTLINE_IVR__MEDIA__TURN__MODEL": "none", "HOTLINE_IVR__MEDIA__ENDPOINT_SILENCE_MS": "1200"}
CALL_S = 60.0
ANSWER_S = 8.0  # the caller listens to an answer this long between requests
REPEATS = 3  # CPU time per variant: the median of this many passes


class _Cost:
    """Thread CPU time spent in the recognizer's jobs, and the audio its streams were fed."""

    def __init__(self) -> None:
        self.cpu_s = 0.0
        self.fed_s = 0.0

    def __enter__(self) -> _Cost:
        from voice.asr.recognizer import RecognizerStream

        self._saved = (RecognizerStream._accept_job, RecognizerStream._finish_job)
        accept, finish = self._saved
        cost = self

        def timed(job):  # noqa: ANN001, ANN202
            def run(stream: RecognizerStream, *args: Any) -> Any:
                started = time.thread_time()
                before = stream.audio_s
                try:
                    return job(stream, *args)
                finally:
                    cost.cpu_s += time.thread_time() - started
                    cost.fed_s += stream.audio_s - before

            return run

        RecognizerStream._accept_job = timed(accept)  # type: ignore[method-assign]
        RecognizerStream._finish_job = timed(finish)  # type: ignore[method-assign]
        return self

    def __exit__(self, *exc: object) -> None:
        from voice.asr.recognizer import RecognizerStream

        RecognizerStream._accept_job, RecognizerStream._finish_job = self._saved  # type: ignore[method-assign]


class _Finals:
    """ListenerHooks that keep the partial and final transcripts."""

    def __init__(self) -> None:
        self.finals: list[str] = []
        self.partials: list[str] = []

    def on_speech_started(self) -> None: ...
    def on_speech_ended(self) -> None: ...

    def on_partial_transcript(self, result: Any) -> None:
        self.partials.append(result.text or "")

    def on_tentative_transcript(self, text: str) -> None: ...
    def on_recording_finished(self, name: str, duration_ms: int) -> None: ...

    def on_final_transcript(self, result: Any, asr_ms: int) -> None:
        self.finals.append(result.text or "")

    def on_recognition_failed(self, stage: str, detail: str) -> None:
        self.finals.append(f"<{stage}>")


def listen(audio: AudioChunk, overrides: dict[str, str]) -> _Finals:
    """One stream of caller audio through the product's listener; its transcripts."""
    from ivr.admission import AsrAdmission
    from ivr.listener import CallListener, ListenerSettings

    key = tuple(sorted(overrides.items()))
    settings = _settings(key)
    tt = _turn_taking(key)
    words = tt.words if settings.ivr.media.turn.model == "text" else None
    hooks = _Finals()
    recognizer = _recognizer()
    listener = CallListener(
        hooks,
        call="bench",
        rate=audio.rate,
        admission=AsrAdmission(4),
        recognizer=recognizer,
        settings=ListenerSettings.from_settings(settings.ivr, turn_model=words is not None),
        detector=tt.detector(),
        text_turn=words,
    )

    async def main() -> None:
        listener.listen(True)
        for chunk in turn_sets.chunks(audio):
            # the recognizer keeps up with a call in real time; here chunks come faster, so it catches up
            while recognizer.pending or listener.judging:  # noqa: ASYNC110 (no event to await)
                await asyncio.sleep(0.001)
            listener.on_chunk(chunk)
            await asyncio.sleep(0)
        deadline = time.monotonic() + 30
        while listener.recognizing and time.monotonic() < deadline:  # noqa: ASYNC110
            await asyncio.sleep(0.005)
        listener.close()

    _loop().run_until_complete(main())
    return hooks


def realistic_call(seed: int = turn_sets.SEED) -> tuple[AudioChunk, float]:
    """The call's caller side (see the module docstring) and its seconds of speech."""
    rate = turn_sets.RATE
    paused = {p.kind: p for p in turn_sets.paused_utterances(seed, variants=1)}
    whole = turn_sets.complete_utterances(seed, variants=1)[0]
    parts = [whole, paused["two_phrases"], paused["code_groups"], paused["hesitation"]]
    rng = np.random.default_rng(seed + 9)
    x = np.zeros(int(CALL_S * rate))
    at = int(6.0 * rate)  # greeting and "speak or press a key"
    speech_s = 0.0
    for p in parts:
        s = p.audio.array().reshape(-1).astype(np.float64) / 32768.0
        s = s[p.speech_start_ms * rate // 1000 - rate // 5 : p.speech_end_ms * rate // 1000 + rate // 5]
        x[at : at + s.size] += s
        speech_s += (p.speech_end_ms - p.speech_start_ms) / 1000
        at += s.size + int(ANSWER_S * rate)
    x += rng.normal(0, 10 ** (turn_sets.LINE_NOISE_DB / 20), x.size)
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
    return AudioChunk.from_array(pcm, rate), speech_s


def _call_cost(audio: AudioChunk, overrides: dict[str, str]) -> dict[str, Any]:
    runs = []
    finals: list[str] = []
    for _ in range(REPEATS):
        with _Cost() as cost:
            finals = listen(audio, overrides).finals
        runs.append((cost.cpu_s, cost.fed_s))
    cpu = statistics.median(r[0] for r in runs)
    return {
        "asr_cpu_s": round(cpu, 3),
        "asr_cpu_s_per_call_s": round(cpu / audio.duration_s, 4),
        "asr_cpu_s_runs": [round(r[0], 3) for r in runs],
        "audio_fed_s": round(runs[-1][1], 2),
        "asr_cpu_s_per_audio_s": round(cpu / runs[-1][1], 3) if runs[-1][1] else None,
        "finals": finals,
    }


def _quality(overrides: dict[str, str]) -> dict[str, Any]:
    from voice.asr.scoring import corpus_cer, corpus_wer
    from voice.text import normalize_for_matching

    items = turn_sets.complete_utterances() + turn_sets.paused_utterances()
    refs, hyps, partials = [], [], []
    with _Cost() as cost:
        for item in items:
            refs.append(item.text)
            heard = listen(item.audio, overrides)
            hyps.append(" ".join(heard.finals))
            partials.append(heard.partials)
    return {
        "utterances": len(items),
        "wer": round(corpus_wer(refs, hyps, normalize=normalize_for_matching), 4),
        "cer": round(corpus_cer(refs, hyps, normalize=normalize_for_matching), 4),
        "audio_s": round(sum(i.audio.duration_s for i in items), 1),
        "audio_fed_s": round(cost.fed_s, 1),
        "asr_cpu_s": round(cost.cpu_s, 1),
        "hyps": hyps,
        "partials": partials,
    }


def run() -> dict[str, Any]:
    from bench.stats import loadavg

    out: dict[str, Any] = {"load_before": loadavg(), "call": {}, "quality": {}}
    call, speech_s = realistic_call()
    out["call_s"] = round(call.duration_s, 1)
    out["call_speech_s"] = round(speech_s, 1)
    listen(call.with_audio(call.audio[: 2 * call.rate * call.width]), {})  # load the models first
    for mode, mode_overrides in MODES.items():
        out["call"][mode] = {
            name: _call_cost(call, {**mode_overrides, **overrides}) for name, overrides in VARIANTS.items()
        }
    for name, overrides in {**VARIANTS, **QUALITY_ONLY}.items():
        out["quality"][name] = _quality({**WHOLE, **overrides})
    base = out["quality"]["all_silence_fed"]
    for name in [HELD, *QUALITY_ONLY]:
        q = out["quality"][name]
        q["identical_finals"] = sum(a == b for a, b in zip(base["hyps"], q["hyps"], strict=True))
        q["identical_partials"] = sum(a == b for a, b in zip(base["partials"], q["partials"], strict=True))
    out["load_after"] = loadavg()
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
