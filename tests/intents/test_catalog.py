"""The shipped catalog's content, and the loader's all-or-nothing validation with file:line messages."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from intents.catalog import CatalogError, load_catalog, speaking_seconds

REQUIRED = {
    "cccd", "vneid", "birth_registration", "marriage_registration", "residence", "business_registration",
    "e_tax", "digital_signature", "online_services", "dossier_status", "bank_account", "ecommerce",
    "digital_skills", "feedback", "office_info", "operator", "scam_report", "social_insurance", "land",
    "repeat", "goodbye",
}  # fmt: skip
ACTIONS = {
    "operator": "transfer",
    "feedback": "record_feedback",
    "dossier_status": "lookup_dossier",
    "goodbye": "hangup",
    "repeat": "replay",
    "ticket_status": "ticket_status",
    "radio": "radio",
    "commune_team": "commune_team",
}


# --- the shipped catalog ----------------------------------------------------------------------------
def test_all_required_intents_with_actions(catalog):
    assert REQUIRED | {"ticket_status", "radio"} <= set(catalog.ids)
    for intent_id, action in ACTIONS.items():
        assert catalog.get(intent_id).action == action
    for intent in catalog.intents:
        if intent.id not in ACTIONS:
            assert intent.action is None, intent.id


def test_answers_are_real_vietnamese_and_speakable(catalog):
    from voice.text import nfc

    for intent in catalog.intents:
        assert intent.answer == nfc(intent.answer)
        assert speaking_seconds(intent.answer) <= 40, intent.id
        assert len(intent.examples) >= 8, intent.id
        if intent.id not in ("repeat", "goodbye", "operator", "radio", "ticket_status", "commune_team"):
            # concrete guidance: long enough to say where to go or what to do
            assert speaking_seconds(intent.answer) >= 15, intent.id
    text = " ".join(i.answer for i in catalog.intents)
    for place in ("VNeID", "bộ phận một cửa", "Trung tâm Phục vụ hành chính công", "công an xã",
                  "eTax Mobile", "Voso", "Postmart", "tổ công nghệ số cộng đồng", "một một ba"):  # fmt: skip
        assert place in text, place


def test_speaking_time_counts_numbers_as_spoken():
    assert speaking_seconds("Gọi 1900 9068.") > speaking_seconds("Gọi ngay.") + 2


def test_keypad_tree(catalog):
    top = {e.digit: e for e in catalog.menu_entries()}
    assert set(top) == set("123456789") | {"*", "0"}
    assert top["*"].intent == "repeat" and top["0"].intent == "operator"
    for entry in top.values():
        if entry.group:
            subs = catalog.menu_entries(entry.group)
            assert subs and all(s.intent for s in subs)
    keyed = {i.id for i in catalog.intents if i.digit}
    assert keyed == set(catalog.ids) - {"goodbye"}
    assert catalog.resolve_keys("11").id == "cccd"
    assert catalog.resolve_keys("1.2").id == "vneid"
    assert catalog.resolve_keys("2").id == "land"
    assert catalog.resolve_keys("1").title.startswith("giấy tờ")
    assert catalog.resolve_keys("19") is None


def test_menu_prompts_in_vietnamese(catalog):
    main = catalog.menu_prompt()
    assert "nhấn phím 1." in main and "nhấn phím 9." in main
    assert "Nhấn phím sao để nghe lại" in main
    sub = catalog.menu_prompt("1")
    assert "Để hỏi về thẻ căn cước, nhấn phím 1." in sub
    assert catalog.clarify_prompt("cccd", "vneid") == (
        "Anh chị muốn hỏi về thẻ căn cước, hay về tài khoản định danh điện tử VNeID?"
    )
    assert catalog.menu.not_understood


def test_sample_file_is_a_valid_intent_once_renamed(catalog_copy):
    sample = catalog_copy / "_example.yaml.sample"
    assert sample.exists()
    n = len(load_catalog(catalog_copy).intents)  # .sample is skipped
    shutil.copy(sample, catalog_copy / "garbage_fees.yaml")
    cat = load_catalog(catalog_copy)
    assert len(cat.intents) == n + 1 and "garbage_fees" in cat
    assert "#" not in cat.get("garbage_fees").answer  # its comments are not read as part of the answer


# --- bad input: every problem named with file and line, and nothing half-loaded -----------------------
def _problems(directory: Path) -> list[str]:
    with pytest.raises(CatalogError) as err:
        load_catalog(directory)
    return err.value.problems


def _write(directory: Path, name: str, text: str) -> Path:
    p = directory / name
    p.write_text(text, encoding="utf-8")
    return p


GOOD = """intents:
  - id: garbage
    title: phí rác
    answer: Phí rác nộp cho trưởng thôn.
    digit: "6.4"
    examples:
      - phí rác bao nhiêu
      - nộp tiền rác ở đâu
      - ai thu tiền rác
"""


def test_missing_and_empty_directory(tmp_path):
    assert "catalog directory not found" in _problems(tmp_path / "nope")[0]
    assert "no intent files" in _problems(tmp_path)[0]


def test_tabs_are_reported_with_line(catalog_copy):
    path = _write(catalog_copy, "bad.yaml", GOOD.replace("    title:", "\ttitle:"))
    (msg,) = _problems(catalog_copy)
    assert msg.startswith(f"{path}:3:") and "tab" in msg


def test_bom_is_accepted(catalog_copy):
    (catalog_copy / "bom.yaml").write_bytes("\ufeff".encode() + GOOD.encode())
    assert "garbage" in load_catalog(catalog_copy)


def test_duplicate_keys(catalog_copy):
    path = _write(catalog_copy, "dup.yaml", GOOD.replace("    digit:", "    title: lần nữa\n    digit:"))
    (msg,) = _problems(catalog_copy)
    assert msg.startswith(f"{path}:5:") and "duplicate key" in msg


def test_wrong_types_unknown_action_and_unknown_key(catalog_copy):
    text = GOOD.replace('    digit: "6.4"', '    digit: "6.4"\n    action: dance\n    colour: red')
    text = text.replace("      - ai thu tiền rác\n", "      - ai thu tiền rác\n    keywords: [rác]\n")
    path = _write(catalog_copy, "types.yaml", text)
    problems = _problems(catalog_copy)
    joined = "\n".join(problems)
    assert f"{path}:6: intents[0].action:" in joined and "'transfer'" in joined
    assert f"{path}:7: intents[0].colour: unknown key" in joined
    assert f"{path}:12: intents[0].keywords:" in joined


def test_colliding_examples_name_both_places(catalog_copy):
    path = _write(
        catalog_copy, "collide.yaml", GOOD.replace("ai thu tiền rác", "Làm căn cước công dân ở đâu?")
    )
    (msg,) = _problems(catalog_copy)
    # reported at the later of the two (files are read in name order), naming the other place
    assert re.match(r".*identity\.yaml:\d+: examples\[\d+\]: 'làm căn cước công dân ở đâu' collides", msg)
    assert f"intent 'garbage' ({path}:9)" in msg


def test_duplicate_digits_and_reserved_keys(catalog_copy):
    path = _write(catalog_copy, "keys.yaml", GOOD.replace('"6.4"', '"6.2"'))
    (msg,) = _problems(catalog_copy)
    assert msg.startswith(f"{path}:5: digit: key '6.2' already used by intent 'bank_account' (")
    assert re.search(r"digital\.yaml:\d+\)$", msg)
    _write(catalog_copy, "keys.yaml", GOOD.replace('"6.4"', '"0"'))
    problems = _problems(catalog_copy)
    assert any(
        p.startswith(f"{path}:5: digit: key '0' is reserved for the 'transfer' action") for p in problems
    )
    _write(catalog_copy, "keys.yaml", GOOD.replace('"6.4"', '"4.1"'))
    (msg,) = _problems(catalog_copy)
    assert "needs a sub-menu group '4'" in msg


def test_duplicate_ids_across_files(catalog_copy):
    path = _write(
        catalog_copy, "dupid.yaml", GOOD.replace("id: garbage", "id: land").replace('"6.4"', '"6.5"')
    )
    (msg,) = _problems(catalog_copy)
    assert re.match(r".*welfare_land\.yaml:\d+: intents\[1\]\.id: duplicate id 'land'", msg)
    assert f"(also at {path}:2)" in msg


def test_too_long_answer(catalog_copy):
    long = " ".join(["Bạn mang thẻ căn cước đến ủy ban xã để làm thủ tục."] * 12)
    path = _write(catalog_copy, "long.yaml", GOOD.replace("Phí rác nộp cho trưởng thôn.", long))
    (msg,) = _problems(catalog_copy)
    assert msg.startswith(f"{path}:4: answer:") and "limit 40 s" in msg


def test_one_bad_file_means_no_catalog_at_all(catalog_copy):
    _write(catalog_copy, "good.yaml", GOOD)
    _write(catalog_copy, "bad.yaml", "intents:\n  - id: 5\n")
    problems = _problems(catalog_copy)
    assert all("bad.yaml" in p for p in problems)


def test_empty_and_non_utf8_files(catalog_copy):
    _write(catalog_copy, "empty.yaml", "")
    assert "the file is empty" in _problems(catalog_copy)[0]
    (catalog_copy / "empty.yaml").write_bytes("intents: phí".encode("cp1258"))
    assert "not UTF-8" in _problems(catalog_copy)[0]


def test_dialect_table_errors_and_missing_table(tmp_path, caplog):
    from intents.catalog import load_dialect

    bad = tmp_path / "dialect.yaml"
    bad.write_text("words:\n  răng: sao\nfillers: [à, [ừ]]\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=rf"{bad}:3: fillers\[1\]: Input should be a valid string"):
        load_dialect(bad)
    assert load_dialect(tmp_path / "none.yaml").words == {}
    assert "dialect table" in caplog.text and "not found" in caplog.text


def test_a_comment_indented_under_an_answer_is_reported(catalog_copy):
    text = GOOD.replace(
        "    answer: Phí rác nộp cho trưởng thôn.\n",
        "    answer: >-\n      Phí rác nộp cho trưởng thôn.\n            # where to pay\n",
    )
    path = _write(catalog_copy, "commented.yaml", text)
    (msg,) = _problems(catalog_copy)
    assert msg.startswith(f"{path}:4: answer: a line of the text starts with '#'")


def test_an_edited_copy_is_checked_in_place_of_the_file(catalog_copy, tmp_path):
    """`sources`: the console checks an edited copy before replacing the file; messages name the file."""
    original = catalog_copy / "identity.yaml"
    copy = tmp_path / "identity.edited"
    copy.write_text(original.read_text(encoding="utf-8").replace("id: vneid", "id: cccd"), encoding="utf-8")
    with pytest.raises(CatalogError) as err:
        load_catalog(catalog_copy, sources={original: copy})
    (msg,) = err.value.problems
    assert msg.startswith(f"{original}:") and "duplicate id 'cccd'" in msg
    assert "vneid" in load_catalog(catalog_copy)  # the file itself was never touched
    copy.write_bytes(b"\xff")
    with pytest.raises(CatalogError, match=f"{original}: not UTF-8"):
        load_catalog(catalog_copy, sources={original: copy})
