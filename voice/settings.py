"""Config section `voice:` (ASR and TTS engines, worker pools, text normalization tables)."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from core.config import ProductConfig


class _Section(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class VietAsrSettings(_Section):
    preset: str = "transcribe"  # viet-asr pipeline preset; the model is embedded in the wheel


class VoskSettings(_Section):
    model_dir: Path | None = None  # e.g. var/models/vosk-model-small-vn-0.4
    grammar: list[str] = []  # optional phrase list; empty: free recognition


class AsrSettings(_Section):
    engine: str = "vietasr"  # vietasr | vosk
    workers: int = Field(2, ge=1, le=64)  # threads running inference off the event loop
    max_pending: int = Field(32, ge=1, le=10000)  # inference jobs queued or running at once (about one per
    # active stream); beyond this recognition fails fast with a retryable error (IVR falls back to the keypad)
    vietasr: VietAsrSettings = VietAsrSettings()
    vosk: VoskSettings = VoskSettings()


class EspeakSettings(_Section):
    voice: str = "vi+f2"  # espeak-ng voice and variant: the most intelligible measured (bench.tts_tuning)
    speed: int = Field(130, ge=80, le=450)  # words per minute at rate 1.0
    pitch: int = Field(50, ge=0, le=99)
    word_gap: int = Field(0, ge=0, le=50)  # extra pause between words, units of 10 ms (espeak-ng -g)


class PiperSettings(_Section):
    # voice .onnx (its .onnx.json beside it), e.g. var/cache/voices/vi_VN-vais1000-medium.onnx
    model: Path | None = None
    speaker: int | None = None


class TtsSettings(_Section):
    engine: str = "espeak"  # espeak | piper
    workers: int = Field(2, ge=1, le=64)
    rate: float = Field(1.0, gt=0.25, le=4.0)  # speaking-rate multiplier
    cache: bool = True  # render cache keyed by (engine, voice, text, rate)
    max_chars: int = Field(20000, ge=100, le=1_000_000)  # longest text accepted in one request (characters)
    lexicon: Path | None = Path("config/lexicon.yaml")  # words synthetic voices say wrong, respelled
    espeak: EspeakSettings = EspeakSettings()
    piper: PiperSettings = PiperSettings()


class TextSettings(_Section):
    abbreviations: Path = Path("config/abbreviations.yaml")  # editable abbreviation table


class VoiceSettings(_Section):
    asr: AsrSettings = AsrSettings()
    tts: TtsSettings = TtsSettings()
    text: TextSettings = TextSettings()
    catalog: Path | None = None  # voices `hotline voices install NAME` knows; None: the one in the package


class VoiceConfig(ProductConfig, Protocol):
    """What the speech engines read from the product's settings."""

    @property
    def voice(self) -> VoiceSettings: ...
