"""Temporary names for atomic writes (write beside, then `os.replace`) in directories that several
processes, and machines sharing the directory over NFS, write to at once."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path


def temp_beside(path: Path) -> Path:
    """A hidden name in `path`'s directory (so the rename is atomic), unique per writer: the host, the
    process and a random part. Process ids repeat across machines and threads of one process share one,
    so neither alone keeps two writers of the same file off each other's temporary file."""
    host = socket.gethostname().split(".")[0][:32] or "host"
    return path.with_name(f".{path.name}.{host}-{os.getpid()}-{uuid.uuid4().hex[:12]}.part")
