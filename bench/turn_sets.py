"""The end-of-turn benchmark sets, built from the real recordings every time (seeded, nothing stored).

Everything is telephone audio as the call listener gets it: 8 kHz, 16-bit, after a G.711 mu-law round
trip, over a faint line noise (never digital silence, which no real line has).

* **Paused utterances**: the six recordings of `tests/fixtures/speech`, cut where their energy dips
  between syllables, with 300-900 ms of line noise put in the cut:
  - `two_phrases`: one pause near the middle (two phrases);
  - `code_groups`: three pauses at the quarter points, as when a caller reads a dossier code in groups
    (the recordings hold no digits, so the groups are syllables: what matters to an end-pointer is the
    rhythm of short groups and pauses);
  - `hesitation`: one longer pause (500-900 ms) before the last word;
  - `after_request`: one pause right after words that already are a request of the test catalog, before
    the caller goes on ("... ném vào bãi cỏ | xanh tươi ...", "... đánh bắt cá | được thương mại hóa"):
    the hardest case for an end of turn by words, of the kind of "... logic tương tự | với người khác",
    which the `code_groups` and `hesitation` cuts of that recording already make.
  Speech is set to an active level of -22 dBFS +-4 dB (quiet and loud callers).
* **Noise only** (what a prompt plays over, and must not be interrupted by): street traffic, babble
  mixed from the fixture voices, wind, an engine's harmonic hum, and the hotline's own prompt leaking
  back (echo), each at a moderate and a loud level.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
from scipy import signal

from core.yamlfile import load_yaml
from voice.audio import AudioChunk, read_audio, resample, ulaw_decode, ulaw_encode

ROOT = Path(__file__).resolve().parents[1]
SPEECH = ROOT / "tests" / "fixtures" / "speech"
RATE = 8000  # Hz: the call's audio
SEED = 11
PAUSE_MS = (300, 900)  # internal pauses of the paused set
HESITATION_MS = (500, 900)  # the pause before the last word (a hesitation is the longer kind)
VARIANTS = 4  # paused utterances per recording and kind (different pauses and levels)
SPEECH_DB = -22.0  # active speech level, dBFS (a telephone line at its nominal level)
SPEECH_SPREAD_DB = 4.0  # +- around it
LINE_NOISE_DB = -62.0  # the line's own hiss under everything
LEAD_MS = 600  # line noise before an utterance
TAIL_MS = 2500  # and after it: room for the slowest end-pointer to close the turn
# Noise levels (dBFS RMS): "moderate" is a caller on a street or in a market 14 dB under their voice,
# "loud" only 6 dB under it (a motorbike passing, wind on the microphone).
NOISE_LEVELS_DB = {"moderate": -36.0, "loud": -28.0}
# The prompt's own echo: played at about -18 dBFS, back 20 dB (moderate) and 12 dB (loud) lower.
ECHO_LEVELS_DB = {"moderate": -38.0, "loud": -30.0}
NOISE_KINDS = ("street", "babble", "wind", "engine", "echo")
ECHO_DELAY_MS = 40  # the line's round trip: the prompt comes back this much later
FRAME_MS = 10  # analysis frames of the cutting
QUIET_DB = -30.0  # a frame this far under the recording's active level is part of a gap, not a syllable
# `after_request` cuts: recording -> ms into the trimmed recording, the energy minimum after the words that
# make a request (found by recognizing the audio up to each minimum: "... ném vào bãi cỏ" is heard as
# "... ném vào bãi con" there in isolation; "cá" runs into "được" with no gap, so that cut is in the voicing,
# as a caller stopping short would make it).
AFTER_REQUEST_MS = {"tuyen_north_male": 2375, "vinh_south_male": 2295}


@dataclass(frozen=True, slots=True)
class Paused:
    """One utterance with internal pauses; times are positions in `audio`, ms."""

    name: str  # "<kind>/<recording>/<variant>"
    kind: str  # "two_phrases" | "code_groups" | "hesitation"
    audio: AudioChunk  # 8 kHz telephone audio, lead and tail of line noise included
    text: str  # what the speaker says (clips.yaml)
    speech_start_ms: int  # the first syllable begins
    speech_end_ms: int  # the caller has finished: the end of the last syllable
    pauses: tuple[tuple[int, int], ...]  # (start, end) of each pause put in
    level_db: float  # active speech level


@dataclass(frozen=True, slots=True)
class Noise:
    """Noise-only audio (no speech of the caller's) at one level."""

    name: str  # "<kind>/<level>"
    kind: str
    level: str  # "moderate" | "loud"
    audio: AudioChunk
    level_db: float  # RMS level, dBFS
    playback: AudioChunk | None = None  # echo: the prompt as we sent it (what an echo rule may compare)


@dataclass(frozen=True, slots=True)
class Clip:
    """A recording at the call's rate, trimmed to its speech, with where it may be cut."""

    name: str
    text: str
    samples: np.ndarray  # float, -1..1, active level 0 dB (normalized)
    cuts: tuple[int, ...]  # sample positions of energy dips between syllables, in order


# --- the recordings ------------------------------------------------------------------------------


def _frames_db(x: np.ndarray, frame: int) -> np.ndarray:
    n = len(x) // frame
    power = np.mean(np.square(x[: n * frame].reshape(n, frame)), axis=1)
    return 10 * np.log10(power + 1e-12)


def active_level_db(x: np.ndarray) -> float:
    """Active speech level (dB re full scale): the RMS of the 10 ms frames within 30 dB of the loudest."""
    db = _frames_db(x, RATE * FRAME_MS // 1000)
    active = db[db > db.max() - 30] if db.size else db
    return float(10 * np.log10(np.mean(10 ** (active / 10)))) if active.size else -120.0


@cache
def clips() -> tuple[Clip, ...]:
    """The six recordings at 8 kHz, trimmed to their speech (40 dB under the loudest frame)."""
    meta = load_yaml(SPEECH / "clips.yaml").data["clips"]
    out = []
    frame = RATE * FRAME_MS // 1000
    for item in meta:
        audio = resample(read_audio(SPEECH / item["file"]), RATE)
        x = audio.array().astype(np.float64) / 32768.0
        db = _frames_db(x, frame)
        voiced = np.flatnonzero(db > db.max() - 40)
        x = x[voiced[0] * frame : (voiced[-1] + 1) * frame]
        x = x / 10 ** (active_level_db(x) / 20)
        out.append(Clip(item["file"].removesuffix(".wav"), item["text"], x, _dips(x)))
    return tuple(out)


def _dips(x: np.ndarray) -> tuple[int, ...]:
    """Local minima of the 30 ms smoothed energy at least 15 dB under the clip's loudest frames."""
    frame = RATE * FRAME_MS // 1000
    db = _frames_db(x, frame)
    smooth = np.convolve(db, np.ones(3) / 3, mode="same")
    top = np.percentile(smooth, 90)
    edge = 15  # frames (150 ms): no cut in the first or last syllable's attack and decay
    found = [
        i
        for i in range(edge, len(smooth) - edge)
        if smooth[i] <= smooth[i - 1] and smooth[i] < smooth[i + 1] and smooth[i] < top - 15
    ]
    return tuple(i * frame + frame // 2 for i in found)


def _quiet_span(x: np.ndarray, cut: int) -> tuple[int, int]:
    """The stretch around a dip quieter than `QUIET_DB` (the recording's own gap), in samples: it is
    replaced by the pause, so that the pause is all the caller's silence there."""
    frame = RATE * FRAME_MS // 1000
    db = _frames_db(x, frame)
    i = j = min(cut // frame, len(db) - 1)
    while i > 0 and db[i - 1] < QUIET_DB:
        i -= 1
    while j < len(db) - 1 and db[j + 1] < QUIET_DB:
        j += 1
    return i * frame, (j + 1) * frame


def _nearest(cuts: tuple[int, ...], target: int, used: list[int], apart: int) -> int:
    """The dip nearest `target` that is `apart` samples from every cut already chosen."""
    free = [c for c in cuts if all(abs(c - u) >= apart for u in used)]
    if not free:
        raise ValueError("no dip left to cut at")
    return min(free, key=lambda c: abs(c - target))


# --- paused utterances ---------------------------------------------------------------------------


def _line_noise(rng: np.random.Generator, n: int) -> np.ndarray:
    """The line's hiss: white noise, band-limited like a phone line, at `LINE_NOISE_DB`."""
    return _band(rng.standard_normal(n)) * 10 ** (LINE_NOISE_DB / 20) / 0.5


def _band(x: np.ndarray, low: float = 100.0, high: float = 3600.0) -> np.ndarray:
    """Band-pass to the telephone band, then scale to unit RMS (times 0.5, for headroom)."""
    sos = signal.butter(4, [low, high], btype="band", fs=RATE, output="sos")
    y = signal.sosfilt(sos, x)
    rms = float(np.sqrt(np.mean(np.square(y)))) or 1.0
    return 0.5 * y / rms


def _phone(x: np.ndarray) -> AudioChunk:
    """Float audio -> int16 after a G.711 mu-law round trip (what arrives over RTP)."""
    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype(np.int16)
    return AudioChunk.from_array(ulaw_decode(ulaw_encode(pcm)), RATE)


def _ms(samples: int) -> int:
    return int(round(samples * 1000 / RATE))


def _assemble(
    pieces: list[np.ndarray], pauses_ms: list[int], gain: float, rng: np.random.Generator
) -> tuple[AudioChunk, int, int, tuple[tuple[int, int], ...]]:
    lead, tail = RATE * LEAD_MS // 1000, RATE * TAIL_MS // 1000
    parts: list[np.ndarray] = [np.zeros(lead)]
    spans = []
    pos = lead
    for i, piece in enumerate(pieces):
        parts.append(piece * gain)
        pos += len(piece)
        if i < len(pauses_ms):
            n = RATE * pauses_ms[i] // 1000
            parts.append(np.zeros(n))
            spans.append((_ms(pos), _ms(pos + n)))
            pos += n
    parts.append(np.zeros(tail))
    x = np.concatenate(parts)
    x += _line_noise(rng, len(x))
    return _phone(x), _ms(lead), _ms(pos), tuple(spans)


def paused_utterances(seed: int = SEED, variants: int = VARIANTS) -> list[Paused]:
    """Every recording x kind x variant, seeded: the same list on every machine."""
    rng = np.random.default_rng(seed)
    out: list[Paused] = []
    for clip in clips():
        n = len(clip.samples)
        apart = RATE * 300 // 1000  # cuts at least 300 ms apart: groups of a few syllables
        for kind in ("two_phrases", "code_groups", "hesitation"):
            for v in range(variants):
                if kind == "two_phrases":
                    cuts = [_nearest(clip.cuts, n // 2, [], apart)]
                    pauses = [int(rng.integers(PAUSE_MS[0], PAUSE_MS[1] + 1))]
                elif kind == "code_groups":
                    cuts = []
                    for q in (1, 2, 3):
                        cuts.append(_nearest(clip.cuts, n * q // 4, cuts, apart))
                    cuts.sort()
                    pauses = [int(p) for p in rng.integers(PAUSE_MS[0], PAUSE_MS[1] + 1, size=3)]
                else:  # the last dip at least 250 ms before the end: the last word follows it
                    last = [c for c in clip.cuts if c <= n - RATE // 4]
                    cuts = [last[-1]]
                    pauses = [int(rng.integers(HESITATION_MS[0], HESITATION_MS[1] + 1))]
                pieces, at = [], 0
                for a, b in (_quiet_span(clip.samples, c) for c in cuts):
                    pieces.append(clip.samples[at:a])
                    at = b
                pieces.append(clip.samples[at:])
                level = SPEECH_DB + float(rng.uniform(-SPEECH_SPREAD_DB, SPEECH_SPREAD_DB))
                audio, start, end, spans = _assemble(pieces, pauses, 10 ** (level / 20), rng)
                out.append(
                    Paused(
                        f"{kind}/{clip.name}/{v}", kind, audio, clip.text, start, end, spans, round(level, 1)
                    )
                )
    return out + _after_request(np.random.default_rng(seed + 4), variants)


def _after_request(rng: np.random.Generator, variants: int) -> list[Paused]:
    """The `after_request` kind (its own random stream: the other kinds stay as they were)."""
    out: list[Paused] = []
    frame = RATE * FRAME_MS // 1000
    for clip in clips():
        at_ms = AFTER_REQUEST_MS.get(clip.name)
        if at_ms is None:
            continue
        # The quietest 10 ms frame within 30 ms of the cut found by recognition.
        db = _frames_db(clip.samples, frame)
        i = at_ms // FRAME_MS
        i = min(range(i - 3, i + 4), key=lambda k: db[k])
        a, b = _quiet_span(clip.samples, i * frame + frame // 2)
        pieces = [clip.samples[:a], clip.samples[b:]]
        for v in range(variants):
            pauses = [int(rng.integers(PAUSE_MS[0], PAUSE_MS[1] + 1))]
            level = SPEECH_DB + float(rng.uniform(-SPEECH_SPREAD_DB, SPEECH_SPREAD_DB))
            audio, start, end, spans = _assemble(pieces, pauses, 10 ** (level / 20), rng)
            name = f"after_request/{clip.name}/{v}"
            out.append(Paused(name, "after_request", audio, clip.text, start, end, spans, round(level, 1)))
    return out


# --- noise ---------------------------------------------------------------------------------------


def _envelope(rng: np.random.Generator, n: int, rate_hz: float, depth_db: float) -> np.ndarray:
    """A slow random gain (linear), varying about `rate_hz` times a second by up to +-depth_db."""
    points = max(4, int(n / RATE * rate_hz) + 2)
    knots = rng.uniform(-depth_db, depth_db, points)
    db = np.interp(np.arange(n), np.linspace(0, n, points), knots)
    return 10 ** (db / 20)


def _street(rng: np.random.Generator, n: int) -> np.ndarray:
    """Traffic: brown-ish rumble swelling as vehicles pass, plus clatter (short broadband bursts)."""
    rumble = _band(signal.lfilter([1.0], [1.0, -0.97], rng.standard_normal(n)))
    x = rumble * _envelope(rng, n, 0.3, 8.0)
    for at in rng.integers(0, max(1, n - RATE // 10), size=max(1, n // (RATE * 3))):
        burst = RATE * int(rng.integers(20, 80)) // 1000
        x[at : at + burst] += _band(rng.standard_normal(burst)) * float(rng.uniform(0.5, 2.0))
    return x


def _babble(rng: np.random.Generator, n: int) -> np.ndarray:
    """Several fixture voices at once, each looped from a random point and a few dB apart."""
    x = np.zeros(n)
    for clip in clips():
        s = clip.samples
        reps = int(np.ceil(n / len(s))) + 1
        looped = np.tile(s, reps)
        start = int(rng.integers(0, len(s)))
        x += looped[start : start + n] * 10 ** (float(rng.uniform(-6, 0)) / 20)
    return x


def _wind(rng: np.random.Generator, n: int) -> np.ndarray:
    """Wind on the microphone: low-frequency rumble in gusts (0.2-1 per second)."""
    sos = signal.butter(2, 250, btype="low", fs=RATE, output="sos")
    low = signal.sosfilt(sos, rng.standard_normal(n))
    return _band(low, 60.0, 3600.0) * _envelope(rng, n, 0.6, 10.0)


def _engine(rng: np.random.Generator, n: int) -> np.ndarray:
    """An engine: a harmonic hum whose firing rate wanders (idle to revving), plus a little noise."""
    t = np.arange(n) / RATE
    f0 = 35 + 25 * (1 + np.sin(2 * np.pi * 0.07 * t + float(rng.uniform(0, 6.28)))) / 2
    f0 = f0 * _envelope(rng, n, 0.5, 1.0)
    phase = 2 * np.pi * np.cumsum(f0) / RATE
    hum = sum((1 / k) * np.sin(k * phase + float(rng.uniform(0, 6.28))) for k in range(1, 30))
    x = _band(np.asarray(hum), 60.0, 3600.0) + 0.3 * _band(rng.standard_normal(n))
    return x


def _prompt(rng: np.random.Generator, n: int) -> np.ndarray:
    """A prompt as the hotline plays it: recorded sentences with short gaps (unit RMS x 0.5)."""
    voices = clips()
    parts, total = [], 0
    while total < n:
        clip = voices[int(rng.integers(0, len(voices)))]
        gap = np.zeros(RATE * int(rng.integers(200, 700)) // 1000)
        parts += [clip.samples, gap]
        total += len(clip.samples) + len(gap)
    x = np.concatenate(parts)[:n]
    return 0.5 * x / (float(np.sqrt(np.mean(np.square(x)))) or 1.0)


def _echo(prompt: np.ndarray) -> np.ndarray:
    """That prompt leaking back from the line: delayed, band-limited by the hybrid."""
    delay = RATE * ECHO_DELAY_MS // 1000
    return _band(np.concatenate([np.zeros(delay), prompt[: len(prompt) - delay]]), 300.0, 3400.0)


_MAKERS = {"street": _street, "babble": _babble, "wind": _wind, "engine": _engine}
PROMPT_DB = -18.0  # level we play prompts at (the echo's source)


def noises(seconds: float = 120.0, seed: int = SEED) -> list[Noise]:
    """Each noise kind at each level, `seconds` long, over the line's hiss; and the hiss alone ("line")."""
    rng = np.random.default_rng(seed + 1)
    n = int(seconds * RATE)
    out = [Noise("line/quiet", "line", "quiet", hiss := _phone(_line_noise(rng, n)), round(rms_db(hiss), 1))]
    for kind in NOISE_KINDS:
        playback = None
        if kind == "echo":
            prompt = _prompt(rng, n)
            base = _echo(prompt)
            playback = _phone(prompt * 10 ** (PROMPT_DB / 20) / 0.5)
        else:
            base = _MAKERS[kind](rng, n)
        rms = float(np.sqrt(np.mean(np.square(base)))) or 1.0
        levels = ECHO_LEVELS_DB if kind == "echo" else NOISE_LEVELS_DB
        for level, db in levels.items():
            x = base / rms * 10 ** (db / 20) + _line_noise(rng, n)
            audio = _phone(x)
            out.append(Noise(f"{kind}/{level}", kind, level, audio, round(rms_db(audio), 1), playback))
    return out


def prompt_playback(seconds: float = 120.0, seed: int = SEED) -> AudioChunk:
    """A prompt as we send it, at `PROMPT_DB`: what plays while noise-only audio comes in (an echo rule
    compares the line with it; the echo noise carries its own, which is what leaks back)."""
    rng = np.random.default_rng(seed + 2)
    return _phone(_prompt(rng, int(seconds * RATE)) * 10 ** (PROMPT_DB / 20) / 0.5)


def complete_utterances(seed: int = SEED, variants: int = VARIANTS) -> list[Paused]:
    """The six recordings whole, as complete requests (no pause put in), at seeded levels: how long each
    end-pointer makes a caller who has finished wait."""
    rng = np.random.default_rng(seed + 3)
    out: list[Paused] = []
    for clip in clips():
        for v in range(variants):
            level = SPEECH_DB + float(rng.uniform(-SPEECH_SPREAD_DB, SPEECH_SPREAD_DB))
            audio, start, end, _ = _assemble([clip.samples], [], 10 ** (level / 20), rng)
            out.append(
                Paused(
                    f"complete/{clip.name}/{v}", "complete", audio, clip.text, start, end, (), round(level, 1)
                )
            )
    return out


def rms_db(chunk: AudioChunk) -> float:
    x = chunk.array().astype(np.float64) / 32768.0
    return float(10 * np.log10(np.mean(np.square(x)) + 1e-12))


def speech_in_noise(
    clip: Clip, noise: Noise, lead_ms: int, offset_ms: int = 0, level_db: float = SPEECH_DB
) -> AudioChunk:
    """A caller barging in: `lead_ms` of a noise (from `offset_ms` into it), then a recording over it."""
    x = noise.audio.array().astype(np.float64) / 32768.0
    x = x[RATE * offset_ms // 1000 :]
    lead = RATE * lead_ms // 1000
    n = min(len(x), lead + len(clip.samples) + RATE)
    x = x[:n].copy()
    speech = clip.samples[: n - lead] * 10 ** (level_db / 20)
    x[lead : lead + len(speech)] += speech
    return _phone(x)


def chunks(audio: AudioChunk, ms: int = 20) -> list[AudioChunk]:
    """20 ms chunks stamped with their position, as the RTP endpoint hands them on."""
    step = audio.rate * ms // 1000 * audio.width
    data = audio.audio
    return [
        AudioChunk(data[i : i + step], audio.rate, timestamp_ms=i // audio.width * 1000 // audio.rate)
        for i in range(0, len(data) - step + 1, step)
    ]
