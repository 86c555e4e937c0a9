"""Human prompt recordings uploaded from the console: spooled, checked, converted to 8 kHz mono WAV and
renamed over <prompts_dir>/<key>.wav, the previous recording kept in the prompt history."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from console.data.prompts import prompts_dir
from core.errors import AudioError, HotlineError
from ivr.take_notes import keep_note
from voice.audio import TELEPHONE_RATE, read_audio, resample, rms_dbfs, to_mono, write_wav

if TYPE_CHECKING:
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a minute of 48 kHz stereo WAV is about 11 MB
MAX_PROMPT_SECONDS = 60.0  # callers on a phone line: prompts are short
MIN_PROMPT_SECONDS = 0.3
SILENT_DBFS = -60.0  # a recording quieter than this throughout is rejected as silence


class PromptUploadError(HotlineError):
    code = "console.prompt_upload"


def install_recording(settings: IvrConfig, key: str, upload: Path) -> tuple[Path, float]:
    """Decode `upload`, convert to 8 kHz mono 16-bit and replace <prompts_dir>/<key>.wav atomically.

    The previous recording is kept under <data_dir>/console/prompt-history/. Returns (path, seconds).
    Raises PromptUploadError with a Vietnamese message for the page.
    """

    try:
        # One second of slack: files decoded by ffmpeg are cut there, so "too long" is still visible.
        chunk = read_audio(upload, max_seconds=MAX_PROMPT_SECONDS + 1)
    except AudioError as exc:
        logger.info("prompt upload for %s rejected: %s", key, exc)
        if "longer than" in str(exc):
            raise PromptUploadError(f"Bản ghi dài quá {MAX_PROMPT_SECONDS:.0f} giây.") from None
        raise PromptUploadError(
            "Tệp tải lên không phải là âm thanh đọc được (WAV, MP3, OGG, FLAC)."
        ) from None
    chunk = resample(to_mono(chunk), TELEPHONE_RATE)
    seconds = chunk.duration_s
    if seconds > MAX_PROMPT_SECONDS:
        raise PromptUploadError(f"Bản ghi dài quá {MAX_PROMPT_SECONDS:.0f} giây.")
    if seconds < MIN_PROMPT_SECONDS:
        raise PromptUploadError("Bản ghi quá ngắn.")
    if rms_dbfs(chunk) < SILENT_DBFS:
        raise PromptUploadError("Bản ghi gần như không có tiếng.")
    target = prompts_dir(settings) / f"{key}.wav"
    if target.is_file():
        history = settings.data_dir / "console" / "prompt-history"
        history.mkdir(parents=True, exist_ok=True)
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
        kept = history / f"{key}-{stamp}.wav"
        shutil.copy2(target, kept)
        keep_note(prompts_dir(settings), key, kept)
    write_wav(target, chunk)  # temp file + rename: the IVR never reads half a file
    logger.info("prompt %s replaced by an uploaded recording (%.1f s)", key, seconds)
    return target, seconds


def spool_upload(settings: IvrConfig, stream: BinaryIO, limit: int = MAX_UPLOAD_BYTES) -> Path:
    """Copy an upload stream to a temporary file, refusing more than `limit` bytes."""
    tmp_dir = settings.data_dir / "console" / "uploads"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=tmp_dir, suffix=".upload")
    path = Path(name)
    size = 0
    try:
        with open(fd, "wb") as out:
            while block := stream.read(1 << 16):
                size += len(block)
                if size > limit:
                    raise PromptUploadError(f"Tệp quá lớn (tối đa {limit // (1024 * 1024)} MB).")
                out.write(block)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return path


def clean_uploads(settings: IvrConfig, older_than_s: float = 3600.0) -> int:
    """Remove upload spools left behind by a crash; returns how many were removed."""
    import time

    tmp_dir = settings.data_dir / "console" / "uploads"
    removed = 0
    if tmp_dir.is_dir():
        for f in tmp_dir.glob("*.upload"):
            try:
                if time.time() - f.stat().st_mtime > older_than_s:
                    f.unlink()
                    removed += 1
            except OSError:
                continue
    return removed
