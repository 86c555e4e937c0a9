"""Where the turn-taking models come from: the models directory, or a wheel checked by its sha256."""

from __future__ import annotations

import hashlib
import zipfile

import pytest

from core.errors import HotlineError
from voice import turn_files
from voice.turn_files import FILES, SILERO, ModelFile, ModelMissing, install, locate


def test_a_missing_model_names_the_setting_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setattr(turn_files, "_installed_package_file", lambda model: None)
    with pytest.raises(ModelMissing) as err:
        locate(SILERO, tmp_path, "ivr.media.models_dir")
    assert "ivr.media.models_dir" in str(err.value) and "make setup" in str(err.value)


def fake_wheel(tmp_path, members: dict[str, bytes]):
    wheel = tmp_path / "pipecat.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return wheel


def test_install_takes_only_the_pinned_files_from_the_pinned_wheel_and_is_idempotent(tmp_path, monkeypatch):
    monkeypatch.setattr(turn_files, "_installed_package_file", lambda model: None)
    data = {m.member: f"model {m.name}".encode() for m in FILES}
    files = tuple(ModelFile(m.name, m.member, hashlib.sha256(data[m.member]).hexdigest()) for m in FILES)
    monkeypatch.setattr(turn_files, "FILES", files)
    wheel = fake_wheel(tmp_path, {**data, "pipecat/other.py": b"not wanted"})
    monkeypatch.setattr(turn_files, "WHEEL_SHA256", hashlib.sha256(wheel.read_bytes()).hexdigest())
    models = tmp_path / "models"
    paths = install(models, wheel=wheel)
    assert sorted(p.name for p in models.iterdir()) == sorted(m.name for m in files)
    assert [p.read_bytes() for p in paths] == [data[m.member] for m in files]
    wheel.unlink()  # intact files are kept: nothing is fetched again
    assert install(models) == paths


def test_install_refuses_a_wheel_that_is_not_the_pinned_one(tmp_path, monkeypatch):
    monkeypatch.setattr(turn_files, "_installed_package_file", lambda model: None)
    wheel = fake_wheel(tmp_path, {m.member: b"tampered" for m in FILES})
    with pytest.raises(HotlineError, match="sha256"):
        install(tmp_path / "models", wheel=wheel)
    assert not any((tmp_path / "models").iterdir())
