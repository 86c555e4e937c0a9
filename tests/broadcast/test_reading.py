"""The bulletin a sidecar keeps for a later reading by a person, and how a segment says who read it."""

from __future__ import annotations

import datetime as dt

import pytest

from broadcast.bulletin import BulletinError, parse_bulletin
from broadcast.models import HUMAN_ENGINE, Segment
from broadcast.reading import bulletin_from_record, bulletin_record, voice_vi

TEXT = """---
title: "Lịch: tiêm chủng"
date: 02/12/2026
publish: 03/12/2026 06:00
expires: 09/12/2026
deadline: 05/12/2026
priority: ưu tiên
communes: [Đô Lương]
template: thong-bao-xa
music_bed: false
---
Trạm y tế tiêm chủng vào sáng thứ bảy.
"""


def test_a_kept_bulletin_comes_back_the_same_with_days_still_days():
    bulletin = parse_bulletin(TEXT, "lich.md")
    kept = bulletin_from_record(bulletin_record(bulletin))
    assert kept.meta == bulletin.meta and kept.body == bulletin.body and kept.path.name == "lich.md"
    # A day read back as a midnight moment would end the bulletin a day early.
    assert kept.meta.expires == dt.date(2026, 12, 9)
    assert kept.meta.expires_at() == bulletin.meta.expires_at()
    assert kept.meta.expires_at().hour == 23
    assert kept.meta.publish_at() == bulletin.meta.publish_at()


@pytest.mark.parametrize("record", [None, {}, {"meta": "x"}])
def test_a_segment_rendered_before_bulletins_were_kept_is_explained(record):
    with pytest.raises(BulletinError) as err:
        bulletin_from_record(record)
    assert "dựng lại bản tin" in str(err.value)


def test_who_read_a_segment():
    assert voice_vi(HUMAN_ENGINE) == "phát thanh viên" and voice_vi("espeak") == "giọng tổng hợp"
    assert Segment(engine=HUMAN_ENGINE).read_by_person and not Segment(engine="piper").read_by_person
