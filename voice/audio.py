"""The one internal audio format and the helpers that convert to and from it.

Internally audio is signed 16-bit little-endian PCM ("slin"), mono unless stated, in an
`AudioChunk` that always carries its rate, width and channel count. Telephony formats
(G.711 mu-law, big-endian slin from RTP) are converted only at the edges.
"""

from __future__ import annotations

import io
import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from core.errors import AudioError
from core.tempname import temp_beside

SAMPLE_WIDTH = 2  # bytes per sample of the internal format (int16)
TELEPHONE_RATE = 8000
ASR_RATE = 16000


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of PCM audio that carries its own format."""

    audio: bytes  # interleaved signed little-endian PCM
    rate: int  # samples per second
    width: int = SAMPLE_WIDTH  # bytes per sample
    channels: int = 1
    timestamp_ms: int = 0  # position of the first sample in its stream

    @property
    def samples(self) -> int:
        return len(self.audio) // (self.width * self.channels)

    @property
    def duration_s(self) -> float:
        return self.samples / self.rate if self.rate else 0.0

    def array(self) -> np.ndarray:
        """Samples as int16, shape (n,) for mono or (n, channels)."""
        if self.width != 2:
            raise AudioError(f"expected 16-bit samples, got {8 * self.width}-bit")
        data = np.frombuffer(self.audio, dtype="<i2")
        return data.reshape(-1, self.channels) if self.channels > 1 else data

    @classmethod
    def from_array(cls, samples: np.ndarray, rate: int, timestamp_ms: int = 0) -> AudioChunk:
        """From int16 or float (-1..1) samples; float input is clipped, not wrapped."""
        arr = np.asarray(samples)
        if arr.dtype.kind == "f":
            arr = np.clip(np.round(arr * 32767.0), -32768, 32767)
        arr = np.ascontiguousarray(arr, dtype="<i2")
        channels = 1 if arr.ndim == 1 else arr.shape[1]
        return cls(arr.tobytes(), rate, SAMPLE_WIDTH, channels, timestamp_ms)

    def with_audio(self, audio: bytes) -> AudioChunk:
        return replace(self, audio=audio)


# --- G.711 mu-law -------------------------------------------------------------------------------

_BIAS = 0x84


def _build_ulaw_decode_table() -> np.ndarray:
    u = ~np.arange(256, dtype=np.int32) & 0xFF
    sign = u & 0x80
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa << 3) + _BIAS) << exponent) - _BIAS
    return np.where(sign != 0, -magnitude, magnitude).astype(np.int16)


_ULAW_DECODE = _build_ulaw_decode_table()


def ulaw_decode(data: bytes) -> np.ndarray:
    """G.711 mu-law bytes -> int16 samples."""
    return _ULAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def ulaw_encode(samples: np.ndarray) -> bytes:
    """int16 samples -> G.711 mu-law bytes (the reference coder below, through a table of every sample:
    every 20 ms frame we send to every caller is encoded on the event loop)."""
    x = np.asarray(samples)
    if x.dtype == np.int16:
        return _ULAW_ENCODE[x.view(np.uint16)].tobytes()
    return _ulaw_encode_reference(x)


def _ulaw_encode_reference(samples: np.ndarray) -> bytes:
    """int16 samples -> G.711 mu-law bytes (the Sun/CCITT reference coder, 14-bit magnitude)."""
    x = np.asarray(samples, dtype=np.int32) >> 2
    mask = np.where(x < 0, 0x7F, 0xFF)
    magnitude = np.minimum(np.abs(x), 8159) + (_BIAS >> 2)
    segment = np.searchsorted(_SEG_UEND, magnitude)  # first segment whose end >= magnitude
    uval = (segment << 4) | ((magnitude >> (segment + 1)) & 0x0F)
    uval = np.where(segment >= 8, 0x7F, uval)  # out of range: the largest code
    return ((uval ^ mask) & 0xFF).astype(np.uint8).tobytes()


_SEG_UEND = np.array([0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF, 0x1FFF])
_EVERY_SAMPLE = np.arange(65536, dtype=np.uint32).astype(np.uint16).view(np.int16)  # indexed by its bits
_ULAW_ENCODE = np.frombuffer(_ulaw_encode_reference(_EVERY_SAMPLE), dtype=np.uint8)


# --- G.711 A-law (Vietnam's public telephone network) ----------------------------------------------


def _build_alaw_decode_table() -> np.ndarray:
    a = np.arange(256, dtype=np.int32) ^ 0x55
    segment = (a >> 4) & 0x07
    t = (a & 0x0F) << 4
    t = np.where(segment == 0, t + 8, (t + 0x108) << np.maximum(segment - 1, 0))
    return np.where(a & 0x80, t, -t).astype(np.int16)  # A-law: sign bit set means positive


_ALAW_DECODE = _build_alaw_decode_table()
_SEG_AEND = np.array([0x1F, 0x3F, 0x7F, 0xFF, 0x1FF, 0x3FF, 0x7FF, 0xFFF])


def alaw_decode(data: bytes) -> np.ndarray:
    """G.711 A-law bytes -> int16 samples."""
    return _ALAW_DECODE[np.frombuffer(data, dtype=np.uint8)]


def alaw_encode(samples: np.ndarray) -> bytes:
    """int16 samples -> G.711 A-law bytes (the reference coder below, through a table of every sample)."""
    x = np.asarray(samples)
    if x.dtype == np.int16:
        return _ALAW_ENCODE[x.view(np.uint16)].tobytes()
    return _alaw_encode_reference(x)


def _alaw_encode_reference(samples: np.ndarray) -> bytes:
    """int16 samples -> G.711 A-law bytes (the Sun/CCITT reference coder, 13-bit magnitude)."""
    x = np.asarray(samples, dtype=np.int32) >> 3
    mask = np.where(x >= 0, 0xD5, 0x55)
    magnitude = np.where(x >= 0, x, -x - 1)
    segment = np.searchsorted(_SEG_AEND, magnitude)  # first segment whose end >= magnitude
    shift = np.where(segment < 2, 1, segment)
    aval = (segment << 4) | ((magnitude >> shift) & 0x0F)
    aval = np.where(segment >= 8, 0x7F, aval)  # out of range: the largest code
    return ((aval ^ mask) & 0xFF).astype(np.uint8).tobytes()


_ALAW_ENCODE = np.frombuffer(_alaw_encode_reference(_EVERY_SAMPLE), dtype=np.uint8)


# --- conversion -----------------------------------------------------------------------------------


def to_mono(chunk: AudioChunk) -> AudioChunk:
    if chunk.channels == 1:
        return chunk
    mixed = chunk.array().astype(np.float32).mean(axis=1)
    return AudioChunk.from_array(np.round(mixed).astype(np.int16), chunk.rate, chunk.timestamp_ms)


def resample(chunk: AudioChunk, rate: int) -> AudioChunk:
    """Resample a whole clip (use `Resampler` for streams: it keeps filter state across chunks)."""
    chunk = to_mono(chunk)
    if chunk.rate == rate or chunk.samples == 0:
        return replace(chunk, rate=rate) if chunk.samples == 0 else chunk
    out = soxr.resample(chunk.array(), chunk.rate, rate, quality="HQ")
    return AudioChunk.from_array(out, rate, chunk.timestamp_ms)


class Resampler:
    """Streaming resampler for mono int16 audio; state carries across chunks (no clicks)."""

    def __init__(self, in_rate: int, out_rate: int) -> None:
        self.in_rate, self.out_rate = in_rate, out_rate
        self._stream = (
            soxr.ResampleStream(in_rate, out_rate, 1, dtype="int16", quality="HQ")
            if in_rate != out_rate
            else None
        )

    def process(self, chunk: AudioChunk, last: bool = False) -> AudioChunk:
        if chunk.rate != self.in_rate:
            raise AudioError(f"resampler expects {self.in_rate} Hz, got {chunk.rate} Hz")
        mono = to_mono(chunk)
        if self._stream is None:
            return mono
        out = self._stream.resample_chunk(mono.array(), last=last)
        return AudioChunk.from_array(out, self.out_rate, chunk.timestamp_ms)


def concat(chunks: list[AudioChunk]) -> AudioChunk:
    if not chunks:
        raise AudioError("nothing to concatenate")
    first = chunks[0]
    for c in chunks[1:]:
        if (c.rate, c.width, c.channels) != (first.rate, first.width, first.channels):
            raise AudioError("cannot concatenate chunks of different formats")
    return replace(first, audio=b"".join(c.audio for c in chunks))


def silence(seconds: float, rate: int) -> AudioChunk:
    return AudioChunk(b"\x00\x00" * int(round(seconds * rate)), rate)


# --- loudness -------------------------------------------------------------------------------------


def rms_dbfs(chunk: AudioChunk) -> float:
    x = chunk.array().astype(np.float64) / 32768.0
    if x.size == 0:
        return float("-inf")
    rms = float(np.sqrt(np.mean(np.square(x))))
    return 20 * np.log10(rms) if rms > 0 else float("-inf")


def integrated_loudness(samples: np.ndarray, rate: int) -> float:
    """ITU-R BS.1770 integrated loudness (LUFS) of float samples (n,) or (n, ch)."""
    import pyloudnorm

    return float(pyloudnorm.Meter(rate).integrated_loudness(np.asarray(samples, dtype=np.float64)))


def true_peak_dbtp(samples: np.ndarray, rate: int) -> float:
    """True peak (dBTP) per BS.1770-4 annex 2: the peak of the signal oversampled 4x."""
    x = np.asarray(samples, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    up = soxr.resample(x, rate, rate * 4, quality="VHQ") if x.shape[0] else x
    peak = float(np.max(np.abs(up))) if up.size else 0.0
    return 20 * np.log10(peak) if peak > 0 else float("-inf")


# --- files ----------------------------------------------------------------------------------------


def read_audio(path: Path | str, *, max_seconds: float | None = 3600.0) -> AudioChunk:
    """Read WAV/FLAC/OGG (libsndfile; mu-law and A-law WAV decoded to PCM) or MP3 (ffmpeg)."""
    path = Path(path)
    if not path.is_file():
        raise AudioError(f"{path}: no such file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file")
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError):
        info = None
    if info is None:
        return _read_with_ffmpeg(path, max_seconds)
    if max_seconds and info.frames > max_seconds * info.samplerate:
        raise AudioError(
            f"{path}: {info.frames / info.samplerate:.0f} s is longer than the {max_seconds:.0f} s limit"
        )
    try:
        data, rate = sf.read(str(path), dtype="int16", always_2d=False)
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioError(f"{path}: cannot decode audio: {exc}") from None
    return AudioChunk.from_array(data, rate)


# The only containers ffmpeg may take a file for: what the console accepts (WAV, MP3, OGG, FLAC) and
# what phones record (M4A in "mov", ADTS AAC). Left to probe with every demuxer, ffmpeg takes an upload
# for a concat script or a playlist and reads other files into the "recording".
AUDIO_DEMUXERS = "wav,mp3,ogg,flac,mov,aac"


def ffmpeg_input(path: Path, formats: str = AUDIO_DEMUXERS) -> list[str]:
    """ffmpeg arguments that read `path` as a local file of one of `formats`, and nothing else."""
    # "file:" so that a name is never taken for a protocol ("concat:a|b", "http:...").
    return ["-format_whitelist", formats, "-protocol_whitelist", "file", "-i", f"file:{path}"]


def _read_with_ffmpeg(path: Path, max_seconds: float | None) -> AudioChunk:
    cmd = ["ffmpeg", "-nostdin", "-v", "error", *ffmpeg_input(path.resolve())]
    if max_seconds:
        cmd += ["-t", str(max_seconds)]
    cmd += ["-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", "48000", "-"]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=120, check=False)
    except FileNotFoundError:
        raise AudioError(f"{path}: not a WAV/FLAC file and ffmpeg is not installed") from None
    except subprocess.TimeoutExpired:
        raise AudioError(f"{path}: decoding took too long") from None
    if proc.returncode != 0 or not proc.stdout:
        reason = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise AudioError(f"{path}: not a readable audio file ({reason[-1] if reason else 'no audio'})")
    return AudioChunk(proc.stdout, 48000)


def write_wav(path: Path | str, chunk: AudioChunk, *, subtype: str = "PCM_16", durable: bool = False) -> Path:
    """Write a WAV atomically (temp file + rename): a crash never leaves a half-written file.

    `durable`: the file and its directory entry are on disk (fsync) when this returns, so the only other
    copy (a recording's spool) may be deleted: a power cut after that still finds the audio.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path)
    try:
        sf.write(str(tmp), chunk.array(), chunk.rate, subtype=subtype, format="WAV")
        if durable:
            _fsync(tmp)
        tmp.replace(path)
        if durable:
            _fsync(path.parent)  # the rename itself
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def wav_bytes(chunk: AudioChunk) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, chunk.array(), chunk.rate, subtype="PCM_16", format="WAV")
    return buf.getvalue()


def write_mp3(path: Path | str, chunk: AudioChunk, *, bitrate_kbps: int = 64) -> Path:
    """Encode MP3 with ffmpeg/libmp3lame, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_beside(path)
    cmd = [
        "ffmpeg",
        "-nostdin",
        "-v",
        "error",
        "-y",
        "-f",
        "s16le",
        "-ar",
        str(chunk.rate),
        "-ac",
        str(chunk.channels),
        "-i",
        "-",
        "-codec:a",
        "libmp3lame",
        "-b:a",
        f"{bitrate_kbps}k",
        "-f",
        "mp3",
        str(tmp),
    ]
    try:
        proc = subprocess.run(cmd, input=chunk.audio, capture_output=True, timeout=600, check=False)
    except FileNotFoundError:
        raise AudioError("ffmpeg is not installed (needed for MP3)") from None
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        raise AudioError(f"{path}: MP3 encoding failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    try:
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path
