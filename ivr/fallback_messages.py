"""Messages left through the dialplan fallback become tickets.

When the application is down, the dialplan (config/asterisk/extensions.conf, [hotline-in]) apologizes,
rings the operators and, if nobody answers, records a message with Record() into Asterisk's
`spool/messages/<UNIQUEID>.wav`; just before, it writes the caller's number and display name
(separated by a space, each filtered to letters, digits and `+_.`) into `<UNIQUEID>.caller`. The
application imports each finished message as a ticket with reason "message" (moved under the
recordings directory, then transcribed), so operators see it with the others and the retention purge
covers it.

With several call workers (ARI outbound) every worker on the Asterisk machine sees the spool: one
import pass runs at a time across them (`import_exclusively`: an advisory lock on PostgreSQL, a file lock
beside the spool on SQLite), so no message becomes two tickets.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import functools
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sqlalchemy import func, select

from asterisk.handle import layout_for
from core.callerid import national_caller
from core.errors import AudioError
from core.jobs import JobRunner
from voice.audio import AudioChunk, read_audio, rms_dbfs, to_mono

if TYPE_CHECKING:
    from ivr.settings import IvrConfig
    from ivr.store import CallStore
    from voice.asr.base import AsrResult

logger = logging.getLogger(__name__)

QUIET_S = 5.0  # Record() writes every 20 ms: a file unchanged this long is a finished message
MIN_MS = 800  # shorter: the caller hung up at the beep
SILENT_DBFS = -60.0  # quieter throughout: nothing was said
ORPHAN_SIDECAR_S = 600.0  # a .caller file with no message after this: the caller hung up before the beep
POLL_S = 10.0  # how often the running application looks for new messages
SIDECAR_SUFFIX = ".caller"


def messages_dir(settings: IvrConfig) -> Path | None:
    """Where our Asterisk records fallback messages (None: Asterisk runs elsewhere, external mode)."""
    if settings.ivr.asterisk.mode == "external":
        return None
    return layout_for(settings).messages_dir


@dataclass(frozen=True)
class ImportedMessage:
    ticket: str  # the ticket's number
    chunk: AudioChunk  # the message, to transcribe


def caller_of(sidecar: Path) -> str:
    """The caller in the national form from the dialplan's sidecar ("" when withheld or missing)."""
    try:
        number, _, name = sidecar.read_text(encoding="utf-8", errors="replace").strip().partition(" ")
    except OSError:
        return ""
    return national_caller(number, name.strip()) or ""


def import_messages(
    store: CallStore,
    directory: Path,
    *,
    now: float | None = None,
    quiet_s: float = QUIET_S,
    jobs: JobRunner | None = None,
) -> list[ImportedMessage]:
    """Turn every finished message in `directory` into a ticket; returns what was imported.

    `jobs`: each ticket's transcription job is queued with it (ivr.transcription).

    A message whose ticket cannot be stored (database down, disk full) stays in place for the next
    pass; one too short or silent is removed.
    """
    if not directory.is_dir():
        return []
    now = time.time() if now is None else now
    imported: list[ImportedMessage] = []
    for wav in sorted(directory.glob("*.wav")):
        sidecar = wav.with_suffix(SIDECAR_SUFFIX)
        try:
            if now - wav.stat().st_mtime < quiet_s:
                continue  # still being recorded
        except OSError:
            continue
        try:
            chunk = to_mono(read_audio(wav))
        except AudioError as exc:
            logger.warning("fallback message %s is not readable audio, removed: %s", wav.name, exc)
            _remove(wav, sidecar)
            continue
        if 1000 * chunk.duration_s < MIN_MS or rms_dbfs(chunk) < SILENT_DBFS:
            logger.info("fallback message %s is empty (%.1f s), removed", wav.name, chunk.duration_s)
            _remove(wav, sidecar)
            continue
        try:
            path = store.save_recording(chunk, f"message-{wav.stem}")
            number = store.create_ticket(
                call_id=None,
                caller=caller_of(sidecar),
                reason="message",
                audio_path=path,
                duration_ms=int(chunk.duration_s * 1000),
                jobs=jobs,
            )
        except Exception as exc:
            logger.error("fallback message %s kept for the next try: %s", wav.name, exc)
            continue
        _remove(wav, sidecar)
        logger.info("fallback message %s became ticket %s (%.1f s)", wav.name, number, chunk.duration_s)
        imported.append(ImportedMessage(number, chunk))
    for sidecar in directory.glob(f"*{SIDECAR_SUFFIX}"):
        try:
            if not sidecar.with_suffix(".wav").exists() and now - sidecar.stat().st_mtime > ORPHAN_SIDECAR_S:
                sidecar.unlink()
        except OSError:
            continue
    return imported


IMPORT_LOCK = "ivr.fallback_messages.import"  # the advisory lock's key (PostgreSQL)
LOCK_SUFFIX = ".import.lock"  # beside the messages' directory (SQLite: its processes are on this machine)


@contextlib.contextmanager
def import_lock(store: CallStore, directory: Path) -> Iterator[bool]:
    """Held by one process at a time: True when this one got it, False when another holds it (no wait)."""
    engine = store.factory.kw["bind"]
    if engine.dialect.name == "postgresql":
        key = func.hashtextextended(IMPORT_LOCK, 0)
        with engine.connect() as conn:
            got = bool(conn.scalar(select(func.pg_try_advisory_lock(key))))
            conn.commit()
            try:
                yield got
            finally:
                if got:
                    conn.scalar(select(func.pg_advisory_unlock(key)))
                    conn.commit()
        return
    try:
        fh = open(directory.with_name(directory.name + LOCK_SUFFIX), "a")  # noqa: SIM115 (closed below)
    except OSError as exc:  # no lock file there: import as before (one process per spool on SQLite)
        logger.warning("fallback messages imported without a lock: %s", exc)
        yield True
        return
    with fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def import_exclusively(
    store: CallStore, directory: Path, *, jobs: JobRunner | None = None, quiet_s: float = QUIET_S
) -> list[ImportedMessage] | None:
    """One import pass unless another process runs one now (None then: it imports them)."""
    if not directory.is_dir() or not any(directory.glob("*.wav")):
        return []
    with import_lock(store, directory) as got:
        if not got:
            return None
        return import_messages(store, directory, jobs=jobs, quiet_s=quiet_s)


def _remove(*paths: Path) -> None:
    for path in paths:
        try:
            path.unlink(missing_ok=True)
        except OSError as exc:
            logger.warning("cannot remove %s: %s", path.name, exc)


class Transcriber(Protocol):
    async def transcribe(self, chunk: AudioChunk) -> AsrResult: ...


async def watch_messages(
    store: CallStore,
    directory: Path,
    transcriber: Transcriber | None,
    *,
    poll_s: float = POLL_S,
    jobs: JobRunner | None = None,
) -> None:
    """Import fallback messages at start and every `poll_s` seconds while the application runs; their
    transcription is a job when `jobs` is given, else done here after the import."""
    while True:
        try:
            one_pass = functools.partial(import_exclusively, store, directory, jobs=jobs)
            imported = await asyncio.to_thread(one_pass) or []
        except Exception:
            logger.exception("importing fallback messages failed; trying again later")
            imported = []
        for message in imported:
            if transcriber is None or jobs is not None:
                break
            try:
                result = await transcriber.transcribe(message.chunk)
                await asyncio.to_thread(store.set_ticket_transcript, message.ticket, result.text or "")
            except Exception as exc:
                logger.warning("ticket %s: transcription failed (audio kept): %s", message.ticket, exc)
        await asyncio.sleep(poll_s)
