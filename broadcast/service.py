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
from dataclasses import asdict, replace
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
from core.jobs import JobRunner

logger = logging.getLogger(__name__)

STALE_STAGING_S = 3600  # staging directories older than this are leftovers of a crash
RENDER_TASK = "radio_render"  # the job that renders one render row (broadcast.jobs)
RENDER_RETRIES = 2  # a render that crashed (disk full, a synthesizer fault) is tried twice more
CRASHED_VI = "lỗi nội bộ khi dựng chương trình; xem nhật ký máy chủ rồi tải bản tin lên lại"
RETRYING_VI = "Lần dựng vừa rồi gặp lỗi; hệ thống sẽ tự dựng lại sau ít phút."
FAILED_VI = (
    "Không dựng được chương trình sau {attempts} lần thử (lỗi nội bộ; xem nhật ký máy chủ). "
    "Quản trị viên có thể bấm “Thử lại” ở trang Công việc nền, hoặc tải bản tin lên lại."
)
READING_LOST_VI = "bị gián đoạn: máy chủ khởi động lại khi đang dựng; hãy tải bản thu giọng đọc lên lại"

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
        """A render row for a render this process runs itself (a reading: its audio is in memory)."""
        job_id = uuid.uuid4().hex
        with transaction(self.sessions) as s:
            self._add_job(s, job_id, source=source, commune=commune)
        return job_id

    def queue_render(
        self,
        runner: JobRunner,
        text: str,
        name: str,
        options: RenderOptions | None = None,
        *,
        held: bool = False,
        each: bool = False,
    ) -> str:
        """The render row and its job in one transaction: neither exists without the other. The job's
        argument is the row's id; the row holds the bulletin's Markdown and options.

        `each`: one version per commune the bulletin is for, each its own job once the first version
        has synthesized the shared body (`execute_render`)."""
        bulletin = self.parse(text, name)
        options = options or RenderOptions()
        job_id = uuid.uuid4().hex
        with transaction(self.sessions) as s:
            self._add_job(
                s,
                job_id,
                source=name,
                commune=options.commune,
                title=bulletin.meta.title,
                bulletin=text,
                options_json=json.dumps(asdict(options)),
                held=held,
                each=each,
            )
            runner.enqueue(s, RENDER_TASK, {"render_id": job_id})
        return job_id

    def _add_job(
        self, s: Session, job_id: str, *, source: str, commune: str | None, **fields: object
    ) -> None:
        now = utcnow()
        s.add(
            RenderJob(
                id=job_id,
                status="queued",
                source=source[:200],
                commune=commune[:100] if commune else commune,  # the column's width (PostgreSQL checks)
                created_at=now,
                updated_at=now,
                **fields,
            )
        )
        # Forget the oldest finished jobs beyond the configured number.
        keep = self.settings.broadcast.jobs_kept
        ids = list(
            s.scalars(
                select(RenderJob.id)
                .where(RenderJob.finished.is_(True), RenderJob.parent_id.is_(None))
                .order_by(RenderJob.created_at.desc())
                .offset(keep)
            )
        )
        if ids:
            s.execute(delete(RenderJob).where(RenderJob.id.in_(ids) | RenderJob.parent_id.in_(ids)))

    def _update_job(self, job_id: str, **fields) -> None:
        with transaction(self.sessions) as s:
            job = s.get(RenderJob, job_id)
            if job is None:
                return
            for k, v in fields.items():
                setattr(job, k, v)
            job.updated_at = utcnow()

    def _progress(self, job_id: str) -> Callable[[str, int, int], None]:
        last = [0.0]

        def progress(stage: str, done: int, total: int) -> None:
            now = time.monotonic()
            if now - last[0] >= 0.3 or done == total:  # bounded database writes for long bulletins
                last[0] = now
                self._update_job(job_id, stage=stage, done=done, total=total)

        return progress

    def run_job(
        self,
        job_id: str,
        bulletin: Bulletin,
        options: RenderOptions,
        *,
        held: bool = False,
        reading: Reading | None = None,
    ) -> None:
        """Blocking: render and publish, recording progress; meant for a worker thread (a reading, whose
        audio only this process has; bulletins are jobs: `queue_render`)."""
        self._update_job(job_id, status="running", stage="script")
        try:
            seg = self.publish(bulletin, options, progress=self._progress(job_id), held=held, reading=reading)
        except HotlineError as exc:
            logger.warning("render job %s failed: %s", job_id, exc)
            self._update_job(job_id, status="failed", message=str(exc), finished=True)
        except Exception:  # a job must end in a state a client can see
            logger.exception("render job %s crashed", job_id)
            self._update_job(job_id, status="failed", message=CRASHED_VI, finished=True)
        else:
            self._update_job(job_id, status="done", stage="done", segment_id=seg.id, finished=True)

    def execute_render(self, render_id: str, runner: JobRunner | None = None) -> int | None:
        """The render job: render the row's bulletin and publish it; the segment's id.

        Idempotent: a row already done is not rendered again, and a render run again after a crash
        replaces its segment by key (one segment, never two). A bulletin that cannot be rendered as
        written fails at once (the same text fails the same way); anything else raises, so the runner
        tries again, until the last attempt leaves the failure in Vietnamese on the row.
        `runner`: where a fan-out queues its communes' jobs (`each`)."""
        with transaction(self.sessions) as s:
            row = s.get(RenderJob, render_id, with_for_update=True)
            if row is None:  # forgotten (jobs_kept) before it ran: nothing to do
                logger.warning("render job %s: no such row", render_id)
                return None
            if row.status == "done":
                logger.info("render job %s already done", render_id)
                return row.segment_id
            row.attempts += 1
            row.status, row.stage, row.message, row.finished = "running", "script", "", False
            row.updated_at = utcnow()
            attempts, text, name = row.attempts, row.bulletin, row.source or "bulletin.md"
            options = RenderOptions(**json.loads(row.options_json or "{}"))
            held, each = row.held, row.each
        try:
            if not text:
                raise HotlineError(READING_LOST_VI)
            bulletin = self.parse(text, name)
            if each:
                seg = self._fan_out(render_id, bulletin, options, held=held, runner=runner)
            else:
                seg = self.publish(bulletin, options, progress=self._progress(render_id), held=held)
        except HotlineError as exc:
            logger.warning("render job %s failed: %s", render_id, exc)
            self._update_job(render_id, status="failed", message=str(exc), finished=True)
            return None
        except Exception:
            final = attempts > RENDER_RETRIES
            logger.exception("render job %s crashed (attempt %d)", render_id, attempts)
            if final:
                message = FAILED_VI.format(attempts=attempts)
                self._update_job(render_id, status="failed", message=message, finished=True)
            else:
                self._update_job(render_id, status="queued", stage="", message=RETRYING_VI)
            raise
        self._update_job(render_id, status="done", stage="done", segment_id=seg.id, finished=True)
        return seg.id

    def _fan_out(
        self,
        parent_id: str,
        bulletin: Bulletin,
        options: RenderOptions,
        *,
        held: bool,
        runner: JobRunner | None,
    ) -> Segment:
        """The first commune's version here (its synthesis fills the speech cache with the shared body),
        then one job per other version, queued together; ids from the parent's, so a fan-out run again
        queues none twice."""
        if runner is None:
            raise RuntimeError("a fan-out needs the job runner")
        targets = target_communes(bulletin, self.settings)
        units: list[Commune | None] = list(targets or self.communes.communes)
        if targets is None:
            units.append(None)  # the province-wide version (what the hotline plays, the province's page)
        first = self.publish(
            bulletin,
            replace(options, commune=units[0].slug if units[0] else None),
            progress=self._progress(parent_id),
            held=held,
        )
        with transaction(self.sessions) as s:
            parent = s.get(RenderJob, parent_id)
            assert parent is not None
            for unit in units[1:]:
                child_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{parent_id}/{unit.code if unit else 0}").hex
                if s.get(RenderJob, child_id) is not None:
                    continue
                one = replace(options, commune=unit.slug if unit else None)
                self._add_job(
                    s,
                    child_id,
                    source=parent.source,
                    commune=one.commune,
                    title=parent.title,
                    bulletin=parent.bulletin,
                    options_json=json.dumps(asdict(one)),
                    held=held,
                    parent_id=parent_id,
                )
                runner.enqueue(s, RENDER_TASK, {"render_id": child_id})
            parent.stage = "communes"
        return first

    def fail_interrupted_jobs(self) -> int:
        """Mark readings left queued/running by a previous process as failed (their audio was in its
        memory); bulletins are jobs, run again by the job runner."""
        with transaction(self.sessions) as s:
            jobs = list(
                s.scalars(select(RenderJob).where(RenderJob.finished.is_(False), RenderJob.bulletin == ""))
            )
            for job in jobs:
                job.status, job.finished, job.updated_at = "failed", True, utcnow()
                job.message = READING_LOST_VI
        return len(jobs)

    def job(self, job_id: str) -> RenderJob:
        """The render row; a fan-out's with its communes' progress: done when every version is."""
        job = self._row(RenderJob, job_id, "render job")
        if not job.each or job.status != "done":
            return job
        with self.sessions() as s:
            children = list(s.scalars(select(RenderJob).where(RenderJob.parent_id == job_id)))
        job.stage, job.total = "communes", len(children) + 1
        job.done = 1 + sum(1 for c in children if c.status == "done")
        failed = [c for c in children if c.status == "failed"]
        if any(not c.finished for c in children):
            job.status, job.finished = "running", False
        elif failed:
            job.status = "failed"
            job.message = f"{len(failed)} xã chưa dựng được: {failed[0].message}"
        return job

    def jobs(self, limit: int = 50) -> list[RenderJob]:
        with self.sessions() as s:
            return list(s.scalars(select(RenderJob).order_by(RenderJob.created_at.desc()).limit(limit)))

    def titles_of(self, render_ids: list[str]) -> dict[str, RenderJob]:
        """Render rows by id (what the jobs page says a job belongs to)."""
        if not render_ids:
            return {}
        with self.sessions() as s:
            rows = s.scalars(select(RenderJob).where(RenderJob.id.in_(render_ids)))
            return {r.id: r for r in rows}
