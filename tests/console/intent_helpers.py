"""Fixtures and helpers of the intent-editing tests (also used by the history/restore tests)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.console.helpers import ROOT, add_operator, csrf_of, login

SECOND_INTENT = """
  # An operator's note before the second intent of this file.
  - id: garbage_time
    title: giờ thu gom rác
    answer: Xe thu gom rác đi qua các thôn vào buổi sáng.
    examples:
      - mấy giờ xe rác đến
      - xe rác đi qua lúc nào
      - giờ đổ rác ở thôn
    keywords:
      xe rác: 0.8   # the truck
      đổ rác: 0.5
    # a last comment of the file
"""


@pytest.fixture
def catalog_dir(tmp_path) -> Path:
    """A copy of the shipped catalog, plus the commented example file with a second intent after it."""
    dst = tmp_path / "intents"
    shutil.copytree(ROOT / "config" / "intents", dst)
    sample = (dst / "_example.yaml.sample").read_text(encoding="utf-8")
    (dst / "garbage.yaml").write_text(sample + SECOND_INTENT, encoding="utf-8")
    return dst


@pytest.fixture
def edit_settings(console_settings, catalog_dir, monkeypatch):
    from hotline.settings import load_settings

    monkeypatch.setenv("HOTLINE_INTENTS__CATALOG_DIR", str(catalog_dir))
    settings = load_settings(console_settings.config_file)
    assert settings.path(settings.intents.catalog_dir) == catalog_dir
    return settings


@pytest.fixture
def client(edit_settings):
    from fastapi.testclient import TestClient

    from web.app import create_app

    add_operator(edit_settings)
    with TestClient(create_app(edit_settings)) as c:
        assert login(c).status_code == 303
        yield c


def snapshot(directory: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir())}


def comment_lines(text: str) -> list[str]:
    """Every comment of a file: whole comment lines and the ends of lines."""
    return [m.group(1) for line in text.splitlines() if (m := re.search(r"(?:^|\s)(#.*)$", line))]


def form_of(html: str) -> dict:
    """The edit form's fields as the page holds them (what a browser would send back unchanged)."""

    def field(name: str) -> str:
        m = re.search(rf'<input name="{name}" value="([^"]*)"', html)
        return unescape(m.group(1)) if m else ""

    def area(name: str) -> str:
        m = re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', html, re.S)
        assert m, name
        return unescape(m.group(1))

    return {
        "csrf": csrf_of(html),
        "version": re.search(r'name="version" value="([^"]+)"', html).group(1),
        "title": field("title"),
        "answer": area("answer"),
        "follow_up": field("follow_up"),
        "examples": area("examples"),
        "kw_word": [unescape(w) for w in re.findall(r'<input name="kw_word" value="([^"]*)"', html)],
        "kw_weight": [unescape(w) for w in re.findall(r'<input name="kw_weight" value="([^"]*)"', html)],
    }


def unescape(s: str) -> str:
    import html

    return html.unescape(s)


def load(directory: Path):
    from intents.catalog import load_catalog

    return load_catalog(directory)


def post(client, intent_id: str, data: dict, **kw):
    return client.post(f"/console/intents/{intent_id}/edit", data=data, follow_redirects=False, **kw)
