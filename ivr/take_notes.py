"""What a studio take says about the text it was read from (`<key>.take.json` next to `<key>.wav`).

The console's studio writes the note when a take is accepted: the digest of the text the talent read and
the digest of the audio saved. A recording whose note names another text is stale; a recording replaced
some other way (by phone, an upload) no longer matches its note, so the text it was read from is unknown.
When a recording goes to the prompt history its note goes along (`<key>-<time>.take.json` beside
`<key>-<time>.wav`), and restoring that version brings the note back: a restored studio take is played for
its topic again, as long as the text it was read from is still the text in force. The hotline asks this
before playing a topic's recorded sentence (`ReadFrom.CURRENT` only), on every play, so the answer is
cached by the files' stamps.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from enum import StrEnum
from pathlib import Path

from core.filestamp import file_stamp
from core.tempname import temp_beside

TAKE_NOTE_SUFFIX = ".take.json"


class ReadFrom(StrEnum):
    """What a recording was read from, compared with a text."""

    NONE = "none"  # no recording
    CURRENT = "current"  # a studio take read from this very text
    OTHER = "other"  # a studio take read from another text: stale
    UNKNOWN = "unknown"  # recorded another way (upload, phone, restore): the text it was read from is unknown


def text_digest(text: str) -> str:
    """Digest of a text as read aloud: spacing does not count, anything else does."""
    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def note_path(recordings_dir: Path, key: str) -> Path:
    return recordings_dir / f"{key}{TAKE_NOTE_SUFFIX}"


def write_note(recordings_dir: Path, key: str, text: str, **extra: str) -> Path:
    """Note that the recording of `key` in place was read from `text` (blocking; written atomically)."""
    audio = hashlib.sha256((recordings_dir / f"{key}.wav").read_bytes()).hexdigest()
    note = note_path(recordings_dir, key)
    tmp = temp_beside(note)
    tmp.write_text(json.dumps({"text_digest": text_digest(text), "audio_sha256": audio, **extra}), "utf-8")
    os.replace(tmp, note)
    return note


def kept_note_path(kept_wav: Path) -> Path:
    """The note beside a recording kept in the history: `<key>-<time>.wav` -> `<key>-<time>.take.json`."""
    return kept_wav.with_name(kept_wav.stem + TAKE_NOTE_SUFFIX)


def keep_note(recordings_dir: Path, key: str, kept_wav: Path) -> Path | None:
    """Copy the note of the recording in place beside its copy in the history (blocking); None: no note."""
    note = note_path(recordings_dir, key)
    if not note.is_file():
        return None
    kept = kept_note_path(kept_wav)
    shutil.copyfile(note, kept)
    return kept


def restore_note(recordings_dir: Path, key: str, kept_wav: Path) -> bool:
    """Put back the note kept with a restored recording, or remove the note of the recording it replaced
    (it describes other audio); True when a note came back (blocking)."""
    kept, note = kept_note_path(kept_wav), note_path(recordings_dir, key)
    if not kept.is_file():
        note.unlink(missing_ok=True)
        return False
    tmp = temp_beside(note)
    shutil.copyfile(kept, tmp)
    os.replace(tmp, note)
    return True


def read_from(recordings_dir: Path, key: str, text: str) -> ReadFrom:
    """What the recording of `key` was read from, compared with `text` (blocking: reads both files)."""
    wav = recordings_dir / f"{key}.wav"
    try:
        audio = wav.read_bytes()
    except OSError:
        return ReadFrom.NONE
    try:
        note = json.loads(note_path(recordings_dir, key).read_text(encoding="utf-8"))
        if note.get("audio_sha256") != hashlib.sha256(audio).hexdigest():
            return ReadFrom.UNKNOWN
    except (OSError, ValueError, AttributeError):
        return ReadFrom.UNKNOWN
    return ReadFrom.CURRENT if note.get("text_digest") == text_digest(text) else ReadFrom.OTHER


class TakeNotes:
    """`read_from` cached by the stamps of the recording and its note: hashing a recording once per change."""

    def __init__(self, recordings_dir: Path) -> None:
        self.recordings_dir = recordings_dir
        self._seen: dict[tuple[str, str], tuple[object, object, ReadFrom]] = {}

    def current(self, key: str, text: str) -> bool:
        """Whether the recording of `key` is a studio take read from `text` (blocking)."""
        stamps = (
            file_stamp(self.recordings_dir / f"{key}.wav"),
            file_stamp(note_path(self.recordings_dir, key)),
        )
        cached = self._seen.get((key, text))
        if cached is not None and cached[:2] == stamps:
            return cached[2] == ReadFrom.CURRENT
        found = read_from(self.recordings_dir, key, text)
        if len(self._seen) > 4096:  # texts edited many times: forget the old ones
            self._seen.clear()
        self._seen[(key, text)] = (*stamps, found)
        return found == ReadFrom.CURRENT
