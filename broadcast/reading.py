"""Bulletins read by a person instead of the synthesizer: the reading that replaces the synthesized speech
in a render, how a segment says who read it, and the bulletin kept in each sidecar so that a reading can
be mastered later exactly as its synthesized version was (same template, communes, dates)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from broadcast.bulletin import Bulletin, BulletinError, BulletinMeta
from broadcast.models import HUMAN_ENGINE
from voice.audio import AudioChunk

VOICE_PERSON_VI = "phát thanh viên"
VOICE_SYNTHETIC_VI = "giọng tổng hợp"
SOURCE_VI = {"browser": "ghi âm trên trình duyệt", "upload": "tệp tải lên"}


@dataclass(frozen=True)
class Reading:
    """A person's reading of a bulletin's script, already decoded, trimmed and levelled."""

    chunk: AudioChunk  # mono, at the radio's rate
    source: str  # "browser" | "upload"
    recorded_s: float  # length as recorded, before trimming
    advice: tuple[str, ...] = ()  # the studio checks' Vietnamese advice the reader went past

    def sidecar(self) -> dict:
        """What the segment's sidecar says of the reading (public like the script: no account names)."""
        return {
            "by": "person",
            "source": self.source if self.source in SOURCE_VI else "upload",
            "recorded_s": round(self.recorded_s, 2),
            "advice": list(self.advice),
        }


def voice_vi(engine: str) -> str:
    """Who reads a segment, for pages and feeds: a person or the synthesizer."""
    return VOICE_PERSON_VI if engine == HUMAN_ENGINE else VOICE_SYNTHETIC_VI


def bulletin_record(bulletin: Bulletin) -> dict:
    """The bulletin as JSON for the sidecar. Days are written dd/mm/yyyy: an ISO day would come back as a
    midnight moment and move the end of an `expires` or `deadline` day."""
    meta = bulletin.meta.model_dump(mode="json", exclude_none=True)
    for key in ("date", "publish", "expires", "deadline"):
        value = getattr(bulletin.meta, key)
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            meta[key] = f"{value:%d/%m/%Y}"
    return {"meta": meta, "body": bulletin.body, "name": bulletin.path.name}


def bulletin_from_record(record: object) -> Bulletin:
    """The bulletin a sidecar kept; BulletinError when there is none (rendered before sidecars kept it)."""
    if not isinstance(record, dict) or not isinstance(record.get("meta"), dict):
        raise BulletinError(
            "bản tin này được dựng trước khi hệ thống lưu nội dung để ghi giọng đọc: hãy dựng lại bản tin "
            "trong phòng biên tập rồi ghi giọng đọc",
            code="no_source",
        )
    meta = BulletinMeta.model_validate(record["meta"])
    return Bulletin(
        meta=meta,
        body=str(record.get("body", "")),
        path=Path(str(record.get("name") or "ban-tin.md")),
        body_line=1,
    )
