"""The studio's files: drafts, accepting one, and when a recording counts as stale."""

from __future__ import annotations

import pytest

from console.edit import studio
from console.edit.takes import process
from ivr.recordables import Recordable, RecordableGroup
from tests.console.edit.test_takes import TEXT, speech


def _item(text: str = TEXT) -> Recordable:
    return Recordable("goodbye", text, RecordableGroup.FOLLOW_UP, "Lời chào kết thúc cuộc gọi")


def test_status_follows_the_text_a_take_was_read_from_and_the_audio_in_place(console_settings):
    from ivr.prompt_history import PromptHistory

    item = _item()
    assert studio.status(console_settings, item) == studio.Status.MISSING
    draft = studio.save_draft(console_settings, item, process(speech(), TEXT), "upload", "lan")
    assert studio.status(console_settings, item) == studio.Status.MISSING  # a draft is not what callers hear
    path, previous, _ = studio.accept(console_settings, item, draft.id, "lan")
    assert previous is None and path.is_file()
    assert studio.status(console_settings, item) == studio.Status.RECORDED
    assert studio.status(console_settings, _item(TEXT + " Hẹn gặp lại.")) == studio.Status.STALE
    # Re-recorded by phone: which text it was read from is unknown, so it is not called stale.

    class Audit:
        def record(self, *args: object) -> None:
            pass

    PromptHistory.from_settings(console_settings, Audit()).install("goodbye", speech(), by="operator2")
    assert studio.status(console_settings, _item(TEXT + " Hẹn gặp lại.")) == studio.Status.RECORDED
    with pytest.raises(studio.StudioError):
        studio.accept(console_settings, item, draft.id, "lan")  # a draft is accepted once
    with pytest.raises(studio.StudioError):
        studio.load_draft(console_settings, "goodbye", "../../etc/passwd")


def test_a_topic_take_restored_from_the_history_comes_back_with_its_note(console_settings):
    """Two studio takes of a topic's answer: the first, put back by `hotline prompts restore`, is played
    again (its note of the text it was read from came back with it); a version without a note is not."""
    from ivr.prompt_history import PromptHistory
    from ivr.take_notes import ReadFrom, note_path, read_from

    class Audit:
        def record(self, *args: object) -> None:
            pass

    item = Recordable(
        "tl_cccd", TEXT, RecordableGroup.TOPIC_ANSWER, "Khi người gọi hỏi về thẻ căn cước", strict=True
    )
    first = studio.save_draft(console_settings, item, process(speech(), TEXT), "upload", "lan")
    path, _, _ = studio.accept(console_settings, item, first.id, "lan")
    first_audio = path.read_bytes()
    second = studio.save_draft(console_settings, item, process(speech(gain=0.5), TEXT), "browser", "lan")
    _, kept, _ = studio.accept(console_settings, item, second.id, "lan")
    assert kept is not None and kept.with_name(kept.stem + ".take.json").is_file()  # the note went along

    history = PromptHistory.from_settings(console_settings, Audit())
    back = history.restore("tl_cccd", kept.name, by="cli:admin")
    assert back.note and path.read_bytes() == first_audio
    assert read_from(path.parent, "tl_cccd", TEXT) == ReadFrom.CURRENT
    assert studio.status(console_settings, item) == studio.Status.RECORDED

    # A recording put in place by phone has no note: restoring it leaves the topic unplayed (stale).
    history.install("tl_cccd", speech(), by="operator2")
    assert not note_path(path.parent, "tl_cccd").exists()
    noteless = history.versions("tl_cccd")[0]  # the first take, replaced by the phone's: kept with its note
    assert history.restore("tl_cccd", noteless.name, by="cli:admin").note
    phone = next(
        v for v in history.versions("tl_cccd") if not v.path.with_name(v.path.stem + ".take.json").exists()
    )
    assert not history.restore("tl_cccd", phone.name, by="cli:admin").note
    assert studio.status(console_settings, item) == studio.Status.STALE
