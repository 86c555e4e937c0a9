"""Our own jingles and music bed, synthesized from sine partials (no third-party music).

`python -m broadcast.jingles [DIR]` regenerates `audio_assets/jingles/*.wav`; the output is deterministic.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

JINGLE_RATE = 44100  # Hz of the intro/outro jingles
BED_RATE = 22050  # Hz of the music bed (a soft pad: nothing above a few kHz)


def _note_hz(semitones_from_a4: float) -> float:
    return 440.0 * 2.0 ** (semitones_from_a4 / 12.0)


def bell(freq: float, seconds: float, rate: int) -> np.ndarray:
    """A soft bell/marimba tone: harmonic and slightly inharmonic partials with their own decays."""
    t = np.arange(int(seconds * rate)) / rate
    partials = [(1.0, 1.0, 2.2), (2.0, 0.35, 3.5), (3.01, 0.18, 5.0), (4.2, 0.08, 7.0), (5.4, 0.04, 9.0)]
    out = np.zeros_like(t)
    for ratio, amp, decay in partials:
        f = freq * ratio
        if f < rate / 2 * 0.9:
            out += amp * np.sin(2 * np.pi * f * t) * np.exp(-decay * t)
    attack = np.minimum(1.0, t / 0.008)  # 8 ms attack: no click
    return out * attack


def _place(buf: np.ndarray, tone: np.ndarray, at_s: float, rate: int, gain: float) -> None:
    start = int(at_s * rate)
    end = min(len(buf), start + len(tone))
    buf[start:end] += gain * tone[: end - start]


def _finish(buf: np.ndarray, rate: int, peak: float = 0.7, fade_s: float = 0.3) -> np.ndarray:
    fade = int(fade_s * rate)
    buf[-fade:] *= np.linspace(1.0, 0.0, fade) ** 2
    return buf * (peak / max(1e-9, float(np.max(np.abs(buf)))))


def intro(rate: int = JINGLE_RATE) -> np.ndarray:
    """Rising four-note motif (C5 E5 G5 C6) over a C major chord: about 3.5 s."""
    buf = np.zeros(int(3.6 * rate))
    for i, semis in enumerate([3, 7, 10, 15]):  # C5, E5, G5, C6 relative to A4
        _place(buf, bell(_note_hz(semis), 2.4, rate), 0.28 * i, rate, 0.8)
    for semis in (-9, -5, -2):  # C4 E4 G4 chord under the last note
        _place(buf, bell(_note_hz(semis), 2.6, rate), 0.84, rate, 0.35)
    return _finish(buf, rate)


def outro(rate: int = JINGLE_RATE) -> np.ndarray:
    """Falling motif (C6 G5 E5 C5) resolving on a low C chord: about 3.3 s."""
    buf = np.zeros(int(3.4 * rate))
    for i, semis in enumerate([15, 10, 7, 3]):
        _place(buf, bell(_note_hz(semis), 2.2, rate), 0.3 * i, rate, 0.75)
    for semis in (-21, -9, -5):
        _place(buf, bell(_note_hz(semis), 2.5, rate), 0.9, rate, 0.4)
    return _finish(buf, rate)


def alert(rate: int = JINGLE_RATE) -> np.ndarray:
    """Attention signal of emergency notices: three falling two-tone calls (A5-E5), about 3 s.

    Unlike the column's gentle motif, it is recognizably an alarm from the first half second.
    """
    buf = np.zeros(int(3.1 * rate))
    for i in range(3):
        _place(buf, bell(_note_hz(12), 0.6, rate), 0.9 * i, rate, 0.9)  # A5
        _place(buf, bell(_note_hz(7), 0.9, rate), 0.9 * i + 0.4, rate, 0.9)  # E5
    return _finish(buf, rate)


def music_bed(rate: int = BED_RATE, seconds: float = 24.0) -> np.ndarray:
    """A quiet, loopable pad: C - Am - F - G, each chord 6 s, slow swells (loops without a seam)."""
    n = int(seconds * rate)
    t = np.arange(n) / rate
    chords = [(-9, -5, -2), (-12, -9, -5), (-16, -12, -9), (-14, -10, -7)]  # C, Am, F, G (A4 = 0)
    span = n // len(chords)
    buf = np.zeros(n)
    cross = int(0.8 * rate)  # chords overlap by 0.8 s so the change is smooth
    for k, chord in enumerate(chords):
        start = k * span
        for semis in chord:
            f = _note_hz(semis)
            for detune in (-0.6, 0.6):  # two slightly detuned voices: a soft chorus
                # Whole periods per loop: the end joins the start without a click.
                fl = round((f + detune) * seconds) / seconds
                wave = np.sin(2 * np.pi * fl * t) + 0.25 * np.sin(2 * np.pi * 2 * fl * t)
                env = np.zeros(n)
                idx = (np.arange(n) - start) % n  # wraps around: the loop point is seamless
                length = span + cross
                inside = idx < length
                ramp = np.minimum(1.0, np.minimum(idx, length - idx) / cross)
                env[inside] = np.sin(0.5 * np.pi * ramp[inside]) ** 2
                buf += wave * env
    swell = 0.85 + 0.15 * np.sin(2 * np.pi * t / seconds * 4)  # gentle movement, whole periods per loop
    buf *= swell
    return buf * (0.5 / float(np.max(np.abs(buf))))


def generate(directory: Path) -> list[Path]:
    """Write intro.wav, outro.wav, alert.wav and bed.wav (16-bit mono) into `directory`."""
    import soundfile as sf

    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, data, rate in (
        ("intro.wav", intro(), JINGLE_RATE),
        ("outro.wav", outro(), JINGLE_RATE),
        ("alert.wav", alert(), JINGLE_RATE),
        ("bed.wav", music_bed(), BED_RATE),
    ):
        path = directory / name
        sf.write(str(path), np.clip(data, -1, 1), rate, subtype="PCM_16")
        written.append(path)
    return written


if __name__ == "__main__":
    target = (
        Path(sys.argv[1])
        if len(sys.argv) > 1
        else Path(__file__).resolve().parents[1] / "audio_assets/jingles"
    )
    for p in generate(target):
        print(p)
