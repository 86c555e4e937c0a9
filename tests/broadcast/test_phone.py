"""Radio by phone: the hotline finds a commune's latest segment by keypad code or by name."""

from __future__ import annotations

import pytest

from broadcast.bulletin import parse_bulletin
from broadcast.phone import radio_source
from hotline.db import upgrade
from tests.broadcast.conftest import make_settings, short_bulletin

pytestmark = pytest.mark.slow


def test_latest_segment_by_code_and_name(tmp_path):
    settings = make_settings(tmp_path)
    upgrade(settings.database_url)
    radio = radio_source(settings)
    commune = radio.service.communes.resolve("Đô Lương")
    assert radio.latest_segment(str(commune.code)) is None  # nothing published yet

    radio.service.publish(parse_bulletin(short_bulletin(title="Tin cũ", date="2026-11-20"), "a.md"))
    newer = radio.service.publish(
        parse_bulletin(short_bulletin(title="Tin mới", date="2026-11-22", communes="[Đô Lương]"), "b.md")
    )
    path = radio.latest_segment(str(commune.code))
    assert path is not None and path == str(radio.service.path_of(newer))
    assert radio.latest_segment("do luong") == path  # spoken name, tone marks lost
    other = radio.service.communes.resolve("Cửa Lò")
    assert radio.latest_segment(str(other.code)) not in (None, path)  # only the bulletin for all communes
    assert radio.latest_segment("99999") is None
    assert radio.latest_segment("không có xã này") is None


def test_the_commune_a_caller_means_by_code_or_by_name_in_a_sentence(tmp_path):
    from broadcast.phone import commune_finder

    find = commune_finder(make_settings(tmp_path))
    assert find("17329") == ("17329", "Xã Anh Sơn") and find(" 17329 ") == ("17329", "Xã Anh Sơn")
    assert find("99999") is None
    assert find("cho tôi gặp tổ công nghệ số xã anh sơn") == ("17329", "Xã Anh Sơn")
    # The longer name is the one meant; tones misplaced by the recognizer do not matter.
    assert find("nối máy tổ công nghệ số xã anh sơn đông")[1] == "Xã Anh Sơn Đông"
    assert find("to cong nghe so phuong cua lo") == ("16732", "Phường Cửa Lò")
    # "An Châu" is not found inside "Tân Châu" (whole words only).
    assert find("tổ công nghệ số xã tân châu")[1] == "Xã Tân Châu"
    # No name, or two different communes: the caller is asked.
    assert find("cho tôi gặp tổ công nghệ số cộng đồng") is None
    assert find("xã anh sơn hay xã đô lương") is None


def test_the_emergency_the_hotline_says_after_its_greeting(tmp_path):
    """Province-wide emergencies airing at the moment only (fixed clock; catalog rows, no render)."""
    import datetime as dt

    from tests.broadcast.catalog import add_segment

    settings = make_settings(tmp_path, HOTLINE_BROADCAST__SCHEDULE__EMERGENCY_HOURS="24")
    upgrade(settings.database_url)
    radio = radio_source(settings)
    svc = radio.service
    now = dt.datetime(2030, 1, 5, 3, 0)  # naive UTC
    hour_ago = now - dt.timedelta(hours=1)
    add_segment(svc, "thuong", created_at=hour_ago)
    add_segment(svc, "khan-xa", priority="emergency", communes=[17329], created_at=hour_ago)
    assert radio.current_emergency(now) is None  # a commune's emergency is not said to every caller
    old = add_segment(svc, "khan-cu", priority="emergency", created_at=now - dt.timedelta(hours=30))
    assert radio.current_emergency(now) is None  # no `expires`: over after emergency_hours (24)
    assert radio.current_emergency(now - dt.timedelta(hours=8)) == str(svc.path_of(old))
    lasting = add_segment(
        svc, "khan-dai", priority="emergency", created_at=now - dt.timedelta(hours=30),
        expires_at=now + dt.timedelta(hours=1),
    )  # fmt: skip
    assert radio.current_emergency(now) == str(svc.path_of(lasting))  # its own expiry wins
    assert radio.current_emergency(now + dt.timedelta(hours=2)) is None  # expired: no longer played
    later = add_segment(svc, "khan-chua", priority="emergency", publish_at=now + dt.timedelta(hours=1))
    assert radio.current_emergency(now) == str(svc.path_of(lasting))  # not yet published
    assert radio.current_emergency(now + dt.timedelta(minutes=90)) == str(svc.path_of(later))
