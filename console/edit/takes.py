"""A take from the recording studio: decoded from any common format, checked, trimmed and normalized.

Pure audio work (no files but the one decoded), run in a worker thread by the routes. The checks give
Vietnamese verdicts for the page; a blocking one (no speech, far too short or long) means the take cannot
be saved, the others are advice the operator may overrule. Clipping and the noise floor are measured on
the take as recorded (normalization would hide them); loudness after trimming, so that the silence
before and after does not count.
"""

from __future__ import annotations

import logging
import subprocess
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

import numpy as np
import soundfile as sf

from broadcast.mastering import integrated_loudness  # BS.1770 piece by piece: memory flat with length
from core.errors import AudioError, HotlineError
from ivr.settings import StudioSettings
from voice.audio import (
    AUDIO_DEMUXERS,
    AudioChunk,
    ffmpeg_input,
    read_audio,
    resample,
    to_mono,
)

logger = logging.getLogger(__name__)

STUDIO_RATE = 16000  # takes are kept wideband; the hotline makes its 8 kHz copy when it renders
# Browsers record WebM (Chrome, Firefox) in the Matroska demuxer; phones give M4A ("mov") or AAC.
STUDIO_DEMUXERS = AUDIO_DEMUXERS + ",matroska"
DECODE_TIMEOUT_S = 60
MAX_TAKE_SECONDS = 60.0  # callers are on a phone line: prompts are short
MIN_TAKE_SECONDS = 0.25
FRAME_S = 0.02  # level analysis in 20 ms frames
FADE_S = 0.01  # fade at both ends of a trimmed take, so that it starts and stops without a click
CLIP_LEVEL = 32700 / 32768  # a sample this close to full scale counts as clipped
CLIP_RUNS = 3  # ... in this many runs of at least CLIP_RUN samples: a flat top, not one loud peak
CLIP_RUN = 3
SILENT_DBFS = -55.0  # the loudest frames quieter than this: nothing was said
SYLLABLES_PER_S = (1.2, 9.0)  # slower or faster than this for the text: a word missing or a long pause


class TakeError(HotlineError):
    """A file that is no audio, or that cannot be decoded: the message is Vietnamese, for the page."""

    code = "console.take"


class Check(StrEnum):
    SILENT = "silent"
    TOO_SHORT = "too_short"
    TOO_LONG = "too_long"
    CLIPPED = "clipped"
    QUIET = "quiet"
    NOISY = "noisy"
    FAST = "fast"  # short for its text
    SLOW = "slow"  # long for its text


@dataclass(frozen=True)
class Verdict:
    check: Check
    message: str  # Vietnamese, for the page
    blocking: bool = False  # the take cannot be saved


@dataclass(frozen=True)
class Take:
    """A processed take (16 kHz mono) and what was measured on the way."""

    chunk: AudioChunk
    verdicts: tuple[Verdict, ...]
    recorded_s: float  # length as recorded
    speech_s: float  # after trimming (with the silence kept at each end)
    noise_dbfs: float  # noise floor: level of the quietest frames as recorded
    speech_dbfs: float  # level of the loud frames (95th percentile of 20 ms frames) as recorded
    loudness_lufs: float  # after normalization
    gain_db: float
    measures: dict[str, float] = field(default_factory=dict)

    @property
    def savable(self) -> bool:
        return not any(v.blocking for v in self.verdicts)


def duration_vi(seconds: float) -> str:
    """A limit as an operator reads it: "60 giây", "20 phút"."""
    whole = int(round(seconds))
    return f"{whole // 60} phút" if whole >= 120 and whole % 60 == 0 else f"{whole} giây"


def decode(path: Path, max_seconds: float = MAX_TAKE_SECONDS + 1) -> AudioChunk:
    """Any common audio file (WAV, FLAC, OGG/Opus, MP3, M4A, AAC, WebM from a browser) as mono PCM.

    `max_seconds` carries one second of slack over the limit (what is longer is cut there, so that
    `process` still sees it is too long). Raises TakeError (Vietnamese) for what is not audio or is
    longer than allowed.
    """
    try:
        sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return _decode_with_ffmpeg(path, max_seconds)  # MP3, M4A, WebM: ffmpeg, once
    try:
        chunk = read_audio(path, max_seconds=max_seconds)
    except AudioError as exc:
        if "longer than" in str(exc):
            raise TakeError(f"Bản ghi dài quá {duration_vi(max_seconds - 1)}.") from None
        chunk = _decode_with_ffmpeg(path, max_seconds)
    return to_mono(chunk)


def _decode_with_ffmpeg(path: Path, max_seconds: float) -> AudioChunk:
    cmd = ["ffmpeg", "-nostdin", "-v", "error", *ffmpeg_input(path.resolve(), STUDIO_DEMUXERS)]
    cmd += ["-t", str(max_seconds), "-vn", "-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1"]
    cmd += ["-ar", str(48000), "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=DECODE_TIMEOUT_S, check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired) as exc:
        logger.warning("take could not be decoded: %s", exc)
        raise TakeError("Không đọc được tệp âm thanh này.") from None
    if proc.returncode != 0 or not proc.stdout:
        logger.info("take rejected by ffmpeg: %s", proc.stderr.decode("utf-8", "replace").strip()[-200:])
        raise TakeError(
            "Tệp tải lên không phải là âm thanh đọc được (WAV, MP3, M4A, OGG, OPUS, WEBM, FLAC)."
        ) from None
    return AudioChunk(proc.stdout, 48000)


def _frame_dbfs(x: np.ndarray, rate: int) -> np.ndarray:
    n = max(1, int(rate * FRAME_S))
    frames = x[: len(x) // n * n].reshape(-1, n) if len(x) >= n else x.reshape(1, -1)
    rms = np.sqrt(np.mean(np.square(frames), axis=1))
    return np.asarray(20 * np.log10(np.maximum(rms, 1e-9)))


def _clipped_runs(pcm: np.ndarray) -> int:
    """How many runs of at least CLIP_RUN consecutive int16 samples sit at full scale."""
    level = int(CLIP_LEVEL * 32768)
    # Positions only (few even in a clipped take): no whole-length temporary arrays for a long reading.
    hot = np.flatnonzero((pcm >= level) | (pcm <= -level))
    if not len(hot):
        return 0
    breaks = np.flatnonzero(np.diff(hot) != 1)
    starts = np.concatenate(([0], breaks + 1))
    ends = np.concatenate((breaks, [len(hot) - 1]))
    return int(np.sum(ends - starts + 1 >= CLIP_RUN))


def syllables(text: str) -> int:
    """Vietnamese is written a syllable a word: the words with a letter or digit in them."""
    return sum(1 for w in text.split() if any(c.isalnum() for c in w))


def process(
    recorded: AudioChunk,
    text: str,
    cfg: StudioSettings | None = None,
    *,
    rate: int = STUDIO_RATE,
    max_seconds: float = MAX_TAKE_SECONDS,
) -> Take:
    """Check, trim and normalize a take of `text` (any rate, mono or not) as `ivr.studio` says; the
    result is at `rate` (a radio bulletin read by a person keeps the radio's rate and may be longer)."""
    cfg = cfg or StudioSettings()
    keep_s = cfg.keep_silence_ms / 1000
    mono = to_mono(recorded)
    recorded_s = mono.duration_s
    verdicts: list[Verdict] = []
    if recorded_s > max_seconds:
        verdicts.append(Verdict(Check.TOO_LONG, f"Bản ghi dài quá {duration_vi(max_seconds)}.", True))
    runs = _clipped_runs(mono.array())
    chunk = resample(mono, rate)
    del mono
    # float32: a bulletin read for twenty minutes is tens of millions of samples; precision to spare.
    x = chunk.array().astype(np.float32)
    x *= np.float32(1 / 32768.0)
    levels = _frame_dbfs(x, rate)
    noise = float(np.percentile(levels, 10))
    speech = float(np.percentile(levels, 95))
    measures = {"clipped_runs": float(runs), "snr_db": speech - noise}
    if speech < SILENT_DBFS or recorded_s < MIN_TAKE_SECONDS:
        verdicts.append(Verdict(Check.SILENT, "Không nghe thấy tiếng nói trong bản ghi. Hãy ghi lại.", True))
        return Take(chunk, tuple(verdicts), recorded_s, 0.0, noise, speech, float("-inf"), 0.0, measures)
    # Speech: frames well above the noise floor and not far below the loud frames.
    threshold = max(noise + 10.0, speech - 35.0)
    voiced = np.flatnonzero(levels > threshold)
    n = int(rate * FRAME_S)
    keep = int(rate * keep_s)
    start = max(0, int(voiced[0]) * n - keep)
    end = min(len(x), (int(voiced[-1]) + 1) * n + keep)
    y = x[start:end]  # a view: x is this function's own array, changed in place from here on
    del x
    fade = min(int(rate * FADE_S), len(y) // 2)
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)
        y[:fade] *= ramp
        y[-fade:] *= ramp[::-1]
    speech_s = len(y) / rate
    if speech_s < MIN_TAKE_SECONDS:
        verdicts.append(Verdict(Check.TOO_SHORT, "Bản ghi quá ngắn. Hãy ghi lại.", True))
    measured = integrated_loudness(y, rate) if speech_s >= 0.4 else speech
    if not np.isfinite(measured):
        measured = speech
    peak = float(np.max(np.abs(y))) or 1e-9
    gain = min(cfg.target_lufs - measured, cfg.peak_ceiling_dbfs - 20 * np.log10(peak))
    y *= np.float32(10 ** (gain / 20))
    np.clip(y, -1.0, 1.0, out=y)
    loudness = measured + gain
    measures["trimmed_start_s"] = start / rate
    measures["trimmed_end_s"] = (chunk.samples - end) / rate
    if runs >= CLIP_RUNS:
        verdicts.append(
            Verdict(
                Check.CLIPPED,
                "Tiếng bị vỡ (quá to, bị cắt đỉnh). Hãy đọc nhỏ hơn hoặc để micro xa miệng hơn rồi ghi lại.",
            )
        )
    if speech < cfg.quiet_dbfs:
        verdicts.append(
            Verdict(
                Check.QUIET,
                "Tiếng quá nhỏ: đã được khuếch đại nhưng tiếng ồn cũng to lên. "
                "Hãy nói gần micro hơn hoặc tăng âm lượng micro.",
            )
        )
    if speech - noise < cfg.noisy_snr_db:
        verdicts.append(
            Verdict(
                Check.NOISY,
                f"Nhiều tiếng ồn nền: tiếng nói chỉ to hơn tiếng nền {speech - noise:.0f} dB "
                f"(nên từ {cfg.noisy_snr_db:.0f} dB trở lên). Hãy ghi ở nơi yên tĩnh hơn.",
            )
        )
    count = syllables(text)
    if count:
        said = max(speech_s - 2 * keep_s, 0.01)
        pace = count / said
        if pace > SYLLABLES_PER_S[1]:
            verdicts.append(
                Verdict(Check.FAST, "Bản ghi ngắn so với nội dung: có thể thiếu chữ hoặc đọc quá nhanh.")
            )
        elif pace < SYLLABLES_PER_S[0]:
            verdicts.append(
                Verdict(
                    Check.SLOW,
                    "Bản ghi dài so với nội dung: có thể có khoảng lặng dài, đọc thừa hoặc đọc quá chậm.",
                )
            )
    # To 16-bit in place (what AudioChunk.from_array does, without its three temporary copies).
    y *= np.float32(32767.0)
    np.rint(y, out=y)
    np.clip(y, -32768, 32767, out=y)
    out = AudioChunk.from_array(y.astype(np.int16), rate)
    del y
    return Take(out, tuple(verdicts), recorded_s, speech_s, noise, speech, loudness, gain, measures)
