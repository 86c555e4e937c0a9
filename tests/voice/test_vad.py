"""Voice activity: the energy detector, the pure segmenter, and the two together on tones and real speech."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tests.conftest import FIXTURES
from tests.support import tone
from voice.audio import AudioChunk, read_audio, resample
from voice.vad import (
    EnergyDetector,
    EnergySettings,
    Segmenter,
    SegmenterSettings,
    SpeechDetector,
    SpeechEnd,
    SpeechPause,
    SpeechStart,
    level_db,
)

RATE = 8000


def chunks(samples: np.ndarray, rate: int = RATE, ms: int = 20):
    n = rate * ms // 1000
    for i in range(0, samples.size - samples.size % n, n):
        yield AudioChunk.from_array(samples[i : i + n], rate, timestamp_ms=i * 1000 // rate)


def silent(ms: int = 20, at_ms: int = 0, rate: int = RATE) -> AudioChunk:
    return AudioChunk(bytes(2 * rate * ms // 1000), rate, timestamp_ms=at_ms)


@dataclass
class VadEvent:
    """What the call's listener sees: start (pre-roll + onset audio), each utterance chunk, end."""

    kind: str
    audio: np.ndarray | None = None
    reason: str = ""


def run_vad(
    samples: np.ndarray,
    *,
    threshold_db: float = -38.0,
    noise_margin_db: float = 12.0,
    min_speech_ms: int = 160,
    silence_ms: int = 600,
    max_utterance_ms: int = 15000,
    preroll_ms: int = 300,
):
    """Energy detector into segmenter, 20 ms chunks: (ms, event) pairs as the listener uses them."""
    detector = EnergyDetector(EnergySettings(threshold_db, noise_margin_db))
    seg = Segmenter(SegmenterSettings(min_speech_ms, silence_ms, max_utterance_ms, preroll_ms))
    out = []
    for i, chunk in enumerate(chunks(samples)):
        in_speech = seg.in_speech
        ev = seg.process(chunk, detector.is_speech(chunk, in_speech))
        if isinstance(ev, SpeechStart):
            audio = np.concatenate([c.array() for c in ev.audio])
            out.append((i * 20, VadEvent("start", audio)))
        elif in_speech:
            out.append((i * 20, VadEvent("audio", chunk.array())))
            if isinstance(ev, SpeechEnd):
                out.append((i * 20, VadEvent("end", reason=ev.reason)))
    return out


# --- the two together (the end-pointer's behaviour) -----------------------------------------------


def test_vad_start_and_end_point():
    sig = np.concatenate([tone(1000, -70), tone(1000, -20), tone(1500, -70)])
    evs = run_vad(sig, silence_ms=600)
    kinds = [(t, e.kind) for t, e in evs if e.kind != "audio"]
    (t_start, k1), (t_end, k2) = kinds
    assert (k1, k2) == ("start", "end")
    assert 1000 <= t_start <= 1000 + 200  # min_speech_ms after onset
    assert 1000 + 1000 + 560 <= t_end <= 1000 + 1000 + 660  # the configured end-point
    start = next(e for _, e in evs if e.kind == "start")
    assert start.audio.size >= 8000 * 0.3  # pre-roll kept


def test_vad_end_point_is_configurable():
    sig = np.concatenate([tone(500, -70), tone(800, -20), tone(1500, -70)])
    ends = {ms: [t for t, e in run_vad(sig, silence_ms=ms) if e.kind == "end"][0] for ms in (300, 900)}
    assert 550 <= ends[900] - ends[300] <= 650


def test_vad_ignores_clicks_and_adapts_to_noise():
    rng = np.random.default_rng(0)
    noise = (rng.normal(0, 10 ** (-30 / 20) * 32767, 8000 * 3)).astype(np.int16)  # loud line noise
    click = np.zeros(8000, dtype=np.int16)
    click[4000:4080] = 20000  # 10 ms click
    assert [e for _, e in run_vad(click) if e.kind == "start"] == []
    assert [e for _, e in run_vad(noise) if e.kind == "start"] == []  # steady line noise is not speech
    speech_over_noise = noise.copy()
    speech_over_noise[8000:16000] += tone(1000, -8)
    assert [e.kind for _, e in run_vad(speech_over_noise) if e.kind != "audio"][:1] == ["start"]


def test_vad_cuts_long_utterances():
    evs = run_vad(np.concatenate([tone(300, -70), tone(5000, -20)]), max_utterance_ms=2000)
    ends = [e for _, e in evs if e.kind == "end"]
    assert ends and ends[0].reason == "max_length"


def test_vad_on_real_speech():
    clip = read_audio(FIXTURES / "speech" / "tuyen_north_male.wav")
    x = resample(clip, 8000).array()
    sig = np.concatenate([np.zeros(8000, np.int16), x, np.zeros(8000, np.int16)])
    evs = [(t, e.kind) for t, e in run_vad(sig) if e.kind != "audio"]
    assert evs[0][1] == "start" and 800 <= evs[0][0] <= 1400
    last_end = [t for t, k in evs if k == "end"][-1]
    speech_end_ms = 1000 + 1000 * x.size / 8000
    assert speech_end_ms - 400 <= last_end <= speech_end_ms + 800


# --- the segmenter alone: flags and durations in, no audio analysis, no clock ----------------------


def feed(seg: Segmenter, flags: str, start_ms: int = 0) -> list[tuple[int, SpeechStart | SpeechEnd]]:
    """'x' = a 20 ms speech chunk, '.' = a 20 ms non-speech chunk; returns (chunk index, event)."""
    out = []
    for i, flag in enumerate(flags):
        ev = seg.process(silent(at_ms=start_ms + 20 * i), flag == "x")
        if ev is not None:
            out.append((i, ev))
    return out


def test_segmenter_starts_after_min_speech_with_preroll_and_ends_after_silence():
    seg = Segmenter(SegmenterSettings(min_speech_ms=100, silence_ms=200, preroll_ms=60))
    events = feed(seg, "." * 20 + "x" * 10 + "." * 12)
    (i_start, start), (i_end, end) = events
    assert i_start == 24 and isinstance(start, SpeechStart)  # the 5th speech chunk makes 100 ms
    # Kept: 3 chunks of pre-roll, the 5 onset chunks and one more (9 x 20 ms), oldest first.
    assert [c.timestamp_ms for c in start.audio] == [20 * i for i in range(16, 25)]
    assert start.timestamp_ms == 320
    assert i_end == 39 and isinstance(end, SpeechEnd) and end.reason == "silence"  # 10 silent chunks
    assert end.timestamp_ms == 40 * 20 and not seg.in_speech


def test_segmenter_unvoiced_chunks_take_back_voiced_time():
    seg = Segmenter(SegmenterSettings(min_speech_ms=100))
    assert feed(seg, "x." * 20 + "xx..") == []  # clicks and crackle: never 100 ms net of the gaps
    assert [(i, type(ev)) for i, ev in feed(seg, "xxxxx")] == [(4, SpeechStart)]


def test_segmenter_cuts_at_max_length_counting_the_preroll():
    seg = Segmenter(SegmenterSettings(min_speech_ms=40, max_utterance_ms=400, preroll_ms=100))
    events = feed(seg, "." * 10 + "x" * 40)
    start, end = events[0][1], events[1][1]
    assert isinstance(start, SpeechStart) and isinstance(end, SpeechEnd) and end.reason == "max_length"
    held = sum(c.samples for c in start.audio) * 1000 // RATE
    assert held + 20 * (events[1][0] - events[0][0]) == 400


def test_segmenter_reset_forgets_the_utterance_and_the_preroll():
    seg = Segmenter(SegmenterSettings(min_speech_ms=40, preroll_ms=100))
    feed(seg, "....xx")
    assert seg.in_speech
    seg.reset()
    assert not seg.in_speech
    (_, start), *_ = feed(seg, "xx", start_ms=1000)
    assert isinstance(start, SpeechStart) and [c.timestamp_ms for c in start.audio] == [1000, 1020]


def test_segmenter_takes_any_chunk_duration():
    seg = Segmenter(SegmenterSettings(min_speech_ms=160, silence_ms=600, preroll_ms=300))
    evs = [
        seg.process(silent(ms=40, at_ms=40 * i), flag == "x")
        for i, flag in enumerate("...." + "x" * 4 + "." * 15)
    ]
    started = [i for i, ev in enumerate(evs) if isinstance(ev, SpeechStart)]
    ended = [i for i, ev in enumerate(evs) if isinstance(ev, SpeechEnd)]
    assert started == [7] and ended == [7 + 15]  # 4 x 40 ms of speech; 15 x 40 ms of silence


class ScriptedDetector:
    """A stand-in for a neural detector: says what it is told, records what it was asked."""

    def __init__(self, flags: str) -> None:
        self.flags = iter(flags)
        self.asked: list[tuple[int, bool]] = []

    def is_speech(self, chunk: AudioChunk, in_speech: bool) -> bool:
        self.asked.append((chunk.timestamp_ms, in_speech))
        return next(self.flags) == "x"


def test_any_detector_drives_the_segmenter():
    detector: SpeechDetector = ScriptedDetector("..xxxxxxxxx" + "." * 30)
    seg = Segmenter()
    kinds = []
    for i in range(41):
        chunk = silent(at_ms=20 * i)
        ev = seg.process(chunk, detector.is_speech(chunk, seg.in_speech))
        if ev is not None:
            kinds.append((i, type(ev).__name__))
    assert kinds == [(9, "SpeechStart"), (40, "SpeechEnd")]
    assert detector.asked[9] == (180, False) and detector.asked[10] == (200, True)


# --- the energy detector alone --------------------------------------------------------------------


def test_energy_detector_learns_noise_outside_speech_only():
    loud_noise = AudioChunk.from_array(tone(20, -35), RATE)
    voice = AudioChunk.from_array(tone(20, -15), RATE)
    det = EnergyDetector()
    for _ in range(60):
        assert not det.is_speech(loud_noise, in_speech=False)  # the noise level follows it at once
    assert abs(det.noise_db - (-35)) < 0.5 and abs(det.threshold() - (-23)) < 0.5
    assert det.is_speech(voice, in_speech=False)
    held = EnergyDetector()
    for _ in range(60):
        assert held.is_speech(loud_noise, in_speech=True)  # above -38 dBFS; nothing learnt in speech
    assert held.noise_db == -60.0 and held.threshold() == -38.0


def test_energy_detector_noise_level_is_the_quietest_of_the_last_second():
    det = EnergyDetector()
    quiet, loud = AudioChunk.from_array(tone(20, -70), RATE), AudioChunk.from_array(tone(20, -30), RATE)
    det.is_speech(quiet, in_speech=False)
    for _ in range(49):
        det.is_speech(loud, in_speech=False)
    assert det.noise_db < -65  # the quiet chunk is still within the second
    det.is_speech(loud, in_speech=False)
    assert abs(det.noise_db - (-30)) < 0.5  # now it is not


def test_level_db():
    assert level_db(silent()) == -120.0 and level_db(AudioChunk(b"", RATE)) == -120.0
    assert abs(level_db(AudioChunk.from_array(tone(200, -20), RATE)) - (-20)) < 0.2


def test_level_db_equals_the_float_formula_bit_for_bit():
    import math

    def float_db(x: np.ndarray) -> float:
        rms = math.sqrt(float(np.mean(np.square(x.astype(np.float64) / 32768.0))))
        return 20 * math.log10(rms) if rms > 1e-6 else -120.0

    rng = np.random.default_rng(7)
    for n in (160, 160, 320, 1, 7, 4000) * 200:
        x = np.clip(rng.normal(0, 10 ** rng.uniform(0, 4.6), n), -32768, 32767).astype(np.int16)
        assert level_db(AudioChunk.from_array(x, RATE)) == float_db(x)
    extreme = np.full(160, -32768, np.int16)
    assert level_db(AudioChunk.from_array(extreme, RATE)) == float_db(extreme)


# --- pauses, end of turn on request, ceilings, barge-in onset ----------------------------------------


def scripted(seg: Segmenter, flags: str, start: int = 0) -> list[tuple[int, object]]:
    """Feed 20 ms chunks flagged by `flags` ("x" speech, "." not); (chunk index, event) for each event."""
    out = []
    for i, flag in enumerate(flags, start):
        ev = seg.process(silent(at_ms=20 * i), flag == "x")
        if ev is not None:
            out.append((i, ev))
    return out


def test_a_pause_is_reported_once_and_the_ceiling_still_ends_the_utterance():
    seg = Segmenter(SegmenterSettings(min_speech_ms=100, silence_ms=600, preroll_ms=60, pause_ms=200))
    evs = scripted(seg, "xxxxxx" + "." * 5 + "x" + "." * 40)
    kinds = [(i, type(ev).__name__) for i, ev in evs]
    # onset after 5 voiced chunks; a 100 ms gap is no pause; 10 silent chunks (200 ms) are; 30 end it
    assert kinds == [(4, "SpeechStart"), (21, "SpeechPause"), (41, "SpeechEnd")]
    pause = evs[1][1]
    assert isinstance(pause, SpeechPause) and pause.pause == 1 and pause.timestamp_ms == 22 * 20
    assert evs[2][1].reason == "silence"


def test_end_turn_ends_the_utterance_only_during_the_pause_it_was_asked_about():
    seg = Segmenter(SegmenterSettings(min_speech_ms=100, silence_ms=1200, preroll_ms=60, pause_ms=200))
    evs = scripted(seg, "xxxxx" + "." * 10 + "xxx" + "." * 10)
    pauses = [ev for _, ev in evs if isinstance(ev, SpeechPause)]
    assert [p.pause for p in pauses] == [1, 2]
    assert seg.end_turn(1) is None  # the caller spoke again after pause 1: a late verdict is stale
    end = seg.end_turn(2)
    assert isinstance(end, SpeechEnd) and end.reason == "turn" and end.timestamp_ms == 28 * 20
    assert not seg.in_speech and seg.end_turn(2) is None


def test_a_ceiling_of_its_own_holds_for_one_utterance():
    seg = Segmenter(SegmenterSettings(min_speech_ms=100, silence_ms=400, preroll_ms=60))
    scripted(seg, "xxxxx")
    seg.ceiling_ms = 1000  # e.g. a code being said digit by digit
    evs = scripted(seg, "." * 60, start=5)
    assert [(i, ev.reason) for i, ev in evs] == [(54, "silence")]  # 50 x 20 ms
    evs = scripted(seg, "xxxxx" + "." * 30, start=100)  # the next utterance has the usual 400 ms
    assert [(i, type(ev).__name__) for i, ev in evs] == [(104, "SpeechStart"), (124, "SpeechEnd")]


def test_barge_in_needs_longer_speech_while_a_prompt_plays():
    settings = SegmenterSettings(min_speech_ms=100, preroll_ms=60, barge_in_min_speech_ms=300)
    quiet_line, playing = Segmenter(settings), Segmenter(settings)
    playing.barge_in = True
    assert [i for i, _ in scripted(quiet_line, "x" * 20)] == [4]
    # a 160 ms cough does not interrupt the prompt; 300 ms of speech does
    assert [i for i, _ in scripted(playing, "x" * 8 + "." * 10 + "x" * 20)] == [32]
