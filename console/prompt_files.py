"""Human prompt recordings: which keys have one, and installing an uploaded one as 8 kHz mono WAV."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.errors import AudioError, HotlineError

if TYPE_CHECKING:
    from ivr.settings import IvrConfig

logger = logging.getLogger(__name__)

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a minute of 48 kHz stereo WAV is about 11 MB
MAX_PROMPT_SECONDS = 60.0  # callers on a phone line: prompts are short
MIN_PROMPT_SECONDS = 0.3
SILENT_DBFS = -60.0  # a recording quieter than this throughout is rejected as silence


class PromptUploadError(HotlineError):
    code = "console.prompt_upload"


@dataclass(frozen=True)
class PromptInfo:
    key: str
    text: str
    recorded: bool  # audio_assets/prompts/<key>.wav exists
    recorded_at: dt.datetime | None
    rendered: bool  # the audio the IVR last prepared exists in the cache
    template: bool = False
    rendered_current: bool = False  # ... and was made from the present source (text, recording or tone)


def prompts_dir(settings: IvrConfig) -> Path:
    return settings.path(settings.ivr.prompts_dir)


def rendered_path(settings: IvrConfig, key: str) -> Path:
    """Where ivr.prompts.Prompts renders a fixed prompt (8 kHz WAV)."""
    return settings.cache_dir / "ivr" / "prompts" / f"{key}.wav"


def load_prompts(settings: IvrConfig) -> tuple[dict[str, str], dict[str, str]]:
    """(prompts, templates) from config/prompts.yaml, validated the way the IVR does."""
    from core.yamlfile import load_yaml
    from ivr.prompts import load_prompt_texts

    path = settings.path(settings.ivr.prompts_file)
    texts = load_prompt_texts(path)
    raw = load_yaml(path).data or {}
    templates = raw.get("templates") or {}
    return texts.prompts, {str(k): str(v) for k, v in templates.items()}


def prompt_infos(settings: IvrConfig) -> list[PromptInfo]:
    from ivr.prompts import Prompts, PromptTexts

    prompts, _templates = load_prompts(settings)
    stamps = Prompts(settings, None, PromptTexts(prompts))  # only compares source stamps, renders nothing
    out = []
    base = prompts_dir(settings)
    for key, text in prompts.items():
        human = base / f"{key}.wav"
        at = None
        if human.is_file():
            at = dt.datetime.fromtimestamp(human.stat().st_mtime, dt.UTC).replace(tzinfo=None)
        rendered = rendered_path(settings, key).is_file()
        current = rendered and stamps.rendered_is_current(key)
        out.append(PromptInfo(key, text, human.is_file(), at, rendered, rendered_current=current))
    return out


def install_recording(settings: IvrConfig, key: str, upload: Path) -> tuple[Path, float]:
    """Decode `upload`, convert to 8 kHz mono 16-bit and replace <prompts_dir>/<key>.wav atomically.

    The previous recording is kept under <data_dir>/console/prompt-history/. Returns (path, seconds).
    Raises PromptUploadError with a Vietnamese message for the page.
    """
    from voice.audio import TELEPHONE_RATE, read_audio, resample, rms_dbfs, to_mono, write_wav

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
        shutil.copy2(target, history / f"{key}-{stamp}.wav")
    write_wav(target, chunk)  # temp file + rename: the IVR never reads half a file
    logger.info("prompt %s replaced by an uploaded recording (%.1f s)", key, seconds)
    return target, seconds


def spool_upload(settings: IvrConfig, stream, limit: int = MAX_UPLOAD_BYTES) -> Path:
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
