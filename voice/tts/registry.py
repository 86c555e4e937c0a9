"""Engines by name, imported lazily; loaded voices kept under a lock so each loads once."""

from __future__ import annotations

import importlib
import logging
import threading
from typing import Any

from voice.tts.base import TtsEngine, TtsError

logger = logging.getLogger(__name__)

# name -> "module:Class"; a new engine is one new module and one line here.
ENGINES: dict[str, str] = {
    "espeak": "voice.tts.espeak:EspeakEngine",
    "piper": "voice.tts.piper:PiperEngine",
}


def select_engine(requested: str | None, configured: str) -> str:
    """The engine to use: the one asked for, else the configured one; unknown names are a clear error."""
    name = (requested or configured or "").strip().lower()
    if name == "espeak-ng":
        name = "espeak"
    if name not in ENGINES:
        raise TtsError(
            f"unknown TTS engine {name!r}; choose one of: {', '.join(sorted(ENGINES))}",
            code="tts_unknown_engine",
        )
    return name


def engine_class(name: str) -> Any:
    module_name, _, attr = ENGINES[name].partition(":")
    return getattr(importlib.import_module(module_name), attr)


class EngineRegistry:
    """Loads each engine from settings on first use (blocking: call it from a worker thread)."""

    def __init__(self, settings) -> None:  # settings: hotline.settings.Settings
        self._settings = settings
        self._engines: dict[str, TtsEngine] = {}
        self._lock = threading.Lock()

    def get(self, name: str) -> TtsEngine:
        name = select_engine(name, self._settings.voice.tts.engine)
        with self._lock:  # held while loading: two callers never load the same voice twice
            engine = self._engines.get(name)
            if engine is None:
                logger.info("loading TTS engine %s", name)
                engine = engine_class(name).from_settings(self._settings)
                self._engines[name] = engine
            return engine

    def put(self, name: str, engine: TtsEngine) -> None:
        """Install an already loaded engine (tests wrap real engines to observe calls)."""
        with self._lock:
            self._engines[name] = engine

    def close(self) -> None:
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            try:
                engine.close()
            except Exception:  # closing must release the others even if one fails
                logger.exception("closing TTS engine %s failed", getattr(engine, "name", "?"))
