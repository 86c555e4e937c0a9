"""Catalog of rendered segments, render jobs, device tokens, downloads and airings (tables of the
`broadcast` migration branch)."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base

JOB_STATUSES = ("queued", "running", "done", "failed")
HUMAN_ENGINE = "human"  # `Segment.engine` of a bulletin read by a person (broadcast.reading)


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
    engine: Mapped[str] = mapped_column(String(32), default="")  # TTS engine, or HUMAN_ENGINE
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
    # Rendered for the editor to hear, not yet released to communes (hidden like an embargoed one).
    held: Mapped[bool] = mapped_column(Boolean, default=False)
    deadline_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # UTC; air by then

    @property
    def communes(self) -> list[int] | None:
        """Unit codes the segment is for; None: every commune of the province."""
        value = json.loads(self.communes_json or '"all"')
        return None if value == "all" else [int(v) for v in value]

    @property
    def read_by_person(self) -> bool:
        return self.engine == HUMAN_ENGINE

    def for_commune(self, code: int) -> bool:
        codes = self.communes
        if self.commune_code is not None:
            return self.commune_code == code
        return codes is None or code in codes


class RenderJob(Base):
    """A render requested through the API or the newsroom: what to render (the job's only argument is this
    row's id), then status and progress for polling clients."""

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
    title: Mapped[str] = mapped_column(String(200), default="")  # the bulletin's, for the jobs page
    bulletin: Mapped[str] = mapped_column(Text, default="")  # the Markdown rendered (empty: a reading)
    options_json: Mapped[str] = mapped_column(Text, default="{}")  # RenderOptions' commune and engine
    held: Mapped[bool] = mapped_column(Boolean, default=False)  # rendered for the editor to hear first
    each: Mapped[bool] = mapped_column(Boolean, default=False)  # one version per commune (fan-out)
    parent_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)  # its fan-out
    attempts: Mapped[int] = mapped_column(Integer, default=0)  # runs started (retries included)


class DeviceToken(Base):
    """A commune's token for its loudspeaker devices and players (one per commune; only its hash kept)."""

    __tablename__ = "broadcast_device_tokens"

    commune_code: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)  # sha256 hex
    created_at: Mapped[datetime] = mapped_column(DateTime)  # UTC
    created_by: Mapped[str] = mapped_column(String(64), default="")  # console account that made it


class Download(Base):
    """One fetch of a segment's audio: by a commune's device token, or anonymous (commune_code NULL)."""

    __tablename__ = "broadcast_downloads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    segment_id: Mapped[int] = mapped_column(Integer, index=True)
    bulletin_key: Mapped[str] = mapped_column(String(200), index=True)  # the segment key's bulletin part
    commune_code: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC


class Airing(Base):
    """A commune's confirmation that it aired a bulletin (the latest confirmation per commune is kept)."""

    __tablename__ = "broadcast_airings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    bulletin_key: Mapped[str] = mapped_column(String(200), index=True)
    segment_id: Mapped[int] = mapped_column(Integer)
    commune_code: Mapped[int] = mapped_column(Integer, index=True)
    aired_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, when it went on air (as told)
    confirmed_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, when the confirmation arrived
    confirmed_by: Mapped[str] = mapped_column(String(64), default="")  # "device" or a console account
