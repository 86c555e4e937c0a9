"""The small protocol every TTS engine implements, and the TTS error type."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from core.errors import HotlineError
from voice.audio import AudioChunk


class TtsError(HotlineError):
    """Synthesis failed or cannot start (missing engine, broken voice, unspeakable text)."""

    code = "tts"


@runtime_checkable
class TtsEngine(Protocol):
    """One loaded voice. Blocking; the `Synthesizer` runs it in its worker pool, never on the event loop."""

    name: str  # registry name, e.g. "espeak"

    @property
    def native_rate(self) -> int:
        """Sample rate (Hz) of the audio this engine produces; declared up front, resampled at the edge."""
        ...

    @property
    def voice_id(self) -> str:
        """Stable identity of the voice and its parameters (part of the render-cache key)."""
        ...

    def synthesize(self, text: str, *, rate: float = 1.0) -> AudioChunk:
        """Speak one piece of normalized text at `rate` (speed multiplier) -> mono int16 at native_rate."""
        ...

    def close(self) -> None:
        """Release the voice (model sessions, processes)."""
        ...
