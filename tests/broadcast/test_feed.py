from __future__ import annotations

import datetime as dt
import email.utils
from xml.etree import ElementTree as ET

from broadcast.communes import load_communes
from broadcast.feed import ITUNES, build_feed, guid, rfc822
from broadcast.models import Segment


def seg(i: int, priority: str = "normal", checksum: str = "ab" * 32) -> Segment:
    return Segment(
        id=i,
        key=f"2026-11-2{i}-tin-{i}",
        title=f"Tin số {i} & <mới>",
        bulletin_date=dt.date(2026, 11, 20 + i),
        agency="Sở KH&CN",
        priority=priority,
        duration_s=125.4,
        loudness_lufs=-16,
        true_peak_dbtp=-1.2,
        file=f"tin-{i}.mp3",
        sidecar=f"tin-{i}.json",
        size_bytes=1000 + i,
        checksum=checksum,
        created_at=dt.datetime(2026, 11, 24, 3, 0, i),
        communes_json='"all"',
    )


def test_feed_is_valid_rss_with_enclosures_and_priority():
    c = load_communes("Nghệ An").resolve("Đô Lương")
    segs = [seg(2, "emergency"), seg(1)]
    body = build_feed(
        c,
        "Nghệ An",
        segs,
        page_url="http://h/truyen-thanh/x",
        feed_url="http://h/f.xml",
        file_url=lambda s: f"http://h/tep/{s.id}/{s.file}",
    )
    root = ET.fromstring(body)
    assert root.tag == "rss" and root.get("version") == "2.0"
    ch = root.find("channel")
    for tag in ("title", "link", "description", "language", "lastBuildDate"):
        assert ch.find(tag) is not None and ch.find(tag).text
    items = ch.findall("item")
    assert len(items) == 2
    first = items[0]
    enc = first.find("enclosure")
    assert enc.get("url") == "http://h/tep/2/tin-2.mp3" and enc.get("length") == "1002"
    assert enc.get("type") == "audio/mpeg"
    assert first.find("title").text.startswith("[KHẨN CẤP]") and "& <mới>" in first.find("title").text
    assert first.find("category").text == "emergency" and first.find("category").get("domain") == "priority"
    assert first.find("guid").get("isPermaLink") == "false"
    parsed = email.utils.parsedate_to_datetime(first.find("pubDate").text)
    assert parsed == dt.datetime(2026, 11, 24, 3, 0, 2, tzinfo=dt.UTC)
    assert first.find(f"{{{ITUNES}}}duration").text == "00:02:05"


def test_guid_is_stable_and_changes_with_the_audio():
    assert guid(seg(1)) == guid(seg(1))
    assert guid(seg(1)) != guid(seg(1, checksum="cd" * 32))


def test_rfc822_format():
    s = rfc822(dt.datetime(2026, 1, 5, 7, 8, 9))
    assert s == "Mon, 05 Jan 2026 07:08:09 +0000"
