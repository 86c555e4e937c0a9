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
