"""/api/docs on a closed network: headless chromium with every non-loopback request blocked still
renders every operation of the API, from the app's own files."""

from __future__ import annotations

from urllib.parse import urlsplit

import httpx
import pytest

from hotline.db import upgrade
from tests.broadcast.conftest import make_settings
from tests.browser import chromium, serve

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_api_docs_render_their_operations_with_the_network_closed(tmp_path):
    from web.app import create_app

    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    with serve(create_app(settings)) as base:
        document = httpx.get(f"{base}/api/openapi.json", timeout=10).json()
        operations = [
            (method.upper(), path)
            for path, item in document["paths"].items()
            for method in item
            if method in {"get", "post", "put", "patch", "delete"}
        ]
        page_html = httpx.get(f"{base}/api/docs", timeout=10).text
        assert "http" not in page_html.replace('lang="vi"', "")  # no absolute address at all
        with chromium() as browser:
            page = browser.new_page()
            asked: list[str] = []
            blocked: list[str] = []
            refused: list[str] = []  # what the page's content security policy blocked

            def route(r) -> None:
                asked.append(r.request.url)
                if urlsplit(r.request.url).hostname in ("127.0.0.1", "localhost"):
                    r.continue_()
                else:
                    blocked.append(r.request.url)
                    r.abort()

            page.route("**/*", route)
            page.on(
                "console", lambda m: refused.append(m.text) if "Content Security Policy" in m.text else None
            )
            page.goto(f"{base}/api/docs", wait_until="load")
            page.wait_for_selector(".opblock", timeout=20000)
            shown = {
                (
                    page.locator(".opblock-summary-method").nth(i).inner_text().strip(),
                    page.locator(".opblock-summary-path").nth(i).inner_text().strip().replace("\u200b", ""),
                )
                for i in range(page.locator(".opblock").count())
            }
            title = page.locator(".info .title").inner_text()
    assert operations and shown == set(operations), (shown, operations)
    assert "Tổng đài dịch vụ công Nghệ An" in title
    assert not blocked and not refused, (blocked, refused)
    assert any(u.endswith("/api/docs/assets/swagger-ui-bundle.js") for u in asked)
    assert any(u.endswith("/api/docs/openapi.json") for u in asked)


def test_the_page_s_copy_of_the_document_is_openapi_3_0():
    """Swagger UI 4 (the packaged one) renders 3.0 only: null options become `nullable`, `const` an enum."""
    from web.docs import as_openapi_30

    doc = {
        "openapi": "3.1.0",
        "components": {
            "schemas": {
                "A": {"anyOf": [{"type": "string", "maxLength": 32}, {"type": "null"}], "title": "Xã"},
                "B": {"anyOf": [{"const": "all"}, {"type": "array"}, {"type": "null"}]},
            }
        },
    }
    out = as_openapi_30(doc)
    assert out["openapi"] == "3.0.3" and doc["openapi"] == "3.1.0"  # the app's own stays 3.1
    assert out["components"]["schemas"]["A"] == {
        "type": "string",
        "maxLength": 32,
        "title": "Xã",
        "nullable": True,
    }
    assert out["components"]["schemas"]["B"] == {
        "anyOf": [{"enum": ["all"]}, {"type": "array"}],
        "nullable": True,
    }
