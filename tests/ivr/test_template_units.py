"""The fixed words of sentences filled at call time, and the topics' titles, as recordable units: keys from
the template and the position, listed on the script sheet in groups of their own, and a filled sentence
spoken wholly from recordings (real speech as the takes), stale once its template changes."""

from __future__ import annotations

import dataclasses

import pytest

from console.template_blanks import template_vi
from core.errors import ConfigError
from intents.catalog import load_catalog
from ivr.flow.config import PROMPT_KEYS, Texts
from ivr.prompts import Prompts, PromptTexts
from ivr.recordables import RecordableGroup, recordables
from ivr.take_notes import text_digest
from ivr.template_units import TEMPLATE_USES, fragments, template_units
from ivr.topic_units import TopicKind, topic_labels, topic_units
from ivr.word_bank import BankUnit, load_word_bank
from tests.console.helpers import ROOT
from tests.ivr.test_topic_units import FakeVoice, _record


@pytest.fixture(scope="module")
def catalog():
    return load_catalog(ROOT / "config" / "intents")


def test_fragments_are_keyed_by_template_and_position_and_said_once():
    texts = Texts(clarify="Anh chị muốn hỏi về {a}, hay về {b}? Bấm phím một cho {a}, phím hai cho {b}.")
    assert fragments(texts.clarify) == ["Anh chị muốn hỏi về", "hay về", "Bấm phím một cho", "phím hai cho"]
    units = {u.key: u for u in template_units(texts)}
    assert [units[f"mau_clarify_{n}"].text for n in (1, 2, 3, 4)] == fragments(texts.clarify)
    assert units["mau_clarify_2"].sentence == texts.clarify and units["mau_clarify_2"].template == "clarify"
    # A template without blanks is one fragment; a fragment already said by a prompt or a bank phrase, or
    # by an earlier template, is not listed again (its key is not reused by another fragment).
    assert units["mau_ticket_locked_1"].text == texts.ticket_locked
    assert "mau_menu_more_1" not in units  # "Bấm phím" of menu_item, said first there
    taken = template_units(texts, ["bấm PHÍM", "Không tìm thấy phiếu số"])
    keys = {u.key for u in taken}
    assert "mau_menu_item_1" not in keys and "mau_ticket_not_found_1" not in keys
    assert "mau_clarify_3" in keys  # "Bấm phím một cho" is more than the bank's "bấm phím"
    # An edited template keeps its keys; the edited fragment's digest (what a take remembers) changes.
    edited = {
        u.key: u
        for u in template_units(dataclasses.replace(texts, clarify="Anh chị cần hỏi về {a}, hay về {b}?"))
    }
    assert edited["mau_clarify_2"].text == "hay về" and "mau_clarify_3" not in edited
    assert text_digest(edited["mau_clarify_1"].text) != text_digest(units["mau_clarify_1"].text)
    assert set(TEMPLATE_USES) == set(Texts.__dataclass_fields__)  # every template says where it is heard
    assert all(u.key.isascii() and len(u.key) <= 64 for u in template_units(Texts()))


def test_bank_keys_may_not_take_a_template_or_title_key(tmp_path):
    p = tmp_path / "bank.yaml"
    p.write_text("groups: {so: Số}\nunits:\n  mau_x: {group: so, text: a}\n  ten_y: {group: so, text: b}\n")
    with pytest.raises(ConfigError) as e:
        load_word_bank(p)
    assert f"{p}:3: units.mau_x" in str(e.value) and f"{p}:4: units.ten_y" in str(e.value)


def test_the_script_sheet_lists_fragments_and_titles_in_groups_of_their_own(catalog):
    bank = [BankUnit("so_1", "một", "Số đếm và chữ số", "Chữ số.")]
    items = recordables(
        {k: f"câu {k}" for k in PROMPT_KEYS}, bank, topic_units(catalog), template_units(Texts()), template_vi
    )
    keys = [r.key for r in items]
    by_key = {r.key: r for r in items}
    assert (
        keys.index("phim_chung") < keys.index("mau_clarify_1") < keys.index("ten_cccd") < keys.index("so_1")
    )
    fragment, title = by_key["mau_clarify_1"], by_key["ten_cccd"]
    assert fragment.group == RecordableGroup.TEMPLATE and fragment.strict
    assert fragment.usage.startswith(
        "Trong câu hỏi lại khi chưa rõ chủ đề. Cả câu: “Anh chị muốn hỏi về «chủ"
    )
    assert title.group == RecordableGroup.TOPIC_TITLE and title.strict and title.text == "thẻ căn cước"
    assert title.usage.startswith("Trong câu hỏi lại khi chưa rõ chủ đề")
    assert title.before == ("mau_clarify_1",) and title.after == ("mau_clarify_2",)
    # Titles are parts of sentences: never a coverage label of their own.
    units = topic_units(catalog)
    titles = [u for u in units if u.kind == TopicKind.TITLE]
    assert len(titles) == len(catalog.intents) and all(u.key == f"ten_{u.intent}" for u in titles)
    assert "thẻ căn cước" not in topic_labels(units)


async def test_a_clarifying_question_is_spoken_wholly_from_recordings_until_its_template_changes(
    settings, catalog, tmp_path
):
    voice = FakeVoice()
    prompts = Prompts(settings, voice)
    prompts.recordings_dir = tmp_path / "human"
    prompts.recordings_dir.mkdir()
    prompts.use_catalog(catalog)
    templates = prompts.texts.templates
    a, b = catalog.get("cccd").title, catalog.get("vneid").title
    sentence = templates.clarify.format(a=a, b=b)
    composer = prompts.composer()
    assert composer is not None
    for key, text in {**prompts._fragments, "ten_cccd": a, "ten_vneid": b}.items():
        if key.startswith("mau_clarify_") or key.startswith("ten_"):
            _record(prompts.recordings_dir, key, text)  # real speech, accepted in the studio for this text
    heard = await prompts.text_audio(sentence)
    assert voice.calls == [] and prompts.human_share(text=sentence) == 1.0
    assert heard.rate == 8000 and heard.duration_s > 8 * 2.5  # eight recorded pieces, none synthesized
    assert prompts.label_of(sentence) == "template:clarify"

    # The template is edited: its first fragment's take was read from the old words and is not played.
    edited = dataclasses.replace(templates, clarify=templates.clarify.replace("muốn hỏi", "cần hỏi"))
    prompts.texts = PromptTexts(dict(prompts.texts.prompts), edited)
    again = edited.clarify.format(a=a, b=b)
    await prompts.text_audio(again)
    assert voice.calls == ["Anh chị cần hỏi về"]
    assert 0.5 < prompts.human_share(text=again) < 1.0
