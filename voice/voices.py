"""Inventory of the configured and installed TTS voices and ASR models, and a probe check of each."""

from __future__ import annotations

import importlib.util
import logging
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from core.errors import HotlineError
from voice.audio import ASR_RATE, resample, rms_dbfs, silence
from voice.tts.espeak import EspeakEngine

logger = logging.getLogger(__name__)

TTS_PROBE = "Xin chào, đây là tổng đài dịch vụ công."
ASR_PROBE = "Tổng đài dịch vụ công tỉnh Nghệ An xin kính chào quý khách."


@dataclass(frozen=True)
class VoiceEntry:
    kind: str  # "tts" or "asr"
    engine: str  # espeak | piper | vietasr | vosk
    path: Path | None  # binary, voice file or model directory (None: not configured)
    present: bool
    configured: bool  # named by the config file (as opposed to only installed under the cache dir)
    default: bool = False  # the engine the config selects for this kind
    note: str = ""


@dataclass
class CheckResult:
    entry: VoiceEntry
    ok: bool
    seconds: float  # load + probe wall time
    detail: str = ""
    extra: dict = field(default_factory=dict)


def _piper_present(model: Path) -> bool:
    return model.is_file() and model.with_name(model.name + ".json").is_file()


def list_voices(settings) -> list[VoiceEntry]:
    """Every voice/model the config names or the cache holds, with whether its files are present."""
    tts, asr = settings.voice.tts, settings.voice.asr
    entries: list[VoiceEntry] = []
    binary = shutil.which("espeak-ng")
    entries.append(
        VoiceEntry(
            "tts",
            "espeak",
            Path(binary) if binary else None,
            binary is not None,
            True,
            tts.engine == "espeak",
            f"voice {tts.espeak.voice}" if binary else "install the Debian package espeak-ng",
        )
    )
    configured_piper = settings.path(tts.piper.model).resolve() if tts.piper.model else None
    if configured_piper is not None:
        entries.append(
            VoiceEntry(
                "tts",
                "piper",
                configured_piper,
                _piper_present(configured_piper),
                True,
                tts.engine == "piper",
            )
        )
    else:
        entries.append(
            VoiceEntry(
                "tts", "piper", None, False, False, tts.engine == "piper", "voice.tts.piper.model not set"
            )
        )
    voices_dir = settings.cache_dir / "voices"
    for onnx in sorted(voices_dir.glob("*.onnx")) if voices_dir.is_dir() else []:
        if onnx.resolve() != configured_piper:
            entries.append(
                VoiceEntry(
                    "tts",
                    "piper",
                    onnx.resolve(),
                    _piper_present(onnx),
                    False,
                    False,
                    "installed, not configured",
                )
            )
    spec = importlib.util.find_spec("vietasr")
    location = Path(spec.origin).parent if spec and spec.origin else None
    entries.append(
        VoiceEntry(
            "asr",
            "vietasr",
            location,
            spec is not None,
            True,
            asr.engine == "vietasr",
            "model embedded in the viet-asr wheel" if spec else "install viet-asr (make setup)",
        )
    )
    configured_vosk = settings.path(asr.vosk.model_dir).resolve() if asr.vosk.model_dir else None
    if configured_vosk is not None:
        entries.append(
            VoiceEntry("asr", "vosk", configured_vosk, configured_vosk.is_dir(), True, asr.engine == "vosk")
        )
    else:
        entries.append(
            VoiceEntry(
                "asr", "vosk", None, False, False, asr.engine == "vosk", "voice.asr.vosk.model_dir not set"
            )
        )
    models_dir = settings.cache_dir / "models"
    for model in sorted(p for p in models_dir.iterdir() if p.is_dir()) if models_dir.is_dir() else []:
        if model.resolve() != configured_vosk:
            entries.append(
                VoiceEntry("asr", "vosk", model.resolve(), True, False, False, "installed, not configured")
            )
    return entries


def _check_tts(entry: VoiceEntry, settings) -> CheckResult:
    from voice.tts.piper import PiperEngine

    started = time.perf_counter()
    if entry.engine == "espeak":
        engine: EspeakEngine | PiperEngine = EspeakEngine.from_settings(settings)
    else:
        assert entry.path is not None  # unconfigured voices are reported missing before this
        engine = PiperEngine(entry.path)
    loaded = time.perf_counter()
    try:
        chunk = engine.synthesize(TTS_PROBE)
    finally:
        engine.close()
    done = time.perf_counter()
    level = float(rms_dbfs(chunk))
    ok = bool(chunk.duration_s > 0.5 and level > -50)
    detail = f"{chunk.duration_s:.2f} s of audio at {chunk.rate} Hz, {level:.0f} dBFS"
    return CheckResult(
        entry,
        ok,
        done - started,
        detail if ok else "silent or empty probe: " + detail,
        {"load_s": loaded - started, "synth_s": done - loaded},
    )


def _asr_probe_clip():
    """A short clip to recognize: espeak-ng speaking ASR_PROBE when available, else one second of silence."""

    try:
        return resample(EspeakEngine().synthesize(ASR_PROBE), ASR_RATE)
    except HotlineError:
        return silence(1.0, ASR_RATE)


def _recognize_direct(entry: VoiceEntry, settings, chunk) -> str:
    import numpy as np

    samples = np.ascontiguousarray(chunk.array(), dtype=np.int16)
    if entry.engine == "vietasr":
        import vietasr

        pipe = vietasr.Pipeline.preset(settings.voice.asr.vietasr.preset)
        with pipe.stream(sample_rate=chunk.rate) as stream:
            stream.accept(samples)
            return stream.final().text
    import json

    import vosk

    vosk.SetLogLevel(-1)
    rec = vosk.KaldiRecognizer(vosk.Model(str(entry.path)), chunk.rate)
    rec.AcceptWaveform(samples.tobytes())
    return json.loads(rec.FinalResult()).get("text", "")


def _recognize(entry: VoiceEntry, settings, chunk) -> str:
    """Through the project's Recognizer when available (the path calls take), else the engine itself."""
    try:
        from voice.asr import Recognizer
    except ImportError:
        return _recognize_direct(entry, settings, chunk)
    import asyncio

    asr = settings.voice.asr
    update = {"engine": entry.engine}
    if entry.engine == "vosk":
        update["vosk"] = asr.vosk.model_copy(update={"model_dir": entry.path})
    voice = settings.voice.model_copy(update={"asr": asr.model_copy(update=update)})
    recognizer = Recognizer.from_settings(settings.model_copy(update={"voice": voice}))
    try:
        return asyncio.run(recognizer.transcribe(chunk)).text
    finally:
        recognizer.close()


def _check_asr(entry: VoiceEntry, settings) -> CheckResult:
    chunk = _asr_probe_clip()
    started = time.perf_counter()
    text = _recognize(entry, settings, chunk)
    return CheckResult(
        entry,
        True,
        time.perf_counter() - started,
        f"recognized {text!r} from a {chunk.duration_s:.1f} s probe",
    )


def check_voice(entry: VoiceEntry, settings) -> CheckResult:
    """Load the voice/model and run a probe; any failure becomes a failed result with its reason."""
    if not entry.present:
        where = str(entry.path) if entry.path else "not configured"
        return CheckResult(entry, False, 0.0, f"missing ({where})")
    started = time.perf_counter()
    try:
        return _check_tts(entry, settings) if entry.kind == "tts" else _check_asr(entry, settings)
    except HotlineError as exc:
        return CheckResult(entry, False, time.perf_counter() - started, str(exc))
    except Exception as exc:  # a broken model may raise anything; the check reports it instead of crashing
        logger.debug("check of %s failed", entry.engine, exc_info=True)
        return CheckResult(entry, False, time.perf_counter() - started, f"{type(exc).__name__}: {exc}")
