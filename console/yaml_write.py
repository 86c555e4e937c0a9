"""Writing operators' edits back into YAML files: round-trip load/dump, temporary candidate, history, replace.

Shared by intent editing (intent_edit.py) and prompt text editing (prompt_edit.py): comments, key order,
quoting and indentation stay as they were; the new file is written next to the original, checked, and
only then renamed over it (`os.replace`), after the previous file was copied into a history directory.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

# (mapping, sequence, dash offset) styles tried in turn; the first that reproduces the file is used.
INDENT_STYLES = ((2, 4, 2), (2, 2, 0), (4, 4, 2), (4, 6, 4), (4, 4, 0), (2, 4, 0))


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def one_line(text: str) -> str:
    """NFC, every run of whitespace (line breaks included) as one space: spoken text has no layout.

    Control characters (pasted from elsewhere) are dropped.
    """
    return " ".join("".join(c for c in nfc(text) if c.isprintable() or c.isspace()).split())


def rt_yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the operators' lines
    return yaml


def dump(data: Any, indent: tuple[int, int, int]) -> str:
    yaml = rt_yaml()
    yaml.indent(mapping=indent[0], sequence=indent[1], offset=indent[2])
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue()


def load(raw: bytes) -> tuple[str, Any]:
    """(text, round-trip tree) of a YAML file's bytes (a BOM and Windows line ends tolerated)."""
    text = raw.decode("utf-8-sig").replace("\r\n", "\n")
    return text, rt_yaml().load(text)


def style(text: str, data: Any) -> tuple[int, int, int]:
    """The file's indentation: the first style that reproduces it unchanged (else the shipped files')."""
    for indent in INDENT_STYLES:
        if dump(data, indent) == text:
            return indent
    return INDENT_STYLES[0]


def restore_encoding(raw: bytes, new: str) -> str:
    """`new` with the original file's BOM and line ends."""
    if raw.startswith(b"\xef\xbb\xbf"):
        new = "\ufeff" + new
    if b"\r\n" in raw:
        new = new.replace("\n", "\r\n")
    return new


@contextmanager
def candidate(directory: Path, name: str, text: str) -> Iterator[Path]:
    """`text` in a temporary file of `directory` (`.<name>.*.tmp`: a name loaders and watchers ignore)."""
    directory.mkdir(parents=True, exist_ok=True)
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
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
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
    shutil.copymode(path, tmp)
    os.replace(tmp, path)
    sync_dir(path.parent)
