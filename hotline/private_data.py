"""Personal data on disk is readable by the hotline's user alone.

Recordings, the database (callers' numbers, transcripts), logs and caches of read-out sentences were
created world-readable (umask 022). The `hotline` command now runs with a private umask, so whatever it
writes is 0600 (files) or 0700 (directories), and at start (`hotline run`, `hotline serve`,
`hotline db upgrade`) it tightens what an earlier version left behind.
"""

from __future__ import annotations

import logging
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from hotline.settings import Settings

logger = logging.getLogger(__name__)

PRIVATE_UMASK = 0o077


def use_private_umask() -> int:
    """From now on this process creates files 0600 and directories 0700; returns the previous umask."""
    return os.umask(PRIVATE_UMASK)


def make_private(top: Path) -> int:
    """Remove group and other permissions under `top` (itself included); returns how many changed.

    Symbolic links are neither changed nor followed: the Asterisk instance link leads into its root,
    whose own user keeps its files (asterisk.run_user).
    """
    if not top.exists() or top.is_symlink():
        return 0
    changed = 0
    for dirpath, dirnames, filenames in os.walk(top):
        for name in (dirpath, *(os.path.join(dirpath, n) for n in (*dirnames, *filenames))):
            try:
                st = os.lstat(name)
                if stat.S_ISLNK(st.st_mode) or not stat.S_IMODE(st.st_mode) & 0o077:
                    continue
                os.chmod(name, stat.S_IMODE(st.st_mode) & ~0o077)
                changed += 1
            except OSError as exc:  # removed meanwhile, or not ours: the rest still gets done
                logger.warning("cannot make %s private: %s", name, exc)
    return changed


def secure_data(settings: Settings) -> int:
    """Make the data directory, the cache, the database and the log file private; returns changes."""
    places = [settings.data_dir, settings.cache_dir]
    url = settings.database_url
    if url.startswith("sqlite:///"):
        db = Path(url.removeprefix("sqlite:///"))
        places += [db.with_name(db.name + suffix) for suffix in ("", "-wal", "-shm", "-journal")]
    if settings.logging.json_file:
        places.append(settings.path(settings.logging.json_file))
    changed = 0
    for place in places:
        if any(place.is_relative_to(p) for p in places[:2] if p != place):
            continue  # walked with its directory
        changed += make_private(place)
    if changed:
        logger.info("made %d file(s) and director(ies) of personal data private (0600/0700)", changed)
    return changed
