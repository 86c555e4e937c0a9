"""Per-commune RSS 2.0 podcast feed: enclosures with exact length and type, stable GUIDs, RFC 822 dates."""

from __future__ import annotations

import datetime as dt
import email.utils
from xml.etree import ElementTree as ET

from broadcast.bulletin import PRIORITY_LABELS_VI
from broadcast.communes import Commune
from broadcast.models import Segment
from broadcast.reading import voice_vi

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
ATOM = "http://www.w3.org/2005/Atom"
ET.register_namespace("itunes", ITUNES)
ET.register_namespace("atom", ATOM)


def rfc822(moment: dt.datetime) -> str:
    """RFC 822 date (with a four-digit year, as RSS 2.0 readers expect) from a naive-UTC or aware datetime."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return email.utils.format_datetime(moment.astimezone(dt.UTC))


def guid(seg: Segment) -> str:
    """Stable for a given published file; a re-rendered segment is a new episode (new audio)."""
    return f"urn:nghean-truyen-thanh:{seg.key}:{seg.checksum[:16]}"


def duration_hms(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, tag, attrs)
    if text is not None:
        el.text = text
    return el


def build_feed(
    commune: Commune,
    province: str,
    segments: list[Segment],
    *,
    page_url: str,
    feed_url: str,
    file_url,
    now: dt.datetime | None = None,
) -> bytes:  # file_url: Callable[[Segment], str]
    """The feed document (UTF-8 bytes)."""
    now = now or dt.datetime.now(dt.UTC)
    rss = ET.Element("rss", {"version": "2.0"})
    ch = _sub(rss, "channel")
    _sub(ch, "title", f"Truyền thanh {commune.name} – {province}")
    _sub(ch, "link", page_url)
    _sub(
        ch,
        "description",
        f"Các chương trình phát thanh cơ sở dành cho {commune.name}, tỉnh {province}: "
        "chuyên mục, thông báo và tin khẩn cấp của chính quyền.",
    )
    _sub(ch, "language", "vi")
    _sub(ch, "lastBuildDate", rfc822(now))
    _sub(ch, "generator", "nghean-hotline")
    _sub(ch, "ttl", "60")
    _sub(ch, f"{{{ATOM}}}link", href=feed_url, rel="self", type="application/rss+xml")
    _sub(ch, f"{{{ITUNES}}}author", f"Tỉnh {province}")
    _sub(ch, f"{{{ITUNES}}}explicit", "false")
    for seg in segments:
        item = _sub(ch, "item")
        label = PRIORITY_LABELS_VI.get(seg.priority, seg.priority)
        title = seg.title if seg.priority == "normal" else f"[{label.upper()}] {seg.title}"
        _sub(item, "title", title)
        _sub(item, "link", page_url)
        _sub(
            item,
            "description",
            f"{seg.title}. Ngày {seg.bulletin_date:%d/%m/%Y}. Mức ưu tiên: {label}. "
            f"Thời lượng {duration_hms(seg.duration_s)}. Giọng đọc: {voice_vi(seg.engine)}. {seg.agency}.",
        )
        _sub(item, "enclosure", url=file_url(seg), length=str(seg.size_bytes), type="audio/mpeg")
        _sub(item, "guid", guid(seg), isPermaLink="false")
        _sub(item, "pubDate", rfc822(seg.publish_at or seg.created_at))
        _sub(item, "category", seg.priority, domain="priority")
        _sub(item, f"{{{ITUNES}}}duration", duration_hms(seg.duration_s))
        _sub(item, f"{{{ITUNES}}}author", seg.agency)
    return ET.tostring(rss, encoding="utf-8", xml_declaration=True)
