"""`vietasr` engine: the offline Vietnamese model embedded in the viet-asr wheel (the default)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voice.asr.base import AsrError, AsrModelError, AsrResult

logger = logging.getLogger(__name__)

# The model's native rate. The session also takes 8 kHz and resamples inside; on the fixtures an 8 kHz
# mu-law round trip gave the same transcripts either way (bench/voice_asr.py measures both), so we
# declare only 16 kHz and resample at the edge with our own stateful soxr resampler.
MODEL_RATE = 16000
_QUIET = 4  # native log level that keeps its INFO lines off stderr; errors reach us via last_error()


class VietAsrStream:
    """One viet-asr session. The engine gives text only: confidence None, no word timings."""

    def __init__(self, session, rate: int) -> None:
        self._session = session
        self.rate = rate

    def accept(self, samples: np.ndarray) -> None:
        # accept() hands the buffer pointer to C: it must be C-contiguous int16, or cffi rejects it.
        self._session.accept(np.ascontiguousarray(samples, dtype=np.int16))

    def partial(self) -> AsrResult:
        return AsrResult(_text(self._session.partial()), is_final=False)

    def final(self) -> AsrResult:
        return AsrResult(_text(self._session.final()), is_final=True)

    def close(self) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()


def _text(result) -> str:
    # The payload carries only text/partial/is_final for this preset (checked: no confidence, no timings).
    return " ".join(str(result.payload.get("text") or "").split())


class VietAsrEngine:
    """The loaded pipeline (70 MB ONNX model, ~1 s to load): one per process, a session per stream."""

    name = "vietasr"
    sample_rates = (MODEL_RATE,)
    supports_phrases = False

    def __init__(self, pipeline, preset: str) -> None:
        self._pipeline = pipeline
        self.preset = preset
        self._lock = threading.Lock()  # session creation touches the shared pipeline

    @classmethod
    def cache_key(cls, asr_settings, resolve_path=Path) -> tuple:
        return (asr_settings.vietasr.preset,)

    @classmethod
    def load(cls, asr_settings, resolve_path=Path) -> VietAsrEngine:
        preset = asr_settings.vietasr.preset
        try:
            import vietasr
            from vietasr.ffi import native
        except (ImportError, OSError) as exc:
            raise AsrModelError(f"the viet-asr package is not usable: {exc}") from exc
        native.lib.vietasr_set_log_level(_QUIET)
        try:
            pipeline = vietasr.Pipeline.preset(preset)
        except Exception as exc:  # PipelineError: unknown preset or a model that does not build
            raise AsrModelError(
                f"voice.asr.vietasr.preset: cannot load viet-asr preset {preset!r}: {exc}"
            ) from exc
        return cls(pipeline, preset)

    def start_stream(self, rate: int, *, phrases: Sequence[str] | None = None) -> VietAsrStream:
        if rate not in self.sample_rates:
            raise AsrError(f"vietasr streams take {MODEL_RATE} Hz audio, not {rate} Hz", code="asr_rate")
        if phrases:
            logger.debug("vietasr has no phrase-list mode; recognizing freely")
        with self._lock:
            if self._pipeline is None:
                raise AsrError("vietasr engine is closed")
            try:
                session = self._pipeline.stream(sample_rate=float(rate))
            except Exception as exc:
                raise AsrError(f"vietasr could not open a stream: {exc}") from exc
        return VietAsrStream(session, rate)

    def close(self) -> None:
        with self._lock:
            pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            pipeline.close()
