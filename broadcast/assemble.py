"""Assembly of a segment with pydub: intro jingle, speech over a ducked music bed, outro jingle, fades."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from broadcast.mastering import PIECE, blockwise, integrated_loudness, pcm16
from core.errors import AudioError, HotlineError
from voice.audio import AudioChunk, read_audio, resample

logger = logging.getLogger(__name__)

SPEECH_REF_LUFS = -20.0  # speech, jingles and bed are levelled against this before the final mastering
JINGLE_REL_DB = -1.0  # jingles sit a little under the speech
INTRO_OVERLAP_MS = 600  # speech starts while the intro's last chord rings out
OUTRO_GAP_MS = 500
BED_FADE_IN_MS = 1500
BED_FADE_OUT_MS = 2500
DUCK_ATTACK_S = 0.05  # bed goes down this fast when speech starts
DUCK_RELEASE_S = 0.6  # and comes back up this slowly in pauses


class AssetError(HotlineError):
    """A jingle or music bed named by a template is missing or unreadable."""

    code = "asset_missing"


@dataclass(frozen=True)
class Assets:
    intro: Path | None
    outro: Path | None
    bed: Path | None


def find_assets(
    jingles_dir: Path, intro: str | None, outro: str | None, bed: str | None, template_id: str
) -> Assets:
    """Resolve the template's file names; a missing file is an error before any synthesis starts."""
    out: dict[str, Path | None] = {}
    for key, name in (("intro", intro), ("outro", outro), ("bed", bed)):
        if not name:
            out[key] = None
            continue
        path = jingles_dir / name
        if not path.is_file():
            raise AssetError(
                f"thiếu tệp {key} “{name}” của mẫu chương trình “{template_id}” (cần có {path}): tạo lại "
                "bằng `python audio_assets/jingles/generate.py` hoặc sửa mẫu"
            )
        out[key] = path
    return Assets(**out)


def _load(path: Path, rate: int) -> np.ndarray:
    try:
        chunk = read_audio(path, max_seconds=600)
    except AudioError as exc:
        raise AssetError(f"không dùng được tệp âm thanh {path}: {exc}") from None
    return _float32(resample(chunk, rate).array())


def _float32(pcm: np.ndarray) -> np.ndarray:
    """int16 samples -> float32 in -1..1 (one new array, scaled in place)."""
    x = pcm.astype(np.float32)
    x *= np.float32(1 / 32768.0)
    return x


def _level(x: np.ndarray, rate: int, lufs: float) -> np.ndarray:
    measured = integrated_loudness(x, rate) if len(x) > rate * 0.5 else float("-inf")
    if not np.isfinite(measured):
        return x
    x *= np.float32(10 ** ((lufs - measured) / 20))  # in place: x is always this module's own copy
    return x


def _segment(x: np.ndarray, rate: int):  # -> pydub.AudioSegment
    from pydub import AudioSegment

    return AudioSegment(data=pcm16(x), sample_width=2, frame_rate=rate, channels=1)


def _floats(seg) -> np.ndarray:  # seg: pydub.AudioSegment
    return _float32(np.frombuffer(seg.raw_data, dtype="<i2"))  # mastering works in float32


def duck_envelope(
    speech: np.ndarray, rate: int, duck_db: float, *, scale: np.ndarray | None = None
) -> np.ndarray:
    """Gain (linear) for the bed: 1 in pauses, -duck_db under speech, with attack/release smoothing.

    With `scale` (the bed), that array is multiplied by the gain in place and returned.
    """
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    frame = max(1, int(0.02 * rate))
    release = int(DUCK_RELEASE_S * rate)
    attack = max(1, int(DUCK_ATTACK_S * rate))
    threshold = np.float32(10 ** (-50 / 10))  # above -50 dBFS: someone is speaking

    def envelope(piece: np.ndarray) -> np.ndarray:
        energy = uniform_filter1d(np.square(piece, dtype=np.float32), frame)
        # Hold the ducking through the short gaps between words, and start it just before speech.
        held = maximum_filter1d((energy > threshold).astype(np.float32), release)
        smooth = uniform_filter1d(held, attack)
        smooth *= np.float32(-duck_db / 20)
        return np.power(np.float32(10.0), smooth, out=smooth)

    return blockwise(envelope, speech, frame + release + attack, scale=scale)


def _fade_gain(first: int, count: int, total: int, rate: int, in_ms: int, out_ms: int) -> np.ndarray:
    """pydub's fade_in/fade_out gains (linear ramps in 1 ms steps) for samples first..first+count of total."""
    pos = np.arange(first, first + count, dtype=np.int64)
    gain = np.ones(count, dtype=np.float32)
    if in_ms:
        ms = (pos * 1000) // rate  # millisecond from the start
        np.minimum(gain, ms.astype(np.float32) / np.float32(in_ms), out=gain)
    if out_ms:
        ms = ((total - 1 - pos) * 1000) // rate  # millisecond from the end
        np.minimum(gain, (ms + 1).astype(np.float32) / np.float32(out_ms), out=gain)
    return gain


def _mix_bed(mix: np.ndarray, bed: np.ndarray, rate: int, level: float, duck_db: float) -> None:
    """Add the looped bed under the speech in `mix`, ducked and faded, piece by piece, in place."""
    context = int((0.02 + DUCK_RELEASE_S + DUCK_ATTACK_S) * rate) + 1  # how far the ducking looks
    n = len(mix)
    saved: np.ndarray | None = None  # speech before the next piece (mix already has the bed there)
    for start in range(0, n, PIECE):
        stop = min(n, start + PIECE)
        lo, hi = max(0, start - context), min(n, stop + context)
        speech = mix[lo:hi].copy()
        if saved is not None:
            speech[: start - lo] = saved
        saved = mix[max(0, stop - context) : stop].copy()
        piece = bed[np.arange(start, stop) % len(bed)]
        piece *= duck_envelope(speech, rate, duck_db)[start - lo : stop - lo]
        piece *= _fade_gain(start, stop - start, n, rate, BED_FADE_IN_MS, BED_FADE_OUT_MS)
        piece *= np.float32(level)
        mix[start:stop] += piece


def assemble(
    speech: AudioChunk, assets: Assets, rate: int, *, bed_level_db: float, bed_duck_db: float, use_bed: bool
) -> np.ndarray:
    """Speech (already with its pauses) -> the full programme as float samples at `rate`."""
    # float32 while assembling: half the memory of float64, far more precision than the 16-bit output.
    # The speech is mixed with the bed in one float array (no extra copies of the whole programme);
    # pydub then frames it with the jingles.
    pcm = resample(speech, rate).array()
    bed_path = assets.bed if use_bed else None
    head = int(rate * BED_FADE_IN_MS / 1000) if bed_path is not None else 0
    tail = int(rate * BED_FADE_OUT_MS / 1000) if bed_path is not None else 0
    mix = np.zeros(head + len(pcm) + tail, dtype=np.float32)
    x = mix[head : head + len(pcm)]
    x[:] = pcm
    del pcm
    x *= np.float32(1 / 32768.0)
    _level(x, rate, SPEECH_REF_LUFS)  # in place, in `mix`
    if bed_path is not None:
        bed = _level(_load(bed_path, rate), rate, SPEECH_REF_LUFS)
        if len(bed):
            _mix_bed(mix, bed, rate, 10 ** (bed_level_db / 20), bed_duck_db)
    out = _segment(mix, rate)
    del mix, x
    if assets.intro is not None:
        intro = _segment(_level(_load(assets.intro, rate), rate, SPEECH_REF_LUFS + JINGLE_REL_DB), rate)
        overlap = min(INTRO_OVERLAP_MS, len(intro) // 2, len(out) // 2)
        out = (
            intro.append(out, crossfade=0)
            if overlap <= 0
            else intro.overlay(out[:overlap], position=len(intro) - overlap) + out[overlap:]
        )
    if assets.outro is not None:
        outro = _segment(_level(_load(assets.outro, rate), rate, SPEECH_REF_LUFS + JINGLE_REL_DB), rate)
        out = out + _segment(np.zeros(int(rate * OUTRO_GAP_MS / 1000)), rate) + outro
    out = out.fade_in(10).fade_out(200)  # no click at either end
    return _floats(out)
