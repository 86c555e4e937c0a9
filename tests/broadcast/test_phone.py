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
