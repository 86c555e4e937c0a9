"""Editing prompt texts on /console/prompts: in-place YAML edit, validation, history, audit, CSRF."""

from __future__ import annotations

import html
import re
import shutil
import unicodedata

import pytest

from tests.console.helpers import ROOT, audit_rows, csrf_of

SHIPPED = ROOT / "config" / "prompts.yaml"


@pytest.fixture
def console_settings(console_settings, tmp_path):
    """The console's settings with the prompts file copied to a temporary directory (never the repo's)."""
    copy = tmp_path / "config" / "prompts.yaml"
    copy.parent.mkdir()
    shutil.copy(SHIPPED, copy)
    ivr = console_settings.ivr.model_copy(update={"prompts_file": copy})
    return console_settings.model_copy(update={"ivr": ivr})


def _prompts_file(settings):
    return settings.path(settings.ivr.prompts_file)


def _form(page: str, key: str) -> tuple[str, str, str]:
    """(csrf, version, textarea content) of the text form of `key` on the prompts page."""
    m = re.search(
        rf'<form method="post" action="/console/prompts/{key}/text".*?</form>', page, flags=re.DOTALL
    )
    assert m, f"no text form for {key}"
    form = m.group(0)
    version = re.search(r'name="version" value="([^"]*)"', form).group(1)
    text = re.search(r"<textarea[^>]*>(.*?)</textarea>", form, flags=re.DOTALL).group(1)
    return csrf_of(form), version, html.unescape(text)


def _edit(client, key: str, text: str, *, version: str | None = None, csrf: str | None = None):
    page = client.get("/console/prompts").text
    current = _form(page, key)[1] if f'/console/prompts/{key}/text"' in page else ""
    return client.post(
        f"/console/prompts/{key}/text",
        data={
            "csrf": csrf_of(page) if csrf is None else csrf,
            "version": current if version is None else version,
            "text": text,
        },
        follow_redirects=False,
    )


def _history(settings) -> list:
    return sorted((settings.data_dir / "console" / "prompt-history").glob("*"))


def test_edit_rewrites_one_key_in_place_and_keeps_the_rest(console_settings, logged_in):
    from ivr.prompts import load_prompt_texts

    path = _prompts_file(console_settings)
    original = path.read_bytes()
    page = logged_in.get("/console/prompts").text
    _csrf, version, shown = _form(page, "greeting")
    assert shown == "Xin chào, đây là tổng đài hỗ trợ dịch vụ công tỉnh Nghệ An."
    assert "/console/prompts/beep/text" not in page  # the tone is not edited as text
    typed = unicodedata.normalize("NFD", "  Xin chào bà con,\r\n  đây là tổng đài   dịch vụ công Nghệ An.  ")
    r = _edit(logged_in, "greeting", typed)
    assert r.status_code == 303 and r.headers["location"] == "/console/prompts?edited=greeting#p-greeting"
    expected = "Xin chào bà con, đây là tổng đài dịch vụ công Nghệ An."
    texts = load_prompt_texts(path)
    assert texts.prompts["greeting"] == expected
    # Only the greeting line differs: comments, quoting, the other keys and the templates are untouched.
    old_lines, new_lines = original.decode().splitlines(), path.read_text(encoding="utf-8").splitlines()
    changed = [(a, b) for a, b in zip(old_lines, new_lines, strict=True) if a != b]
    assert changed == [
        (
            '  greeting: "Xin chào, đây là tổng đài hỗ trợ dịch vụ công tỉnh Nghệ An."',
            f'  greeting: "{expected}"',
        )
    ]
    assert old_lines[0].startswith("# Fixed prompts of the phone hotline")
    # The previous file is kept, under a name that cannot be taken for a recording's history.
    history = _history(console_settings)
    assert [h.name.startswith("text-prompts-") and h.suffix == ".yaml" for h in history] == [True]
    assert history[0].read_bytes() == original
    assert not list(path.parent.glob(".*.tmp"))
    entries = audit_rows(console_settings, "edit_prompt")
    assert [(e.username, e.target) for e in entries] == [("lan", "prompt:greeting")]
    assert "prompts.yaml" in entries[0].detail and expected in entries[0].detail
    assert "Xin chào, đây là tổng đài" in entries[0].detail
    page = logged_in.get(r.headers["location"]).text
    assert "Đã lưu nội dung chữ của lời nhắc" in page and _form(page, "greeting")[2] == expected
    # Saving the same text again writes nothing and is not audited.
    r = _edit(logged_in, "greeting", expected)
    assert r.status_code == 303 and "edited" not in r.headers["location"]
    assert len(_history(console_settings)) == 1 and len(audit_rows(console_settings, "edit_prompt")) == 1


@pytest.mark.parametrize(
    ("key", "typed", "message"),
    [
        ("greeting", "   \n  ", "không được để trống"),
        ("greeting", "Xin chào bà con\n# ghi chú nội bộ", "bắt đầu bằng dấu “#”"),
        ("greeting", "Xin chào bà con. " * 40, "Lời nhắc quá dài: đọc mất khoảng"),
        ("beep", "Tút tút", "là tiếng bíp"),
    ],
)
def test_refused_text_writes_nothing_and_keeps_what_was_typed(
    console_settings, logged_in, key, typed, message
):
    path = _prompts_file(console_settings)
    original = path.read_bytes()
    r = _edit(logged_in, key, typed)
    assert r.status_code == 422
    assert message in html.unescape(r.text) and "tệp không thay đổi" in r.text
    if key != "beep":
        assert _form(r.text, key)[2] == typed.replace("\r\n", "\n")
    assert path.read_bytes() == original
    assert _history(console_settings) == [] and audit_rows(console_settings, "edit_prompt") == []


def test_unknown_key_stale_page_login_and_csrf(console_settings, console_client, logged_in):
    path = _prompts_file(console_settings)
    original = path.read_bytes()
    assert _edit(logged_in, "khong_co_khoa", "Xin chào.").status_code == 404
    # A page opened before someone else saved cannot overwrite that change.
    _csrf, old_version, _ = _form(logged_in.get("/console/prompts").text, "greeting")
    assert _edit(logged_in, "greeting", "Bản sửa đầu tiên.").status_code == 303
    first = path.read_bytes()
    r = _edit(logged_in, "greeting", "Bản sửa thứ hai.", version=old_version)
    assert r.status_code == 409 and "vừa được sửa ở nơi khác" in r.text
    assert _form(r.text, "greeting")[2] == "Bản sửa thứ hai."
    assert path.read_bytes() == first
    # Wrong CSRF token: refused, nothing written.
    assert _edit(logged_in, "greeting", "Giả mạo.", csrf="sai").status_code == 403
    assert path.read_bytes() == first
    assert len(audit_rows(console_settings, "edit_prompt")) == 1
    # Logged out: no edit either.
    token = csrf_of(logged_in.get("/console/").text)
    logged_in.post("/console/logout", data={"csrf": token})
    r = console_client.post(
        "/console/prompts/greeting/text",
        data={"csrf": "x", "version": "", "text": "Không đăng nhập."},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/console/login")
    assert path.read_bytes() == first and path.read_bytes() != original


def test_page_says_when_the_rendered_audio_predates_the_edit(console_settings, logged_in):
    """After an edit, the IVR's old rendering is marked as such until the hotline renders the new text."""
    import asyncio

    from ivr.prompts import Prompts
    from voice.tts import Synthesizer

    synth = Synthesizer.from_settings(console_settings)
    try:
        asyncio.run(Prompts(console_settings, synth).audio("goodbye"))
        page = logged_in.get("/console/prompts").text
        assert "bản máy đọc đang dùng" in page and "bản máy đọc trước khi sửa" not in page
        token, version, _ = _form(page, "goodbye")
        r = logged_in.post(
            "/console/prompts/goodbye/text",
            data={"csrf": token, "version": version, "text": "Cảm ơn anh chị. Hẹn gặp lại."},
            follow_redirects=False,
        )
        assert r.status_code == 303
        assert "bản máy đọc trước khi sửa" in logged_in.get("/console/prompts").text
        asyncio.run(Prompts(console_settings, synth).audio("goodbye"))
        page = logged_in.get("/console/prompts").text
        assert "bản máy đọc trước khi sửa" not in page
    finally:
        synth.close()


@pytest.mark.slow
@pytest.mark.browser
def test_operator_edits_a_prompt_in_chromium(console_settings, tmp_path):
    from ivr.prompts import load_prompt_texts
    from tests.browser import chromium, log_in_on_the_way, serve
    from tests.console.helpers import PASSWORD, add_operator
    from web.app import create_app

    add_operator(console_settings, "lan", "operator")
    path = _prompts_file(console_settings)
    with serve(create_app(console_settings)) as base, chromium() as browser:
        context = browser.new_context()
        page = context.new_page()
        try:
            log_in_on_the_way(page, base, "/console/prompts", "lan", PASSWORD)
            box = page.locator("#p-goodbye textarea[name=text]")
            assert box.input_value() == "Cảm ơn anh chị đã gọi. Xin chào và hẹn gặp lại."
            typed = "Cảm ơn anh chị đã gọi.\n# nhớ sửa lại"
            box.fill(typed)
            page.click("#p-goodbye form.prompt-text button[type=submit]")
            page.wait_for_selector("div.error[role=alert]")
            assert "bắt đầu bằng dấu “#”" in page.inner_text("div.error[role=alert]")
            assert page.locator("#p-goodbye textarea[name=text]").input_value() == typed
            assert "nhớ sửa lại" not in path.read_text(encoding="utf-8")
            page.screenshot(path=str(tmp_path / "prompts-refused.png"))

            new = "Cảm ơn anh chị đã gọi tổng đài. Hẹn gặp lại."
            page.locator("#p-goodbye textarea[name=text]").fill(new)
            page.click("#p-goodbye form.prompt-text button[type=submit]")
            page.wait_for_url(f"{base}/console/prompts?edited=goodbye**")
            assert "Đã lưu nội dung chữ" in page.inner_text("p.ok[role=status]")
            assert page.locator("#p-goodbye textarea[name=text]").input_value() == new
            assert load_prompt_texts(path).prompts["goodbye"] == new
            page.set_viewport_size({"width": 360, "height": 740})  # a phone
            page.screenshot(path=str(tmp_path / "prompts-phone.png"), full_page=False)
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        finally:
            context.close()
