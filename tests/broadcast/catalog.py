"""Catalog rows without rendering: a segment row plus small stand-in files, for fast access and bundle tests.

The web routes serve whatever bytes the file holds; rendering real MP3s is what test_web.py and the
browser tests do, at seconds per segment.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from broadcast.models import Segment
from broadcast.service import BroadcastService
from core.db import transaction

PAST = dt.datetime(2001, 1, 1)  # long before any run of the tests
FUTURE = dt.datetime(2999, 1, 1)  # long after


def add_segment(
    svc: BroadcastService,
    key: str,
    *,
    title: str = "",
    publish_at: dt.datetime | None = None,
    expires_at: dt.datetime | None = None,
    script: str = "",
    size: int = 4000,
    communes: list[int] | None = None,
    commune_code: int | None = None,
    priority: str = "normal",
    template: str = "",
    created_at: dt.datetime = PAST,
    bulletin_date: dt.date = dt.date(2001, 1, 1),
    held: bool = False,
) -> Segment:
    """A segment (for every commune unless `communes` or `commune_code` say otherwise), with `size` bytes
    of stand-in audio and a sidecar holding `script`."""
    data = hashlib.sha256(key.encode()).digest() * (size // 32 + 1)
    data = data[:size]
    svc.segments_dir.mkdir(parents=True, exist_ok=True)
    (svc.segments_dir / f"{key}.mp3").write_bytes(data)
    (svc.segments_dir / f"{key}.json").write_text(json.dumps({"script": script}), encoding="utf-8")
    with transaction(svc.sessions) as s:
        seg = Segment(
            key=key,
            title=title or key,
            bulletin_date=bulletin_date,
            priority=priority,
            template=template,
            commune_code=commune_code,
            communes_json=json.dumps("all" if communes is None else communes),
            duration_s=5.0,
            loudness_lufs=-16.0,
            true_peak_dbtp=-1.0,
            file=f"{key}.mp3",
            sidecar=f"{key}.json",
            size_bytes=len(data),
            checksum=hashlib.sha256(data).hexdigest(),
            created_at=created_at,
            publish_at=publish_at,
            expires_at=expires_at,
            held=held,
        )
        s.add(seg)
        s.flush()
        s.expunge(seg)
    return seg
