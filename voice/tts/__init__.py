"""Text to speech: the `Synthesizer` wrapper, engines behind a small protocol, and the render cache.

Engines: "espeak" (espeak-ng Vietnamese, offline out of the box but robotic) and "piper" (neural
voices; production should use a Vietnamese Piper voice or recorded prompts).
"""

from __future__ import annotations

from voice.tts.base import TtsEngine, TtsError
from voice.tts.registry import ENGINES, EngineRegistry, select_engine
from voice.tts.synthesizer import Synthesizer

__all__ = ["ENGINES", "EngineRegistry", "Synthesizer", "TtsEngine", "TtsError", "select_engine"]
