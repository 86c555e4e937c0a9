"""Catalog of rendered segments and render jobs (tables of the `broadcast` migration branch)."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

JOB_STATUSES = ("queued", "running", "done", "failed")


class Segment(Base):
    """One published audio segment; `key` identifies the bulletin (and commune) it was rendered from."""

    __tablename__ = "broadcast_segments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True, index=True)  # re-rendering replaces the row
    title: Mapped[str] = mapped_column(String(200))
    bulletin_date: Mapped[date] = mapped_column(Date, index=True)
    agency: Mapped[str] = mapped_column(String(200), default="")
    priority: Mapped[str] = mapped_column(String(16), default="normal")  # normal | priority | emergency
    commune_code: Mapped[int | None] = mapped_column(Integer, nullable=True)  # set: greeting for this commune
    communes_json: Mapped[str] = mapped_column(Text, default='"all"')  # "all" or a JSON list of unit codes
    template: Mapped[str] = mapped_column(String(64), default="")
    engine: Mapped[str] = mapped_column(String(32), default="")
    voice: Mapped[str] = mapped_column(String(200), default="")
    duration_s: Mapped[float] = mapped_column(Float)
    loudness_lufs: Mapped[float] = mapped_column(Float)
    true_peak_dbtp: Mapped[float] = mapped_column(Float)
    file: Mapped[str] = mapped_column(String(300))  # MP3, relative to the segments directory
    sidecar: Mapped[str] = mapped_column(String(300))  # JSON sidecar, same directory
    size_bytes: Mapped[int] = mapped_column(Integer)
    checksum: Mapped[str] = mapped_column(String(64))  # sha256 of the MP3 (ETag, bundle integrity)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)  # UTC
    publish_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # UTC; hidden before
    expires_at: Mapped[datetime | None] = mapped_column(
        DateTime, nullable=True, index=True
    )  # UTC; hidden from

    @property
    def communes(self) -> list[int] | None:
        """Unit codes the segment is for; None: every commune of the province."""
        value = json.loads(self.communes_json or '"all"')
        return None if value == "all" else [int(v) for v in value]

    def for_commune(self, code: int) -> bool:
        codes = self.communes
        if self.commune_code is not None:
            return self.commune_code == code
        return codes is None or code in codes


class RenderJob(Base):
    """A render requested through the API: status and progress for polling clients."""

    __tablename__ = "broadcast_jobs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    status: Mapped[str] = mapped_column(String(16), default="queued")  # queued | running | done | failed
    stage: Mapped[str] = mapped_column(String(32), default="")
    done: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(Text, default="")  # error message when failed
    source: Mapped[str] = mapped_column(String(200), default="")  # uploaded file name
    commune: Mapped[str | None] = mapped_column(String(100), nullable=True)
    segment_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    finished: Mapped[bool] = mapped_column(Boolean, default=False)
