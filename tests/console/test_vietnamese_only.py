"""Every console page, in headless Chromium, shows Vietnamese only: no codes, enum values or server paths.

The pages are taken from the app's router, so a new page is checked without touching this test.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest

from tests.broadcast.catalog import add_segment
from tests.browser import chromium, log_in_on_the_way, serve
from tests.console.helpers import PASSWORD, add_operator, seed, seed_time, stored_caller
from tests.console.test_audit_vi import DETAILS

pytestmark = [pytest.mark.slow, pytest.mark.browser]

NOT_UNDERSTOOD = "cho hỏi cái giấy tờ đó"  # what a seeded caller said that the hotline did not understand

SNAKE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")  # record_feedback, not_understood, rating_asked...
PREFIXED = re.compile(r"\b(?:fail|ticket|call|prompt|intent|operator|extension):[\w-]")  # codes and targets
# Server paths (config/intents/*.yaml, /srv/...: a segment with a letter, so dates pass) and HTTP ranges.
PATH = re.compile(r"(?:^|[\s(“])\.{0,2}/?(?:[\w.*-]*[a-z][\w.*-]*/)+[\w.*-]+|bytes=")
# English words that mean a code or a message slipped through untranslated.
ENGLISH = {
    "answered", "abandoned", "callback", "transferred", "feedback", "ticket", "intent", "dtmf", "speech",
    "action", "outcome", "status", "role", "sessions", "chars", "recorded", "from", "none", "null", "true",
    "false", "error", "failed", "closed", "new", "pending", "detail", "admin", "operator", "in_progress",
    "example", "similarity", "keywords", "runner", "threshold", "margin", "scope", "tones",  # matcher reasons
}  # fmt: skip
ENGLISH_WORD = re.compile(r"\b(" + "|".join(sorted(ENGLISH)) + r")\b", re.IGNORECASE)


BLANK = re.compile(r"{\w*}")  # a sentence template's placeholder ({digits}) shown as written


def untranslated(text: str) -> list[str]:
    found = BLANK.findall(text) + SNAKE.findall(text) + PREFIXED.findall(text)
    return found + [m.group(0) for m in PATH.finditer(text)] + ENGLISH_WORD.findall(text)


def test_the_checker_catches_what_used_to_show_through():
    for shown in ("record_feedback", "fail:not_understood", "/srv/hotline/config/intents", "GET bytes=0-",
                  "tệp config/intents/*.yaml",
                  "ticket:482913", "status=answered", "Phiếu số {digits}: {status}.",
                  "runner-up vneid 0.41", "below threshold 0.5: out of scope"):  # fmt: skip
        assert untranslated(shown), shown
    assert not untranslated("Phiếu số 482913 · Đã trả lời (hỏi bằng lời) · 01/01/2027 00:30")


def seed_the_rest(settings, data) -> int:
    """A call of today's flow (rating asked, sub-menu keys, a ticket) and audit rows of every kind."""
    from console.data.audit import record
    from console.labels import ACTIONS_VI
    from core.db import transaction
    from ivr.audit import CallAuditAction
    from ivr.models import Call, ReviewItem, Turn

    now = seed_time()
    with transaction(data["factory"]) as s:
        c = Call(
            channel_id="ch-9",
            **stored_caller("0912000111"),
            started_at=now,
            ended_at=now + dt.timedelta(seconds=70),
            outcome="ticket",
            satisfaction=5,
        )
        s.add(c)
        s.flush()
        turns = [
            dict(kind="speech", transcript=NOT_UNDERSTOOD, action="fail:not_understood"),
            dict(kind="dtmf", dtmf="2", action="submenu"),
            dict(kind="dtmf", dtmf="21", intent="vneid", response_ms=40),
            dict(kind="dtmf", dtmf="4", intent="feedback", action="record_feedback", response_ms=35),
            dict(kind="action", dtmf="482913", action="ticket_created"),
            dict(kind="system", action="rating_asked"),
            dict(kind="dtmf", dtmf="5", action="rating"),
            dict(kind="action", action="dossier_not_found"),
            dict(kind="timeout", action="fail:no_input"),
        ]
        s.add_all(Turn(call_id=c.id, seq=i, at=now, **t) for i, t in enumerate(turns, 1))
        call_id = c.id
        # What the hotline did not understand in that call: the review queue's page and its item.
        item = ReviewItem(
            call_id=c.id, turn_seq=1, at=now, reason="not_understood", transcript=NOT_UNDERSTOOD,
            guesses='[["cccd", 0.41], ["vneid", 0.38]]',
        )  # fmt: skip
        s.add(item)
        s.flush()
        data["review_id"] = item.id
    details = {
        "listen_recording": ("ticket:482913", "GET bytes=0-"),
        "download_recording": ("ticket:482913", "GET"),
        "reply_ticket": ("ticket:482913", "status=answered; note 23 chars"),
        "show_number": (f"call:{call_id}", ""),
        "add_operator": ("operator:lan", "role=operator"),
        "reset_password": ("operator:lan", "closed 2 sessions"),
        "disable_operator": ("operator:lan", "closed 1 sessions"),
        "upload_prompt": ("prompt:greeting", "3.2 s from loi-chao.wav"),
        "record_prompt_phone": ("prompt:rating_ask", "2.5 s recorded by phone on operator2"),
        "prompt_pin_locked": (
            "extension:prompt",
            "5 wrong PINs from operator2, 5 from all seats within 15 min",
        ),
        "edit_intent": ("intent:cccd", "identity.yaml: added an example"),
        "review_taught": (f"review:{data['review_id']}", "intent:cccd"),
        "review_dismissed": ("review:1,2", "2 closed"),
        "export_report": ("report:2027-03", "xlsx"),
        "search_number": ("tickets", "3 found"),
        "assign_ticket": ("ticket:482913", "category=khac; agency=-; assignee=lan; commune=-"),
    }
    for action in ACTIONS_VI:
        target, detail = details.get(action, ("", DETAILS[action][0]))
        who = "operator2" if action in set(CallAuditAction) else "lan"  # the call side names the phone
        record(data["factory"], None, action, target, detail, "127.0.0.1", username=who)
    return call_id


def posted_results(page, base: str) -> dict[str, list[str]]:
    """What the walk of GET pages cannot reach: the sentence tester's answers (understood, out of scope) and
    the edit form's "Thử" with its preview of what the edit would change on what callers said."""
    results: dict[str, str] = {}
    for text in ("đăng ký khai sinh cho con", "hôm nay trời có mưa không"):
        page.goto(f"{base}/console/intents", wait_until="load")
        page.fill("form.try input[name=text]", text)
        page.click("form.try button[type=submit]")
        page.wait_for_selector("#decision")
        results[f"Thử câu “{text}”"] = page.inner_text("main")
    page.goto(f"{base}/console/intents/birth_registration", wait_until="load")
    examples = page.input_value("textarea[name=examples]")
    page.fill("textarea[name=examples]", f"{examples}\n{NOT_UNDERSTOOD}")
    page.fill("input[name=text]", NOT_UNDERSTOOD)
    page.click("button.secondary[name=do][value=try]")
    page.wait_for_selector("#replay-preview")
    assert page.inner_text("#replay-understood") == "1"  # the seeded call's words, now understood
    assert "đến đúng chủ đề" in page.inner_text("#try-verdict")
    results["Thử trên trang sửa chủ đề"] = page.inner_text("main")
    found = {where: sorted(set(untranslated(text))) for where, text in results.items()}
    return {where: codes for where, codes in found.items() if codes}


def page_paths(values: dict[str, str]) -> list[str]:
    """Every HTML page of the console (the GET routes of its routers), path parameters filled in."""
    from fastapi.routing import APIRoute

    from console.routes import ROUTERS

    paths = []
    for route in (r for router in ROUTERS for r in router.routes):
        if not isinstance(route, APIRoute) or "GET" not in route.methods:
            continue
        path = route.path
        if not path.startswith("/console") or path.endswith((".css", ".js")) or "/api/" in path:
            continue
        if "/login" in path:
            continue  # seen logged out by every login test; here the pages behind it
        for name in re.findall(r"{(\w+)}", path):
            path = path.replace("{" + name + "}", values[name])
        paths.append(path)
    return sorted(set(paths))


def test_every_console_page_is_vietnamese_only(console_settings):
    from web.app import create_app

    data = seed(console_settings)
    add_operator(console_settings, "lan", "operator")
    add_operator(console_settings, "hoa", "admin")
    call_id = seed_the_rest(console_settings, data)
    app = create_app(console_settings)
    radio = app.state.broadcast
    segment = add_segment(radio, "chu-ky-so", title="Chữ ký số", communes=[17329])
    job_id = radio.create_job("ban-tin.md", None)
    values = {
        "segment_id": str(segment.id),
        "job_id": job_id,
        "call_id": str(call_id),
        "number": data["ticket"],
        "intent_id": "birth_registration",  # a code with "_": the checker sees it if it shows
        "key": "greeting",
        "take": "0123456789abcdef",  # no such draft: the take's audio answers 404 (not a page)
        "item_id": str(data["review_id"]),
    }
    paths = page_paths(values)
    assert {"/console/", "/console/calls", "/console/audit", f"/console/calls/{call_id}"} <= set(paths)
    problems: dict[str, list[str]] = {}
    checked: list[str] = []
    with serve(app) as base, chromium() as browser:
        page = browser.new_context().new_page()
        log_in_on_the_way(page, base, "/console/", "hoa", PASSWORD)
        for path in paths:
            head = page.request.get(f"{base}{path}", max_redirects=0)
            if not head.headers.get("content-type", "").startswith("text/html"):
                continue  # a recording, a download: no page to read
            response = page.goto(f"{base}{path}", wait_until="load")
            assert response is not None and response.status == 200, path
            checked.append(path)
            found = untranslated(page.inner_text("main"))
            if found:
                problems[path] = sorted(set(found))
        problems |= posted_results(page, base)
        # Every action the code writes has its label and its details a Vietnamese reading.
        page.goto(f"{base}/console/audit", wait_until="load")
        audit = page.inner_text("main")
        odd = [line for line in audit.splitlines() if "Chi tiết khác" in line or "Thao tác khác" in line]
        assert not odd and "Máy trực số 2" in audit, odd
        # The timeline: a ticket made in the call is a link to it, not keys.
        page.goto(f"{base}/console/calls/{call_id}", wait_until="load")
        link = page.locator("a.ticket-link")
        assert link.inner_text() == "Phiếu số 482913"
        assert link.get_attribute("href") == "/console/tickets/482913"
    assert len(checked) >= 9, checked  # dashboard, calls, call, tickets, ticket, intents, intent, prompts...
    assert not problems, "\n".join(f"{p}: {v}" for p, v in problems.items())
