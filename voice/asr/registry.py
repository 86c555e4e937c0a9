"""Engines by name, imported lazily; loaded models cached under a lock so each loads once per process."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any, Protocol

from voice.asr.base import AsrEngine, AsrError, AsrModelError
from voice.registry import LazyRegistry, import_engine

logger = logging.getLogger(__name__)

# name -> "module:Class"; a new engine is one new module and one line here. Each class has
# `cache_key(asr_settings, resolve_path)` (what identifies its loaded model) and
# `load(asr_settings, resolve_path)` (blocking).
ENGINES: dict[str, str] = {
    "vietasr": "voice.asr.vietasr:VietAsrEngine",
    "vosk": "voice.asr.vosk:VoskEngine",
}

PathResolver = Callable[[Path], Path]


def select_engine(requested: str | None, configured: str, known: Sequence[str] = tuple(ENGINES)) -> str:
    """The engine to use: the one asked for, else the configured one; an unknown name is a clear error."""
    name = (requested or configured or "").strip().lower().replace("-", "")
    if name not in known:
        shown = (requested or configured or "").strip() or "(none)"
        raise AsrError(
            f"unknown ASR engine {shown!r}; choose one of: {', '.join(sorted(known))}",
            code="asr_unknown_engine",
        )
    return name


def stream_rate(input_rate: int, supported: Sequence[int]) -> int:
    """The engine rate to feed audio of `input_rate` at: the same rate if supported, else the lowest
    supported rate at or above it (never throw away bandwidth), else the highest supported one."""
    if input_rate <= 0:
        raise AsrError(f"invalid sample rate {input_rate} Hz", code="asr_rate")
    if not supported:
        raise AsrError("engine declares no sample rates", code="asr_rate")
    if input_rate in supported:
        return input_rate
    higher = [r for r in supported if r >= input_rate]
    return min(higher) if higher else max(supported)


class EngineClass(Protocol):
    """What the registry needs from an engine class (the loaded instance is an `AsrEngine`)."""

    def cache_key(self, asr_settings: Any, resolve_path: PathResolver) -> Hashable: ...

    def load(self, asr_settings: Any, resolve_path: PathResolver) -> AsrEngine: ...


def engine_class(name: str) -> EngineClass:
    return import_engine(ENGINES[name])


class EngineRegistry:
    """Loads each engine on first use and keeps it (blocking: call `get` from a worker thread)."""

    def __init__(self) -> None:
        self._engines: LazyRegistry[tuple[str, Hashable], AsrEngine] = LazyRegistry("ASR engine")

    def get(self, name: str, asr_settings, resolve_path: PathResolver = Path) -> AsrEngine:
        """The loaded engine `name` configured by `asr_settings` (voice.asr), loading it if needed."""
        cls = engine_class(name)

        def load() -> AsrEngine:
            logger.info("loading ASR engine %s", name)
            try:
                return cls.load(asr_settings, resolve_path)
            except AsrError:
                raise
            except Exception as exc:  # an engine library failing to load is a model problem for the operator
                raise AsrModelError(f"ASR engine {name} failed to load: {exc}") from exc

        return self._engines.get((name, cls.cache_key(asr_settings, resolve_path)), load)

    def loaded(self) -> list[str]:
        return sorted({name for name, _ in self._engines.keys()})

    def close(self) -> None:
        self._engines.close()


_shared: EngineRegistry | None = None
_shared_lock = threading.Lock()


def shared_registry() -> EngineRegistry:
    """The process-wide registry: models are large, so every Recognizer in a process shares them."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = EngineRegistry()
        return _shared
