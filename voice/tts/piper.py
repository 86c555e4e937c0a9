"""Piper engine (piper-tts): neural voices from a `.onnx` file with its `.onnx.json` beside it.

Production uses a Vietnamese voice such as vi_VN-vais1000-medium; the model path comes from
`voice.tts.piper.model`. Loading takes about a second, so the registry keeps loaded voices.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

import numpy as np

from voice.audio import AudioChunk
from voice.tts.base import TtsError

logger = logging.getLogger(__name__)

PEAK_HEADROOM = 0.9  # Piper scales each sentence to full scale; keep 1 dB so resampling does not clip
SENTENCE_PAUSE_S = 0.2  # silence appended after each piece (Piper itself ends sentences abruptly)


def check_voice_files(model: Path) -> tuple[Path, dict]:
    """(config path, parsed config) for a voice model, or a TtsError saying exactly what is wrong."""
    if model.suffix != ".onnx":
        raise TtsError(
            f"{model}: a Piper voice is a .onnx file (voice.tts.piper.model)", code="tts_voice_missing"
        )
    if not model.is_file():
        raise TtsError(
            f"{model}: Piper voice not found "
            "(voice.tts.piper.model; install one with `hotline voices install`)",
            code="tts_voice_missing",
        )
    config_path = model.with_name(model.name + ".json")
    if not config_path.is_file():
        raise TtsError(
            f"{config_path}: missing; a Piper voice needs its .onnx.json beside the .onnx",
            code="tts_voice_missing",
        )
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        rate = int(config["audio"]["sample_rate"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise TtsError(
            f"{config_path}: not a Piper voice config ({type(exc).__name__}: {exc})", code="tts_voice_broken"
        ) from None
    if rate <= 0:
        raise TtsError(f"{config_path}: audio.sample_rate must be positive", code="tts_voice_broken")
    return config_path, config


class PiperEngine:
    """A loaded Piper voice; synthesis is serialized per voice (one ONNX session, one thread at a time)."""

    name = "piper"

    def __init__(self, model: Path, speaker: int | None = None) -> None:
        model = Path(model)
        config_path, config = check_voice_files(model)
        try:
            from piper import PiperVoice
        except ImportError as exc:
            raise TtsError(
                f"piper-tts is not installed ({exc}); run `make setup`", code="tts_engine_missing"
            ) from None
        try:
            self._voice: Any = PiperVoice.load(model, config_path=config_path)
        except Exception as exc:  # onnxruntime raises its own types for corrupt or truncated models
            raise TtsError(
                f"{model}: cannot load Piper voice: {type(exc).__name__}: {exc}", code="tts_voice_broken"
            ) from None
        self.model, self.speaker = model, speaker
        self._rate = int(self._voice.config.sample_rate)
        self._base_length = float(config.get("inference", {}).get("length_scale", 1.0) or 1.0)
        stat = model.stat()
        digest = hashlib.sha256(config_path.read_bytes()).hexdigest()[:12]
        self._id = f"piper/{model.stem}/{stat.st_size}-{digest}/spk{speaker if speaker is not None else '-'}"
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings) -> PiperEngine:  # settings: hotline.settings.Settings
        cfg = settings.voice.tts.piper
        if cfg.model is None:
            raise TtsError(
                "no Piper voice configured: set voice.tts.piper.model to a .onnx voice "
                "(install one with `hotline voices install`)",
                code="tts_voice_missing",
            )
        return cls(settings.path(cfg.model), cfg.speaker)

    @property
    def native_rate(self) -> int:
        return self._rate

    @property
    def voice_id(self) -> str:
        return self._id

    def synthesize(self, text: str, *, rate: float = 1.0) -> AudioChunk:
        from piper import SynthesisConfig

        # Speed maps to length_scale: rate 2.0 halves phoneme durations.
        syn = SynthesisConfig(
            speaker_id=self.speaker, length_scale=self._base_length / rate, volume=PEAK_HEADROOM
        )
        pause = np.zeros(int(SENTENCE_PAUSE_S * self._rate), dtype=np.int16)
        parts: list[np.ndarray] = []
        with self._lock:
            try:
                for chunk in self._voice.synthesize(text, syn_config=syn):
                    if chunk.sample_rate != self._rate:
                        raise TtsError(f"Piper produced {chunk.sample_rate} Hz, declared {self._rate} Hz")
                    parts += [chunk.audio_int16_array, pause]
            except TtsError:
                raise
            except Exception as exc:
                raise TtsError(f"Piper synthesis failed: {type(exc).__name__}: {exc}") from exc
        audio = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int16)
        return AudioChunk.from_array(audio, self._rate)

    def close(self) -> None:
        self._voice = None
