"""Mastering: loudness to target (ITU-R BS.1770), true-peak limiting, optional loudspeaker profile.

Functions take float mono samples in -1..1 at `rate` and return float32: 32-bit floats are far more
precise than the 16-bit output, and half the memory of float64. Long signals are processed block by
block (filters, oversampling, loudness gating), so that memory stays a small multiple of the signal.
They are CPU-bound and blocking: callers on an event loop run them in a worker pool.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from core.errors import AudioError

logger = logging.getLogger(__name__)

OVERSAMPLE = 4  # true peak per BS.1770-4 annex 2
LOOKAHEAD_S = 0.01  # limiter window: gain ramps down this long before a peak and back up after it
LIMITER_PASSES = 4  # limiting rounds per block (each one re-measures the oversampled peaks)
BLOCK_S = 10.0  # oversampling, filtering and gating work block by block: bounded memory for long bulletins
OVERLAP_S = 0.05  # resampler context on each side of a block
PIECE = 1 << 19  # samples per piece for filters run piece by piece (about 12 s at 44.1 kHz)
GATE_BLOCK_S = 0.4  # BS.1770 gating block
GATE_STEP_S = 0.1  # gating blocks overlap by 75%
ABSOLUTE_GATE_LUFS = -70.0
RELATIVE_GATE_LU = -10.0


@dataclass(frozen=True)
class MasterReport:
    loudness_lufs: float
    true_peak_dbtp: float
    gain_db: float  # gain applied before limiting
    limited: bool


def db_to_gain(db: float) -> float:
    return float(10.0 ** (db / 20.0))


def _spans(n: int, block: int) -> Iterator[tuple[int, int]]:
    for start in range(0, n, block):
        yield start, min(n, start + block)


def _mono32(x: np.ndarray) -> np.ndarray:
    """float32 view (or one conversion) of mono samples."""
    x = np.asarray(x)
    if x.ndim != 1:
        raise AudioError("mastering expects mono audio")
    return x if x.dtype == np.float32 else x.astype(np.float32)


def pcm16(x: np.ndarray, channels: int = 1) -> bytes:
    """float samples -> 16-bit PCM bytes (clipped, not wrapped), converted piece by piece."""
    out = np.empty(len(x), dtype="<i2")
    step = 1 << 20
    for start in range(0, len(x), step):
        part = np.asarray(x[start : start + step], dtype=np.float32) * np.float32(32767.0)
        np.round(part, out=part)
        np.clip(part, -32768, 32767, out=part)
        out[start : start + step] = part
    if channels > 1:  # the same signal on every channel, interleaved
        out = np.repeat(out, channels)
    return out.tobytes()


def blockwise(
    fn: Callable[[np.ndarray], np.ndarray],
    x: np.ndarray,
    context: int,
    *,
    scale: np.ndarray | None = None,
) -> np.ndarray:
    """`fn(x)` as float32, computed piece by piece with `context` samples around each piece.

    For local filter chains (moving averages, maxima) that look no further than `context` samples the
    result is the same as on the whole signal; scipy.ndimage's filters keep float64 line buffers as
    long as their input, so on a whole bulletin they cost several times the signal. With `scale`, that
    array is multiplied in place by `fn(x)` (a gain curve) and returned: the curve is never whole.
    """
    n = len(x)
    out = np.empty(n, dtype=np.float32) if scale is None else scale
    for start, stop in _spans(n, PIECE):
        lo, hi = max(0, start - context), min(n, stop + context)
        part = fn(x[lo:hi])[start - lo : stop - lo]
        if scale is None:
            out[start:stop] = part
        else:
            out[start:stop] *= part
    return out


# --- loudness (ITU-R BS.1770-4) ----------------------------------------------------------------------


def _k_weighting(rate: int) -> list[tuple[np.ndarray, np.ndarray, float]]:
    """The two K-weighting stages (shelf, high-pass) with the coefficients pyloudnorm.Meter uses."""
    from pyloudnorm.iirfilter import IIRfilter

    stages = (
        IIRfilter(4.0, 1 / np.sqrt(2), 1500.0, rate, "high_shelf"),
        IIRfilter(0.0, 0.5, 38.0, rate, "high_pass"),
    )
    return [(f.b, f.a, f.passband_gain) for f in stages]


def integrated_loudness(x: np.ndarray, rate: int) -> float:
    """Gated integrated loudness (LUFS) of mono samples, as pyloudnorm measures it, block by block.

    pyloudnorm filters and gates a float64 copy of the whole signal (several copies at once); here the
    K-weighting runs on 10-second pieces with the filter state carried over, and only the energy of each
    100 ms hop is kept, so memory no longer grows with the length of the bulletin.
    """
    from scipy.signal import lfilter, lfilter_zi

    x = np.asarray(x)
    if x.ndim != 1:
        raise AudioError("loudness measurement expects mono audio")
    n = len(x)
    hop = int(round(GATE_STEP_S * rate))
    gate = int(round(GATE_BLOCK_S * rate))
    if n < gate:
        return float("-inf")
    stages = _k_weighting(rate)
    states = [lfilter_zi(b, a) * 0.0 for b, a, _ in stages]  # filters start at rest, as in lfilter
    piece = hop * int(BLOCK_S / GATE_STEP_S)
    hops = np.zeros(-(-n // hop) + 4)  # energy per hop; zeros past the end (the last block may run over)
    for start, stop in _spans(n, piece):
        y = x[start:stop].astype(np.float64)
        for i, (b, a, g) in enumerate(stages):
            y, states[i] = lfilter(b, a, y, zi=states[i])
            if g != 1.0:
                y *= g
        y *= y
        whole = len(y) // hop
        first = start // hop
        hops[first : first + whole] = y[: whole * hop].reshape(whole, hop).sum(axis=1)
        if len(y) > whole * hop:  # a short last hop: only at the very end of the signal
            hops[first + whole] = y[whole * hop :].sum()
    seconds = n / rate
    blocks = int(np.round((seconds - GATE_BLOCK_S) / GATE_STEP_S)) + 1
    per = gate // hop
    z = np.zeros(blocks, dtype=np.float64)
    for k in range(per):
        z += hops[k : k + blocks]
    z /= gate  # mean square of each gating block
    with np.errstate(divide="ignore"):
        level = -0.691 + 10.0 * np.log10(z)
        above = z[level >= ABSOLUTE_GATE_LUFS]
        if above.size == 0:
            return float("-inf")
        relative = -0.691 + 10.0 * np.log10(above.mean()) + RELATIVE_GATE_LU
        kept = z[(level > relative) & (level > ABSOLUTE_GATE_LUFS)]
        return float(-0.691 + 10.0 * np.log10(kept.mean())) if kept.size else float("-inf")


# --- true peak -----------------------------------------------------------------------------------------


def true_peak(x: np.ndarray, rate: int) -> float:
    """True peak (dBTP) as `voice.audio.true_peak_dbtp` measures it, block by block (bounded memory).

    Each block is oversampled with context on both sides, and only its own part of the result counts:
    the cut edges of a block ring, and would read as peaks that the whole signal does not have.
    """
    import soxr

    block, pad = int(BLOCK_S * rate), int(OVERLAP_S * rate)
    best = 0.0
    for start, stop in _spans(len(x), block):
        lo, hi = max(0, start - pad), min(len(x), stop + pad)
        up = soxr.resample(np.asarray(x[lo:hi], dtype=np.float64), rate, rate * OVERSAMPLE, quality="VHQ")
        own = up[(start - lo) * OVERSAMPLE : (stop - lo) * OVERSAMPLE]
        if own.size:
            best = max(best, float(np.max(np.abs(own))))
    return 20 * np.log10(best) if best > 0 else float("-inf")


def _sample_peaks(x: np.ndarray, rate: int) -> np.ndarray:
    """Per sample of a (block-sized) piece, the largest magnitude among its 4x oversampled neighbours."""
    import soxr

    peaks = np.abs(x)
    up = np.abs(soxr.resample(x, rate, rate * OVERSAMPLE, quality="VHQ"))
    n = min(len(x), len(up) // OVERSAMPLE)
    np.maximum(peaks[:n], up[: n * OVERSAMPLE].reshape(n, OVERSAMPLE).max(axis=1), out=peaks[:n])
    return peaks


def _limit_piece(seg: np.ndarray, rate: int, ceiling: float, reach: slice) -> bool:
    """Limit `seg` in place so that no oversampled peak inside `reach` exceeds `ceiling`."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    aim = ceiling * 0.995  # aim a hair low: the next measurement's filters differ a little
    look = max(1, int(LOOKAHEAD_S * rate))
    limited = False
    for _ in range(LIMITER_PASSES):
        peaks = _sample_peaks(seg, rate)
        # Peaks outside `reach` are the neighbours' business (and the piece's cut edges ring).
        peaks[: reach.start] = 0.0
        peaks[reach.stop :] = 0.0
        if float(peaks.max()) <= ceiling:
            break
        limited = True
        need = np.minimum(np.float32(1.0), np.float32(aim) / np.maximum(peaks, np.float32(1e-12)))
        # Minimum over +-window, then a moving average no wider than it: the smoothed gain never
        # exceeds the gain a sample needs, and it ramps in before the peak.
        g = uniform_filter1d(minimum_filter1d(need, 2 * look + 1), look + 1)
        seg *= g
        aim *= 0.99
    return limited


def _limit_in_place(x: np.ndarray, rate: int, ceiling_dbtp: float) -> bool:
    """Look-ahead true-peak limiter over float32 `x`, 10-second block by block, in place."""
    ceiling = db_to_gain(ceiling_dbtp)
    look = max(1, int(LOOKAHEAD_S * rate))
    # A block's result depends on the samples around it: the resampler's context plus how far each
    # limiting pass spreads a gain change (1.5 windows); with this much context it is the same as
    # limiting the whole signal at once.
    margin = 2 * look
    pad = int(OVERLAP_S * rate) + (LIMITER_PASSES + 2) * margin
    block = int(BLOCK_S * rate)
    n = len(x)
    limited = False
    context: np.ndarray | None = None  # original samples before the next block (x is overwritten)
    for start, stop in _spans(n, block):
        lo, hi = max(0, start - pad), min(n, stop + pad)
        seg = x[lo:hi].copy()
        if context is not None:
            seg[: start - lo] = context
        context = x[max(0, stop - pad) : stop].copy()
        reach = slice(max(0, start - lo - margin), min(hi - lo, stop - lo + margin))
        if _limit_piece(seg, rate, ceiling, reach):
            limited = True
            x[start:stop] = seg[start - lo : stop - lo]
    return limited


def limit_true_peak(x: np.ndarray, rate: int, ceiling_dbtp: float) -> tuple[np.ndarray, bool]:
    """Look-ahead peak limiter on the oversampled signal: no inter-sample peak above the ceiling."""
    y = np.array(_mono32(x), dtype=np.float32)  # a copy: the caller's samples stay as they were
    limited = _limit_in_place(y, rate, ceiling_dbtp)
    return y, limited


# --- loudspeaker profile -----------------------------------------------------------------------------


def _filtfilt_blocks(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    """`scipy.signal.sosfiltfilt(sos, x)` (odd padding, steady-state start) as float32, piece by piece."""
    from scipy.signal import sosfilt, sosfilt_zi

    n = len(x)
    ntaps = 2 * len(sos) + 1 - min(int((sos[:, 2] == 0).sum()), int((sos[:, 5] == 0).sum()))
    padlen = min(3 * ntaps, n - 1)
    x0, x1 = float(x[0]), float(x[-1])
    head = 2 * x0 - x[padlen:0:-1].astype(np.float64)  # odd extension, as sosfiltfilt pads
    tail = 2 * x1 - x[-2 : -padlen - 2 : -1].astype(np.float64)
    zi0 = sosfilt_zi(sos)
    piece = PIECE
    # Forward pass over head + x + tail; the filtered signal is kept (float32), the extensions too.
    y = np.empty(n, dtype=np.float32)
    head_f, zi = sosfilt(sos, head, zi=zi0 * head[0]) if padlen else (head, zi0 * x0)
    for start, stop in _spans(n, piece):
        out, zi = sosfilt(sos, x[start:stop].astype(np.float64), zi=zi)
        y[start:stop] = out
    tail_f, _ = sosfilt(sos, tail, zi=zi) if padlen else (tail, zi)
    # Backward pass, from the end of the padded signal.
    last = tail_f[-1] if padlen else y[-1]
    zi = zi0 * last
    if padlen:
        _, zi = sosfilt(sos, tail_f[::-1], zi=zi)
    for start, stop in reversed(list(_spans(n, piece))):
        out, zi = sosfilt(sos, y[start:stop][::-1].astype(np.float64), zi=zi)
        y[start:stop] = out[::-1]
    del head_f
    return y


def loudspeaker_profile(
    x: np.ndarray, rate: int, low_hz: float = 250.0, high_hz: float = 5000.0
) -> np.ndarray:
    """Band-limit for horn loudspeakers and compress lightly (2:1 above the loud passages' level)."""
    from scipy.ndimage import uniform_filter1d
    from scipy.signal import butter

    x = _mono32(x)
    high = min(high_hz, 0.45 * rate)
    sos = butter(4, [low_hz, high], btype="bandpass", fs=rate, output="sos")
    y = _filtfilt_blocks(sos, x)
    win = max(1, int(0.03 * rate))
    smooth = max(1, int(0.05 * rate))

    def envelope_db(piece: np.ndarray) -> np.ndarray:
        env = uniform_filter1d(np.square(piece), win)
        env += np.float32(1e-12)
        np.log10(env, out=env)
        env *= np.float32(10.0)
        return env

    env_db = blockwise(envelope_db, y, win)
    active = env_db[env_db > env_db.max() - 40]
    if active.size == 0:
        return y
    threshold = np.float32(np.percentile(active, 70, overwrite_input=True))
    del active

    def gain(piece: np.ndarray) -> np.ndarray:
        reduction_db = piece - threshold  # 2:1 above the threshold: half of the excess
        np.maximum(reduction_db, np.float32(0.0), out=reduction_db)
        reduction_db *= np.float32(1 - 1 / 2.0)
        g = uniform_filter1d(reduction_db, smooth)  # smooth: no pumping clicks
        g *= np.float32(-1 / 20.0)
        return np.power(np.float32(10.0), g, out=g)

    return blockwise(gain, env_db, smooth, scale=y)


# --- mastering ----------------------------------------------------------------------------------------


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
    x = _mono32(x)
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
    level = measured
    for _ in range(6):
        del y  # the previous attempt's samples go before the next one's are made
        y = x * np.float32(db_to_gain(gain))
        did_limit = _limit_in_place(y, rate, ceiling_dbtp)
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
        loudness_lufs=level,
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
