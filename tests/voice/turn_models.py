"""The installed turn-taking model files (put there by `make setup`), for the real-model tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from voice.turn_files import SILERO, SMART_TURN, ModelFile, ModelMissing, locate

MODELS_DIR = Path("~/.cache/nghean-hotline/models")  # the default of ivr.media.models_dir


def model_path(model: ModelFile) -> Path:
    try:
        return locate(model, MODELS_DIR, "ivr.media.models_dir")
    except ModelMissing as exc:  # a set-up step was skipped: say which, rather than skip silently
        pytest.fail(str(exc))


def silero_path() -> Path:
    return model_path(SILERO)


def smart_turn_path() -> Path:
    return model_path(SMART_TURN)
