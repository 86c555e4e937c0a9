"""Editing an intent from the console: round-trip YAML, whole-catalog check, history, audit, hot reload."""

from __future__ import annotations

import asyncio
import re
import unicodedata

import pytest

from tests.console.helpers import ROOT, add_operator, audit_rows, login
from tests.console.intent_helpers import (
    comment_lines,
    form_of,
    load,
    post,
    snapshot,
    unescape,
)

LONG_ANSWER = (
    "Làm, đổi hoặc làm lại thẻ căn cước, anh chị đến công an xã nơi anh chị ở. Mang theo thẻ cũ nếu còn, "
    "cán bộ sẽ chụp ảnh và lấy vân tay; thẻ mới có sau khoảng bảy ngày làm việc, anh chị nhận tại xã "
    "hoặc qua bưu điện."
)


# --- the page -------------------------------------------------------------------------------------
def test_edit_page_shows_the_fields_of_the_intent(client):
    page = client.get("/console/intents")
    assert 'href="/console/intents/cccd"' in page.text and "Sửa chủ đề này" in page.text
    r = client.get("/console/intents/cccd")
    assert r.status_code == 200
    form = form_of(r.text)
    assert form["title"] == "thẻ căn cước"
    assert form["answer"].startswith("Làm, đổi hoặc làm lại thẻ căn cước") and "\n" not in form["answer"]
    assert form["follow_up"].startswith("Anh chị có muốn hỏi thêm")
    assert form["examples"].splitlines()[0] == "làm căn cước công dân ở đâu"
    assert ("căn cước", "0,9") in zip(form["kw_word"], form["kw_weight"], strict=True)
    assert "phím 1.1" in r.text
    # Operators know topics by title: no file name, and a restore names the topics kept together.
    assert "identity.yaml" not in r.text and ">cccd<" not in r.text
    assert "(cả nhóm: thẻ căn cước, tài khoản định danh điện tử VNeID)" in r.text
    assert re.search(r"Đọc mất khoảng \d+ giây \(tối đa 40 giây\)", r.text)
    assert client.get("/console/intents/no_such_intent").status_code == 404
    assert client.get("/console/intents/Bad-Id").status_code == 404


def test_unchanged_draft_renders_every_shipped_file_byte_for_byte():
    from console.edit.intent_yaml import find_intent, render_edit
    from intents.catalog import catalog_files

    directory = ROOT / "config" / "intents"
    for intent in load(directory).intents:
        source = find_intent(directory, intent.id)
        assert source is not None and source.path in catalog_files(directory)
        old, new = render_edit(source.path, source.index, intent.id, source.draft)
        assert new.encode("utf-8") == old, intent.id


def test_other_layouts_bom_and_windows_line_ends_are_kept(tmp_path):
    """A file written by hand in another style: no indent before "- ", a BOM, CRLF line ends."""
    from dataclasses import replace

    from console.edit.intent_yaml import find_intent, render_edit

    text = (
        "# hand written\nintents:\n- id: fees\n  title: 'lệ phí'\n  answer: Hỏi ở xã.  # short\n"
        "  examples:\n  - lệ phí bao nhiêu\n  - nộp phí ở đâu\n  - phí làm giấy tờ\n"
    )
    path = tmp_path / "fees.yaml"
    path.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode("utf-8"))
    source = find_intent(tmp_path, "fees")
    assert source is not None and source.draft.title == "lệ phí"
    old, new = render_edit(path, 0, "fees", replace(source.draft, answer="Hỏi ở ủy ban xã."))
    expected = text.replace("Hỏi ở xã.  # short", "Hỏi ở ủy ban xã. # short")  # comment column kept
    assert new == "\ufeff" + expected.replace("\n", "\r\n")
    assert old == path.read_bytes()


# --- a successful edit ------------------------------------------------------------------------------
def test_a_saved_edit_round_trips_and_reaches_the_hotline(client, edit_settings, catalog_dir):
    from intents.watcher import CatalogWatcher

    watcher = CatalogWatcher(edit_settings, interval=0.05)  # what the running hotline uses
    before = snapshot(catalog_dir)
    old_catalog = load(catalog_dir)
    data = form_of(client.get("/console/intents/cccd").text)
    data["answer"] = unicodedata.normalize("NFD", LONG_ANSWER)  # typed on a keyboard that decomposes
    data["follow_up"] = ""
    data["examples"] += (
        "\n  cho tôi hỏi làm căn cước mất bao lâu  \n\nlàm căn cước ở đâu\nlàm căn cước ở đâu\n"
    )
    data["kw_word"] = [w for w in data["kw_word"] if w != "làm thẻ"] + ["thẻ mới"]
    data["kw_weight"] = data["kw_weight"][: len(data["kw_word"]) - 1] + ["0,4"]
    data["do"] = "save"
    r = post(client, "cccd", data)
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/console/intents/cccd?saved=1"

    # Only identity.yaml changed; its comments and the other intent in it are as they were.
    after = snapshot(catalog_dir)
    assert {k for k in after if after[k] != before.get(k)} == {"identity.yaml"}
    old_text, new_text = before["identity.yaml"].decode(), after["identity.yaml"].decode()
    assert comment_lines(new_text) == comment_lines(old_text)
    assert new_text.split("  - id: vneid", 1)[1] == old_text.split("  - id: vneid", 1)[1]
    assert max(len(line) for line in new_text.splitlines()) <= 115
    assert "    answer: >-\n      Làm, đổi hoặc làm lại thẻ căn cước, anh chị đến công an xã" in new_text
    assert unicodedata.is_normalized("NFC", new_text)
    assert "\n\n  - id: vneid" in new_text  # the blank line between the intents stayed

    catalog = load(catalog_dir)
    cccd = catalog.get("cccd")
    assert cccd.answer == LONG_ANSWER and cccd.follow_up is None and cccd.digit == "1.1"
    assert cccd.examples[-2:] == ("cho tôi hỏi làm căn cước mất bao lâu", "làm căn cước ở đâu")  # once
    assert "làm thẻ" not in cccd.keywords and cccd.keywords["thẻ mới"] == 0.4
    for intent in old_catalog.intents:
        if intent.id != "cccd":
            assert catalog.get(intent.id) == intent

    # The previous file is kept, the edit is audited, the page and the running hotline show the change.
    (kept,) = (edit_settings.data_dir / "console" / "intent-history").iterdir()
    assert kept.name.startswith("identity-") and kept.read_bytes() == before["identity.yaml"]
    (entry,) = audit_rows(edit_settings, "edit_intent")
    assert (entry.username, entry.target) == ("lan", "intent:cccd")
    assert entry.detail.startswith("identity.yaml: answer, follow_up, examples +2 -0, keywords +1 -1")
    page = client.get(r.headers["location"]).text
    assert 'id="saved"' in page and "đã được nạp lại" in page
    assert form_of(page)["answer"] == LONG_ANSWER
    assert LONG_ANSWER in client.get("/console/intents").text
    assert client.get("/console/audit").status_code == 403  # operators do not read the audit log
    assert asyncio.run(watcher.check()) is True
    assert watcher.catalog.get("cccd").answer == LONG_ANSWER
    assert not [p for p in catalog_dir.iterdir() if p.name.startswith(".")]  # no temporary file left


def test_comments_around_edited_entries_stay(client, catalog_dir):
    """The commented example file: inline comments, comment lines between keys, a comment after the
    last keyword that belongs before the next intent."""
    before = (catalog_dir / "garbage.yaml").read_text(encoding="utf-8")
    data = form_of(client.get("/console/intents/garbage_fees").text)
    assert data["answer"].startswith("Phí thu gom rác sinh hoạt") and "#" not in data["answer"]
    data["answer"] = "Phí rác do ủy ban xã thu theo hộ: hỏi trưởng thôn."  # ": " must be quoted in YAML
    data["examples"] += "\ntiền rác năm nay tăng không"
    data["kw_word"], data["kw_weight"] = ["phí rác", "tiền rác"], ["1", "0,9"]  # "thu gom rác" removed
    data["do"] = "save"
    assert post(client, "garbage_fees", data).status_code == 303
    after = (catalog_dir / "garbage.yaml").read_text(encoding="utf-8")
    lost = set(comment_lines(before)) - set(comment_lines(after))
    assert lost == {"# 0.3-0.6 = a hint, shared with other topics"}  # the removed keyword's own comment
    assert "  # An operator's note before the second intent of this file.\n  - id: garbage_time" in after
    assert "xe rác: 0.8   # the truck" in after and after.endswith("    # a last comment of the file\n")
    catalog = load(catalog_dir)
    assert catalog.get("garbage_fees").answer == "Phí rác do ủy ban xã thu theo hộ: hỏi trưởng thôn."
    assert catalog.get("garbage_fees").keywords == {"phí rác": 1.0, "tiền rác": 0.9}

    # Removing the last keywords of the second intent keeps the file's last comment.
    data = form_of(client.get("/console/intents/garbage_time").text)
    data["kw_word"], data["kw_weight"], data["do"] = [], [], "save"
    assert post(client, "garbage_time", data).status_code == 303
    after = (catalog_dir / "garbage.yaml").read_text(encoding="utf-8")
    assert "keywords" not in after.split("id: garbage_time")[1]
    assert after.endswith("      - giờ đổ rác ở thôn\n    # a last comment of the file\n")
    assert load(catalog_dir).get("garbage_time").keywords == {}


def test_saving_without_changes_writes_nothing(client, edit_settings, catalog_dir):
    before = snapshot(catalog_dir)
    data = form_of(client.get("/console/intents/vneid").text) | {"do": "save"}
    r = post(client, "vneid", data)
    assert r.headers["location"] == "/console/intents/vneid?saved=0"
    assert "Không có thay đổi nào" in client.get(r.headers["location"]).text
    assert snapshot(catalog_dir) == before
    assert not (edit_settings.data_dir / "console" / "intent-history").exists()
    assert audit_rows(edit_settings, "edit_intent") == []


# --- refused edits: nothing written -------------------------------------------------------------------
def _too_long_answer(data: dict) -> None:
    data["answer"] = " ".join([data["answer"]] * 3)


REFUSALS = {
    "empty answer": (lambda d: d.update(answer="  "), "Câu trả lời không được để trống"),
    "empty title": (lambda d: d.update(title=""), "Tên chủ đề không được để trống"),
    "two examples": (
        lambda d: d.update(examples="làm căn cước ở đâu\nmất căn cước"),
        "Cần ít nhất 3 câu mẫu (hiện có 2)",
    ),
    "example of another intent": (
        lambda d: d.update(examples=d["examples"] + "\nĐăng ký tài khoản VNeID"),  # vneid's, in capitals
        "Câu mẫu “Đăng ký tài khoản VNeID” trùng (không kể dấu thanh) với một câu mẫu của chủ đề vneid "
        "(tài khoản định danh điện tử VNeID)",
    ),
    "answer too long": (_too_long_answer, "Câu trả lời quá dài: đọc mất khoảng"),
    "follow-up too long": (
        lambda d: d.update(follow_up=" ".join(["Anh chị có muốn hỏi thêm điều gì nữa không"] * 4)),
        "Câu hỏi tiếp quá dài",
    ),
    "weight above 1": (
        lambda d: d.update(kw_word=d["kw_word"][:1], kw_weight=["1,5"]),
        "Trọng số của từ khóa “căn cước” phải lớn hơn 0 và không quá 1",
    ),
    "weight not a number": (
        lambda d: d.update(kw_word=["căn cước"], kw_weight=["nhiều"]),
        "Trọng số của từ khóa “căn cước” phải là một số",
    ),
    "keyword twice": (
        lambda d: d.update(kw_word=["căn cước", "căn cước"], kw_weight=["0,9", "0,5"]),
        "được nhập hai lần",
    ),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_each_refused_edit_writes_nothing_and_keeps_what_was_typed(case, client, edit_settings, catalog_dir):
    change, message = REFUSALS[case]
    before = snapshot(catalog_dir)
    data = form_of(client.get("/console/intents/cccd").text)
    change(data)
    data["answer"] = data["answer"] + " Câu mới gõ thêm." if data["answer"].strip() else data["answer"]
    data["do"] = "save"
    r = post(client, "cccd", data)
    assert r.status_code == 422, r.text
    assert 'id="edit-errors"' in r.text and "Chưa lưu." in r.text
    assert message in unescape(r.text), unescape(r.text)[:3000]
    kept = form_of(r.text)
    for name in ("title", "answer", "follow_up", "examples"):
        assert kept[name] == data[name].replace("\r\n", "\n"), name
    assert [w for w in kept["kw_word"] if w] == [w for w in data["kw_word"] if w]
    assert snapshot(catalog_dir) == before
    assert not (edit_settings.data_dir / "console" / "intent-history").exists()
    assert audit_rows(edit_settings, "edit_intent") == []


def test_a_problem_elsewhere_in_the_catalog_blocks_the_save(client, catalog_dir):
    text = (catalog_dir / "control.yaml").read_text(encoding="utf-8")
    (catalog_dir / "control.yaml").write_text(text.replace('digit: "*"', 'digit: "0"', 1), encoding="utf-8")
    before = snapshot(catalog_dir)
    data = form_of(client.get("/console/intents/cccd").text) | {"do": "save", "answer": "Đến công an xã."}
    r = post(client, "cccd", data)
    assert r.status_code == 422
    assert "Danh mục hiện có lỗi" in r.text and "control.yaml" in r.text and "reserved" in r.text
    assert snapshot(catalog_dir) == before


def test_a_stale_page_is_refused(client, catalog_dir):
    data = form_of(client.get("/console/intents/cccd").text) | {"do": "save"}
    first = dict(data, answer="Bản thứ nhất: đến công an xã.")
    assert post(client, "cccd", first).status_code == 303
    saved = snapshot(catalog_dir)
    second = dict(data, answer="Bản thứ hai, từ một trang cũ.")
    r = post(client, "cccd", second)
    assert r.status_code == 409 and "vừa được sửa ở nơi khác" in r.text
    assert form_of(r.text)["answer"] == "Bản thứ hai, từ một trang cũ."
    assert snapshot(catalog_dir) == saved


def test_login_and_csrf_are_required(edit_settings, catalog_dir):
    from fastapi.testclient import TestClient

    from web.app import create_app

    before = snapshot(catalog_dir)
    add_operator(edit_settings, "chi", "admin")
    with TestClient(create_app(edit_settings)) as c:
        r = c.get("/console/intents/cccd", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        r = post(c, "cccd", {"do": "save", "title": "x", "answer": "Đã bị sửa.", "examples": "a\nb\nc"})
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        assert login(c, "chi").status_code == 303
        data = form_of(c.get("/console/intents/cccd").text) | {"do": "save", "answer": "Đến công an xã."}
        assert post(c, "cccd", data | {"csrf": "forged"}).status_code == 403
        assert post(c, "cccd", {k: v for k, v in data.items() if k != "csrf"}).status_code == 403
        assert snapshot(catalog_dir) == before
        assert post(c, "cccd", data).status_code == 303  # administrators edit too
    (entry,) = audit_rows(edit_settings, "edit_intent")
    assert entry.username == "chi"


# --- trying a sentence on the edit page -------------------------------------------------------------
def test_trying_a_sentence_uses_the_unsaved_draft_and_writes_nothing(client, catalog_dir):
    before = snapshot(catalog_dir)
    sentence = "phí nước máy nhà tui tháng ni nộp ở mô"
    data = form_of(client.get("/console/intents/garbage_fees").text)
    r = post(client, "garbage_fees", data | {"text": sentence})  # "do" missing: Enter in a field tries
    assert r.status_code == 200 and 'id="try-verdict"' in r.text
    assert "không đến chủ đề “phí thu gom rác”" in r.text
    data["examples"] += "\nphí nước máy nhà tui tháng ni nộp ở mô"
    r = post(client, "garbage_fees", data | {"text": sentence, "do": "try"})
    assert "Câu này đến đúng chủ đề “phí thu gom rác” (theo nội dung đang sửa, chưa lưu)" in r.text
    assert 'id="decision-intent">phí thu gom rác<' in r.text
    assert not re.search(r">[^<]*garbage_fees", r.text)  # the code only in links, never as text
    assert form_of(r.text)["examples"] == data["examples"]  # what was typed stays
    # A draft with a problem: the problems are listed and the saved catalog answers.
    bad = data | {"answer": "", "text": sentence, "do": "try"}
    r = post(client, "garbage_fees", bad)
    assert "Câu trả lời không được để trống" in r.text and "theo danh mục đã lưu" in r.text
    assert snapshot(catalog_dir) == before
    assert not [p for p in catalog_dir.iterdir() if p.name.startswith(".")]


# --- the real browser ------------------------------------------------------------------------------
@pytest.mark.slow
@pytest.mark.browser
def test_operator_edits_an_answer_in_chromium(edit_settings, catalog_dir, tmp_path):
    from tests.browser import chromium, log_in_on_the_way, serve
    from tests.console.helpers import PASSWORD
    from web.app import create_app

    add_operator(edit_settings)
    new_answer = "Làm thẻ căn cước, anh chị đến công an xã nơi mình ở, mang theo thẻ cũ nếu còn."
    with serve(create_app(edit_settings)) as base, chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        try:
            log_in_on_the_way(page, base, "/console/intents/cccd", "lan", PASSWORD)
            assert page.input_value("input[name=title]") == "thẻ căn cước"

            # Enter in the sentence box tries it against what is being typed; nothing is saved.
            page.fill("textarea[name=answer]", new_answer)
            page.fill("input[name=text]", "mất căn cước rồi làm lại ở mô")
            page.press("input[name=text]", "Enter")
            page.wait_for_selector("#try-verdict")
            assert "đến đúng chủ đề “thẻ căn cước”" in page.inner_text("#try-verdict")
            assert page.input_value("textarea[name=answer]") == new_answer  # still there, not saved
            assert new_answer not in (catalog_dir / "identity.yaml").read_text(encoding="utf-8")

            page.click("#save")
            page.wait_for_url(f"{base}/console/intents/cccd?saved=1")
            assert "Đã lưu" in page.inner_text("#saved")
            assert page.input_value("textarea[name=answer]") == new_answer
            assert load(catalog_dir).get("cccd").answer == new_answer

            page.click("text=← Danh sách chủ đề")
            page.wait_for_url(f"{base}/console/intents#i-cccd")
            page.click("#i-cccd summary")
            assert new_answer in page.inner_text("#i-cccd")

            page.goto(f"{base}/console/intents/cccd")
            page.set_viewport_size({"width": 360, "height": 740})  # a phone
            page.screenshot(path=str(tmp_path / "intent-edit-phone.png"), full_page=True)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        finally:
            context.close()
