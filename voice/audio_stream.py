"""Decoding an audio file block by block: a 20-minute radio segment never sits in memory whole.

`AudioFileStream` yields mono 16-bit chunks at the rate asked for, one block at a time. WAV/FLAC/OGG are
read with libsndfile and resampled with state carried across blocks; anything else (MP3) is decoded by
an ffmpeg process straight to that rate and read from its pipe. Reads block: step it in a thread.
"""

from __future__ import annotations

import subprocess
import threading
from pathlib import Path
from typing import IO

import numpy as np
import soundfile as sf

from core.errors import AudioError
from voice.audio import SAMPLE_WIDTH, AudioChunk, Resampler

BLOCK_SECONDS = 1.0  # audio per read: small in memory, large enough that a read costs little


class AudioFileStream:
    """One audio file, decoded in blocks of `block_s` seconds at `rate` Hz mono (see the module doc)."""

    def __init__(self, path: Path | str, rate: int, *, block_s: float = BLOCK_SECONDS) -> None:
        self.path = Path(path)
        self.rate = rate
        if not self.path.is_file():
            raise AudioError(f"{self.path}: no such file")
        self._lock = threading.Lock()  # one read at a time; close waits for a read in progress
        self._closed = False
        self._done = False
        self._sf: sf.SoundFile | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._resampler: Resampler | None = None
        try:
            self._sf = sf.SoundFile(str(self.path))
        except (sf.LibsndfileError, RuntimeError, TypeError):
            self._sf = None
        if self._sf is not None:
            self._block = max(1, int(self._sf.samplerate * block_s))
            self._resampler = Resampler(self._sf.samplerate, rate)
        else:
            self._block = max(1, int(rate * block_s))
            self._proc = self._ffmpeg()

    def _ffmpeg(self) -> subprocess.Popen[bytes]:
        cmd = ["ffmpeg", "-nostdin", "-v", "error", "-i", str(self.path)]
        cmd += ["-f", "s16le", "-acodec", "pcm_s16le", "-ac", "1", "-ar", str(self.rate), "-"]
        try:
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        except FileNotFoundError:
            raise AudioError(f"{self.path}: not a WAV/FLAC file and ffmpeg is not installed") from None

    def read(self) -> AudioChunk | None:
        """The next block (mono, `rate` Hz); None at the end of the file or once closed."""
        with self._lock:
            if self._closed or self._done:
                return None
            if self._sf is not None:
                return self._read_sndfile()
            return self._read_pipe()

    def _read_sndfile(self) -> AudioChunk | None:
        assert self._sf is not None and self._resampler is not None
        try:
            data = self._sf.read(self._block, dtype="int16", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as exc:
            raise AudioError(f"{self.path}: cannot decode audio: {exc}") from None
        last = len(data) < self._block
        self._done = last
        mono = data[:, 0] if data.shape[1] == 1 else np.round(data.mean(axis=1)).astype(np.int16)
        out = self._resampler.process(AudioChunk.from_array(mono, self._sf.samplerate), last=last)
        return out if out.samples else None

    def _read_pipe(self) -> AudioChunk | None:
        assert self._proc is not None
        pipe: IO[bytes] | None = self._proc.stdout
        assert pipe is not None
        want = self._block * SAMPLE_WIDTH
        parts: list[bytes] = []
        size = 0
        while size < want:
            part = pipe.read(want - size)
            if not part:
                break
            parts.append(part)
            size += len(part)
        if size < want:
            self._done = True
            code = self._proc.wait()
            if code != 0 and not self._closed and not parts:
                raise AudioError(f"{self.path}: not a readable audio file (ffmpeg exit {code})")
        data = b"".join(parts)
        data = data[: len(data) - len(data) % SAMPLE_WIDTH]
        return AudioChunk(data, self.rate) if data else None

    def close(self) -> None:
        """Stop decoding and release the file or the decoder process (safe from another thread)."""
        self._closed = True
        proc = self._proc
        if proc is not None and proc.poll() is None:
            proc.kill()  # a read blocked on the pipe returns at once
        with self._lock:
            if self._sf is not None:
                self._sf.close()
            if proc is not None:
                if proc.stdout is not None:
                    proc.stdout.close()
                proc.wait()

    def __enter__(self) -> AudioFileStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
