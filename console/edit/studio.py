"""The recording studio's files: takes waiting for the operator's decision, accepted takes, staleness.

A take is processed (`console.edit.takes`) and kept as a draft under <data_dir>/console/studio/ until the
operator accepts it; only then does it replace <prompts_dir>/<key>.wav, the recording in place going to the
prompt history first (the same directory and names as uploads and recordings by phone, so `hotline prompts
restore` and the console's restore see it). Next to the recording, <key>.take.json keeps the digest of
the text it was read from and the digest of the audio: when the text changes later, the recording is
stale; when the audio was replaced some other way (by phone, an upload), the note no longer applies. A take
replaced by another goes to the history with its note, and `hotline prompts restore` brings both back.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import secrets
import shutil
import time
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from console.data.prompts import prompts_dir, rendered_path
from console.edit.takes import Take
from core.errors import AudioError, HotlineError
from ivr.prompt_history import HISTORY_DIR, STAMP_FORMAT
from ivr.recordables import Recordable, topic_recordables
from ivr.take_notes import ReadFrom, keep_note, read_from, write_note
from ivr.topic_units import topic_units
from voice.audio import (
    TELEPHONE_RATE,
    AudioChunk,
    concat,
    read_audio,
    resample,
    silence,
    to_mono,
    ulaw_decode,
    ulaw_encode,
    write_wav,
)

if TYPE_CHECKING:
    from intents.catalog import Catalog
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

DRAFTS_DIR = ("console", "studio")  # under paths.data_dir
DRAFT_ID = re.compile(r"[0-9a-f]{16}")
DRAFT_MAX_AGE_S = 24 * 3600.0  # drafts nobody decided on are removed after a day
CONTEXT_PAUSE_S = 0.35  # between the pieces played in context, about the pause of the call flow


class StudioError(HotlineError):
    """A draft that is gone or may not be saved: the message is Vietnamese, for the page."""

    code = "console.studio"


class Status(StrEnum):
    MISSING = "missing"
    RECORDED = "recorded"
    STALE = "stale"  # recorded from a text that has changed since


@dataclass(frozen=True)
class Draft:
    id: str
    key: str
    text_digest: str
    source: str  # "browser" or "upload"
    by: str
    seconds: float
    verdicts: list[tuple[str, str, bool]]  # (check, Vietnamese message, blocking)
    measures: dict[str, float]

    @property
    def savable(self) -> bool:
        return not any(blocking for _c, _m, blocking in self.verdicts)


def recording_path(settings: IvrConfig, key: str) -> Path:
    """Where the hotline takes the human recording of `key` from."""
    return prompts_dir(settings) / f"{key}.wav"


def _drafts(settings: IvrConfig) -> Path:
    return settings.data_dir.joinpath(*DRAFTS_DIR)


# --- status ------------------------------------------------------------------------------------------


def status(settings: IvrConfig, item: Recordable) -> Status:
    """Missing, recorded, or recorded from another text (only known for takes made in the studio).

    A recording replaced some other way (by phone, by a restore) counts as recorded for a fixed prompt; a
    topic's sentence (`strict`) is played only from a take read from its present text, so it is stale.
    """
    found = read_from(prompts_dir(settings), item.key, item.text)
    if found == ReadFrom.NONE:
        return Status.MISSING
    if found == ReadFrom.CURRENT or (found == ReadFrom.UNKNOWN and not item.strict):
        return Status.RECORDED
    return Status.STALE


def topic_statuses(
    settings: IvrConfig, catalog: Catalog | None, intent_id: str
) -> list[tuple[Recordable, Status]]:
    """The recordable sentences of one topic (answer, follow-up, its menu line) with their status."""
    units = [u for u in topic_units(catalog) if u.intent == intent_id]
    return [(item, status(settings, item)) for item in topic_recordables(units)]


# --- drafts ------------------------------------------------------------------------------------------


def save_draft(settings: IvrConfig, item: Recordable, take: Take, source: str, by: str) -> Draft:
    """Keep a processed take until the operator decides; returns the draft."""
    clean_drafts(settings)
    folder = _drafts(settings)
    folder.mkdir(parents=True, exist_ok=True)
    draft = Draft(
        id=secrets.token_hex(8),
        key=item.key,
        text_digest=item.text_digest,
        source=source,
        by=by,
        seconds=round(take.chunk.duration_s, 2),
        verdicts=[(v.check.value, v.message, v.blocking) for v in take.verdicts],
        measures={k: round(float(v), 2) for k, v in take.measures.items() if np.isfinite(v)},
    )
    write_wav(folder / f"{draft.key}-{draft.id}.wav", take.chunk)
    (folder / f"{draft.key}-{draft.id}.json").write_text(json.dumps(asdict(draft)), encoding="utf-8")
    logger.info(
        "studio take for %s kept as draft (%.1f s, %d verdicts)", item.key, draft.seconds, len(draft.verdicts)
    )
    return draft


def _draft_files(settings: IvrConfig, key: str, draft_id: str) -> tuple[Path, Path]:
    if not DRAFT_ID.fullmatch(draft_id):
        raise StudioError("Không tìm thấy bản ghi thử này (có thể đã lưu, đã bỏ hoặc đã quá một ngày).")
    folder = _drafts(settings)
    return folder / f"{key}-{draft_id}.wav", folder / f"{key}-{draft_id}.json"


def load_draft(settings: IvrConfig, key: str, draft_id: str) -> Draft:
    wav, meta = _draft_files(settings, key, draft_id)
    try:
        data = json.loads(meta.read_text(encoding="utf-8"))
        draft = Draft(**{**data, "verdicts": [tuple(v) for v in data["verdicts"]]})
    except (OSError, ValueError, TypeError, KeyError):
        raise StudioError(
            "Không tìm thấy bản ghi thử này (có thể đã lưu, đã bỏ hoặc đã quá một ngày)."
        ) from None
    if not wav.is_file() or draft.key != key:
        raise StudioError("Không tìm thấy bản ghi thử này (có thể đã lưu, đã bỏ hoặc đã quá một ngày).")
    return draft


def draft_audio_path(settings: IvrConfig, key: str, draft_id: str) -> Path:
    load_draft(settings, key, draft_id)
    return _draft_files(settings, key, draft_id)[0]


def read_take(path: Path) -> AudioChunk:
    """A draft or a recording as mono audio; StudioError when it is gone or unreadable."""
    try:
        return to_mono(read_audio(path))
    except AudioError:
        raise StudioError("Chưa có bản ghi này.") from None


def discard(settings: IvrConfig, key: str, draft_id: str) -> None:
    for f in _draft_files(settings, key, draft_id):
        f.unlink(missing_ok=True)


def clean_drafts(settings: IvrConfig, older_than_s: float = DRAFT_MAX_AGE_S) -> int:
    """Remove drafts nobody decided on; returns how many files were removed."""
    removed, folder = 0, _drafts(settings)
    if not folder.is_dir():
        return 0
    now = time.time()
    for f in folder.iterdir():
        try:
            if f.is_file() and now - f.stat().st_mtime > older_than_s:
                f.unlink()
                removed += 1
        except OSError:
            continue
    return removed


def accept(settings: IvrConfig, item: Recordable, draft_id: str, by: str) -> tuple[Path, Path | None, Draft]:
    """Make the draft the recording callers hear; returns (recording, where the previous one was kept, draft).

    The draft must have been read from the text in force now (else the operator would save a stale take).
    """
    draft = load_draft(settings, item.key, draft_id)
    if not draft.savable:
        raise StudioError("Bản ghi thử này không lưu được: hãy ghi lại.")
    if draft.text_digest != item.text_digest:
        raise StudioError("Nội dung chữ đã thay đổi từ khi ghi bản này: hãy ghi lại theo nội dung mới.")
    wav, meta = _draft_files(settings, item.key, draft_id)
    target = recording_path(settings, item.key)
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = _keep_previous(settings, item.key, target)
    write_wav(target, read_audio(wav))  # temp file + rename: the hotline never reads half a file
    recorded_at = dt.datetime.now(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds")
    write_note(target.parent, item.key, item.text, recorded_at=recorded_at, by=by, source=draft.source)
    wav.unlink(missing_ok=True)
    meta.unlink(missing_ok=True)
    logger.info("studio take for %s accepted (%.1f s)", item.key, draft.seconds)
    return target, previous, draft


def _keep_previous(settings: IvrConfig, key: str, target: Path) -> Path | None:
    if not target.is_file():
        return None
    history = settings.data_dir.joinpath(*HISTORY_DIR)
    history.mkdir(parents=True, exist_ok=True)
    at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    for _ in range(1000):  # two saves within the same microsecond: the next free name
        kept = history / f"{key}-{at.strftime(STAMP_FORMAT)}.wav"
        if not kept.exists():
            shutil.copy2(target, kept)
            keep_note(prompts_dir(settings), key, kept)  # restoring this version brings its note back
            return kept
        at += dt.timedelta(microseconds=1)
    raise StudioError("Không lưu được bản ghi cũ vào lịch sử. Không có gì thay đổi.")


# --- playback in context ------------------------------------------------------------------------------


def _audio_of(settings: IvrConfig, key: str) -> AudioChunk | None:
    """What a caller hears for `key` now: the human recording, else the hotline's last rendering."""
    for path in (recording_path(settings, key), rendered_path(settings, key)):
        if path.is_file():
            try:
                return resample(to_mono(read_audio(path)), TELEPHONE_RATE)
            except AudioError:
                continue
    return None


def in_context(settings: IvrConfig, item: Recordable, piece: AudioChunk) -> AudioChunk:
    """`piece` between what a caller hears around it, as heard on the phone: 8 kHz through G.711 µ-law."""
    pause = silence(CONTEXT_PAUSE_S, TELEPHONE_RATE)
    parts: list[AudioChunk] = []
    for key in item.before:
        if (audio := _audio_of(settings, key)) is not None:
            parts += [audio, pause]
    parts.append(resample(to_mono(piece), TELEPHONE_RATE))
    for key in item.after:
        if (audio := _audio_of(settings, key)) is not None:
            parts += [pause, audio]
    joined = concat(parts)
    return AudioChunk.from_array(ulaw_decode(ulaw_encode(joined.array())), TELEPHONE_RATE)
