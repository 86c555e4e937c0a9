"""Operators' edits in YAML files: round-trip load and dump that keep comments, key order, quoting and
indentation, and the normalization of typed text (NFC, one line).

Shared by intent editing (edit/intents.py) and prompt text editing (edit/prompts.py).
"""

from __future__ import annotations

import io
import unicodedata
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
