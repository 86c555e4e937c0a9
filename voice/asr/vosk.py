"""`vosk` engine: a Kaldi model directory from config (production: a Vietnamese Vosk model)."""

from __future__ import annotations

import json
import logging
import re
import unicodedata
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from voice.asr.base import AsrError, AsrModelError, AsrResult, Word

logger = logging.getLogger(__name__)

KEY = "voice.asr.vosk.model_dir"
# Kaldi's online decoding (i-vector updates, endpointing) depends on how audio is cut into calls, so the
# stream always feeds it pieces of this length, whatever chunks the caller sends (20 ms RTP frames or a
# whole file). Costs at most this much partial-result latency.
_PIECE_S = 0.2
_DEFAULT_RATE = 16000  # Kaldi's --sample-frequency default when conf/mfcc.conf does not set it


def validate_model_dir(model_dir: Path) -> int:
    """Check a Vosk model directory before Kaldi sees it; return its sample rate (Hz).

    Kaldi reports a bad directory only as "Failed to create a model" after printing to stderr, so the
    common mistakes (wrong path, a zip not unpacked, a nested folder, a truncated download) are named here.
    """
    if not model_dir.exists():
        raise AsrModelError(f"{KEY}: {model_dir} does not exist (unpack the Vosk model there)")
    if not model_dir.is_dir():
        raise AsrModelError(f"{KEY}: {model_dir} is a file, not a model directory (unpack it first)")
    missing = [rel for rel in ("am/final.mdl", "conf/model.conf") if not (model_dir / rel).is_file()]
    graph = model_dir / "graph"
    lookahead = (graph / "HCLr.fst").is_file() and (graph / "Gr.fst").is_file()
    if not (graph / "HCLG.fst").is_file() and not lookahead:
        missing.append("graph/HCLG.fst (or graph/HCLr.fst + graph/Gr.fst)")
    if missing:
        nested = [p.name for p in model_dir.iterdir() if p.is_dir() and (p / "am" / "final.mdl").is_file()]
        hint = f"; the model seems to be in the subfolder {nested[0]!r}" if nested else ""
        raise AsrModelError(f"{KEY}: {model_dir} is not a Vosk model: missing {', '.join(missing)}{hint}")
    for rel in ("am/final.mdl", "conf/model.conf"):
        path = model_dir / rel
        try:
            with path.open("rb") as fh:
                if not fh.read(1):
                    raise AsrModelError(f"{KEY}: {path} is empty (incomplete download?)")
        except OSError as exc:
            raise AsrModelError(f"{KEY}: cannot read {path}: {exc.strerror}") from None
    rate = _DEFAULT_RATE
    for name in ("model.conf", "mfcc.conf"):
        conf = model_dir / "conf" / name
        if not conf.is_file():
            continue
        for lineno, line in enumerate(_read_text(conf).splitlines(), 1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            if not line.startswith("--"):
                raise AsrModelError(
                    f"{conf}:{lineno}: not a Kaldi option line (expected --name=value): {line[:60]!r}"
                )
            m = re.fullmatch(r"--sample-frequency=(\d+)(?:\.0*)?", line)
            if m:
                rate = int(m.group(1))
    return rate


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AsrModelError(f"{KEY}: cannot read {path}: {exc}") from None


def grammar_json(phrases: Sequence[str]) -> str | None:
    """Vosk's phrase-list argument: NFC, lower case, de-duplicated; None for free recognition."""
    seen: dict[str, None] = {}
    for phrase in phrases:
        text = " ".join(unicodedata.normalize("NFC", str(phrase)).lower().split())
        if text:
            seen.setdefault(text, None)
    # ensure_ascii=False: Vosk does not decode \\uXXXX escapes and would drop every non-ASCII phrase.
    return json.dumps(list(seen), ensure_ascii=False) if seen else None


class VoskStream:
    """One KaldiRecognizer; Kaldi splits long audio at pauses, the pieces are joined here."""

    def __init__(self, recognizer, rate: int) -> None:
        self._rec = recognizer
        self.rate = rate
        self._words: list[Word] = []
        self._texts: list[str] = []
        self._piece = max(1, int(rate * _PIECE_S)) * 2  # bytes
        self._buffer = bytearray()

    def accept(self, samples: np.ndarray) -> None:
        self._buffer += np.ascontiguousarray(samples, dtype="<i2").tobytes()
        while len(self._buffer) >= self._piece:
            self._feed(bytes(self._buffer[: self._piece]))
            del self._buffer[: self._piece]

    def _feed(self, data: bytes) -> None:
        if self._rec.AcceptWaveform(data):
            self._take(self._rec.Result())

    def _take(self, raw: str) -> None:
        payload = json.loads(raw or "{}")
        text = " ".join(str(payload.get("text", "")).split())
        if text:
            self._texts.append(text)
        for w in payload.get("result", []):
            conf = w.get("conf")
            self._words.append(
                Word(
                    str(w.get("word", "")),
                    float(w.get("start", 0.0)),
                    float(w.get("end", 0.0)),
                    float(conf) if conf is not None else None,
                )
            )

    def partial(self) -> AsrResult:
        current = " ".join(str(json.loads(self._rec.PartialResult() or "{}").get("partial", "")).split())
        return AsrResult(" ".join([*self._texts, current]).strip(), is_final=False)

    def final(self) -> AsrResult:
        if self._buffer:
            self._feed(bytes(self._buffer))
            self._buffer.clear()
        self._take(self._rec.FinalResult())
        confs = [w.confidence for w in self._words if w.confidence is not None]
        confidence = float(np.mean(confs)) if confs else None
        result = AsrResult(
            " ".join(self._texts), is_final=True, confidence=confidence, words=list(self._words)
        )
        self._texts, self._words = [], []
        return result

    def close(self) -> None:
        self._rec = None


class VoskEngine:
    """A loaded Vosk model (shared, thread-safe in Kaldi) with a recognizer per stream."""

    name = "vosk"
    supports_phrases = True

    def __init__(self, model, model_dir: Path, rate: int, phrases: Sequence[str] = ()) -> None:
        self._model = model
        self.model_dir = model_dir
        self.sample_rates = (rate,)
        self._phrases = tuple(phrases)  # voice.asr.vosk.grammar: the default phrase list

    @classmethod
    def cache_key(cls, asr_settings, resolve_path=Path) -> tuple:
        model_dir = asr_settings.vosk.model_dir
        return (str(resolve_path(model_dir)) if model_dir else None, tuple(asr_settings.vosk.grammar))

    @classmethod
    def load(cls, asr_settings, resolve_path=Path) -> VoskEngine:
        if not asr_settings.vosk.model_dir:
            raise AsrModelError(f"{KEY} is not set: point it at an unpacked Vosk model directory")
        model_dir = Path(resolve_path(asr_settings.vosk.model_dir))
        rate = validate_model_dir(model_dir)
        try:
            import vosk
        except ImportError as exc:
            raise AsrModelError(f"the vosk package is not installed: {exc}") from exc
        vosk.SetLogLevel(-1)  # warnings and errors only (Kaldi logs every load step otherwise)
        try:
            model = vosk.Model(str(model_dir))
        except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
            raise AsrModelError(
                f"{KEY}: {model_dir} could not be loaded by Vosk (corrupt or incompatible model files): {exc}"
            ) from exc
        logger.info("loaded Vosk model %s (%d Hz)", model_dir, rate)
        return cls(model, model_dir, rate, asr_settings.vosk.grammar)

    def start_stream(self, rate: int, *, phrases: Sequence[str] | None = None) -> VoskStream:
        if rate not in self.sample_rates:
            raise AsrError(
                f"this Vosk model takes {self.sample_rates[0]} Hz audio, not {rate} Hz", code="asr_rate"
            )
        if self._model is None:
            raise AsrError("vosk engine is closed")
        import vosk

        grammar = grammar_json(phrases if phrases is not None else self._phrases)
        try:
            rec = (
                vosk.KaldiRecognizer(self._model, float(rate), grammar)
                if grammar
                else vosk.KaldiRecognizer(self._model, float(rate))
            )
        except Exception as exc:
            raise AsrError(f"vosk could not open a stream: {exc}") from exc
        rec.SetWords(True)
        return VoskStream(rec, rate)

    def close(self) -> None:
        self._model = None  # vosk frees the model when the last recognizer using it is gone
