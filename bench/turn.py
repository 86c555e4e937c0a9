"""End of turn, offline: premature cut-offs, false barge-ins on noise, barge-in delay, CPU per audio second.

No Asterisk and no recognizer: the sets of `bench.turn_sets` are fed in 20 ms chunks, as the RTP
endpoint hands them to the call listener, through a `TurnEndpointer` (a speech detector and what ends
the turn). Today's is `FixedTimer`: the energy detector and the Segmenter's fixed silence timer, with the
listener's settings from config/hotline.yaml. An end-of-turn model registers its own factory in
`ENDPOINTERS` and is measured on the same sets in the same run.

* **premature cut-offs**: share of the paused utterances whose turn ended before the caller had
  finished (an end before the end of their last syllable); with the delay from the caller's last
  syllable to the end of the turn for the others (what the caller waits before recognition can finish).
* **false barge-ins**: utterance starts on noise-only audio, per 10 minutes of noise (a prompt playing
  over a noisy line would stop that many times).
* **barge-in delay**: from the onset of real speech over that noise to the utterance start.
* **CPU**: thread CPU time per second of audio, for the detector alone and for the whole end-pointer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from functools import cache
from typing import Protocol

from bench import turn_sets
from bench.stats import pct
from bench.turn_sets import Noise, Paused, chunks
from voice.audio import AudioChunk
from voice.vad import EnergyDetector, Segmenter, SpeechDetector, SpeechEnd, SpeechStart, chunk_ms

BARGE_IN_LEAD_MS = 3000  # noise heard before the caller speaks up
BARGE_IN_TARGET_MS = 300


class TurnEndpointer(Protocol):
    """Caller audio in, utterance start and end out: the listener's part between the RTP edge and the
    recognizer. An end-pointer that also wants the audio we play (an echo rule) defines
    `on_playback(chunk)`; the harness calls it with the prompt's frame before each caller chunk."""

    def process(self, chunk: AudioChunk) -> SpeechStart | SpeechEnd | None: ...


@cache
def _listener_settings():
    """The listener's settings from config/hotline.yaml (read once: an end-pointer is made per stream)."""
    from hotline.settings import load_settings
    from ivr.listener import ListenerSettings

    # Without a turn model: the segmenter's silence timer is the end-point (endpoint_silence_ms).
    settings = load_settings(turn_sets.ROOT / "config" / "hotline.yaml").ivr
    return ListenerSettings.from_settings(settings, turn_model=False)


class FixedTimer:
    """Today's listener: a speech detector (energy by default) and the Segmenter's silence timer."""

    def __init__(self, silence_ms: int | None = None, detector: SpeechDetector | None = None) -> None:
        settings = _listener_settings()
        seg = settings.segmenter
        self.detector = detector or EnergyDetector(settings.energy)
        self.segmenter = Segmenter(replace(seg, silence_ms=silence_ms) if silence_ms else seg)

    def process(self, chunk: AudioChunk) -> SpeechStart | SpeechEnd | None:
        return self.segmenter.process(chunk, self.detector.is_speech(chunk, self.segmenter.in_speech))


# name -> a fresh end-pointer (one per utterance or noise); an end-of-turn model adds itself here.
ENDPOINTERS: dict[str, Callable[[], TurnEndpointer]] = {
    "fixed_600ms": lambda: FixedTimer(600),  # the old default (energy, 600 ms of silence)
    "fixed_300ms": lambda: FixedTimer(300),
    "fixed_900ms": lambda: FixedTimer(900),
    "fixed_1200ms": lambda: FixedTimer(1200),
}


def _product_endpointers() -> dict[str, Callable[[], TurnEndpointer]]:
    """The product's own listener (`bench.turn_listener`), at config/hotline.yaml's settings but for the
    overrides named: the detector and end of turn of each choice the configuration offers."""
    from bench.turn_listener import factory

    media = "HOTLINE_IVR__MEDIA__"
    fixed = {f"{media}TURN__MODEL": "none"}
    silero = factory({**fixed, f"{media}DETECTOR": "silero", f"{media}ENDPOINT_SILENCE_MS": "600"})
    out: dict[str, Callable[[], TurnEndpointer]] = {
        # the old default (energy, 600 ms), now with the barge-in rules
        "listener_energy_600ms": factory(
            {**fixed, f"{media}DETECTOR": "energy", f"{media}ENDPOINT_SILENCE_MS": "600"}
        ),
        "silero_600ms": silero,  # the first round's default
        "silero_smart_turn": factory({f"{media}TURN__MODEL": "smart_turn", f"{media}DETECTOR": "silero"}),
        # config/hotline.yaml as it is (its detector is Silero: the noise sets are silero_600ms's)
        "shipped": factory({}, words=True, onset=silero),
    }
    for name, extra in TEXT_VARIANTS.items():
        out[f"silero_text_{name}"] = factory(
            {f"{media}TURN__MODEL": "text", **extra}, words=True, onset=silero
        )
    return out


# End of turn by words at other settings than the shipped ones (name -> overrides): the sweep the
# defaults were chosen from.
TEXT_VARIANTS: dict[str, dict[str, str]] = {
    "unsure_800ms": {"HOTLINE_IVR__MEDIA__TURN__UNSURE_SILENCE_MS": "800"},
    "unsure_1200ms": {"HOTLINE_IVR__MEDIA__TURN__UNSURE_SILENCE_MS": "1200"},
    "intent_0.8": {"HOTLINE_IVR__MEDIA__TURN__EARLY_INTENT_SCORE": "0.8"},
    "intent_0.7": {"HOTLINE_IVR__MEDIA__TURN__EARLY_INTENT_SCORE": "0.7"},
}

# name -> a fresh speech detector, for its own CPU cost.
DETECTORS: dict[str, Callable[[], SpeechDetector]] = {
    "energy": lambda: EnergyDetector(_listener_settings().energy),
}


def _feed(
    endpointer: TurnEndpointer, audio: AudioChunk, playback: AudioChunk | None = None
) -> Iterable[tuple[AudioChunk, SpeechStart | SpeechEnd]]:
    """Every event the end-pointer gives on `audio`, with the chunk it came with."""
    on_playback = getattr(endpointer, "on_playback", None)
    played = chunks(playback) if playback is not None and on_playback is not None else None
    for i, chunk in enumerate(chunks(audio)):
        if played is not None and i < len(played):
            on_playback(played[i])
        event = endpointer.process(chunk)
        if event is not None:
            yield chunk, event


def cutoffs(make: Callable[[], TurnEndpointer], utterances: list[Paused]) -> dict[str, object]:
    """Share of the paused utterances ended before the caller finished, per kind and in all."""
    premature: list[str] = []
    not_heard: list[str] = []
    not_ended: list[str] = []
    waits: list[float] = []  # caller's last syllable -> end of turn, ms (turns not cut short)
    by_kind: dict[str, list[int]] = {}
    for u in utterances:
        started = ended = None
        for _chunk, event in _feed(make(), u.audio):
            if isinstance(event, SpeechStart) and started is None:
                started = event
            elif isinstance(event, SpeechEnd) and started is not None:
                ended = event
                break
        counts = by_kind.setdefault(u.kind, [0, 0])
        counts[1] += 1
        if started is None:
            not_heard.append(u.name)
        elif ended is None:
            not_ended.append(u.name)
        elif ended.timestamp_ms < u.speech_end_ms:
            premature.append(u.name)
            counts[0] += 1
        else:
            waits.append(ended.timestamp_ms - u.speech_end_ms)
    n = len(utterances)
    return {
        "utterances": n,
        "premature_share": round(len(premature) / n, 4) if n else None,
        "premature_share_by_kind": {k: round(c[0] / c[1], 4) for k, c in by_kind.items()},
        "end_wait_p50_ms": pct(waits, 0.5),
        "end_wait_p95_ms": pct(waits, 0.95),
        "not_heard": len(not_heard),
        "not_ended": len(not_ended),
        "premature_examples": premature[:8],
    }


def false_barge_ins(
    make: Callable[[], TurnEndpointer], noise: list[Noise], prompt: AudioChunk | None = None
) -> dict[str, object]:
    """Utterance starts on noise-only audio, per noise and per 10 minutes of it. `prompt`: what we play
    meanwhile (an end-pointer with an echo rule hears it; the echo noise brings its own)."""
    out: dict[str, object] = {}
    total_starts, total_s = 0, 0.0
    for item in noise:
        playing = item.playback if item.playback is not None else prompt
        starts = sum(isinstance(e, SpeechStart) for _, e in _feed(make(), item.audio, playing))
        seconds = item.audio.duration_s
        total_starts += starts
        total_s += seconds
        out[item.name] = {
            "level_dbfs": item.level_db,
            "starts": starts,
            "per_10_min": round(starts * 600 / seconds, 1),
        }
    out["all"] = {
        "minutes": round(total_s / 60, 1),
        "starts": total_starts,
        "per_10_min": round(total_starts * 600 / total_s, 1) if total_s else None,
    }
    return out


def barge_in_delay(
    make: Callable[[], TurnEndpointer], noise: list[Noise], prompt: AudioChunk | None = None
) -> dict[str, object]:
    """From the onset of a recording over each noise to the utterance start, ms (every recording), while
    `prompt` plays (the caller interrupts it)."""
    delays: list[float] = []
    missed, early = 0, 0
    per_noise: dict[str, object] = {}
    for k, item in enumerate(noise):
        mine: list[float] = []
        for i, clip in enumerate(turn_sets.clips()):
            offset = 1000 * ((i + k) % 5)  # a different stretch of the noise each time
            audio = turn_sets.speech_in_noise(clip, item, BARGE_IN_LEAD_MS, offset)
            first = None
            playing = item.playback if item.playback is not None else prompt
            if playing is not None:  # the prompt from where the noise is taken
                playing = AudioChunk(
                    playing.audio[playing.rate * offset // 1000 * playing.width :], playing.rate
                )
            for chunk, event in _feed(make(), audio, playing):
                if isinstance(event, SpeechStart):
                    first = chunk.timestamp_ms + chunk_ms(chunk)
                    break
            if first is None:
                missed += 1
            elif first < BARGE_IN_LEAD_MS:
                early += 1  # the noise itself started an utterance: counted in false_barge_ins
            else:
                mine.append(first - BARGE_IN_LEAD_MS)
        delays += mine
        per_noise[item.name] = {"p50_ms": pct(mine, 0.5), "max_ms": max(mine) if mine else None}
    return {
        "trials": len(noise) * len(turn_sets.clips()),
        "p50_ms": pct(delays, 0.5),
        "p95_ms": pct(delays, 0.95),
        "within_target_share": round(sum(d <= BARGE_IN_TARGET_MS for d in delays) / len(delays), 3)
        if delays
        else None,
        "target_ms": BARGE_IN_TARGET_MS,
        "missed": missed,
        "started_by_the_noise_first": early,
        "per_noise": per_noise,
    }


def cpu_ms_per_audio_s(step: Callable[[AudioChunk], object], audio: list[AudioChunk]) -> float:
    """Thread CPU time of `step` over every 20 ms chunk of `audio`, ms per second of audio."""
    pieces = [c for a in audio for c in chunks(a)]
    seconds = sum(c.duration_s for c in pieces)
    t0 = time.thread_time()
    for c in pieces:
        step(c)
    return round(1000 * (time.thread_time() - t0) / seconds, 3)


def cpu_costs(
    utterances: list[Paused], noise: list[Noise], endpointers: dict[str, Callable[[], TurnEndpointer]]
) -> dict[str, object]:
    """CPU per second of audio: each detector alone (outside utterances) and each whole end-pointer."""
    audio = [u.audio for u in utterances] + [n.audio for n in noise]
    out: dict[str, object] = {"audio_minutes": round(sum(a.duration_s for a in audio) / 60, 1)}
    for name, make_detector in DETECTORS.items():
        detector = make_detector()
        out[f"detector_{name}"] = cpu_ms_per_audio_s(lambda c, d=detector: d.is_speech(c, False), audio)
    for name, make in endpointers.items():
        out[f"endpointer_{name}"] = cpu_ms_per_audio_s(_Renewed(make).process, audio)
    return out


class _Renewed:
    """An end-pointer made afresh at each new stream (chunk timestamps go back to 0)."""

    def __init__(self, make: Callable[[], TurnEndpointer]) -> None:
        self.make = make
        self.current = make()

    def process(self, chunk: AudioChunk) -> object:
        if chunk.timestamp_ms == 0:
            self.current = self.make()
        return self.current.process(chunk)


def run(
    endpointers: dict[str, Callable[[], TurnEndpointer]] | None = None, noise_seconds: float = 120.0
) -> dict[str, object]:
    endpointers = endpointers if endpointers is not None else {**ENDPOINTERS, **_product_endpointers()}
    started = time.perf_counter()
    utterances = turn_sets.paused_utterances()
    noise = turn_sets.noises(noise_seconds)
    out: dict[str, object] = {
        "sets": {
            "paused_utterances": len(utterances),
            "paused_minutes": round(sum(u.audio.duration_s for u in utterances) / 60, 1),
            "pause_ms_range": list(turn_sets.PAUSE_MS),
            "hesitation_ms_range": list(turn_sets.HESITATION_MS),
            "speech_level_dbfs": [
                turn_sets.SPEECH_DB - turn_sets.SPEECH_SPREAD_DB,
                turn_sets.SPEECH_DB + turn_sets.SPEECH_SPREAD_DB,
            ],
            "noise": {n.name: n.level_db for n in noise},
            "noise_minutes": round(sum(n.audio.duration_s for n in noise) / 60, 1),
            "seed": turn_sets.SEED,
            "build_s": round(time.perf_counter() - started, 1),
        },
        "endpointers": {},
    }
    complete = turn_sets.complete_utterances()
    out["sets"]["complete_utterances"] = len(complete)
    out["sets"]["prompt_playing_dbfs"] = turn_sets.PROMPT_DB
    prompt = turn_sets.prompt_playback(noise_seconds)
    barge_noise = [n for n in noise if n.level != "loud"]  # the line alone, and moderate noise
    onsets: dict[object, dict[str, object]] = {}  # noise results of an onset factory, measured once
    for name, make in endpointers.items():
        from bench.turn_listener import ListenerEndpointer

        ListenerEndpointer.judge_ms = []
        entry: dict[str, object] = {"settings": getattr(make, "overrides", None)}
        entry["premature_cutoffs"] = cutoffs(make, utterances)
        entry["complete_utterances"] = cutoffs(make, complete)
        judged = ListenerEndpointer.judge_ms
        entry["judge_ms_p50_p95"] = [pct(judged, 0.5), pct(judged, 0.95)] if judged else None
        onset = getattr(make, "onset", make)
        if onset not in onsets:
            onsets[onset] = {
                "false_barge_ins": false_barge_ins(onset, noise, prompt),
                "barge_in_delay": barge_in_delay(onset, barge_noise, prompt),
            }
        entry.update(onsets[onset])
        out["endpointers"][name] = entry
        print(f"   turn: {name} done ({time.perf_counter() - started:.0f} s)", flush=True)
    cpu_ends = {k: v for k, v in endpointers.items() if not k.startswith("silero_text_") and k != "shipped"}
    out["cpu_ms_per_audio_s"] = cpu_costs(utterances, noise, cpu_ends)
    return out


if __name__ == "__main__":
    import json

    print(json.dumps(run(), indent=2, ensure_ascii=False))
