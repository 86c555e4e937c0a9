"""Tickets in the console: masked numbers, audited recordings with Range, replies callers hear back."""

from __future__ import annotations

from tests.console.helpers import (
    MASKED,
    RAW_NUMBER,
    audit_rows,
    csrf_of,
)


def test_ticket_list_shows_masked_numbers_only(logged_in, seeded):
    r = logged_in.get("/console/tickets?status=")
    assert r.status_code == 200
    assert "482913" in r.text and "100200" in r.text
    assert MASKED in r.text and RAW_NUMBER not in r.text and "0987654321" not in r.text
    open_only = logged_in.get("/console/tickets").text  # default: tickets not finished
    assert "482913" in open_only and "100200" not in open_only
    detail = logged_in.get("/console/tickets/482913").text
    assert MASKED in detail and RAW_NUMBER not in detail
    assert "đường xóm ba bị hỏng nặng" in detail
    assert logged_in.get("/console/tickets/999999").status_code == 404


def test_a_withheld_callers_ticket_shows_the_vietnamese_label_and_nothing_to_reveal(
    console_settings, logged_in, seeded
):
    from core.callerid import national_caller
    from ivr.store import CallStore

    store = CallStore(seeded["factory"], console_settings.data_dir / "recordings")
    caller = national_caller("Restricted") or ""
    call_id = store.start_call("ch-5", caller)
    number = store.create_ticket(
        call_id=call_id, caller=caller, reason="message", audio_path=None, duration_ms=0
    )
    rows = logged_in.get("/console/tickets").text.split("<tbody>")[1]
    assert rows.count(">Số ẩn</td>") == 1 and MASKED in rows
    assert "Restricted" not in rows and '<td class="masked"></td>' not in rows
    detail = logged_in.get(f"/console/tickets/{number}").text
    assert ">Số ẩn</span>" in detail and f"/tickets/{number}/number" not in detail


def test_a_call_back_ticket_reads_its_reason_in_vietnamese_in_the_list_and_on_its_page(
    console_settings, logged_in, seeded
):
    from ivr.store import CallStore

    store = CallStore(seeded["factory"], console_settings.data_dir / "recordings")
    call_id = store.start_call("ch-6", "0912777888")
    number = store.create_ticket(
        call_id=call_id, caller="0912777888", reason="callback", audio_path=None, duration_ms=0
    )
    rows = logged_in.get("/console/tickets").text.split("<tbody>")[1]
    row = next(r for r in rows.split("<tr>") if number in r)
    assert '<td class="reason r-callback">Cần gọi lại</td>' in row
    assert "gọi lại cho người dân" in row and "0912777888" not in row and "*******888" in row
    # The other tickets read their own reasons.
    assert '<td class="reason r-feedback">Phản ánh</td>' in rows
    detail = logged_in.get(f"/console/tickets/{number}").text
    assert '<dd id="ticket-reason">Cần gọi lại</dd>' in detail and "gọi lại theo số máy" in detail


def test_a_ticket_for_a_communes_team_names_the_commune(console_settings, logged_in, seeded):
    from ivr.store import CallStore

    store = CallStore(seeded["factory"], console_settings.data_dir / "recordings")
    call_id = store.start_call("ch-7", "0912777999")
    ticket = {"call_id": call_id, "caller": "0912777999", "audio_path": None, "duration_ms": 0}
    number = store.create_ticket(**ticket, reason="callback", commune="17329")
    unknown = store.create_ticket(**ticket, reason="message", commune="99999")
    rows = logged_in.get("/console/tickets").text.split("<tbody>")[1]
    row = next(r for r in rows.split("<tr>") if number in r)
    assert 'Cần gọi lại<br><small class="commune">Xã Anh Sơn (17329)</small>' in row
    detail = logged_in.get(f"/console/tickets/{number}").text
    assert '<dd id="ticket-commune">Xã Anh Sơn (17329) ' in detail
    # A code the commune list does not know (a later reorganization) still shows.
    assert '<dd id="ticket-commune">99999 ' in logged_in.get(f"/console/tickets/{unknown}").text
    # The hotline's own tickets name no commune.
    assert "ticket-commune" not in logged_in.get("/console/tickets/482913").text


def test_every_ticket_reason_and_outcome_has_a_vietnamese_label():
    from console.labels import OUTCOME_VI, TICKET_REASON_VI, TURN_ACTION_VI
    from ivr.enums import Outcome, TurnAction
    from ivr.models import TICKET_REASONS, Ticket

    assert set(TICKET_REASON_VI) == set(TICKET_REASONS) and all(TICKET_REASON_VI.values())
    assert set(TURN_ACTION_VI) == set(TurnAction) and OUTCOME_VI[Outcome.CALLBACK] == "Hẹn gọi lại"
    width = Ticket.__table__.c.reason.type.length
    assert all(len(reason) <= width for reason in TICKET_REASONS), width


def test_recording_is_served_with_range_and_each_listen_is_audited(console_settings, logged_in, seeded):
    whole = seeded["audio"].read_bytes()
    r = logged_in.get("/console/tickets/482913/audio")
    assert r.status_code == 200 and r.content == whole
    assert r.headers["content-type"] == "audio/wav" and r.headers["accept-ranges"] == "bytes"
    assert "no-store" in r.headers["cache-control"]
    r = logged_in.get("/console/tickets/482913/audio", headers={"range": "bytes=100-1099"})
    assert r.status_code == 206
    assert r.content == whole[100:1100]
    assert r.headers["content-range"] == f"bytes 100-1099/{len(whole)}"
    r = logged_in.get("/console/tickets/482913/audio", headers={"range": "bytes=0-"})
    assert r.status_code == 206 and r.content == whole
    r = logged_in.get("/console/tickets/482913/audio?tai-ve=1")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    listens = audit_rows(console_settings, "listen_recording")
    assert [e.detail for e in listens] == ["GET", "GET bytes=100-1099", "GET bytes=0-"]
    assert {e.target for e in listens} == {"ticket:482913"}
    assert all(e.username == "lan" and e.ip for e in listens)
    assert len(audit_rows(console_settings, "download_recording")) == 1


def test_every_request_for_a_recording_is_audited_whatever_its_range(console_settings, logged_in, seeded):
    whole = seeded["audio"].read_bytes()
    # All but the first byte: the whole recording for any player, so it is a listen like any other.
    r = logged_in.get("/console/tickets/482913/audio", headers={"range": "bytes=1-"})
    assert r.status_code == 206 and r.content == whole[1:]
    r = logged_in.get("/console/tickets/482913/audio", headers={"range": "bytes=-1000"})
    assert r.status_code == 206 and r.content == whole[-1000:]
    r = logged_in.head("/console/tickets/482913/audio")
    assert r.status_code == 200 and r.headers["content-length"] == str(len(whole))
    r = logged_in.get("/console/tickets/482913/audio?tai-ve=1", headers={"range": "bytes=44-"})
    assert r.status_code == 206 and r.content == whole[44:]
    listens = audit_rows(console_settings, "listen_recording")
    assert [e.detail for e in listens] == ["GET bytes=1-", "GET bytes=-1000", "HEAD"]
    assert all(e.target == "ticket:482913" and e.username == "lan" for e in listens)
    assert [e.detail for e in audit_rows(console_settings, "download_recording")] == ["GET bytes=44-"]


def test_recording_outside_the_recordings_directory_is_never_served(console_settings, logged_in, seeded):
    from ivr.models import Ticket

    secret = console_settings.data_dir / "session.key"
    with seeded["factory"]() as s:
        s.query(Ticket).filter_by(number="482913").update({"audio_path": str(secret)})
        s.commit()
    r = logged_in.get("/console/tickets/482913/audio")
    assert r.status_code == 404 and secret.read_bytes() not in r.content
    assert logged_in.get("/console/tickets/100200/audio").status_code == 404  # no audio at all


def test_reply_updates_the_ticket_callers_hear(console_settings, logged_in, seeded):
    from ivr.models import Ticket
    from ivr.store import CallStore

    page = logged_in.get("/console/tickets/482913")
    note = "Xã đã cử cán bộ kiểm tra, đường sẽ được sửa trong tuần tới."
    r = logged_in.post(
        "/console/tickets/482913/reply",
        data={"csrf": csrf_of(page.text), "note": note, "status": "answered"},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/tickets/482913?saved=1"
    # The IVR reads the ticket through its own store: it must see the reply.
    t = CallStore(seeded["factory"], console_settings.data_dir).ticket("482913")
    assert t.status == "answered" and t.latest_reply == note
    shown = logged_in.get(r.headers["location"]).text
    assert "Đã trả lời" in shown and note in shown and "Đã lưu" in shown
    entry = audit_rows(console_settings, "reply_ticket")[-1]
    assert entry.target == "ticket:482913" and "status=answered" in entry.detail and note not in entry.detail
    # Closing stamps closed_at; an unknown status is refused without a change.
    logged_in.post(
        "/console/tickets/482913/reply", data={"csrf": csrf_of(page.text), "note": "", "status": "closed"}
    )
    r = logged_in.post(
        "/console/tickets/482913/reply", data={"csrf": csrf_of(page.text), "note": "x", "status": "deleted"}
    )
    assert r.status_code == 422
    with seeded["factory"]() as s:
        t = s.query(Ticket).filter_by(number="482913").one()
        assert t.status == "closed" and t.closed_at is not None and t.latest_reply == note
    r = logged_in.post(
        "/console/tickets/482913/reply",
        data={"csrf": csrf_of(page.text), "note": "a" * 1001, "status": "answered"},
    )
    assert r.status_code == 422 and "1000" in r.text


def test_show_number_is_explicit_and_audited(console_settings, logged_in, seeded):
    page = logged_in.get("/console/tickets/482913")
    assert RAW_NUMBER not in page.text and audit_rows(console_settings, "show_number") == []
    r = logged_in.post("/console/tickets/482913/number", data={"csrf": csrf_of(page.text)})
    assert r.status_code == 200 and RAW_NUMBER in r.text
    (entry,) = audit_rows(console_settings, "show_number")
    assert entry.target == "ticket:482913" and entry.username == "lan"
    assert RAW_NUMBER not in logged_in.get("/console/tickets/482913").text  # back to masked


def test_show_number_of_a_missing_record_is_404_and_not_audited(console_settings, logged_in, seeded):
    from ivr.models import Ticket

    token = csrf_of(logged_in.get("/console/").text)
    with seeded["factory"]() as s:  # a ticket whose caller number was already blanked by retention
        s.query(Ticket).filter_by(number="100200").update({"caller": ""})
        s.commit()
    for path, message in [
        ("/console/tickets/999999/number", "Không có phiếu số 999999."),
        ("/console/calls/9999/number", "Không có cuộc gọi số 9999."),
    ]:
        r = logged_in.post(path, data={"csrf": token}, headers={"accept": "text/html"})
        assert r.status_code == 404 and message in r.text, path
    assert audit_rows(console_settings, "show_number") == []
    r = logged_in.post("/console/tickets/100200/number", data={"csrf": token})
    assert r.status_code == 200 and '<b id="raw-number">(không có số)</b>' in r.text
    assert [e.target for e in audit_rows(console_settings, "show_number")] == ["ticket:100200"]


def test_search_by_number_caller_and_text_and_the_filters(console_settings, logged_in, seeded):
    from ivr.store import CallStore
    from ivr.ticket_rules import ticket_rules

    rules = ticket_rules(console_settings.ivr.tickets, console_settings.locale.time_zone)
    store = CallStore(seeded["factory"], console_settings.data_dir / "recordings", rules)
    land = store.create_ticket(
        call_id=None, caller="0977111222", reason="feedback", audio_path=None, duration_ms=0,
        transcript="ruộng bị lấn chiếm", topic="land",
    )  # fmt: skip
    store.assign_ticket(land, assignee="lan", commune="17329")

    def numbers(query: str) -> set[str]:
        page = logged_in.get(f"/console/tickets?status=&{query}")
        assert page.status_code == 200, page.text
        body = page.text.split("<tbody>")[1] if "<tbody>" in page.text else ""
        return {n for n in ("482913", "100200", land) if f"Phiếu số {n}" in body}

    assert numbers("q=482913") == {"482913"}
    assert numbers("q=Phiếu+số+482913") == {"482913"}
    assert numbers("q=hỏng+nặng") == {"482913"}
    assert numbers("q=%2B84+977+111+222") == {land}  # the caller's number in any form
    # Searching by a caller's number is audited; the number itself is not written to the log.
    entry = audit_rows(console_settings, "search_number")[-1]
    assert entry.target == "tickets" and "977111222" not in entry.detail
    assert numbers("category=dat_dai") == {land}
    assert numbers("assignee=lan&commune=17329&agency=so_nnmt") == {land}
    assert numbers("overdue=1") == set()  # none is past its due date (the seeded ones have none)
    assert numbers("q=khong-co-gi") == set()
    # Only choices the page offered are taken.
    page = logged_in.get(f"/console/tickets/{land}")
    r = logged_in.post(
        f"/console/tickets/{land}/assign",
        data={"csrf": csrf_of(page.text), "category": "bogus", "agency": "", "assignee": "", "commune": ""},
    )
    assert r.status_code == 422 and store.ticket(land).category == "dat_dai"
