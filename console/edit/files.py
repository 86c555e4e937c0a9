"""Writing an edited file safely: a temporary candidate next to it, the previous file kept in a history
directory, then an atomic rename over it (`os.replace`): readers never see half a file."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

STAMP_FORMAT = "%Y%m%dT%H%M%S%f"  # UTC time in a kept version's name (edit/history.py reads it back)
STALE_CANDIDATE_S = 300  # a temporary candidate this old belongs to no save in progress


@contextmanager
def candidate(directory: Path, name: str, text: str) -> Iterator[Path]:
    """`text` in a temporary file of `directory` (`.<name>.*.tmp`: a name loaders and watchers ignore).

    Candidates a killed process left behind (older than a save ever takes) are removed first."""
    directory.mkdir(parents=True, exist_ok=True)
    stale = time.time() - STALE_CANDIDATE_S
    for left in directory.glob(f".{name}.*.tmp"):
        with suppress(OSError):
            if left.stat().st_mtime < stale:
                left.unlink()
    fd, tmp_name = tempfile.mkstemp(dir=directory, prefix=f".{name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with open(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        yield tmp
    finally:
        tmp.unlink(missing_ok=True)


def keep_history(history_dir: Path, path: Path, old: bytes, prefix: str = "") -> Path:
    """`old` (the file before an edit) as <history_dir>/<prefix><name>-<UTC time><suffix>."""
    history_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime(STAMP_FORMAT)
    target = history_dir / f"{prefix}{path.stem}-{stamp}{path.suffix}"
    target.write_bytes(old)
    return target


def sync_dir(directory: Path) -> None:
    with suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def replace(tmp: Path, path: Path) -> None:
    """Rename `tmp` over `path` atomically (readers never see half a file), keeping `path`'s mode."""
    if path.exists():  # a new file (a new intent) keeps the candidate's own mode
        shutil.copymode(path, tmp)
    os.replace(tmp, path)
    sync_dir(path.parent)
