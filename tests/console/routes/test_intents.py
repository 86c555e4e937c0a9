"""The intents page: the real catalog read-only, the matcher on a typed sentence, the catalog check."""

from __future__ import annotations

import shutil

from tests.console.helpers import (
    ROOT,
    csrf_of,
)


def _intent_count() -> int:
    from intents.catalog import load_catalog

    return len(load_catalog(ROOT / "config" / "intents").intents)


def test_intents_page_lists_the_catalog_and_tries_sentences(logged_in):
    page = logged_in.get("/console/intents").text
    assert 'id="check-result"' in page and f"Hợp lệ: {_intent_count()} chủ đề," in page
    for intent in ("cccd", "vneid", "feedback", "dossier_status", "operator", "goodbye"):
        assert f'id="i-{intent}"' in page
    assert "Phím 0" in page
    r = logged_in.post(
        "/console/intents/try", data={"csrf": csrf_of(page), "text": "tôi bị mất căn cước thì làm lại ở mô"}
    )
    assert r.status_code == 200
    assert 'id="decision-intent">thẻ căn cước<' in r.text and "Chủ đề gần thứ hai" in r.text
    assert "Gần nhất với câu mẫu" in r.text and "similarity" not in r.text and "identity.yaml" not in r.text
    r = logged_in.post(
        "/console/intents/try", data={"csrf": csrf_of(page), "text": "hôm nay trời có mưa không"}
    )
    assert 'id="decision-intent">ngoài phạm vi<' in r.text
    assert "dưới ngưỡng" in r.text and "below threshold" not in r.text and "runner-up" not in r.text


def test_a_broken_catalog_is_reported_with_file_and_line(
    console_settings, console_client, tmp_path, monkeypatch
):
    from fastapi.testclient import TestClient

    from hotline.settings import load_settings
    from tests.console.helpers import add_operator, login
    from web.app import create_app

    catalog = tmp_path / "intents"
    shutil.copytree(ROOT / "config" / "intents", catalog)
    text = (catalog / "identity.yaml").read_text(encoding="utf-8")
    (catalog / "identity.yaml").write_text(text.replace("id: vneid", "id: cccd", 1), encoding="utf-8")
    monkeypatch.setenv("HOTLINE_INTENTS__CATALOG_DIR", str(catalog))
    settings = load_settings(console_settings.config_file)
    add_operator(settings)
    with TestClient(create_app(settings)) as c:
        assert login(c).status_code == 303
        page = c.get("/console/intents").text
        assert "Danh mục có lỗi" in page and "identity.yaml:" in page and "duplicate id" in page
        # Fixed on disk: the next visit shows the catalog again.
        (catalog / "identity.yaml").write_text(text, encoding="utf-8")
        assert f"Hợp lệ: {_intent_count()} chủ đề," in c.get("/console/intents").text
