"""The shared turn-taking models: loaded from the models directory, or calls go on without them."""

from __future__ import annotations

import logging

import pytest

from hotline.settings import load_settings
from ivr.turn_taking import TurnTaking
from tests.conftest import ROOT
from tests.voice.turn_models import MODELS_DIR, silero_path, smart_turn_path
from voice.silero import SileroDetector
from voice.vad import EnergyDetector


def settings_with(tmp_path, **env):
    return load_settings(
        ROOT / "config" / "hotline.yaml", env={"HOTLINE_PATHS__DATA_DIR": str(tmp_path), **env}
    )


def test_missing_models_leave_calls_with_the_energy_detector_and_the_timer(tmp_path, caplog, monkeypatch):
    from voice import turn_files

    monkeypatch.setattr(turn_files, "_installed_package_file", lambda model: None)
    settings = settings_with(
        tmp_path,
        HOTLINE_IVR__MEDIA__MODELS_DIR=str(tmp_path / "none"),
        HOTLINE_IVR__MEDIA__TURN__MODEL="smart_turn",
    )
    with caplog.at_level(logging.ERROR):
        tt = TurnTaking.load(settings)
    assert tt.silero is None and tt.judge is None
    assert isinstance(tt.detector(), EnergyDetector)
    errors = [r.getMessage() for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 2 and all("make setup" in e for e in errors)
    assert "ivr.media.detector" in errors[0] and "ivr.media.turn.model" in errors[1]


@pytest.mark.slow
def test_installed_models_give_each_call_its_own_silero_state(tmp_path):
    silero_path(), smart_turn_path()  # installed by the set-up
    settings = settings_with(
        tmp_path, HOTLINE_IVR__MEDIA__MODELS_DIR=str(MODELS_DIR), HOTLINE_IVR__MEDIA__TURN__MODEL="smart_turn"
    )
    tt = TurnTaking.load(settings)
    try:
        a, b = tt.detector(), tt.detector()
        assert isinstance(a, SileroDetector) and isinstance(b, SileroDetector)
        assert a is not b and a.model is b.model  # one session, two states
        assert tt.judge is not None
    finally:
        tt.close()


def test_settings_refuse_a_ceiling_below_the_pause(tmp_path):
    from core.errors import HotlineError

    with pytest.raises(HotlineError, match="max_silence_ms"):
        settings_with(tmp_path, HOTLINE_IVR__MEDIA__TURN__MAX_SILENCE_MS="150")
