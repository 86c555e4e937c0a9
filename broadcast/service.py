"""The one implementation behind the CLI, the web pages and the API: publish, list, delete, prune, jobs."""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from broadcast.bulletin import Bulletin, parse_bulletin
from broadcast.bundle import BundleCache
from broadcast.communes import Commune, CommuneIndex, fold, load_communes
from broadcast.models import RenderJob, Segment
from broadcast.playlist import airing_order
from broadcast.reading import Reading
from broadcast.render import (
    EncoderHint,
    RenderOptions,
    RenderResult,
    SpeechRenderer,
    render_bulletin,
    segment_key,
    target_communes,
)
from core.db import transaction
from core.errors import HotlineError

logger = logging.getLogger(__name__)

STALE_STAGING_S = 3600  # staging directories older than this are leftovers of a crash

Row = TypeVar("Row", Segment, RenderJob)


class NotFound(HotlineError):
    code = "not_found"


def utcnow() -> dt.datetime:
    """Naive UTC (the database stores naive UTC datetimes)."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def _naive_utc(value: dt.datetime | None) -> dt.datetime | None:
    if value is None:
        return None
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


class BroadcastService:
    """Catalog of segments on disk and in the database; safe to share between threads."""

    def __init__(
        self, settings, sessions: sessionmaker[Session]
    ) -> None:  # settings: hotline.settings.Settings
        self.settings = settings
        self.sessions = sessions
        cfg = settings.broadcast
        self.storage = settings.path(cfg.storage_dir) if cfg.storage_dir else settings.data_dir / "broadcast"
        self.segments_dir = self.storage / "segments"
        self.bundles_dir = self.storage / "bundles"
        self.bundles = BundleCache(
            self.bundles_dir, self.segments_dir, cfg.province, cfg.bundle_cache_mb * 1_000_000
        )
        self._publish_lock = threading.Lock()

    @property
    def communes(self) -> CommuneIndex:
        return load_communes(self.settings.broadcast.province)

    # --- publishing -------------------------------------------------------------------------------

    def parse(self, text: str, name: str = "bulletin.md") -> Bulletin:
        return parse_bulletin(text, name, max_body_chars=self.settings.broadcast.max_body_chars)

    def publish(
        self,
        bulletin: Bulletin,
        options: RenderOptions | None = None,
        *,
        progress: Callable[[str, int, int], None] | None = None,
        speech: SpeechRenderer | None = None,
        hint: EncoderHint | None = None,
        held: bool = False,
        reading: Reading | None = None,
    ) -> Segment:
        """Render and add to the catalog; a failure leaves the catalog and the previous segment untouched.

        `held`: rendered for the editor to hear first, released to communes later (`release`).
        `reading`: read by a person instead of the synthesizer (mastered the same way)."""
        options = options or RenderOptions()
        commune = self.communes.resolve(options.commune) if options.commune else None
        key = segment_key(bulletin, commune)
        # A unique file name: the previous version keeps being served until the database switches over.
        basename = f"{key}-{uuid.uuid4().hex[:8]}"
        result = render_bulletin(
            bulletin,
            self.settings,
            self.segments_dir,
            options=options,
            speech=speech,
            progress=progress,
            basename=basename,
            hint=hint,
            reading=reading,
        )
        try:
            return self._record(result, key, bulletin, commune, held=held)
        except BaseException:
            for p in (result.mp3, result.sidecar, result.wav):
                if p is not None:
                    p.unlink(missing_ok=True)
            raise

    def publish_each_commune(
        self,
        bulletin: Bulletin,
        options: RenderOptions | None = None,
        *,
        progress: Callable[[str, int, int], None] | None = None,
        speech: SpeechRenderer | None = None,
    ) -> list[Segment]:
        """One version per commune the bulletin is for (all of the province when it names none), each
        greeting its commune by name. The shared body is synthesized once (sentences are reused across
        versions) and what the MP3 encoder did to the first version starts the mastering of the next;
        per commune only its own sentences, the assembly, the loudness pass and the MP3 remain.

        A bulletin for the whole province also gets its province-wide version (last): what the hotline
        says to every caller when it is an emergency, and what the province's own page lists."""
        options = options or RenderOptions()
        targets = target_communes(bulletin, self.settings)
        units = targets or list(self.communes.communes)
        own = speech is None
        speech = speech or SpeechRenderer(self.settings, reuse=True)
        hint = EncoderHint()
        out: list[Segment] = []
        try:
            for n, unit in enumerate(units):
                one = replace(options, commune=unit.slug)
                out.append(self.publish(bulletin, one, speech=speech, hint=hint))
                if progress:
                    progress("communes", n + 1, len(units))
            if targets is None:
                out.append(self.publish(bulletin, replace(options, commune=None), speech=speech, hint=hint))
        finally:
            if own:
                speech.close()
        return out

    def _record(
        self, result: RenderResult, key: str, bulletin: Bulletin, commune: Commune | None, *, held: bool
    ) -> Segment:
        info = result.info
        targets = target_communes(bulletin, self.settings)
        old_files: list[str] = []
        with self._publish_lock, transaction(self.sessions) as s:
            seg = s.scalar(select(Segment).where(Segment.key == key))
            if seg is None:
                seg = Segment(key=key)
                s.add(seg)
            else:
                old_files = [seg.file, seg.sidecar, seg.file.removesuffix(".mp3") + ".wav"]
            seg.title = bulletin.meta.title
            seg.bulletin_date = bulletin.meta.date
            seg.agency = info["agency"]
            seg.priority = bulletin.meta.priority
            seg.commune_code = commune.code if commune else None
            seg.communes_json = json.dumps("all" if targets is None else [c.code for c in targets])
            seg.template = info["template"]
            seg.engine = info["engine"]
            seg.voice = info["voice"]
            seg.duration_s = info["duration_s"]
            seg.loudness_lufs = info["loudness_lufs"]
            seg.true_peak_dbtp = info["true_peak_dbtp"]
            seg.file = result.mp3.name
            seg.sidecar = result.sidecar.name
            seg.size_bytes = info["mp3"]["bytes"]
            seg.checksum = info["mp3"]["sha256"]
            seg.created_at = utcnow()
            seg.publish_at = _naive_utc(bulletin.meta.publish_at())
            seg.expires_at = _naive_utc(bulletin.meta.expires_at())
            seg.deadline_at = _naive_utc(bulletin.meta.deadline_at())
            seg.held = held
            s.flush()
            s.expunge(seg)
        self.bundles.clear()
        for name in old_files:  # only after the commit: the old version stayed available until now
            if name and name not in (result.mp3.name, result.sidecar.name):
                (self.segments_dir / name).unlink(missing_ok=True)
        logger.info("published %s (%s)", key, result.mp3.name)
        return seg

    # --- queries ----------------------------------------------------------------------------------

    def list_segments(
        self,
        commune: Commune | None = None,
        query: str = "",
        *,
        include_hidden: bool = False,
        now: dt.datetime | None = None,
    ) -> list[Segment]:
        """Current segments (published, not expired), newest first; for a commune its own version wins."""
        now = now or utcnow()
        with self.sessions() as s:
            rows = list(
                s.scalars(select(Segment).order_by(Segment.bulletin_date.desc(), Segment.created_at.desc()))
            )
        out = []
        for seg in rows:
            if not include_hidden and not self.is_current(seg, now):
                continue
            if commune is not None and not seg.for_commune(commune.code):
                continue
            out.append(seg)
        if commune is not None:  # a commune's own greeting version replaces the generic one
            own = {seg.key.split("--")[0] for seg in out if seg.commune_code == commune.code}
            out = [seg for seg in out if seg.commune_code is not None or seg.key not in own]
        q = fold(query)
        if q:
            out = [
                seg
                for seg in out
                if q
                in fold(
                    f"{seg.title} {seg.bulletin_date.isoformat()} "
                    f"{seg.bulletin_date:%d/%m/%Y} {seg.bulletin_date:%d-%m-%Y}"
                )
            ]
        return out

    def new_communes(self, days: int, now: dt.datetime | None = None) -> set[int] | None:
        """Codes of communes with a current segment published in the last `days` days (what the commune
        list marks as new); None: a province-wide segment is new, so every commune is."""
        now = now or utcnow()
        since = now - dt.timedelta(days=days)
        codes: set[int] = set()
        for seg in self.list_segments(now=now):
            if (seg.publish_at or seg.created_at) < since:
                continue
            if seg.commune_code is not None:
                codes.add(seg.commune_code)
            elif seg.communes is None:
                return None
            else:
                codes.update(seg.communes)
        return codes

    def bulletins(
        self, now: dt.datetime | None = None, limit: int = 20
    ) -> list[tuple[Segment, list[Commune] | None]]:
        """Current bulletins, newest first, each with the communes it reaches (None: every commune); the
        communes' own greeting versions count under their bulletin, not as bulletins of their own."""
        groups: dict[str, tuple[Segment, set[int] | None]] = {}
        for seg in self.list_segments(now=now):
            stem = seg.key.split("--")[0]
            first, codes = groups.get(stem, (seg, set()))
            if codes is not None:
                if seg.commune_code is not None:
                    codes.add(seg.commune_code)
                elif seg.communes is None:
                    codes = None
                else:
                    codes.update(seg.communes)
            groups[stem] = (first, codes)
        index = self.communes
        out: list[tuple[Segment, list[Commune] | None]] = []
        for seg, codes in list(groups.values())[:limit]:
            units = None if codes is None else [c for c in index.communes if c.code in codes]
            out.append((seg, units))
        return out

    def bundle(self, commune: Commune) -> Path:
        """The offline bundle of the commune's current segments (built at most once per catalog change)."""
        try:
            return self.bundles.get(commune, airing_order(self.list_segments(commune)))
        except FileNotFoundError:  # a publish replaced a segment's file between the query and the build
            return self.bundles.get(commune, airing_order(self.list_segments(commune)))

    def latest(self, commune: Commune | None = None, now: dt.datetime | None = None) -> Segment | None:
        """The newest current segment for a commune (what the hotline's radio menu plays), or None."""
        segments = self.list_segments(commune, now=now)
        return segments[0] if segments else None

    def release(self, segment_id: int) -> Segment:
        """A held segment goes out to its communes (pages, feeds, playlists) now."""
        with self._publish_lock, transaction(self.sessions) as s:
            seg = s.get(Segment, segment_id)
            if seg is None:
                raise NotFound(f"no segment {segment_id}")
            seg.held = False
            s.flush()
            s.expunge(seg)
        self.bundles.clear()
        logger.info("released segment %s (%s)", seg.id, seg.key)
        return seg

    @staticmethod
    def is_current(seg: Segment, now: dt.datetime) -> bool:
        if seg.held:
            return False
        if seg.publish_at is not None and seg.publish_at > now:
            return False
        return seg.expires_at is None or seg.expires_at > now

    def _row(self, model: type[Row], key: object, label: str) -> Row:
        """The row of `model` with primary key `key`; NotFound names it as `label` otherwise."""
        with self.sessions() as s:
            row = s.get(model, key)
        if row is None:
            raise NotFound(f"no {label} {key}")
        return row

    def get(self, segment_id: int) -> Segment:
        return self._row(Segment, segment_id, "segment")

    def path_of(self, seg: Segment) -> Path:
        return self.segments_dir / seg.file

    def sidecar_of(self, seg: Segment) -> dict:
        try:
            return json.loads((self.segments_dir / seg.sidecar).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def delete(self, segment_id: int) -> Segment:
        with self._publish_lock, transaction(self.sessions) as s:
            seg = s.get(Segment, segment_id)
            if seg is None:
                raise NotFound(f"no segment {segment_id}")
            s.delete(seg)
            s.flush()
            s.expunge(seg)
        self.bundles.clear()  # a deleted segment must not stay downloadable inside a bundle
        self._remove_files(seg)
        logger.info("deleted segment %s (%s)", seg.id, seg.key)
        return seg

    def _remove_files(self, seg: Segment) -> None:
        for name in (seg.file, seg.sidecar, seg.file.removesuffix(".mp3") + ".wav"):
            (self.segments_dir / name).unlink(missing_ok=True)

    def prune(self, now: dt.datetime | None = None) -> list[Segment]:
        """Delete expired segments with their files, and leftovers of interrupted renders."""
        now = now or utcnow()
        with self._publish_lock, transaction(self.sessions) as s:
            expired = list(
                s.scalars(select(Segment).where(Segment.expires_at.is_not(None), Segment.expires_at <= now))
            )
            for seg in expired:
                s.delete(seg)
                s.flush()
                s.expunge(seg)
        for seg in expired:
            self._remove_files(seg)
        if self.segments_dir.is_dir():
            for leftover in self.segments_dir.glob(".render-*"):
                if time.time() - leftover.stat().st_mtime > STALE_STAGING_S:
                    shutil.rmtree(leftover, ignore_errors=True)
        self.bundles.clear()  # rebuilt on demand from the current segments
        return expired

    # --- render jobs (API) ------------------------------------------------------------------------

    def create_job(self, source: str, commune: str | None) -> str:
        job_id = uuid.uuid4().hex
        now = utcnow()
        with transaction(self.sessions) as s:
            s.add(
                RenderJob(
                    id=job_id,
                    status="queued",
                    source=source[:200],
                    commune=commune[:100] if commune else commune,  # the column's width (PostgreSQL checks)
                    created_at=now,
                    updated_at=now,
                )
            )
            # Forget the oldest finished jobs beyond the configured number.
            keep = self.settings.broadcast.jobs_kept
            ids = list(
                s.scalars(
                    select(RenderJob.id)
                    .where(RenderJob.finished.is_(True))
                    .order_by(RenderJob.created_at.desc())
                    .offset(keep)
                )
            )
            if ids:
                s.execute(delete(RenderJob).where(RenderJob.id.in_(ids)))
        return job_id

    def _update_job(self, job_id: str, **fields) -> None:
        with transaction(self.sessions) as s:
            job = s.get(RenderJob, job_id)
            if job is None:
                return
            for k, v in fields.items():
                setattr(job, k, v)
            job.updated_at = utcnow()

    def run_job(
        self,
        job_id: str,
        bulletin: Bulletin,
        options: RenderOptions,
        *,
        held: bool = False,
        reading: Reading | None = None,
    ) -> None:
        """Blocking: render and publish, recording progress; meant for a worker thread."""
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.3 or done == total:  # bounded database writes for long bulletins
                last[0] = now
                self._update_job(job_id, stage=stage, done=done, total=total)

        self._update_job(job_id, status="running", stage="script")
        try:
            seg = self.publish(bulletin, options, progress=progress, held=held, reading=reading)
        except HotlineError as exc:
            logger.warning("render job %s failed: %s", job_id, exc)
            self._update_job(job_id, status="failed", message=str(exc), finished=True)
        except Exception:  # a job must end in a state a client can see
            logger.exception("render job %s crashed", job_id)
            self._update_job(
                job_id,
                status="failed",
                message="lỗi nội bộ khi dựng chương trình; xem nhật ký máy chủ rồi tải bản tin lên lại",
                finished=True,
            )
        else:
            self._update_job(job_id, status="done", stage="done", segment_id=seg.id, finished=True)

    def fail_interrupted_jobs(self) -> int:
        """Mark jobs left queued/running by a previous process as failed (their thread is gone)."""
        with transaction(self.sessions) as s:
            jobs = list(s.scalars(select(RenderJob).where(RenderJob.finished.is_(False))))
            for job in jobs:
                job.status, job.finished, job.updated_at = "failed", True, utcnow()
                job.message = "bị gián đoạn: máy chủ khởi động lại khi đang dựng; hãy tải bản tin lên lại"
        return len(jobs)

    def job(self, job_id: str) -> RenderJob:
        return self._row(RenderJob, job_id, "render job")

    def jobs(self, limit: int = 50) -> list[RenderJob]:
        with self.sessions() as s:
            return list(s.scalars(select(RenderJob).order_by(RenderJob.created_at.desc()).limit(limit)))
