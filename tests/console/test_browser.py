"""An operator in a real headless chromium: log in, open a ticket, listen, reply, see the new status."""

from __future__ import annotations

import pytest
import soundfile as sf

from tests.browser import chromium, log_in_on_the_way, serve
from tests.console.helpers import PASSWORD, add_operator, audit_rows, seed

pytestmark = [pytest.mark.slow, pytest.mark.browser]


@pytest.fixture
def server(console_settings):
    """The real app under uvicorn on a free loopback port, with seeded calls and tickets."""
    from web.app import create_app

    data = seed(console_settings)
    add_operator(console_settings, "lan", "operator")
    with serve(create_app(console_settings)) as base:
        yield base, data


@pytest.fixture
def browser():
    with chromium() as b:
        yield b


def test_operator_finds_a_ticket_by_number_assigns_it_replies_and_sees_it_handled_on_time(
    console_settings, server, browser
):
    from ivr.store import CallStore
    from ivr.ticket_rules import ticket_rules

    base, data = server
    add_operator(console_settings, "minh", "operator")
    rules = ticket_rules(console_settings.ivr.tickets, console_settings.locale.time_zone)
    store = CallStore(data["factory"], console_settings.data_dir / "recordings", rules)
    # A complaint made right after the land answer, received now: due in 10 working days.
    number = store.create_ticket(
        call_id=None, caller="0912345678", reason="feedback", audio_path=None, duration_ms=0, topic="land"
    )
    context = browser.new_context()
    page = context.new_page()
    try:
        log_in_on_the_way(page, base, "/console/tickets", "lan", PASSWORD)
        page.fill("#ticket-search input[name=q]", number)
        page.click("#ticket-search button[type=submit]")
        page.wait_for_url(f"{base}/console/tickets?*q={number}*")
        rows = page.locator("#ticket-list tbody tr")
        assert rows.count() == 1 and f"Phiếu số {number}" in rows.inner_text()
        assert "Đất đai" in rows.inner_text() and "Trong hạn" in rows.inner_text()
        page.click(f"text=Phiếu số {number}")
        page.wait_for_url(f"{base}/console/tickets/{number}")
        assert page.inner_text("h1").startswith(f"Phiếu số {number}")
        assert page.inner_text("#ticket-agency") == "Sở Nông nghiệp và Môi trường"

        page.select_option("#assign-form select[name=assignee]", "minh")
        page.select_option("#assign-form select[name=agency]", "ubnd_xa")
        page.click("#assign-form button[type=submit]")
        page.wait_for_url(f"{base}/console/tickets/{number}?saved=1")
        assert page.inner_text("#ticket-assignee") == "minh"
        assert page.inner_text("#ticket-agency") == "UBND xã, phường"

        note = "Xã đã đo đạc lại thửa đất, mời ông bà đến nhận kết quả."
        page.fill("#reply-form textarea[name=note]", note)
        page.select_option("#reply-form select[name=status]", "answered")
        page.click("#reply-form button[type=submit]")
        page.wait_for_url(f"{base}/console/tickets/{number}?saved=1")
        assert page.inner_text("#ticket-standing") == "Xử lý đúng hạn"
        history = page.inner_text("#reply-history")
        assert note in history and "lan" in history and "Đã trả lời" in history
        # What the caller hears by phone is the reply just written.
        assert store.ticket(number).latest_reply == note
        # Only Vietnamese on the page: no stored codes show through.
        body = page.inner_text("main")
        for code in ("dat_dai", "ubnd_xa", "so_nnmt", "handled_on_time", "answered", "feedback"):
            assert code not in body, code
        assert {e.action for e in audit_rows(console_settings)} >= {"assign_ticket", "reply_ticket"}
    finally:
        context.close()


def test_operator_logs_in_listens_and_answers_a_ticket(console_settings, server, browser, tmp_path):
    from ivr.models import Ticket

    base, data = server
    context = browser.new_context()
    page = context.new_page()
    try:
        log_in_on_the_way(page, base, "/console/tickets", "lan", PASSWORD)  # and back where they wanted to go
        assert page.locator("td.masked", has_text="*******678").count() == 1
        assert "0912345678" not in page.content()

        page.click("text=482913")
        page.wait_for_url(f"{base}/console/tickets/482913")
        assert page.inner_text("#ticket-status") == "Mới"

        # Listen: the player loads the recording through the authenticated route.
        audio = page.locator("audio")
        box = audio.bounding_box()
        assert box is not None and box["width"] > 200
        audio.click(position={"x": 20, "y": box["height"] / 2})
        # A predicate as a function: the page's policy forbids evaluating strings.
        page.wait_for_function("a => a.readyState >= 1", arg=audio.element_handle(), timeout=20000)
        duration = audio.evaluate("a => a.duration")
        assert abs(duration - sf.info(str(data["audio"])).duration) < 0.2
        assert [e.target for e in audit_rows(console_settings, "listen_recording")][:1] == ["ticket:482913"]

        note = "Cán bộ xã sẽ liên hệ lại trong hai ngày."
        page.fill("textarea[name=note]", note)
        page.select_option("select[name=status]", "answered")
        page.click("form.reply button[type=submit]")
        page.wait_for_url(f"{base}/console/tickets/482913?saved=1")
        assert page.inner_text("#ticket-status") == "Đã trả lời"
        assert note in page.inner_text("#reply-history") and page.input_value("textarea[name=note]") == ""
        with data["factory"]() as s:
            t = s.query(Ticket).filter_by(number="482913").one()
            assert (t.status, t.latest_reply) == ("answered", note)

        page.set_viewport_size({"width": 360, "height": 740})  # a phone
        page.screenshot(path=str(tmp_path / "ticket-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

        # Log out: the console is closed again.
        page.click("header form.logout button")
        page.wait_for_url(f"{base}/console/login")
        page.goto(f"{base}/console/tickets/482913")
        page.wait_for_url(f"{base}/console/login**")
    finally:
        context.close()


def test_admin_adds_an_operator_who_can_then_log_in(console_settings, server, browser, tmp_path):
    from console.data.operators import authenticate
    from core.db import engine_for, session_factory

    base, _data = server
    add_operator(console_settings, "chi", "admin")
    new_password = "mat-khau-cua-minh-1"
    context = browser.new_context()
    page = context.new_page()
    try:
        log_in_on_the_way(page, base, "/console/operators", "chi", PASSWORD)
        assert page.inner_text("nav a[aria-current=page]") == "Tài khoản"
        assert page.locator('[id="op-lan"]').inner_text().count("Cán bộ trực") == 1

        form = page.locator("form.add-operator")
        form.locator("input[name=username]").fill("Minh.Tran")
        form.locator("select[name=role]").select_option("operator")
        form.locator("input[name=password]").fill(new_password)
        form.locator("input[name=password2]").fill(new_password + "x")  # a typo in the second typing
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/console/operators/add")
        assert page.inner_text("#add [role=alert]") == "Hai lần nhập mật khẩu không khớp nhau."
        form = page.locator("form.add-operator")
        assert form.locator("input[name=username]").input_value() == "Minh.Tran"  # kept
        assert form.locator("input[name=password]").input_value() == ""  # passwords are typed again
        assert form.locator("input[name=password2]").input_value() == ""

        form.locator("input[name=password]").fill(new_password)
        form.locator("input[name=password2]").fill(new_password)
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/console/operators?done=added&user=minh.tran")
        assert page.inner_text("#done") == "Đã thêm tài khoản “minh.tran”."
        row = page.locator('[id="op-minh.tran"]').inner_text()
        assert "Cán bộ trực" in row and "Đang hoạt động" in row and "chưa đăng nhập" in row
        factory = session_factory(engine_for(console_settings))
        assert authenticate(factory, "minh.tran", new_password).role == "operator"
        assert [e.target for e in audit_rows(console_settings, "add_operator")] == ["operator:minh.tran"]

        # A commune radio account: its commune is picked from the list and shown with the account.
        form = page.locator("form.add-operator")
        form.locator("input[name=username]").fill("xa-do-luong")
        form.locator("select[name=role]").select_option("commune")
        form.locator("select[name=commune]").select_option(label="Xã Đô Lương")
        form.locator("input[name=password]").fill(new_password)
        form.locator("input[name=password2]").fill(new_password)
        form.locator("button[type=submit]").click()
        page.wait_for_url(f"{base}/console/operators?done=added&user=xa-do-luong")
        row = page.locator('[id="op-xa-do-luong"]').inner_text()
        assert "Truyền thanh xã, phường" in row and "Xã Đô Lương" in row
        account = authenticate(factory, "xa-do-luong", new_password)
        assert account.role == "commune" and account.commune_code is not None

        page.set_viewport_size({"width": 360, "height": 740})  # a phone: the table scrolls, the page does not
        page.screenshot(path=str(tmp_path / "operators-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")

        # The new operator logs in; no accounts link for them, and the page itself is refused.
        page.click("header form.logout button")
        page.wait_for_url(f"{base}/console/login")
        page.fill("input[name=username]", "minh.tran")
        page.fill("input[name=password]", new_password)
        page.click("button[type=submit]")
        page.wait_for_url(f"{base}/console/")
        assert page.inner_text("header .who") == "minh.tran"
        assert page.locator("nav a", has_text="Tài khoản").count() == 0
        response = page.goto(f"{base}/console/operators")
        assert response is not None and response.status == 403
        assert "Chỉ quản trị viên" in page.inner_text("body")
    finally:
        context.close()


def test_dashboard_draws_its_charts_offline_in_vietnamese(console_settings, server, browser, tmp_path):
    """Every request that would leave the machine is blocked: the charts still draw, and nothing the page
    shows (tooltips and tables included) is a stored code, an intent id or a server path."""
    import re
    from urllib.parse import urlsplit

    from console.data.catalog import CatalogView
    from ivr.enums import Outcome, TurnAction
    from tests.console.month_seed import NEW_OUTCOME, seed_month

    base, _data = server
    seed_month(console_settings)
    codes = {*Outcome, *TurnAction, NEW_OUTCOME, "rating_asked", "not_understood"}
    codes |= set(CatalogView(console_settings).state().catalog.ids)
    outside: list[str] = []

    def only_loopback(route):
        if urlsplit(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context = browser.new_context()
    context.route("**/*", only_loopback)
    page = context.new_page()
    try:
        log_in_on_the_way(page, base, "/console/", "lan", PASSWORD)
        page.select_option("select[name=period]", "day")
        page.fill("input[name=from]", "01/11/2026")
        page.fill("input[name=to]", "30/11/2026")
        page.click("form.filters button[type=submit]")
        page.wait_for_load_state("load")
        assert page.inner_text("#range-first") == "01/11/2026"
        charts = page.locator("svg.chart")
        assert charts.count() == 8  # with the on-time handling rate per month
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 300 and box["height"] > 100
        assert page.locator("#calls-by-outcome-svg g.bar").count() == 30
        drawn = page.locator("#calls-by-outcome-svg g.bar rect").first.bounding_box()
        assert drawn is not None and drawn["height"] > 0
        assert page.locator("#latency-svg circle.point").count() > 30  # two lines, a point per day
        page.click("#latency summary")  # the table under a chart opens
        assert page.locator("#latency table tbody tr").nth(9).inner_text().split("\t")[1:3] == [
            "50 ms",
            "100 ms",
        ]

        shown = page.inner_text("main") + "\n" + "\n".join(page.locator("main").all_text_contents())
        leaked = sorted({w for w in re.findall(r"[a-z][a-z0-9_]*", shown) if w in codes or "_" in w})
        assert leaked == [] and "fail:" not in shown, leaked
        assert not re.search(r"/(work|tmp|var|home|srv)/", shown)
        assert outside == []

        # A phone: a chart scrolls sideways inside its card, the page itself does not.
        page.set_viewport_size({"width": 360, "height": 740})
        page.screenshot(path=str(tmp_path / "dashboard-phone.png"), full_page=True)
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    finally:
        context.close()
