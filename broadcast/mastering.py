"""Mastering: loudness to target (ITU-R BS.1770), true-peak limiting, optional loudspeaker profile.

All functions take and return float64 mono samples in -1..1 at `rate`; they are CPU-bound and
blocking: callers on an event loop run them in a worker pool.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np

from hotline.errors import AudioError
from voice.audio import integrated_loudness, true_peak_dbtp

logger = logging.getLogger(__name__)

OVERSAMPLE = 4  # true peak per BS.1770-4 annex 2
LOOKAHEAD_S = 0.01  # limiter window: gain ramps down this long before a peak and back up after it


@dataclass(frozen=True)
class MasterReport:
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float  # gain applied before limiting
    limited: bool


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def loudspeaker_profile(
    x: np.ndarray, rate: int, low_hz: float = 250.0, high_hz: float = 5000.0
) -> np.ndarray:
    """Band-limit for horn loudspeakers and compress lightly (2:1 above the loud passages' level)."""
    from scipy.ndimage import uniform_filter1d
    from scipy.signal import butter, sosfiltfilt

    high = min(high_hz, 0.45 * rate)
    sos = butter(4, [low_hz, high], btype="bandpass", fs=rate, output="sos")
    y = sosfiltfilt(sos, x)
    win = max(1, int(0.03 * rate))
    env_db = 10 * np.log10(uniform_filter1d(y * y, win) + 1e-12)
    active = env_db[env_db > env_db.max() - 40]
    if active.size == 0:
        return y
    threshold = float(np.percentile(active, 70))
    reduction_db = np.where(env_db > threshold, (env_db - threshold) * (1 - 1 / 2.0), 0.0)
    reduction_db = uniform_filter1d(reduction_db, max(1, int(0.05 * rate)))  # smooth: no pumping clicks
    return y * 10.0 ** (-reduction_db / 20.0)


BLOCK_S = 10.0  # oversampling works block by block: memory stays bounded for long bulletins
OVERLAP_S = 0.05  # filter context on each side of a block


def _sample_peaks(x: np.ndarray, rate: int) -> np.ndarray:
    """Per original sample, the largest magnitude among its 4x oversampled neighbours (inter-sample peaks)."""
    import soxr

    peaks = np.abs(x)
    block, pad = int(BLOCK_S * rate), int(OVERLAP_S * rate)
    for start in range(0, len(x), block):
        lo, hi = max(0, start - pad), min(len(x), start + block + pad)
        up = np.abs(soxr.resample(x[lo:hi].astype(np.float32), rate, rate * OVERSAMPLE, quality="VHQ"))
        n = min(hi - lo, len(up) // OVERSAMPLE)
        local = up[: n * OVERSAMPLE].reshape(n, OVERSAMPLE).max(axis=1)
        keep = slice(start - lo, min(n, start - lo + block))
        seg = slice(start, start + (keep.stop - keep.start))
        peaks[seg] = np.maximum(peaks[seg], local[keep])
    return peaks


def true_peak(x: np.ndarray, rate: int) -> float:
    """True peak (dBTP) with `voice.audio.true_peak_dbtp`, block by block (bounded memory, same result)."""
    block, pad = int(BLOCK_S * rate), int(OVERLAP_S * rate)
    best = float("-inf")
    for start in range(0, len(x), block):
        part = x[max(0, start - pad) : min(len(x), start + block + pad)]
        best = max(best, true_peak_dbtp(part, rate))
    return best


def limit_true_peak(x: np.ndarray, rate: int, ceiling_dbtp: float) -> tuple[np.ndarray, bool]:
    """Look-ahead peak limiter on the oversampled signal: no inter-sample peak above the ceiling."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    ceiling = db_to_gain(ceiling_dbtp)
    aim = ceiling * 0.995  # aim a hair low: the next measurement's filters differ a little
    limited = False
    for _ in range(4):
        peaks = _sample_peaks(x, rate)
        if peaks.size == 0 or float(peaks.max()) <= ceiling:
            break
        limited = True
        need = np.minimum(1.0, aim / np.maximum(peaks, 1e-12))
        look = max(1, int(LOOKAHEAD_S * rate))
        # Minimum over +-window, then a moving average no wider than it: the smoothed gain never
        # exceeds the gain a sample needs, and it ramps in before the peak.
        g = minimum_filter1d(need, 2 * look + 1)
        g = uniform_filter1d(g, look + 1)
        x = x * g
        aim *= 0.99
    return x, limited


def master(
    x: np.ndarray,
    rate: int,
    *,
    target_lufs: float,
    ceiling_dbtp: float,
    loudspeaker: bool = False,
    low_hz: float = 250.0,
    high_hz: float = 5000.0,
) -> tuple[np.ndarray, MasterReport]:
    """Normalize to `target_lufs` with true peaks under `ceiling_dbtp` (limiting lowers loudness: iterate)."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise AudioError("mastering expects mono audio")
    if len(x) < rate * 0.5:
        raise AudioError("the segment is shorter than half a second: nothing to master")
    if loudspeaker:
        x = loudspeaker_profile(x, rate, low_hz, high_hz)
    measured = integrated_loudness(x, rate)
    if not np.isfinite(measured):
        raise AudioError("the segment is silent: cannot measure its loudness")
    # Limiting lowers loudness, and how much depends on the gain: find the gain whose limited result
    # meets the target by the secant method (loudness after limiting is monotonic in the gain).
    gains: list[float] = []
    levels: list[float] = []
    gain = target_lufs - measured
    limited = False
    y = x
    for _ in range(6):
        y, did_limit = limit_true_peak(x * db_to_gain(gain), rate, ceiling_dbtp)
        limited = limited or did_limit
        level = integrated_loudness(y, rate)
        gains.append(gain)
        levels.append(level)
        if abs(level - target_lufs) < 0.05:
            break
        if len(gains) >= 2 and abs(levels[-1] - levels[-2]) > 1e-6:
            slope = (levels[-1] - levels[-2]) / (gains[-1] - gains[-2])
            gain = gains[-1] + (target_lufs - level) / max(slope, 0.05)
        else:
            gain = gain + (target_lufs - level)
    total_gain = gain if not gains else gains[-1]
    report = MasterReport(
        loudness_lufs=integrated_loudness(y, rate),
        true_peak_dbtp=true_peak(y, rate),
        gain_db=total_gain,
        limited=limited,
    )
    logger.debug(
        "mastered: %.2f LUFS, %.2f dBTP (gain %.1f dB, limited=%s)",
        report.loudness_lufs,
        report.true_peak_dbtp,
        report.gain_db,
        report.limited,
    )
    return y, report
