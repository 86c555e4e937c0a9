"""The radio operator's view in a real headless chromium: play, download, range request, feed."""

from __future__ import annotations

from xml.etree import ElementTree as ET

import pytest

from broadcast.render import RenderOptions
from hotline.db import upgrade
from tests.broadcast.conftest import make_settings, short_bulletin
from tests.browser import chromium, serve
from tests.support import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The real app under uvicorn on 127.0.0.1, with one published segment for Xã Đô Lương."""
    from web.app import create_app

    port = free_port()
    tmp = tmp_path_factory.mktemp("browser")
    settings = make_settings(tmp, HOTLINE_WEB__PUBLIC_URL=f"http://127.0.0.1:{port}")
    upgrade(settings.database_url)
    app = create_app(settings)
    svc = app.state.broadcast
    seg = svc.publish(
        svc.parse(short_bulletin(title="Chữ ký số cho mọi người", date="2026-11-24"), "b.md"),
        RenderOptions(commune="Đô Lương"),
    )
    with serve(app, port) as base:
        yield base, svc, seg


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


def test_operator_plays_downloads_and_subscribes(server, browser, tmp_path):
    base, svc, seg = server
    data = svc.path_of(seg).read_bytes()
    context = browser.new_context(accept_downloads=True)
    page = context.new_page()
    refused = []  # what the page's content security policy blocked: nothing of ours may be
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{base}/truyen-thanh/", wait_until="load")
        page.fill("#q", "Đô Lương")
        page.click("button[type=submit]")
        page.click("text=Xã Đô Lương")
        page.wait_for_url(f"{base}/truyen-thanh/xa-do-luong")
        assert page.locator("h2", has_text="Chữ ký số cho mọi người").count() == 1

        # Play: the audio element loads the MP3 and knows its duration.
        # Click the player's play control (left end of the native controls), as a person does.
        audio = page.locator(f"#seg-{seg.id} audio")
        box = audio.bounding_box()
        assert box is not None and box["width"] > 200
        audio.click(position={"x": 20, "y": box["height"] / 2})
        # Predicates as functions of the element: the page's policy forbids evaluating strings.
        element = audio.element_handle()
        page.wait_for_function("a => a.readyState >= 1 && !a.paused", arg=element, timeout=20000)
        page.wait_for_function("a => a.currentTime > 0.3", arg=element, timeout=20000)  # it is really playing
        duration = audio.evaluate("a => a.duration")
        audio.evaluate("a => a.pause()")
        assert abs(duration - seg.duration_s) < 1.0, (duration, seg.duration_s)

        # Download: the file saved equals the published segment.
        with page.expect_download(timeout=20000) as info:
            page.click(f"#seg-{seg.id} a.download")
        saved = tmp_path / info.value.suggested_filename
        info.value.save_as(saved)
        assert saved.name == seg.file and saved.stat().st_size == len(data) == seg.size_bytes
        assert saved.read_bytes() == data

        # A range request from the page, as an IP loudspeaker resuming a download would do.
        res = page.evaluate(
            """async (url) => { const r = await fetch(url, {headers: {Range: 'bytes=1000-1999'}});
                 const b = new Uint8Array(await r.arrayBuffer());
                 return {status: r.status, range: r.headers.get('content-range'), bytes: Array.from(b)}; }""",
            f"{base}/truyen-thanh/tep/{seg.id}/{seg.file}",
        )
        assert res["status"] == 206 and res["range"] == f"bytes 1000-1999/{len(data)}"
        assert bytes(res["bytes"]) == data[1000:2000]

        # The feed, opened from the page's link.
        feed_href = page.get_attribute("#feed", "href")
        response = page.request.get(f"{base}{feed_href}")
        assert response.status == 200
        channel = ET.fromstring(response.body()).find("channel")
        assert channel.find("language").text == "vi"
        item = channel.find("item")
        enclosure = item.find("enclosure")
        assert enclosure.get("type") == "audio/mpeg" and int(enclosure.get("length")) == len(data)
        assert enclosure.get("url") == f"{base}/truyen-thanh/tep/{seg.id}/{seg.file}"
        assert item.find("category").text == "normal" and item.find("guid").text
        # The enclosure URL works from the browser too.
        assert page.request.get(enclosure.get("url")).body() == data

        page.set_viewport_size({"width": 360, "height": 740})  # a phone
        shot = tmp_path / "phone.png"  # kept with the test's temporary files for a look by a person
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 5000
        no_overflow = page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
        assert no_overflow
        assert refused == []
    finally:
        context.close()


def test_commune_list_filters_as_one_types_and_the_page_tells_how_to_listen(server, browser):
    base, _svc, _seg = server
    page = browser.new_page()
    refused = []  # the list's filter is our own script file: the page's policy must let it run, nothing more
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)
    try:
        page.goto(f"{base}/truyen-thanh/", wait_until="load")
        items = page.locator("ul.communes li[data-name]")
        assert items.count() == 130
        page.fill("#q", "do luo")  # typed without tone marks, not submitted
        visible = page.locator("ul.communes li[data-name]:visible")
        page.wait_for_function("() => document.getElementById('shown').textContent === '1'", timeout=5000)
        assert visible.count() == 1 and visible.first.inner_text().startswith("Xã Đô Lương")
        assert visible.first.locator(".new").inner_text() == "mới"  # published by the fixture just now
        assert page.url == f"{base}/truyen-thanh/"  # filtered in place: no request
        page.fill("#q", "khong co xa nay")
        page.wait_for_function("() => document.getElementById('shown').textContent === '0'", timeout=5000)
        assert page.locator("#none").is_visible()
        page.fill("#q", "")
        page.wait_for_function("() => document.getElementById('shown').textContent === '130'", timeout=5000)

        page.fill("#q", "Đô Lương")
        page.click("text=Xã Đô Lương")
        page.wait_for_url(f"{base}/truyen-thanh/xa-do-luong")
        assert page.locator("#keypad-code").is_visible() and page.inner_text("#keypad-code") == "17662"
        help_text = page.inner_text("#keypad-help")
        assert "bấm phím 9, rồi bấm mã xã 17662 và phím thăng (#)" in help_text
        page.click("#feed-help")
        assert page.locator("#dang-ky").is_visible() and page.locator("#dang-ky li").count() == 3
        feed = page.input_value("#feed-url")
        assert feed == f"{base}/truyen-thanh/xa-do-luong/rss.xml"
        assert page.request.get(feed).status == 200
        assert refused == []
    finally:
        page.close()
