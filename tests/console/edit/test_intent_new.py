"""A new intent from the console: the form's checks, the whole catalog's checks, then the edit path."""

from __future__ import annotations

import pytest

from console.edit.intent_form import IntentEditError
from console.edit.intent_new import NewIntentForm
from tests.console.helpers import csrf_of
from tests.console.intent_helpers import load, snapshot

EXAMPLES = "đổi giấy phép lái xe ở đâu\nđổi bằng lái xe\ncấp đổi giấy phép lái xe hết hạn"


def test_the_form_refuses_what_it_can_see_alone_in_vietnamese():
    with pytest.raises(IntentEditError) as caught:
        NewIntentForm("Đổi GPLX", "", "", "12", "một câu\nmột câu").validate()
    text = " ".join(caught.value.messages)
    assert "Mã chủ đề" in text and "Tên chủ đề" in text and "Câu trả lời" in text
    assert "Phím bấm" in text and "ít nhất 3 câu mẫu khác nhau" in text and "(hiện có 1)" in text
    new = NewIntentForm(
        "doi_gplx", " đổi  giấy phép ", "Mời anh chị đến bộ phận một cửa.", "", EXAMPLES
    ).validate()
    assert new.title == "đổi giấy phép" and len(new.examples) == 3 and new.digit == ""


def new_page(client):
    page = client.get("/console/intents/new")
    assert page.status_code == 200 and "Thêm chủ đề mới" in page.text
    return csrf_of(page.text)


def post_new(client, **fields):
    data = {
        "id": "doi_gplx",
        "title": "đổi giấy phép lái xe",
        "answer": "Mời anh chị đến bộ phận một cửa.",
        "digit": "",
        "examples": EXAMPLES,
        **fields,
    }
    return client.post(
        "/console/intents/new", data={"csrf": new_page(client), **data}, follow_redirects=False
    )


def test_a_new_intent_is_checked_written_kept_and_audited(client, edit_settings, catalog_dir):
    from console.data.audit import recent
    from core.db import engine_for, session_factory

    r = post_new(client)
    assert r.status_code == 303 and r.headers["location"] == "/console/intents/doi_gplx?saved=1"
    assert load(catalog_dir).get("doi_gplx").examples[0] == "đổi giấy phép lái xe ở đâu"
    assert client.get("/console/intents/doi_gplx").status_code == 200
    entries = recent(session_factory(engine_for(edit_settings)), action="edit_intent")
    assert entries and entries[0].target == "intent:doi_gplx"
    # The same id again is refused, in Vietnamese, and nothing changes.
    before = snapshot(catalog_dir)
    again = post_new(client, title="khác")
    assert again.status_code == 409 and "đã có trong danh mục" in again.text
    assert snapshot(catalog_dir) == before


@pytest.mark.parametrize(
    ("fields", "said"),
    [
        ({"id": "cccd_moi", "digit": "1.1"}, "đã dùng cho chủ đề"),  # the key of an existing intent
        (
            {"id": "cccd_hai", "examples": "lam can cuoc cong dan o dau\nxin cấp căn cước\nlàm thẻ căn cước"},
            "trùng",
        ),
        ({"id": "it_cau", "examples": "một\nhai"}, "ít nhất 3 câu mẫu"),
    ],
)
def test_refused_new_intents_write_nothing(client, catalog_dir, fields, said):
    before = snapshot(catalog_dir)
    r = post_new(client, **fields)
    assert r.status_code == 422 and said in r.text, r.text[-2000:]
    assert snapshot(catalog_dir) == before
