"""Engines by name, imported lazily; loaded voices kept under a lock so each loads once."""

from __future__ import annotations

import logging
from typing import Any

from voice.registry import LazyRegistry, import_engine
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
    return import_engine(ENGINES[name])


class EngineRegistry:
    """Loads each engine from settings on first use (blocking: call it from a worker thread)."""

    def __init__(self, settings) -> None:  # settings: hotline.settings.Settings
        self._settings = settings
        self._engines: LazyRegistry[str, TtsEngine] = LazyRegistry("TTS engine")

    def get(self, name: str) -> TtsEngine:
        name = select_engine(name, self._settings.voice.tts.engine)

        def load() -> TtsEngine:
            logger.info("loading TTS engine %s", name)
            return engine_class(name).from_settings(self._settings)

        return self._engines.get(name, load)  # two callers never load the same voice twice

    def put(self, name: str, engine: TtsEngine) -> None:
        """Install an already loaded engine (tests wrap real engines to observe calls)."""
        self._engines.put(name, engine)

    def close(self) -> None:
        self._engines.close()
