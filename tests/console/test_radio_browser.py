"""The radio newsroom end to end in headless Chromium: an editor publishes a bulletin to two communes from
the web, a commune account sees it (and not another commune's), the commune's device token pulls the
playlist and the audio and confirms airing, and the province's view and its exports show who aired it
and who is missing after the deadline."""

from __future__ import annotations

import csv
import io

import httpx
import pytest

from hotline.db import upgrade
from tests.broadcast.catalog import add_segment
from tests.broadcast.conftest import make_settings
from tests.browser import chromium, log_in_on_the_way, serve
from tests.console.helpers import PASSWORD
from tests.support import free_port

pytestmark = [pytest.mark.slow, pytest.mark.browser]

TITLE = "Cài đặt ứng dụng VNeID mức hai"
# Fixed dates (the run's own date never matters): the deadline has passed on any day the tests run, and the
# device says it aired the bulletin at 08:00 on the deadline day (Vietnam time), so it was on time.
DEADLINE = "25/11/2026"
AIRED_AT = "2026-11-25T01:00:00Z"


@pytest.fixture(scope="module")
def newsroom(tmp_path_factory):
    from console.data.operators import add_operator
    from core.db import engine_for, session_factory
    from web.app import create_app

    port = free_port()
    tmp = tmp_path_factory.mktemp("newsroom")
    settings = make_settings(tmp, HOTLINE_WEB__PUBLIC_URL=f"http://127.0.0.1:{port}")
    upgrade(settings.database_url)
    app = create_app(settings)
    radio = app.state.broadcast
    a, b, c = (radio.communes.resolve(n) for n in ("Đô Lương", "Anh Sơn", "Yên Thành"))
    other = add_segment(radio, "tin-rieng-yen-thanh", title="Tin riêng của Yên Thành", communes=[c.code])
    factory = session_factory(engine_for(settings))
    add_operator(factory, "bien", PASSWORD, "editor")
    add_operator(factory, "xa-do-luong", PASSWORD, "commune", commune_code=a.code)
    with serve(app, port) as base, chromium() as browser:
        yield base, browser, radio, (a, b, other)


def test_an_editor_publishes_to_two_communes_and_the_province_sees_who_aired_it(newsroom, tmp_path):
    base, browser, radio, (a, b, other) = newsroom
    editor = browser.new_context(accept_downloads=True)
    page = editor.new_page()
    refused = []  # what the pages' content policy blocked: nothing of ours may be
    page.on("console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None)

    # The editor writes the bulletin in the form, for two communes, and previews what will be read.
    log_in_on_the_way(page, base, "/console/truyen-thanh", "bien", PASSWORD)
    page.fill("input[name=title]", TITLE)
    page.fill("input[name=date]", "24/11/2026")
    page.select_option("select[name=template]", "ban-tin")
    page.select_option("#communes", [str(a.code), str(b.code)])
    page.fill("input[name=deadline]", DEADLINE)
    page.fill("textarea[name=body]", "Từ ngày 1/12/2026, bà con cài ứng dụng VNeID tại công an xã.")
    page.click("button[value=preview]")
    preview = page.inner_text("#preview")
    assert "Anh Sơn" in preview and "Đô Lương" in preview  # the greeting names the chosen communes
    assert "ngày một tháng mười hai năm hai nghìn không trăm hai mươi sáu" in preview  # read as said

    # Render: the job page follows the render with its own script until the result can be heard.
    page.click("button[value=render]")
    page.wait_for_url(f"{base}/console/truyen-thanh/viec/**")
    page.wait_for_selector("#result:not([hidden])", timeout=120_000)
    assert page.get_attribute("#job", "data-state") == "done"
    assert int(page.get_attribute("#job", "data-polls")) >= 1
    assert page.eval_on_selector("#bar", "b => b.value") == 1
    page.click("#result")
    page.wait_for_selector("#publish")
    assert page.inner_text("#state") == "Chờ phát hành"
    segment_id = int(page.url.rstrip("/").split("/")[-1])
    seg = radio.get(segment_id)
    assert seg.held and set(seg.communes or []) == {a.code, b.code}
    # Held: not on the communes' pages yet, but the editor can listen.
    assert httpx.get(f"{base}/truyen-thanh/{a.slug}").text.count(TITLE) == 0
    audio = page.request.get(f"{base}/console/truyen-thanh/ban-tin/{segment_id}/nghe")
    assert audio.status == 200 and audio.body()[:3] in (b"ID3", b"\xff\xfb", b"\xff\xf3")
    page.click("#publish button")
    page.wait_for_selector("#done")
    assert page.inner_text("#state") == "Đang phát hành"
    assert TITLE in httpx.get(f"{base}/truyen-thanh/{a.slug}").text

    # Commune A's account sees it, not Yên Thành's own bulletin, and makes its device token.
    commune = browser.new_context().new_page()
    log_in_on_the_way(commune, base, "/console/truyen-thanh/xa", "xa-do-luong", PASSWORD)
    listed = commune.inner_text("#bulletins")
    assert TITLE in listed and other.title not in listed
    assert commune.goto(f"{base}/console/truyen-thanh/ban-tin/{other.id}").status == 403
    assert commune.goto(f"{base}/console/truyen-thanh/phat-song").status == 403
    commune.goto(f"{base}/console/truyen-thanh/xa")
    commune.click("#device button")
    token = commune.inner_text("#token").strip()
    assert token.startswith("tt_")

    # The loudspeaker controller pulls the playlist and the audio with the token and confirms airing.
    auth = {"Authorization": f"Bearer {token}"}
    m3u = httpx.get(f"{base}/truyen-thanh/{a.slug}/danh-sach-phat.m3u", headers=auth)
    assert m3u.status_code == 200
    url = next(line for line in m3u.text.splitlines() if line.startswith("http"))
    assert url.endswith(seg.file)
    mp3 = httpx.get(url, headers=auth)
    assert mp3.status_code == 200 and mp3.content == radio.path_of(seg).read_bytes()
    r = httpx.post(
        f"{base}/api/broadcast/segments/{segment_id}/aired", headers=auth, json={"aired_at": AIRED_AT}
    )
    assert r.status_code == 200 and r.json()["commune"] == a.code
    assert httpx.get(url, headers={"Authorization": "Bearer tt_not-a-token"}).status_code == 401

    # The province's view: aired by A on time, missing for B after the deadline; the CSV says the same.
    page.goto(f"{base}/console/truyen-thanh/phat-song/{segment_id}")
    assert page.get_attribute(f"#c-{a.code}", "data-standing") == "aired"
    assert page.get_attribute(f"#c-{b.code}", "data-standing") == "missing"
    assert "1 lần" in page.inner_text(f"#c-{a.code}") and "chưa tải" in page.inner_text(f"#c-{b.code}")
    assert page.inner_text("#missing-count") == "1"
    with page.expect_download() as info:
        page.click("#csv")
    saved = tmp_path / "phat-song.csv"
    info.value.save_as(saved)
    raw = saved.read_bytes()
    assert raw.startswith("\ufeff".encode())
    rows = {row[0]: row for row in csv.reader(io.StringIO(raw.decode("utf-8-sig"))) if len(row) == 6}
    assert rows[a.name][5] == "Đã phát đúng hạn" and rows[a.name][4] == "25/11/2026 08:00"
    assert rows[b.name][5] == "Chưa phát, quá hạn" and rows[b.name][2] == "0"
    xlsx = page.request.get(f"{base}/console/truyen-thanh/phat-song/{segment_id}/tai-ve?format=xlsx")
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(xlsx.body())).active
    standings = {r[0]: r[5] for r in sheet.iter_rows(values_only=True) if r and len(r) >= 6 and r[5]}
    assert standings[a.name] == "Đã phát đúng hạn" and standings[b.name] == "Chưa phát, quá hạn"
    assert refused == []
    editor.close()


def test_an_admin_sees_a_failed_render_on_the_jobs_page_and_runs_it_again(newsroom):
    """The render that failed its last attempt: the editor's page says why in Vietnamese, the jobs page
    lists it by bulletin and commune (no internal names), and "Thử lại" renders it."""
    from sqlalchemy import update

    from broadcast.jobs import render_tasks
    from broadcast.models import RenderJob
    from broadcast.render import RenderOptions
    from broadcast.service import FAILED_VI
    from console.data.operators import add_operator
    from core.db import transaction
    from core.jobs import InProcessJob, InProcessRunner, JobStatus
    from tests.broadcast.conftest import short_bulletin

    base, browser, radio, (a, _b, _other) = newsroom
    add_operator(radio.sessions, "quan-tri", PASSWORD, "admin")
    # Queued by a runner that stopped (stored only), then marked as its last attempt left it.
    elsewhere = InProcessRunner(render_tasks(lambda: radio, lambda: elsewhere), sessions=radio.sessions)
    elsewhere.close()
    title = "Tin dựng lỗi rồi dựng lại"
    job_id = radio.queue_render(
        elsewhere, short_bulletin(title=title), "d.md", RenderOptions(commune=a.slug), held=True
    )
    message = FAILED_VI.format(attempts=3)
    with transaction(radio.sessions) as s:
        s.execute(
            update(RenderJob)
            .where(RenderJob.id == job_id)
            .values(status="failed", finished=True, attempts=3, message=message)
        )
        s.execute(
            update(InProcessJob)
            .where(InProcessJob.args_json.contains(job_id))
            .values(status=JobStatus.FAILED, attempts=3)
        )

    page = browser.new_context().new_page()
    log_in_on_the_way(page, base, "/console/cong-viec", "quan-tri", PASSWORD)
    row = page.locator("tr.job.failed")
    assert row.count() == 1
    text = row.inner_text()
    assert f"{title} – {a.name}" in text and "Dựng chương trình truyền thanh" in text and "Bị lỗi" in text
    assert "radio_render" not in page.content() and job_id not in page.inner_text("main")
    page.goto(f"{base}/console/truyen-thanh/viec/{job_id}")
    assert message in page.inner_text("main")

    page.goto(f"{base}/console/cong-viec")
    page.click("tr.job.failed button")
    page.wait_for_selector("#done")
    assert page.locator("tr.job.failed").count() == 0
    deadline = 120
    for _ in range(deadline * 4):
        if radio.job(job_id).status == "done":
            break
        page.wait_for_timeout(250)
    job = radio.job(job_id)
    assert job.status == "done" and radio.get(job.segment_id).title == title
    page.reload()
    assert "Đã xong" in page.locator("tr.job").first.inner_text()
