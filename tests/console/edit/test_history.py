"""Restoring kept versions from the console: intent files and the prompts file, checked, audited, safe."""

from __future__ import annotations

import asyncio
import html
import os
import re
import shutil

import pytest

from console.labels import ACTIONS_VI
from tests.console.helpers import ROOT, add_operator, audit_rows, csrf_of, login
from tests.console.intent_helpers import form_of, post, snapshot

NEW_ANSWER = "Làm căn cước, anh chị đến công an xã nơi mình ở, mang theo thẻ cũ nếu còn."


@pytest.fixture
def console_settings(console_settings, tmp_path):
    """The console's settings with the prompts file copied to a temporary directory (never the repo's)."""
    copy = tmp_path / "config" / "prompts.yaml"
    copy.parent.mkdir()
    shutil.copy(ROOT / "config" / "prompts.yaml", copy)
    ivr = console_settings.ivr.model_copy(update={"prompts_file": copy})
    return console_settings.model_copy(update={"ivr": ivr})


def restore_forms(page: str) -> list[dict]:
    """The "Khôi phục bản này" forms of a page, in the order shown."""
    forms = []
    for m in re.finditer(r'<form method="post" action="([^"]+)" class="restore">(.*?)</form>', page, re.S):
        fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', m.group(2)))
        forms.append({"action": m.group(1), **{k: html.unescape(v) for k, v in fields.items()}})
    return forms


def history_rows(page: str) -> list[str]:
    m = re.search(r'<table class="versions">.*?<tbody>(.*?)</tbody>', page, re.S)
    if not m:
        return []
    rows = re.findall(r"<tr>(.*?)</tr>", m.group(1), re.S)
    return [" ".join(re.sub(r"<[^>]+>", " ", html.unescape(r)).split()) for r in rows]


def restore(client, form: dict, **changes):
    data = {k: v for k, v in form.items() if k != "action"} | changes
    return client.post(form["action"], data=data, follow_redirects=False)


def intent_history(settings):
    return sorted((settings.data_dir / "console" / "intent-history").glob("*"))


def save_answer(client, intent_id: str, answer: str):
    data = form_of(client.get(f"/console/intents/{intent_id}").text) | {"do": "save", "answer": answer}
    r = post(client, intent_id, data)
    assert r.status_code == 303, r.text
    return r


# --- intents ----------------------------------------------------------------------------------------
def test_intent_restore_round_trip_and_undo(client, edit_settings, catalog_dir):
    from intents.catalog import load_catalog
    from intents.watcher import CatalogWatcher

    watcher = CatalogWatcher(edit_settings, interval=0.05)  # what the running hotline uses
    path = catalog_dir / "identity.yaml"
    original = path.read_bytes()
    old_answer = load_catalog(catalog_dir).get("cccd").answer
    page = client.get("/console/intents/cccd").text
    assert "Lịch sử sửa đổi" in page and 'id="no-history"' in page and restore_forms(page) == []

    save_answer(client, "cccd", NEW_ANSWER)
    edited = path.read_bytes()
    assert asyncio.run(watcher.check()) is True and watcher.catalog.get("cccd").answer == NEW_ANSWER
    page = client.get("/console/intents/cccd").text
    (form,) = restore_forms(page)
    (row,) = history_rows(page)
    assert re.match(r"\d\d:\d\d:\d\d \d\d/\d\d/\d{4} lan Khác hiện tại: câu trả lời\. Khôi phục bản này", row)
    assert form["action"] == "/console/intents/cccd/restore" and form["name"].startswith("identity-")
    # The history of another file is not offered on this intent's page.
    assert restore_forms(client.get("/console/intents/garbage_time").text) == []

    r = restore(client, form)
    assert r.status_code == 303 and r.headers["location"] == "/console/intents/cccd?restored=1#history"
    assert path.read_bytes() == original
    kept = intent_history(edit_settings)
    assert len(kept) == 2 and max(kept).read_bytes() == edited  # the restore can be undone
    assert not [p for p in catalog_dir.iterdir() if p.name.startswith(".")]
    (entry,) = audit_rows(edit_settings, "restore_intent")
    assert (entry.username, entry.target) == ("lan", "intent:cccd")
    assert entry.detail.startswith(f"identity.yaml: {form['name']}") and max(kept).name in entry.detail
    page = client.get(r.headers["location"]).text
    assert 'id="restored"' in page and "Đã khôi phục bản cũ" in page
    assert "tổng đài dùng nội dung này cho các cuộc gọi sau khoảng 1 giây" in page
    assert "(cả nhóm: thẻ căn cước, tài khoản định danh điện tử VNeID)" in page
    assert form_of(page)["answer"] == old_answer
    assert old_answer in client.get("/console/intents").text  # the catalog view reloaded
    assert asyncio.run(watcher.check()) is True and watcher.catalog.get("cccd").answer == old_answer
    rows = history_rows(page)
    assert len(rows) == 2 and "(khôi phục bản cũ)" in rows[0] and "Khác hiện tại: câu trả lời" in rows[0]
    assert ACTIONS_VI["restore_intent"] == "Khôi phục bản cũ (chủ đề)"

    # Undo the restore: the newest version (the edit) comes back.
    r = restore(client, restore_forms(page)[0])
    assert r.status_code == 303 and path.read_bytes() == edited
    assert len(intent_history(edit_settings)) == 3 and len(audit_rows(edit_settings, "restore_intent")) == 2
    # Restoring a version equal to the file writes nothing.
    same = next(
        f for f in restore_forms(client.get("/console/intents/cccd").text) if f["name"] == max(kept).name
    )
    r = restore(client, same)
    assert r.status_code == 303 and r.headers["location"].endswith("restored=0#history")
    assert len(intent_history(edit_settings)) == 3 and len(audit_rows(edit_settings, "restore_intent")) == 2


def test_an_invalid_old_version_is_refused_and_nothing_written(client, edit_settings, catalog_dir):
    path = catalog_dir / "identity.yaml"
    history_dir = edit_settings.data_dir / "console" / "intent-history"
    history_dir.mkdir(parents=True)
    # A version whose cccd has an example of another intent and too few examples left: the catalog check
    # refuses it, as it would refuse the same edit.
    text = path.read_text(encoding="utf-8")
    broken = re.sub(
        r"(  - id: cccd\n(?:.*\n)*?    examples:\n)(?:      - .*\n)+", r"\1      - x\n", text, count=1
    )
    assert broken != text
    bad = history_dir / "identity-20260101T000000000000.yaml"
    bad.write_text(broken, encoding="utf-8")
    before, kept_before = snapshot(catalog_dir), intent_history(edit_settings)
    page = client.get("/console/intents/cccd").text
    (form,) = restore_forms(page)
    assert "01/01/2026" in history_rows(page)[0] and "không rõ" in history_rows(page)[0]
    r = restore(client, form)
    assert r.status_code == 422
    assert 'id="restore-errors"' in r.text and "Chưa khôi phục, không có gì thay đổi" in r.text
    assert "Cần ít nhất 3 câu mẫu" in html.unescape(r.text) and "Chi tiết kỹ thuật" in r.text
    assert snapshot(catalog_dir) == before and intent_history(edit_settings) == kept_before
    assert audit_rows(edit_settings, "restore_intent") == []
    # Not UTF-8 either.
    bad.write_bytes(b"\xff\xfe" + broken.encode("utf-16-le"))
    r = restore(client, form)
    assert r.status_code == 422 and snapshot(catalog_dir) == before


def test_only_this_files_history_can_be_restored(client, edit_settings, catalog_dir, tmp_path):
    history_dir = edit_settings.data_dir / "console" / "intent-history"
    save_answer(client, "cccd", NEW_ANSWER)
    save_answer(client, "garbage_time", "Xe thu gom rác đi qua các thôn vào sáng thứ hai.")
    (form,) = restore_forms(client.get("/console/intents/cccd").text)
    garbage_version = next(p.name for p in history_dir.iterdir() if p.name.startswith("garbage-"))
    outside = tmp_path / "identity-20260101T000000000000.yaml"
    outside.write_bytes((catalog_dir / "identity.yaml").read_bytes())
    (history_dir / "identity-20260102T000000000000.yaml").symlink_to(outside)
    (history_dir / "sub").mkdir()
    shutil.copy(outside, history_dir / "sub" / outside.name)
    before, kept_before = snapshot(catalog_dir), intent_history(edit_settings)
    for name in [
        "",
        "identity.yaml",
        "../../intents/identity.yaml",
        f"../intent-history/{form['name']}",
        str(history_dir / form["name"]),
        str(outside),
        f"sub/{outside.name}",
        "identity-20260102T000000000000.yaml",  # a symlink, whatever it points to
        "identity-20261399T000000000000.yaml",  # not a time
        form["name"] + "/",
        form["name"].replace(".yaml", ".yml"),
        garbage_version,  # another file's version
        "text-prompts-20260101T000000000000.yaml",
    ]:
        r = restore(client, form, name=name)
        assert r.status_code == 404, name
        assert "Không có bản cũ này" in r.text
    assert snapshot(catalog_dir) == before and intent_history(edit_settings) == kept_before
    assert audit_rows(edit_settings, "restore_intent") == []
    # A page older than the file (someone saved since) cannot restore over that change.
    save_answer(client, "cccd", "Làm căn cước ở công an xã.")
    r = restore(client, form)
    assert r.status_code == 409 and "vừa được sửa ở nơi khác" in r.text
    assert audit_rows(edit_settings, "restore_intent") == []


def test_restore_needs_login_and_csrf(edit_settings, catalog_dir):
    from fastapi.testclient import TestClient

    from web.app import create_app

    add_operator(edit_settings)
    with TestClient(create_app(edit_settings)) as c:
        assert login(c).status_code == 303
        save_answer(c, "cccd", NEW_ANSWER)
        (form,) = restore_forms(c.get("/console/intents/cccd").text)
        before = snapshot(catalog_dir)
        assert restore(c, form, csrf="forged").status_code == 403
        assert restore(c, {k: v for k, v in form.items() if k != "csrf"}).status_code == 403
        assert snapshot(catalog_dir) == before
        c.post("/console/logout", data={"csrf": csrf_of(c.get("/console/").text)})
        r = restore(c, form)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
        assert snapshot(catalog_dir) == before
    assert audit_rows(edit_settings, "restore_intent") == []


def test_the_list_shows_the_newest_twenty(client, edit_settings, catalog_dir):
    history_dir = edit_settings.data_dir / "console" / "intent-history"
    history_dir.mkdir(parents=True)
    raw = (catalog_dir / "identity.yaml").read_bytes()
    for day in range(1, 26):
        (history_dir / f"identity-202601{day:02d}T030405000000.yaml").write_bytes(raw)
    (history_dir / "identity-notes.yaml").write_bytes(raw)  # not a kept version
    page = client.get("/console/intents/cccd").text
    forms = restore_forms(page)
    assert [f["name"] for f in forms] == [
        f"identity-202601{d:02d}T030405000000.yaml" for d in range(25, 5, -1)
    ]
    # Times are shown in Vietnam time (UTC+7).
    assert history_rows(page)[0].startswith("10:04:05 25/01/2026")
    assert "Chủ đề này giống hiện tại" in history_rows(page)[0]


# --- prompts ----------------------------------------------------------------------------------------
def _prompts_file(settings):
    return settings.path(settings.ivr.prompts_file)


def _prompt_history(settings) -> list:
    return sorted((settings.data_dir / "console" / "prompt-history").glob("*"))


def _edit_prompt(client, key: str, text: str):
    page = client.get("/console/prompts").text
    form = re.search(rf'action="/console/prompts/{key}/text".*?</form>', page, re.S).group(0)
    version = re.search(r'name="version" value="([^"]*)"', form).group(1)
    r = client.post(
        f"/console/prompts/{key}/text",
        data={"csrf": csrf_of(page), "version": version, "text": text},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text


def test_prompt_restore_round_trip_refusals_and_csrf(console_settings, console_client, logged_in):
    from ivr.prompts import Prompts, load_prompt_texts

    path = _prompts_file(console_settings)
    original = path.read_bytes()
    old_greeting = load_prompt_texts(path).prompts["greeting"]
    assert restore_forms(logged_in.get("/console/prompts").text) == []
    _edit_prompt(logged_in, "greeting", "Xin chào bà con, đây là tổng đài Nghệ An.")
    running = Prompts(console_settings, None)  # the hotline's prompts, read after the edit
    assert running.texts.prompts["greeting"] == "Xin chào bà con, đây là tổng đài Nghệ An."
    edited = path.read_bytes()
    page = logged_in.get("/console/prompts").text
    (form,) = restore_forms(page)
    assert form["action"] == "/console/prompts/restore" and form["name"].startswith("text-prompts-")
    assert " lan " in f" {history_rows(page)[0]} "

    # Refused: a name outside the pattern or the directory, a recording's history, a forged token.
    history_dir = console_settings.data_dir / "console" / "prompt-history"
    (history_dir / "greeting-20260101T000000000000.wav").write_bytes(b"RIFF")
    for name in [
        "../../config/prompts.yaml",
        "prompts-20260101T000000000000.yaml",
        "greeting-20260101T000000000000.wav",
        f"../prompt-history/{form['name']}",
        "../intent-history/identity-20260101T000000000000.yaml",
    ]:
        assert restore(logged_in, form, name=name).status_code == 404, name
    assert restore(logged_in, form, csrf="sai").status_code == 403
    # A version that does not load is refused with the loader's reason, nothing written.
    bad = history_dir / "text-prompts-20260101T000000000000.yaml"
    bad.write_text(original.decode().replace("  greeting:", "  greeting_old:", 1), encoding="utf-8")
    r = restore(logged_in, form, name=bad.name)
    assert r.status_code == 422 and "Chưa khôi phục, không có gì thay đổi" in r.text
    assert "greeting" in html.unescape(r.text) and "không phải một tệp lời nhắc hợp lệ" in r.text
    assert path.read_bytes() == edited and len(_prompt_history(console_settings)) == 3
    assert audit_rows(console_settings, "restore_prompt") == []

    before_restore = set(_prompt_history(console_settings))
    r = restore(logged_in, form)
    assert r.status_code == 303 and r.headers["location"] == "/console/prompts?restored=1#history"
    assert path.read_bytes() == original
    assert load_prompt_texts(path).prompts["greeting"] == old_greeting
    assert asyncio.run(running.reload_texts()) is True and running.texts.prompts["greeting"] == old_greeting
    # The restore kept exactly one new history version: the file as it was before.
    (newest,) = set(_prompt_history(console_settings)) - before_restore
    assert newest.name.startswith("text-prompts-")
    assert newest.read_bytes() == edited  # the restore can be undone
    (entry,) = audit_rows(console_settings, "restore_prompt")
    assert entry.username == "lan" and entry.detail.startswith(f"prompts.yaml: {form['name']}")
    page = logged_in.get(r.headers["location"]).text
    assert 'id="restored"' in page and "Đã khôi phục bản cũ" in page
    assert "từ lần phát lời nhắc tiếp theo" in page.split('id="restored"')[1].split("</p>")[0]
    assert "(khôi phục bản cũ)" in history_rows(page)[0]

    # Logged out: refused, nothing written.
    logged_in.post("/console/logout", data={"csrf": csrf_of(page)})
    r = restore(console_client, restore_forms(page)[0])
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert path.read_bytes() == original and os.path.exists(newest)
