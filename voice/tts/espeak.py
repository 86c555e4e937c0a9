"""espeak-ng engine: the Vietnamese voice that works offline out of the box.

It is a formant synthesizer and sounds robotic; callers understand it only with effort. Production
should use a Piper Vietnamese voice or recorded prompts; this engine is the fallback that always works.
"""

from __future__ import annotations

import logging
import shutil
import struct
import subprocess

from voice.audio import AudioChunk
from voice.tts.base import TtsError

logger = logging.getLogger(__name__)

BINARY = "espeak-ng"
MIN_SPEED, MAX_SPEED = 80, 450  # words per minute espeak-ng accepts


def parse_wav_stream(data: bytes) -> tuple[int, bytes]:
    """(rate, PCM) from the WAV espeak-ng writes to stdout (its size fields are placeholders when piped)."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise TtsError("espeak-ng did not produce WAV audio")
    pos, rate, bits, channels = 12, 0, 0, 0
    while pos + 8 <= len(data):
        tag, size = data[pos : pos + 4], struct.unpack("<I", data[pos + 4 : pos + 8])[0]
        body = pos + 8
        if tag == b"fmt ":
            fmt, channels, rate = struct.unpack("<HHI", data[body : body + 8])
            bits = struct.unpack("<H", data[body + 14 : body + 16])[0]
            if fmt != 1 or bits != 16 or channels != 1:
                raise TtsError(
                    f"espeak-ng produced unexpected audio (format {fmt}, {bits}-bit, {channels} ch)"
                )
        elif tag == b"data":
            if not rate:
                raise TtsError("espeak-ng WAV has no format chunk")
            pcm = data[body:]  # the size field is 0x7ffff000 when streaming: take everything
            return rate, pcm[: len(pcm) - len(pcm) % 2]
        pos = body + size + (size & 1)
    raise TtsError("espeak-ng WAV has no audio data")


class EspeakEngine:
    """espeak-ng through its command-line binary (robotic, but offline and always available)."""

    name = "espeak"

    def __init__(
        self,
        voice: str = "vi",
        speed: int = 150,
        pitch: int = 50,
        binary: str = BINARY,
        *,
        word_gap: int = 0,
    ) -> None:
        path = shutil.which(binary)
        if path is None:
            raise TtsError(
                f"{binary} is not installed: install the Debian package espeak-ng "
                "(apt-get install espeak-ng, or `make setup`)",
                code="tts_engine_missing",
            )
        self._binary, self.voice, self.speed, self.pitch = path, voice, speed, pitch
        self.word_gap = word_gap  # extra pause between words, in units of 10 ms (espeak-ng -g)
        self._version = (
            self._run([self._binary, "--version"], b"", timeout=10).decode("utf-8", "replace").split()[3:4]
        )
        self._rate = self._probe_rate()

    @classmethod
    def from_settings(cls, settings) -> EspeakEngine:  # settings: hotline.settings.Settings
        cfg = settings.voice.tts.espeak
        return cls(voice=cfg.voice, speed=cfg.speed, pitch=cfg.pitch, word_gap=cfg.word_gap)

    @property
    def native_rate(self) -> int:
        return self._rate

    @property
    def voice_id(self) -> str:
        version = self._version[0] if self._version else "?"
        gap = f"/g{self.word_gap}" if self.word_gap else ""  # unchanged ids (and cache) without a gap
        return f"espeak-ng {version}/{self.voice}/s{self.speed}/p{self.pitch}{gap}"

    def _run(self, cmd: list[str], stdin: bytes, *, timeout: float) -> bytes:
        try:
            proc = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, check=False)
        except FileNotFoundError:
            raise TtsError("espeak-ng disappeared: reinstall the Debian package espeak-ng") from None
        except subprocess.TimeoutExpired:
            raise TtsError(f"espeak-ng did not finish within {timeout:.0f} s") from None
        if proc.returncode != 0:
            if b"voice does not exist" in proc.stderr:
                raise TtsError(
                    f"espeak-ng has no voice {self.voice!r} "
                    "(voice.tts.espeak.voice; see `espeak-ng --voices`)",
                    code="tts_voice_missing",
                )
            raise TtsError(f"espeak-ng failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
        return proc.stdout

    def _probe_rate(self) -> int:
        out = self._command_output("a", self.speed)
        if not out:  # espeak-ng exits 0 with no audio when the voice does not exist
            raise TtsError(
                f"espeak-ng has no voice {self.voice!r} (see `espeak-ng --voices`)", code="tts_voice_missing"
            )
        rate, _ = parse_wav_stream(out)
        return rate

    def _command_output(self, text: str, speed: int) -> bytes:
        cmd = [self._binary, "--stdout", "-b", "1", "-v", self.voice, "-s", str(speed), "-p", str(self.pitch)]
        if self.word_gap:
            cmd += ["-g", str(self.word_gap)]
        # Bounded: about 30 s plus 1 s per 50 characters (espeak-ng runs ~50x faster than real time).
        out = self._run(cmd, text.encode("utf-8"), timeout=30 + len(text) / 50)
        return out

    def synthesize(self, text: str, *, rate: float = 1.0) -> AudioChunk:
        speed = int(round(min(MAX_SPEED, max(MIN_SPEED, self.speed * rate))))
        wav_rate, pcm = parse_wav_stream(self._command_output(text, speed))
        if wav_rate != self._rate:
            raise TtsError(f"espeak-ng changed its output rate ({wav_rate} Hz, declared {self._rate} Hz)")
        return AudioChunk(pcm, wav_rate)

    def close(self) -> None:
        """Nothing to release: each synthesis is one short-lived process."""
