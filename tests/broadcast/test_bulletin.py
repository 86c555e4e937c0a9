from __future__ import annotations

import datetime as dt

import pytest

from broadcast.bulletin import BulletinError, load_bulletin, parse_bulletin
from tests.broadcast.conftest import SAMPLES


def test_only_title_and_date_are_required():
    b = parse_bulletin("---\ntitle: Tin ngắn\ndate: 2026-11-24\n---\nNội dung.\n", "x.md")
    m = b.meta
    assert (m.title, m.date) == ("Tin ngắn", dt.date(2026, 11, 24))
    assert m.communes == "all" and m.priority == "normal" and m.music_bed is True
    assert m.template is None and m.voice is None and m.rate is None and m.expires is None
    assert b.body == "Nội dung." and b.body_line == 5


def test_vietnamese_priority_and_single_commune():
    b = parse_bulletin("---\ntitle: T\ndate: 2026-11-24\npriority: Khẩn cấp\ncommunes: Đô Lương\n---\nA.\n")
    assert b.meta.priority == "emergency" and b.meta.communes == ["Đô Lương"]
    assert (
        parse_bulletin("---\ntitle: T\ndate: 2026-11-24\ncommunes: tất cả\n---\nA.\n").meta.communes == "all"
    )


def test_no_front_matter():
    with pytest.raises(BulletinError, match=r"x\.md:1: no front matter"):
        parse_bulletin("# Tiêu đề\n\nNội dung.\n", "x.md")
    with pytest.raises(BulletinError, match="not closed"):
        parse_bulletin("---\ntitle: T\ndate: 2026-11-24\n\nNội dung.\n", "x.md")


def test_errors_name_file_line_and_key():
    text = "---\ntitle: T\ndate: 2026-11-24\npriority: urgent\nvoise: piper\n---\nA.\n"
    with pytest.raises(BulletinError) as err:
        parse_bulletin(text, "b.md")
    msg = str(err.value)
    assert "b.md:4: priority" in msg
    assert "b.md:5: voise: unknown key" in msg
    with pytest.raises(BulletinError, match=r"b\.md:1: title: required key is missing"):
        parse_bulletin("---\ndate: 2026-11-24\n---\nA.\n", "b.md")
    with pytest.raises(BulletinError, match=r"b\.md:3: date"):
        parse_bulletin("---\ntitle: T\ndate: 24/13/2026\n---\nA.\n", "b.md")


def test_yaml_syntax_error_line_counts_from_file_start():
    with pytest.raises(BulletinError, match=r"b\.md:2:"):
        parse_bulletin("---\ntitle: a: b\ndate: 2026-11-24\n---\nA.\n", "b.md")
    with pytest.raises(BulletinError, match=r"b\.md:4: duplicate|b\.md:4:.*found duplicate key"):
        parse_bulletin("---\ntitle: T\ndate: 2026-11-24\ntitle: U\n---\nA.\n", "b.md")


def test_empty_body():
    with pytest.raises(BulletinError, match="no text after the front matter"):
        parse_bulletin("---\ntitle: T\ndate: 2026-11-24\n---\n\n   \n", "b.md")


def test_fifty_thousand_characters_is_refused_clearly():
    body = ("Bà con nộp hồ sơ trực tuyến. " * 2000)[:50000]
    with pytest.raises(BulletinError, match="50,000 characters long; the limit is 20,000"):
        parse_bulletin(f"---\ntitle: T\ndate: 2026-11-24\n---\n{body}", "b.md")


def test_file_errors(tmp_path):
    with pytest.raises(BulletinError, match="file not found"):
        load_bulletin(tmp_path / "none.md")
    bad = tmp_path / "latin1.md"
    bad.write_bytes("---\ntitle: Thông báo\ndate: 2026-11-24\n---\nBà con\n".encode("cp1258", "replace"))
    bad.write_bytes(b"---\ntitle: Th\xf4ng\ndate: 2026-11-24\n---\nA\n")
    with pytest.raises(BulletinError, match="not UTF-8"):
        load_bulletin(bad)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.md")), ids=lambda p: p.name)
def test_samples_are_valid(path):
    b = load_bulletin(path)
    assert b.meta.title and len(b.body) > 200
