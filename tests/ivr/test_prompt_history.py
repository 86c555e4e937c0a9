"""Prompt recordings replaced by phone: the previous file kept and restorable, every change in the console's
audit log (real files, a real SQLite file, the real `hotline prompts` command)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from console.edit.history import list_versions
from console.models import AuditEntry
from core.db import engine_for, session_factory
from hotline.db import upgrade
from hotline.service import ConsoleAudit
from ivr.audit import RECORD_PROMPT_BY_PHONE, RESTORE_PROMPT_RECORDING
from ivr.prompt_history import PromptHistory, PromptHistoryError
from voice.audio import AudioChunk, read_audio, write_wav

KEY = "greeting"


def tone(hz: float, seconds: float = 0.5) -> AudioChunk:
    t = np.arange(int(8000 * seconds)) / 8000
    return AudioChunk.from_array(0.3 * np.sin(2 * np.pi * hz * t), 8000)


def pitch(path: Path) -> float:
    x = read_audio(path).array().astype(np.float64)
    return float(np.argmax(np.abs(np.fft.rfft(x))) * 8000 / x.size)


@pytest.fixture
def prompts_settings(tmp_path, monkeypatch):
    from hotline.settings import load_settings

    from ..conftest import ROOT

    monkeypatch.setenv("HOTLINE_PATHS__DATA_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("HOTLINE_PATHS__CACHE_DIR", str(tmp_path / "var" / "cache"))
    monkeypatch.setenv("HOTLINE_IVR__PROMPTS_DIR", str(tmp_path / "prompts"))
    settings = load_settings(ROOT / "config" / "hotline.yaml")
    upgrade(settings.database_url)
    return settings


def audit_rows(settings, action: str) -> list[AuditEntry]:
    with session_factory(engine_for(settings))() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id)))


class BrokenAudit:
    def record(self, who, action, target, detail):
        raise OSError("database is locked")


def test_a_recording_by_phone_keeps_the_previous_one_and_is_audited(prompts_settings):
    history = PromptHistory.from_settings(prompts_settings, ConsoleAudit(prompts_settings))
    first = history.install(KEY, tone(440), by="operator")
    assert first.previous is None and pitch(first.path) == pytest.approx(440, abs=5)
    second = history.install(KEY, tone(880), by="operator2")
    assert second.previous is not None and pitch(second.previous) == pytest.approx(440, abs=5)
    assert pitch(second.path) == pytest.approx(880, abs=5)
    rows = audit_rows(prompts_settings, RECORD_PROMPT_BY_PHONE)
    assert [r.username for r in rows] == ["operator", "operator2"]
    assert {r.target for r in rows} == {f"prompt:{KEY}"}
    assert "0.5 s recorded by phone on operator2" in rows[1].detail and second.previous.name in rows[1].detail
    # The console lists the kept recording like those its uploads keep (same directory, same names).
    console_view = list_versions(history.history_dir, Path(f"{KEY}.wav"))
    assert [v.name for v in console_view] == [second.previous.name] == [v.name for v in history.versions(KEY)]


def test_a_kept_recording_is_restored_and_the_replaced_one_kept_in_turn(prompts_settings):
    history = PromptHistory.from_settings(prompts_settings, ConsoleAudit(prompts_settings))
    history.install(KEY, tone(440), by="operator")
    history.install(KEY, tone(880), by="operator")  # the bad take
    back = history.restore(KEY, by="cli:admin")
    assert pitch(back.path) == pytest.approx(440, abs=5)
    assert back.previous is not None and pitch(back.previous) == pytest.approx(880, abs=5)
    [row] = audit_rows(prompts_settings, RESTORE_PROMPT_RECORDING)
    assert row.username == "cli:admin" and row.target == "prompt:greeting"
    gone = history.remove(KEY, by="cli:admin")
    assert not gone.path.exists() and gone.previous is not None  # synthesized again, the take kept
    with pytest.raises(PromptHistoryError):
        history.restore(KEY, "greeting-20300101T000000000000.wav", by="cli:admin")  # no such version
    with pytest.raises(PromptHistoryError):
        history.restore("../../etc/passwd", by="cli:admin")


def test_a_change_that_cannot_be_audited_is_undone(prompts_settings):
    good = PromptHistory.from_settings(prompts_settings, ConsoleAudit(prompts_settings))
    good.install(KEY, tone(440), by="operator")
    broken = PromptHistory.from_settings(prompts_settings, BrokenAudit())
    with pytest.raises(OSError):
        broken.install(KEY, tone(880), by="operator")
    assert pitch(good.recordings_dir / f"{KEY}.wav") == pytest.approx(440, abs=5)
    assert good.versions(KEY) == []  # the copy made for the undone change went back in place
    with pytest.raises(OSError):
        broken.install("goodbye", tone(880), by="operator")
    assert not (good.recordings_dir / "goodbye.wav").exists()
    unaudited = PromptHistory.from_settings(prompts_settings, None)
    with pytest.raises(PromptHistoryError):
        unaudited.install(KEY, tone(880), by="operator")
    assert pitch(good.recordings_dir / f"{KEY}.wav") == pytest.approx(440, abs=5)


def test_hotline_prompts_history_and_restore(prompts_settings):
    from typer.testing import CliRunner

    from hotline.cli import app

    history = PromptHistory.from_settings(prompts_settings, ConsoleAudit(prompts_settings))
    write_wav(history.recordings_dir / f"{KEY}.wav", tone(440))  # an earlier recording (upload, file)
    history.install(KEY, tone(880), by="operator")
    runner = CliRunner()
    r = runner.invoke(app, ["prompts", "history", KEY])
    assert r.exit_code == 0, r.output
    [kept] = history.versions(KEY)
    assert kept.name in r.output
    r = runner.invoke(app, ["prompts", "restore", KEY, kept.name])
    assert r.exit_code == 0, r.output
    assert pitch(history.recordings_dir / f"{KEY}.wav") == pytest.approx(440, abs=5)
    r = runner.invoke(app, ["prompts", "restore", KEY, "--synthesized"])
    assert r.exit_code == 0 and "synthesized" in r.output
    assert not (history.recordings_dir / f"{KEY}.wav").exists() and len(history.versions(KEY)) == 3
    assert [r.detail.split(";")[0] for r in audit_rows(prompts_settings, RESTORE_PROMPT_RECORDING)] == [
        f"restored {kept.name}",
        "back to the synthesized voice",
    ]


def _studio_take(history: PromptHistory, key: str, text: str, hz: float) -> None:
    """A take accepted in the studio: the recording and the note of the text it was read from."""
    import hashlib
    import json

    from ivr.take_notes import note_path, text_digest

    wav = write_wav(history.recordings_dir / f"{key}.wav", tone(hz))
    sha = hashlib.sha256(wav.read_bytes()).hexdigest()
    note_path(history.recordings_dir, key).write_text(
        json.dumps({"text_digest": text_digest(text), "audio_sha256": sha})
    )


def test_restoring_a_topic_take_brings_its_studio_note_back_and_says_so(prompts_settings):
    from typer.testing import CliRunner

    from hotline.cli import app
    from ivr.take_notes import ReadFrom, read_from

    key, text = "tl_cccd", "Để làm thẻ căn cước, anh chị mang giấy khai sinh tới công an xã."
    history = PromptHistory.from_settings(prompts_settings, ConsoleAudit(prompts_settings))
    history.recordings_dir.mkdir(parents=True, exist_ok=True)
    _studio_take(history, key, text, 440)
    history.install(key, tone(880), by="operator")  # replaced some other way: the note leaves with the take
    assert read_from(history.recordings_dir, key, text) == ReadFrom.UNKNOWN
    # A restore whose audit entry cannot be written leaves recording and note as they were.
    with pytest.raises(OSError):
        PromptHistory.from_settings(prompts_settings, BrokenAudit()).restore(key, by="cli:admin")
    assert read_from(history.recordings_dir, key, text) == ReadFrom.UNKNOWN
    assert pitch(history.recordings_dir / f"{key}.wav") == pytest.approx(880, abs=5)

    runner = CliRunner()
    r = runner.invoke(app, ["prompts", "restore", key])
    assert r.exit_code == 0, r.output
    assert "Ghi chú phòng thu của bản ghi cũng được khôi phục" in r.output
    assert read_from(history.recordings_dir, key, text) == ReadFrom.CURRENT  # the hotline plays it again
    # The version recorded another way has no note: the command says the studio must accept it again.
    r = runner.invoke(app, ["prompts", "restore", key])
    assert r.exit_code == 0, r.output
    assert pitch(history.recordings_dir / f"{key}.wav") == pytest.approx(880, abs=5)
    assert "Phòng thu làm bản ghi thử rồi bấm lưu" in r.output
    assert read_from(history.recordings_dir, key, text) == ReadFrom.UNKNOWN
