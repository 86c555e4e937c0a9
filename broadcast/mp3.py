"""The MP3 file of a segment: encode, decode it again to measure what listeners get, ID3 tags, checksum."""

from __future__ import annotations

import hashlib
import io
import subprocess
import threading
from pathlib import Path

import numpy as np

from broadcast.mastering import integrated_loudness, pcm16, true_peak
from core.errors import AudioError
from voice.audio import AudioChunk, ffmpeg_input, write_mp3

DECODE_TIMEOUT_S = 300.0  # longest decode of the MP3 just written, in seconds


def decode_mp3(path: Path, rate: int, channels: int, expected: int) -> np.ndarray:
    """Decode to float32 mono samples at `rate`, read straight into one buffer (no copies, no float64).

    `expected` (samples per channel) sizes the buffer; it grows if the decoder gives more.
    """
    cmd = ["ffmpeg", "-nostdin", "-v", "error", *ffmpeg_input(path.resolve(), "mp3")]
    cmd += ["-ar", str(rate), "-ac", str(channels)]
    buf = bytearray((expected + rate) * channels * 4)  # + 1 s: the encoder pads a little
    size = 0
    with subprocess.Popen(
        [*cmd, "-f", "f32le", "-acodec", "pcm_f32le", "-"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        assert proc.stdout is not None and proc.stderr is not None
        stdout = proc.stdout
        assert isinstance(stdout, io.BufferedReader)  # bufsize=-1: readinto() into our buffer, no copies
        watchdog = threading.Timer(DECODE_TIMEOUT_S, proc.kill)  # a stuck decoder cannot hang the render
        watchdog.start()
        view = memoryview(buf)
        while True:
            if size == len(buf):
                view.release()
                buf.extend(bytes(len(buf) // 4 + (1 << 20)))
                view = memoryview(buf)
            got = stdout.readinto(view[size:])
            if not got:
                break
            size += got
        view.release()
        err = proc.stderr.read()
        proc.wait()
        timed_out = not watchdog.is_alive()
        watchdog.cancel()
    if timed_out and proc.returncode != 0:
        raise AudioError(f"{path}: decoding the MP3 just written took over {DECODE_TIMEOUT_S:.0f} s")
    if proc.returncode != 0:
        raise AudioError(f"{path}: cannot decode the MP3 just written: {err.decode(errors='replace')[-200:]}")
    frames = size // (4 * channels)
    data = np.frombuffer(buf, dtype="<f4", count=frames * channels)  # a view of the buffer, not a copy
    return data if channels == 1 else data.reshape(-1, channels).mean(axis=1, dtype=np.float32)


def encode_and_measure(
    path: Path, mastered: np.ndarray, rate: int, bitrate: int, channels: int
) -> tuple[float, float, float]:
    """Write the MP3, decode it again and measure (true peak dBTP, loudness LUFS, duration s)."""
    write_mp3(path, AudioChunk(pcm16(mastered, channels), rate, channels=channels), bitrate_kbps=bitrate)
    decoded = decode_mp3(path, rate, channels, len(mastered))
    return true_peak(decoded, rate), integrated_loudness(decoded, rate), len(decoded) / rate


def write_tags(path: Path, info: dict) -> None:
    """ID3v2.4 tags: title, date, agency, commune, and the priority in a TXXX frame."""
    from mutagen.id3 import COMM, ID3, TALB, TCON, TDRC, TIT2, TLAN, TPE1, TPUB, TXXX

    tags = ID3()
    tags.add(TIT2(encoding=3, text=info["title"]))
    tags.add(TDRC(encoding=3, text=info["date"]))
    tags.add(TPE1(encoding=3, text=info["agency"]))
    tags.add(TPUB(encoding=3, text=info["agency"]))
    tags.add(TALB(encoding=3, text=info["template_name"]))
    tags.add(TCON(encoding=3, text="Speech"))
    tags.add(TLAN(encoding=3, text="vie" if info["language"] == "vi" else "eng"))
    tags.add(TXXX(encoding=3, desc="COMMUNE", text=info["commune_label"]))
    tags.add(TXXX(encoding=3, desc="PRIORITY", text=info["priority"]))
    if info.get("expires"):
        tags.add(TXXX(encoding=3, desc="EXPIRES", text=info["expires"]))
    tags.add(COMM(encoding=3, lang="vie", desc="", text=f"{info['province']} - {info['commune_label']}"))
    tags.save(str(path), v2_version=4)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()
