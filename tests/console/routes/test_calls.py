"""Dashboard and call log pages: figures from the database, filters, masked transcripts and numbers."""

from __future__ import annotations

from tests.console.helpers import (
    MASKED,
    RAW_NUMBER,
    audit_rows,
    csrf_of,
    utc,
)


def test_dashboard_figures_come_from_the_call_log(logged_in, seeded):
    stats = logged_in.get("/console/api/stats").json()
    assert stats["calls_today"] == 2
    assert stats["degraded_today"] == 1
    assert stats["open_tickets"] == 1 and stats["new_tickets"] == 1
    assert stats["satisfaction_avg"] == 3.0 and stats["satisfaction_n"] == 2
    assert dict(map(tuple, stats["intents"])) == {"feedback": 1, "cccd": 1, "e_tax": 1}
    page = logged_in.get("/console/").text
    assert 'id="calls-today">2<' in page and 'id="satisfaction">3,0<' in page and 'id="degraded">1<' in page


def test_call_list_masks_numbers_and_filters(logged_in, seeded):
    page = logged_in.get("/console/calls").text
    assert MASKED in page and "*******321" in page
    assert RAW_NUMBER not in page and "0987654321" not in page
    only_cccd = logged_in.get("/console/calls?intent=cccd").text
    assert "*******321" in only_cccd and MASKED not in only_cccd
    only_ticket = logged_in.get("/console/calls?outcome=ticket").text
    assert MASKED in only_ticket and "*******321" not in only_ticket
    past = logged_in.get("/console/calls?from=2020-01-01&to=2020-01-02").text
    assert "Không có cuộc gọi nào" in past
    r = logged_in.get("/console/calls?from=hom-qua", headers={"accept": "text/html"})
    assert r.status_code == 422 and "Ngày không hợp lệ" in r.text


def test_call_detail_masks_transcripts_and_shows_the_number_only_on_request(
    console_settings, logged_in, seeded
):
    from ivr.models import Turn

    call_id = seeded["call_id"]
    # A transcript with a personal number in it (e.g. written by an older version) is masked on display.
    with seeded["factory"]() as s:
        s.add(
            Turn(
                call_id=call_id,
                seq=3,
                at=utc(),
                kind="speech",
                transcript="số căn cước của tôi là 040123456789",
                intent="cccd",
            )
        )
        s.commit()
    page = logged_in.get(f"/console/calls/{call_id}").text
    assert "tôi muốn phản ánh đường hỏng" in page and "420 ms" in page
    # Topics and actions by their Vietnamese names, never the codes the log stores.
    turns = page.split('class="list turns"')[1]
    assert "phản ánh, kiến nghị" in turns and "Ghi phản ánh" in turns
    assert "feedback" not in turns and "record_feedback" not in turns
    assert "040123456789" not in page and "*********789" in page
    assert RAW_NUMBER not in page and MASKED in page
    assert "482913" in page  # the ticket of this call
    r = logged_in.post(f"/console/calls/{call_id}/number", data={"csrf": csrf_of(page)})
    assert r.status_code == 200 and RAW_NUMBER in r.text
    (entry,) = audit_rows(console_settings, "show_number")
    assert entry.target == f"call:{call_id}"
    assert logged_in.get("/console/calls/9999").status_code == 404


def test_calls_from_carriers_are_listed_masked_and_a_withheld_caller_in_vietnamese(
    console_settings, logged_in, seeded
):
    from core.callerid import national_caller
    from ivr.store import CallStore

    # Stored as the application stores them: a landline through a trunk, a withheld number.
    store = CallStore(seeded["factory"], console_settings.data_dir / "recordings")
    landline = store.start_call("ch-3", national_caller("sip:+842383123456@10.0.0.1;user=phone") or "")
    withheld = store.start_call("ch-4", national_caller("anonymous", "Anonymous") or "")
    page = logged_in.get("/console/calls").text
    rows = page.split("<tbody>")[1]
    assert MASKED in rows and "*******321" in rows and "********456" in rows
    assert rows.count(">Số ẩn</td>") == 1
    for shown in (RAW_NUMBER, "0987654321", "2383123456", "84912345678", "anonymous", "Anonymous"):
        assert shown not in page, shown
    assert '<td class="masked"></td>' not in rows and '<td class="masked">–</td>' not in rows
    # The withheld call's page says so, with nothing to reveal; the landline's number can be asked for.
    anon = logged_in.get(f"/console/calls/{withheld}").text
    assert ">Số ẩn</span>" in anon and f"/calls/{withheld}/number" not in anon
    detail = logged_in.get(f"/console/calls/{landline}").text
    assert "********456" in detail and "2383123456" not in detail
    r = logged_in.post(f"/console/calls/{landline}/number", data={"csrf": csrf_of(detail)})
    assert r.status_code == 200 and '<b id="raw-number">02383123456</b>' in r.text


def test_every_outcome_and_turn_kind_has_a_vietnamese_label():
    from console.labels import KIND_VI, OUTCOME_VI
    from ivr.enums import Outcome, TurnKind

    assert set(OUTCOME_VI) == set(Outcome) and all(OUTCOME_VI.values())
    assert set(KIND_VI) == set(TurnKind) and all(KIND_VI.values())
    # The database gives plain strings: they find their labels too.
    assert OUTCOME_VI["not_understood"] == "Không hiểu yêu cầu" and KIND_VI["dtmf"] == "Bấm phím"


def test_every_turn_action_the_hotline_logs_has_a_vietnamese_label():
    from console.labels import action_label
    from intents.models import ACTIONS
    from ivr.enums import Failure, TurnAction, failed
    from ivr.flow.codes import CODES

    logged = [*TurnAction, *ACTIONS, *(failed(f) for f in Failure)]
    for spec in CODES.values():
        logged += [spec.purpose, f"{spec.purpose}_found", f"{spec.purpose}_not_found"]
    for action in logged:
        label = action_label(action)
        assert label and label != "Thao tác khác" and "_" not in label, action
    assert action_label("dossier_not_found") == "Nhập mã hồ sơ: không tìm thấy"
    assert action_label("fail:not_understood") == "Không hiểu yêu cầu"
    assert action_label("no_such_thing") == "Thao tác khác"


def test_a_mistyped_address_is_refused_in_vietnamese(logged_in, seeded):
    html = {"accept": "text/html"}
    r = logged_in.get("/console/calls?page=hai", headers=html)
    assert r.status_code == 422 and r.headers["content-type"].startswith("text/html")
    assert "Số trang phải là một số nguyên." in r.text
    assert "Input should" not in r.text and "query" not in r.text
    r = logged_in.get("/console/tickets?page=0&overdue=2", headers=html)
    assert r.status_code == 422
    assert "Số trang phải từ 1 trở lên; “Chỉ phiếu quá hạn” không được lớn hơn 1." in r.text
    # The API keeps its own answer (the field and the framework's reason, in its JSON schema).
    r = logged_in.get("/api/broadcast/communes?q=" + "x" * 101, headers=html)
    assert r.status_code == 422 and set(r.json()["error"]) == {"code", "message"}
    assert "q: String should have at most 100 characters" in r.json()["error"]["message"]
