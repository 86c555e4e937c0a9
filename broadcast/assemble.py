"""Assembly of a segment with pydub: intro jingle, speech over a ducked music bed, outro jingle, fades."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hotline.errors import AudioError, HotlineError
from voice.audio import AudioChunk, integrated_loudness, read_audio, resample

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
                f"{key} file {name!r} of template {template_id!r} is missing: expected {path} "
                "(regenerate our jingles with `python audio_assets/jingles/generate.py` or fix the template)"
            )
        out[key] = path
    return Assets(**out)


def _load(path: Path, rate: int) -> np.ndarray:
    try:
        chunk = read_audio(path, max_seconds=600)
    except AudioError as exc:
        raise AssetError(f"cannot use {path}: {exc}") from None
    return resample(chunk, rate).array().astype(np.float32) / np.float32(32768.0)


def _level(x: np.ndarray, rate: int, lufs: float) -> np.ndarray:
    measured = integrated_loudness(x, rate) if len(x) > rate * 0.5 else float("-inf")
    if not np.isfinite(measured):
        return x
    return x * 10 ** ((lufs - measured) / 20)


def _segment(x: np.ndarray, rate: int):  # -> pydub.AudioSegment
    from pydub import AudioSegment

    pcm = np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2").tobytes()
    return AudioSegment(data=pcm, sample_width=2, frame_rate=rate, channels=1)


def _floats(seg) -> np.ndarray:  # seg: pydub.AudioSegment
    return np.frombuffer(seg.raw_data, dtype="<i2").astype(np.float64) / 32768.0  # mastering works in float64


def duck_envelope(speech: np.ndarray, rate: int, duck_db: float) -> np.ndarray:
    """Gain (linear) for the bed: 1 in pauses, -duck_db under speech, with attack/release smoothing."""
    from scipy.ndimage import maximum_filter1d, uniform_filter1d

    frame = max(1, int(0.02 * rate))
    energy = uniform_filter1d(speech * speech, frame)
    active = energy > (10 ** (-50 / 10))  # above -50 dBFS: someone is speaking
    # Hold the ducking through the short gaps between words, and start it just before speech.
    held = maximum_filter1d(active.astype(np.float32), int(DUCK_RELEASE_S * rate))
    smooth = uniform_filter1d(held, max(1, int(DUCK_ATTACK_S * rate)))
    return 10 ** (-duck_db * smooth / 20)


def assemble(
    speech: AudioChunk, assets: Assets, rate: int, *, bed_level_db: float, bed_duck_db: float, use_bed: bool
) -> np.ndarray:
    """Speech (already with its pauses) -> the full programme as float samples at `rate`."""
    # float32 while assembling: half the memory of float64, far more precision than the 16-bit output.
    x = resample(speech, rate).array().astype(np.float32) / np.float32(32768.0)
    x = _level(x, rate, SPEECH_REF_LUFS)
    if use_bed and assets.bed is not None:
        bed = _level(_load(assets.bed, rate), rate, SPEECH_REF_LUFS)
        lead = BED_FADE_IN_MS
        total = len(x) + int(rate * (lead + BED_FADE_OUT_MS) / 1000)
        reps = int(np.ceil(total / max(1, len(bed))))
        bed = np.tile(bed, reps)[:total] * np.float32(10 ** (bed_level_db / 20))
        head = int(rate * lead / 1000)
        padded = np.concatenate(
            [np.zeros(head, dtype=np.float32), x, np.zeros(total - len(x) - head, dtype=np.float32)]
        )
        bed = bed * duck_envelope(padded, rate, bed_duck_db)
        bed_seg = _segment(bed, rate).fade_in(BED_FADE_IN_MS).fade_out(BED_FADE_OUT_MS)
        out = bed_seg.overlay(_segment(padded, rate))
    else:
        out = _segment(x, rate)
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
