"""What there is to record: every fixed prompt with a group, where callers hear it, its context."""

from __future__ import annotations

from ivr.flow.config import PROMPT_KEYS
from ivr.recordables import PROMPT_USES, RecordableGroup, recordables, text_digest


def test_every_prompt_is_recordable_with_a_group_and_a_vietnamese_use():
    items = recordables({k: f"câu {k}" if k != "beep" else "" for k in PROMPT_KEYS})
    assert sorted(r.key for r in items) == sorted(PROMPT_KEYS) == sorted(PROMPT_USES)
    order = list(RecordableGroup)
    positions = [order.index(RecordableGroup(r.group)) for r in items]
    assert positions == sorted(positions)  # printed group by group
    by_key = {r.key: r for r in items}
    assert by_key["greeting"].before == ("recording_notice",)
    assert by_key["goodbye"].before == ("greeting",)
    assert by_key["feedback_intro"].after == ("beep",)
    assert by_key["beep"].text.startswith("(tiếng bíp")
    assert all(r.usage and r.usage[0].isupper() and "_" not in r.usage for r in items)


def test_a_text_digest_ignores_spacing_only():
    assert text_digest("Xin  chào\n anh chị") == text_digest("Xin chào anh chị")
    assert text_digest("Xin chào anh chị") != text_digest("Xin chào anh chị.")
