"""Split Vietnamese text into sentences for speech (streaming synthesis, bulletins)."""

from __future__ import annotations

import re

# A sentence ends at . ! ? … (with closing quotes/brackets) followed by space, or at a line break.
_BREAK = re.compile(r"[.!?…]+[\"'”’»)\]]*(?=\s)|\n")
# Dotted words that do not end a sentence: "TP. Vinh", "ThS. Nguyễn", "v.v. và".
_NO_BREAK_BEFORE = frozenset(
    {
        "tp",
        "tx",
        "tt",
        "ths",
        "ts",
        "gs",
        "pgs",
        "bs",
        "ks",
        "cn",
        "th",
        "p",
        "q",
        "đ",
        "st",
        "số",
        "v.v",
        "ls",
    }
)
_LIST_NUMBER = re.compile(r"(?:\d{1,3}|[IVX]{1,4}|[a-zđ])\.")
_LAST_WORD = re.compile(r"([\w.]+)\.$")


def split_sentences(s: str, max_chars: int | None = None) -> list[str]:
    """Sentences without surrounding space; empty pieces dropped.

    With `max_chars`, a longer sentence is cut further at commas/semicolons, then at spaces, so that
    no piece is longer than that (a very long word is cut hard).
    """
    if not s:
        return []
    pieces: list[str] = []
    start = 0
    for m in _BREAK.finditer(s):
        end = m.end()
        if m.group(0) != "\n" and m.group(0) == ".":
            last = _LAST_WORD.search(s, max(start, m.start() - 12), end)
            nxt = s[end : end + 2].lstrip()[:1]
            if (last and last.group(1).lower() in _NO_BREAK_BEFORE) or (nxt and nxt.islower()):
                continue
            if _LIST_NUMBER.fullmatch(s[start:end].strip()):
                continue  # "1. Nộp hồ sơ": a list number, not a sentence
        piece = s[start:end].strip()
        if piece:
            pieces.append(piece)
        start = end
    tail = s[start:].strip()
    if tail:
        pieces.append(tail)
    if max_chars:
        pieces = [p for piece in pieces for p in _cut(piece, max_chars)]
    return pieces


def _cut(piece: str, max_chars: int) -> list[str]:
    out: list[str] = []
    while len(piece) > max_chars:
        window = piece[: max_chars + 1]
        cut = max(window.rfind(", "), window.rfind("; "), window.rfind(": "))
        if cut <= 0:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = max_chars
        else:
            cut += 1
        out.append(piece[:cut].strip())
        piece = piece[cut:].strip()
    if piece:
        out.append(piece)
    return [p for p in out if p]
