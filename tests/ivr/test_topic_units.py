"""The intent catalog's answers, follow-ups and menu lines as recordable units, and played from recordings.

Keys follow the intent, not the text or the position; a recording read from the present text is played
(whole, no synthesis, counted as human voice), a stale one or one of unknown text is not.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil

import numpy as np
import pytest

from intents.catalog import load_catalog
from ivr.flow.config import PROMPT_KEYS
from ivr.prompts import Prompts
from ivr.recordables import RecordableGroup, recordables
from ivr.take_notes import ReadFrom, note_path, read_from, text_digest
from ivr.topic_units import TopicKind, topic_units
from ivr.word_bank import BankUnit
from tests.console.helpers import ROOT
from voice.audio import AudioChunk, read_audio

SPEECH = ROOT / "tests" / "fixtures" / "speech" / "ly_north_female.wav"


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT / "config" / "intents")


def test_keys_follow_the_intent_across_a_reorder_and_a_text_edit(catalog):
    units = {u.key: u for u in topic_units(catalog)}
    assert units["tl_cccd"].kind == TopicKind.ANSWER and units["tl_cccd"].text == catalog.get("cccd").answer
    assert units["hoi_cccd"].text == catalog.get("cccd").follow_up
    assert units["phim_cccd"].text == "Để hỏi về thẻ căn cước, nhấn phím 1."  # sub-menu 1, key 1
    assert units["phim_nhom_1"].text.startswith("Để hỏi về giấy tờ cá nhân")
    assert {"phim_mo_dau", "phim_chung"} <= set(units)
    assert all(u.text.strip() and u.key.isascii() for u in units.values())
    # Every intent has its answer; an intent without a follow-up has none to record.
    assert {f"tl_{i.id}" for i in catalog.intents} <= set(units)
    assert all((f"hoi_{i.id}" in units) == bool(i.follow_up) for i in catalog.intents)

    # The catalog in reverse order, and two topics' keys swapped: same keys for the same sentences.
    swapped = {"cccd": "1.2", "vneid": "1.1"}
    moved = tuple(
        i.model_copy(update={"digit": swapped.get(i.id, i.digit)}) for i in reversed(catalog.intents)
    )
    reordered = {u.key: u for u in topic_units(dataclasses.replace(catalog, intents=moved))}
    assert set(reordered) == set(units)
    assert all(reordered[k].text == units[k].text for k in units if k not in {"phim_cccd", "phim_vneid"})
    assert reordered["phim_cccd"].text == "Để hỏi về thẻ căn cước, nhấn phím 2."  # new text: stale, same key

    # An edited answer keeps its key; its digest (what a take remembers) changes.
    edited = tuple(
        i.model_copy(update={"answer": i.answer + " Xin cảm ơn."}) if i.id == "cccd" else i
        for i in catalog.intents
    )
    after = {u.key: u for u in topic_units(dataclasses.replace(catalog, intents=edited))}
    assert text_digest(after["tl_cccd"].text) != text_digest(units["tl_cccd"].text)


def test_the_script_sheet_lists_topics_after_the_prompts_and_before_the_bank(catalog):
    bank = [BankUnit("so_1", "một", "Số đếm và chữ số", "Chữ số.")]
    items = recordables({k: f"câu {k}" for k in PROMPT_KEYS}, bank, topic_units(catalog))
    keys = [r.key for r in items]
    last_prompt = max(keys.index(k) for k in PROMPT_KEYS)
    assert last_prompt < keys.index("tl_cccd") < keys.index("hoi_cccd") < keys.index("phim_cccd")
    assert keys.index("phim_chung") < keys.index("so_1") == len(keys) - 1
    by_key = {r.key: r for r in items}
    answer = by_key["tl_cccd"]
    assert answer.group == RecordableGroup.TOPIC_ANSWER and answer.strict
    assert answer.usage == "Khi người gọi hỏi về thẻ căn cước"
    assert by_key["hoi_cccd"].before == ("tl_cccd",) and by_key["phim_cccd"].before == ("keypad_menu_intro",)
    assert not by_key["greeting"].strict


class FakeVoice:
    """A synthesizer that records what it was asked (a tone as long as the text is)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    async def synthesize(self, text: str, sample_rate: int = 8000, **_kw) -> AudioChunk:
        self.calls.append(text)
        n = int(sample_rate * 0.06 * max(1, len(text.split())))
        return AudioChunk.from_array(0.2 * np.sin(np.arange(n) * 0.3), sample_rate)


def _record(recordings, key: str, text: str, note: bool = True) -> None:
    """A take accepted in the studio: the recording and the note of the text it was read from."""
    wav = recordings / f"{key}.wav"
    shutil.copy(SPEECH, wav)
    if note:
        sha = hashlib.sha256(wav.read_bytes()).hexdigest()
        note_path(recordings, key).write_text(
            json.dumps({"text_digest": text_digest(text), "audio_sha256": sha})
        )


async def test_a_recorded_answer_is_played_from_its_take_and_a_stale_one_is_not(settings, catalog, tmp_path):
    voice = FakeVoice()
    prompts = Prompts(settings, voice)
    prompts.recordings_dir = tmp_path / "human"
    prompts.recordings_dir.mkdir()
    prompts.use_catalog(catalog, {"": catalog.menu_prompt(None)})
    answer = catalog.get("cccd").answer
    _record(prompts.recordings_dir, "tl_cccd", answer)
    assert read_from(prompts.recordings_dir, "tl_cccd", answer) == ReadFrom.CURRENT

    heard = await prompts.text_audio(answer)
    recording = read_audio(SPEECH)
    assert voice.calls == [] and prompts.human_share(text=answer) == 1.0
    assert heard.rate == 8000 and abs(heard.duration_s - recording.duration_s) < 0.6  # trimmed, not padded
    assert prompts.label_of(answer) == "answer:cccd"  # the coverage row: this topic's answer, human

    # The follow-up was not recorded: synthesized whole, counted synthetic.
    follow_up = catalog.get("cccd").follow_up
    await prompts.text_audio(follow_up)
    assert voice.calls == [follow_up] and prompts.human_share(text=follow_up) == 0.0

    # The answer is edited: the take was read from the old text, so the new one is synthesized.
    edited_text = answer + " Xin cảm ơn."
    edited = tuple(
        i.model_copy(update={"answer": edited_text}) if i.id == "cccd" else i for i in catalog.intents
    )
    prompts.use_catalog(dataclasses.replace(catalog, intents=edited))
    assert read_from(prompts.recordings_dir, "tl_cccd", edited_text) == ReadFrom.OTHER
    await prompts.text_audio(edited_text)
    assert voice.calls[-1] == edited_text and prompts.human_share(text=edited_text) == 0.0
    assert prompts.label_of(edited_text) == "answer:cccd"


async def test_a_menu_is_spoken_from_recorded_lines_and_a_take_of_unknown_text_is_not_used(
    settings, catalog, tmp_path
):
    voice = FakeVoice()
    prompts = Prompts(settings, voice)
    prompts.recordings_dir = tmp_path / "human"
    prompts.recordings_dir.mkdir()
    menu = catalog.menu_prompt("1")
    prompts.use_catalog(catalog, {"1": menu})
    recorded = {"phim_cccd", "phim_vneid", "phim_residence", "phim_chung"}
    lines = [u for u in topic_units(catalog) if u.key in recorded]
    for u in lines:
        _record(prompts.recordings_dir, u.key, u.text)
    # A recording put in place without the studio (no note): the text it was read from is unknown.
    _record(prompts.recordings_dir, "phim_birth_registration", "", note=False)
    await prompts.text_audio(menu)
    spoken = " ".join(voice.calls)
    assert "thẻ căn cước" not in spoken and "tổng đài viên" not in spoken  # recorded lines: not synthesized
    assert "khai sinh" in spoken and "kết hôn" in spoken  # unknown text and unrecorded: synthesized
    assert 0.3 < prompts.human_share(text=menu) < 1.0
    assert prompts.label_of(menu) == "menu:1"
