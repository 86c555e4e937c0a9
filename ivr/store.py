"""Call log, tickets and dossier look-ups on the database (blocking; the app calls them in a thread).

Every write is its own committed transaction, so a crash of the application loses at most the
turn in progress. Complaint audio is written to a temporary file and renamed into place before
the ticket row that points at it is committed.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Protocol

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from core.clock import iso_local, zone
from core.db import affected, transaction
from core.errors import HotlineError
from core.jobs import JobRunner
from core.masking import mask_personal
from ivr.enums import Outcome
from ivr.flow import Turn as FlowTurn
from ivr.models import TICKET_STATUSES, Call, Dossier, PromptPlay, Ticket, TicketReply, Turn
from ivr.ticket_rules import HANDLED_STATUSES, TicketRules, default_rules
from voice.audio import AudioChunk, write_wav

TRANSCRIBE_TASK = "ticket_transcribe"  # the job that transcribes a ticket's recording (ivr.transcription)

logger = logging.getLogger(__name__)

TICKET_DIGITS = 6  # random, so that numbers cannot be guessed in sequence


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def mask_caller(caller: str) -> str:
    """Phone numbers keep their last 3 digits; short extensions show as they are; withheld ("") stays ""."""
    digits = "".join(ch for ch in caller if ch.isdigit())
    if len(digits) >= 6:
        return "*" * (len(digits) - 3) + digits[-3:]
    return mask_personal(caller)


def hash_caller(caller: str) -> str:
    return hashlib.sha256(caller.encode("utf-8")).hexdigest() if caller else ""


class StoreError(HotlineError):
    code = "ivr.store"


@dataclass(frozen=True)
class DossierInfo:
    code: str
    title: str
    status: str
    updated_at: datetime


class DossierSource(Protocol):
    """Where dossier statuses come from (the local table here; the provincial system later)."""

    def lookup(self, code: str) -> DossierInfo | None: ...


class SqlDossierSource:
    """Dossiers from the local `dossiers` table."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def lookup(self, code: str) -> DossierInfo | None:
        with self.factory() as s:
            row = s.get(Dossier, code.strip())
            if row is None:
                return None
            return DossierInfo(row.code, row.title, row.status, row.updated_at)


# Demo dossiers so that a fresh installation can be tried by phone (codes are keyed digit by digit).
SEED_DOSSIERS = (
    ("1001", "đăng ký khai sinh", "đã có kết quả, mời anh chị nhận tại bộ phận một cửa của xã"),
    ("1002", "cấp đổi căn cước", "đang được xử lý, dự kiến có kết quả sau năm ngày làm việc"),
    ("1003", "đăng ký hộ kinh doanh", "cần bổ sung giấy tờ, cán bộ sẽ gọi điện hướng dẫn"),
    ("2024", "chuyển nhượng quyền sử dụng đất", "đang thẩm định hồ sơ tại văn phòng đăng ký đất đai"),
)


def seed_dossiers(factory: sessionmaker[Session]) -> int:
    """Insert the demo dossiers into an empty table; returns how many were added."""
    with transaction(factory) as s:
        if s.scalar(select(Dossier.code).limit(1)) is not None:
            return 0
        now = utcnow()
        for code, title, status in SEED_DOSSIERS:
            s.add(Dossier(code=code, title=title, status=status, updated_at=now))
    return len(SEED_DOSSIERS)


class CallStore:
    """Writes of the call flow; one short committed transaction each."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        recordings_dir: Path,
        rules: TicketRules | None = None,
        *,
        worker: str | None = None,
    ) -> None:
        self.factory = factory
        self.recordings_dir = recordings_dir
        self._rules = rules  # categories and deadlines of new tickets; None: the default settings'
        # The call worker whose calls these are (ivr.workers.worker_id); None: the one application.
        self.worker = worker

    @property
    def rules(self) -> TicketRules:
        if self._rules is None:
            self._rules = default_rules()  # built on first use: the holiday calendar is not free
        return self._rules

    def start_call(
        self, channel_id: str, caller: str, sip_call_id: str = "", *, at: datetime | None = None
    ) -> int:
        with transaction(self.factory) as s:
            call = Call(
                channel_id=channel_id,
                sip_call_id=sip_call_id[:255],
                caller=caller,
                caller_masked=mask_caller(caller),
                caller_hash=hash_caller(caller),
                started_at=at or utcnow(),
                outcome=Outcome.IN_PROGRESS,
                worker=self.worker,
            )
            s.add(call)
            s.flush()
            return call.id

    def call_id_of(self, channel_id: str) -> int | None:
        """The call row of a channel, if written (replaying the call log's journal)."""
        with self.factory() as s:
            return s.scalar(select(Call.id).where(Call.channel_id == channel_id))

    def has_turn(self, call_id: int, seq: int) -> bool:
        with self.factory() as s:
            return s.scalar(select(Turn.id).where(Turn.call_id == call_id, Turn.seq == seq)) is not None

    def log_turn(self, call_id: int, seq: int, turn: FlowTurn, *, at: datetime | None = None) -> None:
        with transaction(self.factory) as s:
            s.add(
                Turn(
                    call_id=call_id,
                    seq=seq,
                    at=at or utcnow(),
                    kind=turn.kind,
                    transcript=mask_personal(turn.transcript),
                    confidence=turn.confidence,
                    intent=turn.intent,
                    score=turn.score,
                    dtmf=mask_personal(turn.dtmf)[:64],
                    action=turn.action,
                    asr_ms=turn.asr_ms,
                    response_ms=turn.response_ms,
                )
            )

    def log_play(
        self, call_id: int, prompt: str, audio_ms: int, human_ms: int, *, at: datetime | None = None
    ) -> None:
        """A prompt played in a call and how much of it was a recorded human voice."""
        with transaction(self.factory) as s:
            s.add(
                PromptPlay(
                    call_id=call_id,
                    at=at or utcnow(),
                    prompt=prompt[:80],
                    audio_ms=max(0, audio_ms),
                    human_ms=max(0, min(human_ms, audio_ms)),
                )
            )

    def set_satisfaction(self, call_id: int, score: int) -> None:
        with transaction(self.factory) as s:
            s.execute(update(Call).where(Call.id == call_id).values(satisfaction=score))

    def end_call(
        self, call_id: int, outcome: Outcome, degraded: bool = False, *, at: datetime | None = None
    ) -> None:
        with transaction(self.factory) as s:
            s.execute(
                update(Call)
                .where(Call.id == call_id, Call.ended_at.is_(None))
                .values(ended_at=at or utcnow(), outcome=outcome, degraded=degraded)
            )

    def close_orphans(self) -> int:
        """Calls left 'in_progress' by a crash are closed as 'interrupted' at start-up.

        A call worker (`worker` set) closes only the calls its own earlier run left: those of the other
        workers sharing the database are live. The one application (`worker` None) closes them all."""
        with transaction(self.factory) as s:
            query = update(Call).where(Call.ended_at.is_(None))
            if self.worker is not None:
                query = query.where(Call.worker == self.worker)
            res = s.execute(query.values(ended_at=utcnow(), outcome=Outcome.INTERRUPTED))
            return affected(res)

    def worker_of(self, call_id: int) -> str | None:
        """The worker that held a call (None: the one application, or no such call)."""
        with self.factory() as s:
            return s.scalar(select(Call.worker).where(Call.id == call_id))

    # --- tickets --------------------------------------------------------------------------------

    def save_recording(self, chunk: AudioChunk, name: str) -> Path:
        """Write complaint audio atomically under recordings/YYYY/MM/, on disk before its spool goes."""
        now = utcnow()
        path = self.recordings_dir / f"{now:%Y}" / f"{now:%m}" / f"{now:%Y%m%dT%H%M%S}-{name}.wav"
        return write_wav(path, chunk, durable=True)

    def create_ticket(
        self,
        *,
        call_id: int | None,
        caller: str,
        reason: str,
        audio_path: Path | None,
        duration_ms: int,
        transcript: str = "",
        commune: str | None = None,
        topic: str | None = None,
        at: datetime | None = None,
        jobs: JobRunner | None = None,
    ) -> str:
        """Insert a ticket (a fresh random number) with its category and due date; returns its number.

        `jobs`: the ticket's transcription job (a recording without a transcript) is queued in the
        ticket's own transaction (ivr.transcription), so one is never stored without the other.

        `topic`: the intent the caller was on (its category's, else one by `reason`). `audio_path`
        becomes the ticket's: when the row cannot be stored the file is removed, since a recording no
        ticket points at is found by nobody and purged by nothing. Callers keep their spool (call
        recordings, fallback messages) and store it again later.
        """
        try:
            rules = self.rules
            category = rules.category_for(reason, topic)
            now = at or utcnow()
            values: dict[str, object] = dict(
                call_id=call_id,
                caller=caller,
                caller_masked=mask_caller(caller),
                reason=reason,
                commune=commune,
                audio_path=str(audio_path) if audio_path else None,
                duration_ms=duration_ms,
                transcript=mask_personal(transcript),
                status="new",
                created_at=now,
                updated_at=now,
                category=category,
                agency=rules.category_agency.get(category, ""),
                due_date=rules.due_date(category, now),
            )
            transcribe = jobs if audio_path is not None and not transcript else None
            return self._insert_ticket(values, transcribe)
        except BaseException:
            if audio_path is not None:
                Path(audio_path).unlink(missing_ok=True)
            raise

    def _insert_ticket(self, values: dict[str, object], jobs: JobRunner | None = None) -> str:
        for _ in range(20):
            number = str(secrets.randbelow(9 * 10 ** (TICKET_DIGITS - 1)) + 10 ** (TICKET_DIGITS - 1))
            try:
                with transaction(self.factory) as s:
                    ticket = Ticket(number=number, **values)
                    s.add(ticket)
                    if jobs is not None:
                        s.flush()  # the ticket's id, the job's only argument
                        jobs.enqueue(s, TRANSCRIBE_TASK, {"ticket_id": ticket.id})
                return number
            except IntegrityError:
                continue  # number taken: draw again
        raise StoreError("could not allocate a ticket number")

    def count_overdue(self, now: datetime | None = None) -> int:
        """Tickets not handled yet whose due date (a local day) has passed at `now` (naive UTC)."""
        today = self.rules.local_date(now or utcnow())
        with self.factory() as s:
            q = select(func.count(Ticket.id)).where(Ticket.handled_at.is_(None), Ticket.due_date < today)
            return int(s.scalar(q) or 0)

    def set_ticket_transcript(self, number: str, transcript: str) -> None:
        with transaction(self.factory) as s:
            s.execute(
                update(Ticket)
                .where(Ticket.number == number)
                .values(transcript=mask_personal(transcript), updated_at=utcnow())
            )

    def ticket_by_id(self, ticket_id: int) -> Ticket | None:
        with self.factory() as s:
            return s.get(Ticket, ticket_id)

    def ticket(self, number: str) -> Ticket | None:
        """The ticket with its reply history loaded (usable once the session is closed)."""
        with self.factory() as s:
            return s.scalar(
                select(Ticket).options(selectinload(Ticket.replies)).where(Ticket.number == number.strip())
            )

    def reply_ticket(
        self,
        number: str,
        note: str,
        status: str = "answered",
        *,
        author: str = "",
        at: datetime | None = None,
    ) -> Ticket:
        """One step of the handling: the status (and a reply the caller hears, if `note`) by `author`.

        Kept in the history; the first step to `answered` or `closed` marks the ticket handled.
        """
        if status not in TICKET_STATUSES:
            raise StoreError(f"unknown ticket status {status!r} (one of {', '.join(TICKET_STATUSES)})")
        with transaction(self.factory) as s:
            t = s.scalar(
                select(Ticket).options(selectinload(Ticket.replies)).where(Ticket.number == number.strip())
            )
            if t is None:
                raise StoreError(f"no ticket number {number}")
            now = at or utcnow()
            t.replies.append(TicketReply(at=now, author=author, status=status, text=note))
            t.status = status
            t.updated_at = now
            if status in HANDLED_STATUSES and t.handled_at is None:
                t.handled_at = now
            if status == "closed":
                t.closed_at = now
            s.flush()
            return t

    def assign_ticket(self, number: str, **fields: str | None) -> Ticket:
        """Set the workflow fields operators choose (category, agency, assignee, commune); None: unchanged.

        A new category moves the due date with it (counted from the day the ticket was received).
        """
        allowed = {"category", "agency", "assignee", "commune"}
        if not set(fields) <= allowed:
            raise StoreError(f"not a ticket field operators set: {', '.join(sorted(set(fields) - allowed))}")
        with transaction(self.factory) as s:
            t = s.scalar(
                select(Ticket).options(selectinload(Ticket.replies)).where(Ticket.number == number.strip())
            )
            if t is None:
                raise StoreError(f"no ticket number {number}")
            changed = False
            for name, value in fields.items():
                if value is None:
                    continue
                # No commune is NULL, as calls store it.
                stored = (value or None) if name == "commune" else value
                if getattr(t, name) == stored:
                    continue
                setattr(t, name, stored)
                changed = True
                if name == "category" and value and t.due_date is not None:
                    t.due_date = self.rules.due_date(value, t.created_at)
            if changed:
                t.updated_at = utcnow()
            s.flush()
            return t


def recover_spool(store: CallStore, spool_dir: Path, *, min_ms: int = 800, rate: int = 8000) -> list[str]:
    """Recordings cut by a crash (`<call_id>-<name>.raw` spools) become tickets; returns their numbers.

    The spool sits under the recordings directory, which several call workers share: a worker
    (`store.worker` set) recovers only the recordings of its own calls; the others' are being written."""
    import numpy as np

    numbers: list[str] = []
    if not spool_dir.is_dir():
        return numbers
    for raw in sorted(spool_dir.glob("*.raw")):
        head = raw.stem.split("-", 1)[0]
        call_id = int(head) if head.isdigit() else None
        if store.worker is not None and (call_id is None or store.worker_of(call_id) != store.worker):
            continue
        data = raw.read_bytes()
        samples = np.frombuffer(data[: len(data) - len(data) % 2], dtype="<i2")
        if 1000 * samples.size / rate < min_ms:
            raw.unlink(missing_ok=True)
            continue
        with store.factory() as s:
            call = s.get(Call, call_id) if call_id is not None else None
            caller = call.caller if call is not None else ""
            if call is None:
                call_id = None
        chunk = AudioChunk.from_array(samples, rate)
        path = store.save_recording(chunk, f"recovered-{raw.stem}")
        numbers.append(
            store.create_ticket(
                call_id=call_id,
                caller=caller,
                reason="recovered",
                audio_path=path,
                duration_ms=int(chunk.duration_s * 1000),
            )
        )
        raw.unlink(missing_ok=True)
        logger.warning("recording %s interrupted by a crash recovered as ticket %s", raw.name, numbers[-1])
    return numbers


def call_report(
    factory: sessionmaker[Session],
    *,
    channel_id: str | None = None,
    call_id: int | None = None,
    sip_call_id: str | None = None,
    tz: tzinfo | None = None,
) -> dict | None:
    """One call and its turns as plain data (caller masked), e.g. for `hotline call --json`; times in ISO
    8601 with the offset of `tz` (default: the product's zone, Asia/Ho_Chi_Minh)."""
    zone_ = tz or zone()

    def fmt(dt: datetime | None) -> str | None:
        return iso_local(dt, zone_)

    with factory() as s:
        if call_id is not None:
            call = s.get(Call, call_id)
        elif sip_call_id:
            # The newest call of that Call-ID (a SIP call reaches the application once; be safe anyway).
            call = s.scalars(
                select(Call).where(Call.sip_call_id == sip_call_id).order_by(Call.id.desc()).limit(1)
            ).first()
        else:
            call = s.scalar(select(Call).where(Call.channel_id == (channel_id or "")))
        if call is None:
            return None
        return {
            "id": call.id,
            "channel_id": call.channel_id,
            "sip_call_id": call.sip_call_id,
            "caller": call.caller_masked,
            "started_at": fmt(call.started_at),
            "ended_at": fmt(call.ended_at),
            "outcome": call.outcome,
            "satisfaction": call.satisfaction,
            "degraded": call.degraded,
            "turns": [
                {
                    "seq": t.seq,
                    "at": fmt(t.at),
                    "kind": t.kind,
                    "transcript": t.transcript,
                    "confidence": t.confidence,
                    "intent": t.intent,
                    "score": t.score,
                    "dtmf": t.dtmf,
                    "action": t.action,
                    "asr_ms": t.asr_ms,
                    "response_ms": t.response_ms,
                }
                for t in call.turns
            ],
        }


def wait_call_report(
    factory: sessionmaker[Session],
    sip_call_id: str,
    *,
    timeout: float = 10.0,
    appear_timeout: float = 3.0,
    poll: float = 0.1,
) -> dict | None:
    """The call's report once the application closed it (bounded wait); None if it never reached the app.

    The row is written when the application picks the call up, so a call with no row after
    `appear_timeout` never reached it (e.g. the dialplan's fallback answered). A row still open after
    `timeout` is returned as it is (`ended_at` null).
    """
    import time

    started = time.monotonic()
    while True:
        report = call_report(factory, sip_call_id=sip_call_id)
        waited = time.monotonic() - started
        if report is not None and report["ended_at"] is not None:
            return report
        if waited >= timeout or (report is None and waited >= appear_timeout):
            return report
        time.sleep(poll)


STATUS_SPOKEN = {
    "new": "đã được tiếp nhận, đang chờ xử lý",
    "in_progress": "đang được xử lý",
    "answered": "đã có trả lời",
    "closed": "đã xử lý xong",
}


def spoken_date(d: datetime) -> str:
    return f"ngày {d.day} tháng {d.month} năm {d.year}"


def speech_transcripts(factory: sessionmaker[Session], since: datetime, limit: int = 20_000) -> list[str]:
    """What callers said since `since` (naive UTC), newest first: the words `intents replay` tries again."""
    with factory() as s:
        rows = s.scalars(
            select(Turn.transcript)
            .where(Turn.kind == "speech", Turn.at >= since, Turn.transcript != "")
            .order_by(Turn.at.desc())
            .limit(limit)
        ).all()
    return list(rows)
