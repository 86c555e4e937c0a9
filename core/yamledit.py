"""Setting one scalar in a hand-written YAML file without touching anything else on it.

A round trip through a YAML library re-flows long flow lists and rewrites `null`; a settings file that
people document inline must come back byte for byte except the value changed. So the key's own line is
edited in place (found through the line numbers `load_yaml` keeps), its comment kept where it was, and
the file replaced atomically.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from core.errors import ConfigError
from core.yamlfile import load_yaml

_PLAIN = re.compile(r"[A-Za-z0-9_./~+-][A-Za-z0-9_./~+ -]*")
_SPECIAL = {"null", "true", "false", "yes", "no", "on", "off", "~", ""}


def yaml_scalar(value: str | int | float | bool | None) -> str:
    """`value` as a YAML scalar: plain when that reads back the same, else double-quoted."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    text = str(value)
    if (
        _PLAIN.fullmatch(text)
        and text.strip() == text
        and text.lower() not in _SPECIAL
        and not _numeric(text)
    ):
        return text
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a valid double-quoted YAML scalar


def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def set_scalars(path: Path, values: Mapping[tuple[str, ...], str | int | float | bool | None]) -> list[str]:
    """Set each key (a path of mapping keys that exists in the file) to a scalar; returns the new lines.

    Raises ConfigError naming the file and key when a key is absent or its value is not a one-line
    scalar (then nothing is written).
    """
    doc = load_yaml(path)
    text = path.read_text(encoding="utf-8")
    lines = text.split("\n")
    changed: list[str] = []
    for loc, value in values.items():
        line_no = doc.lines.get(tuple(loc))
        dotted = ".".join(loc)
        node = _node(doc.data, loc)
        if line_no is None or node is _MISSING:
            raise ConfigError(f"{path}: {dotted}: the key is not in the file; add it by hand")
        i = line_no - 1
        m = re.match(r"^(\s*" + re.escape(loc[-1]) + r":)([ \t]*)([^#]*?)([ \t]*)(#.*)?$", lines[i])
        block = m is None or m.group(3).strip() in ("|", ">", "|-", ">-") or m.group(3).startswith(("{", "["))
        if isinstance(node, dict | list) or block or m is None:
            raise ConfigError(f"{path}:{line_no}: {dotted}: not a one-line value; edit it by hand")
        new_value = yaml_scalar(value)
        head = m.group(1) + " " + new_value
        comment = m.group(5)
        if comment:
            column = len(m.group(1)) + len(m.group(2)) + len(m.group(3)) + len(m.group(4))
            head = head.ljust(column - 1) + " " + comment  # keep the comment's column when there is room
        lines[i] = head
        changed.append(f"{path.name}:{line_no}: {dotted}: {new_value}")
    _replace(path, "\n".join(lines))
    return changed


_MISSING = object()


def _node(data: object, loc: Iterable[str]) -> object:
    node = data
    for key in loc:
        if not isinstance(node, dict) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _replace(path: Path, text: str) -> None:
    """Write `text` to a temporary file beside `path`, then rename it over (readers never see half)."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, path.stat().st_mode & 0o7777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
