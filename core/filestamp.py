"""Has this file changed? One `stat()` per file: size, modification time and inode.

Pollers (the intent catalog watcher, the running prompts, the reading table, the console's catalog view)
compare the stamp they last read with a fresh one. The inode is part of it because editors replace files
atomically (`os.replace` of a new file): within one modification-time tick the new file may have the old
size and time, but it was created while the old file still existed, so its inode differs.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, TypeVar

from core.errors import ConfigError

T = TypeVar("T")

DEFAULT_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class FileStamp:
    """What one `stat()` says about a file's content having changed."""

    size: int  # bytes
    mtime_ns: int  # modification time, nanoseconds since the epoch
    inode: int  # changes when the file is replaced by another one (atomic save)


TreeStamp = tuple[tuple[str, FileStamp], ...]  # (path as given, stamp) of every file, in a stable order


def file_stamp(path: Path | str) -> FileStamp | None:
    """The stamp of `path`, or None when it cannot be read (missing, no permission)."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return FileStamp(st.st_size, st.st_mtime_ns, st.st_ino)


def tree_stamp(paths: Iterable[Path | str], suffixes: tuple[str, ...] = DEFAULT_SUFFIXES) -> TreeStamp:
    """The stamps of files and of the files directly inside directories; any edit, add or delete changes it.

    A directory stands for its regular files whose suffix is one of `suffixes`, hidden names (`.x.yaml`,
    editors' temporary files) left out, in name order. A path that is missing is left out, so that it
    appearing again changes the result too.
    """
    out: list[tuple[str, FileStamp]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            try:
                children = sorted(path.iterdir())
            except OSError:
                continue
            for child in children:
                if child.suffix in suffixes and not child.name.startswith(".") and child.is_file():
                    stamp = file_stamp(child)
                    if stamp is not None:
                        out.append((str(child), stamp))
        else:
            stamp = file_stamp(path)
            if stamp is not None:
                out.append((str(path), stamp))
    return tuple(out)


class StampedCache(Generic[T]):
    """Parsed files kept until the file changes (its stamp): one `stat()` per look-up, thread-safe.

    `what` names the setting that points at the file, for the error when it is missing."""

    def __init__(self, what: str) -> None:
        self.what = what
        self._items: dict[Path, tuple[FileStamp, T]] = {}
        self._lock = threading.Lock()

    def get(self, path: Path, parse: Callable[[Path], T]) -> T:
        """The parsed file (blocking: reads it when it changed); ConfigError when it is missing."""
        stamp = file_stamp(path)
        with self._lock:
            hit = self._items.get(path)
            if hit is not None and hit[0] == stamp:
                return hit[1]
        if stamp is None:
            raise ConfigError(f"{path}: file not found ({self.what})")
        value = parse(path)  # outside the lock: another file's reader need not wait for this one
        with self._lock:
            self._items[path] = (stamp, value)
        return value
