from __future__ import annotations

import datetime as dt

import pytest

from broadcast.bulletin import VN_TZ, BulletinError, load_bulletin, parse_bulletin
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
    with pytest.raises(BulletinError, match=r"x\.md:1: thiếu phần khai báo đầu bản tin"):
        parse_bulletin("# Tiêu đề\n\nNội dung.\n", "x.md")
    with pytest.raises(BulletinError, match="chưa đóng"):
        parse_bulletin("---\ntitle: T\ndate: 2026-11-24\n\nNội dung.\n", "x.md")


def test_errors_name_file_line_and_key():
    text = "---\ntitle: T\ndate: 2026-11-24\npriority: urgent\nvoise: piper\n---\nA.\n"
    with pytest.raises(BulletinError) as err:
        parse_bulletin(text, "b.md")
    msg = str(err.value)
    assert "b.md:4: priority" in msg
    assert "ghi một trong: thường, ưu tiên, khẩn cấp" in msg
    assert "b.md:5: voise: khóa này không có" in msg
    with pytest.raises(BulletinError, match=r"b\.md:1: title \(tiêu đề\): thiếu dòng này"):
        parse_bulletin("---\ndate: 2026-11-24\n---\nA.\n", "b.md")
    with pytest.raises(BulletinError, match=r"b\.md:3: date \(ngày của bản tin\): không có ngày 24/13/2026"):
        parse_bulletin("---\ntitle: T\ndate: 24/13/2026\n---\nA.\n", "b.md")
    with pytest.raises(BulletinError, match=r"b\.md:3: date .*ví dụ: date: 24/11/2026"):
        parse_bulletin("---\ntitle: T\ndate: hôm nay\n---\nA.\n", "b.md")


def test_yaml_syntax_error_line_counts_from_file_start():
    with pytest.raises(BulletinError, match=r"b\.md:2:"):
        parse_bulletin("---\ntitle: a: b\ndate: 2026-11-24\n---\nA.\n", "b.md")
    with pytest.raises(BulletinError, match=r"b\.md:4: .*ghi hai lần"):
        parse_bulletin("---\ntitle: T\ndate: 2026-11-24\ntitle: U\n---\nA.\n", "b.md")


def test_empty_body():
    with pytest.raises(BulletinError, match="chưa có nội dung"):
        parse_bulletin("---\ntitle: T\ndate: 2026-11-24\n---\n\n   \n", "b.md")


def test_fifty_thousand_characters_is_refused_clearly():
    body = ("Bà con nộp hồ sơ trực tuyến. " * 2000)[:50000]
    with pytest.raises(BulletinError, match="dài 50.000 ký tự, vượt giới hạn 20.000"):
        parse_bulletin(f"---\ntitle: T\ndate: 2026-11-24\n---\n{body}", "b.md")


def test_file_errors(tmp_path):
    with pytest.raises(BulletinError, match="không tìm thấy tệp"):
        load_bulletin(tmp_path / "none.md")
    bad = tmp_path / "latin1.md"
    bad.write_bytes("---\ntitle: Thông báo\ndate: 2026-11-24\n---\nBà con\n".encode("cp1258", "replace"))
    bad.write_bytes(b"---\ntitle: Th\xf4ng\ndate: 2026-11-24\n---\nA\n")
    with pytest.raises(BulletinError, match="không phải văn bản UTF-8"):
        load_bulletin(bad)


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.md")), ids=lambda p: p.name)
def test_samples_are_valid(path):
    b = load_bulletin(path)
    assert b.meta.title and len(b.body) > 200


def test_dates_as_editors_write_them():
    b = parse_bulletin(
        "---\ntitle: T\ndate: 24/11/2026\npublish: 25/11/2026 06:30\nexpires: 31.12.2026\n---\nA.\n", "b.md"
    )
    assert b.meta.date == dt.date(2026, 11, 24)
    assert b.meta.publish_at() == dt.datetime(2026, 11, 25, 6, 30, tzinfo=VN_TZ)
    assert b.meta.expires_at() == dt.datetime(2026, 12, 31, 23, 59, 59, tzinfo=VN_TZ)
    iso = parse_bulletin("---\ntitle: T\ndate: 2026-11-24\nexpires: 2026-12-31\n---\nA.\n", "b.md")
    assert iso.meta.date == b.meta.date and iso.meta.expires_at() == b.meta.expires_at()
    with pytest.raises(BulletinError, match=r"b\.md:3: date .*chỉ ghi ngày, không ghi giờ"):
        parse_bulletin("---\ntitle: T\ndate: 24/11/2026 06:00\n---\nA.\n", "b.md")
    with pytest.raises(BulletinError, match=r"b\.md:4: publish .*không có giờ 25:00"):
        parse_bulletin("---\ntitle: T\ndate: 24/11/2026\npublish: 24/11/2026 25:00\n---\nA.\n", "b.md")
