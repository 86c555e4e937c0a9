"""Regenerate the jingles and music bed in this directory (our own synthesis: see broadcast/jingles.py)."""

from __future__ import annotations

from pathlib import Path

from broadcast.jingles import generate

if __name__ == "__main__":
    for path in generate(Path(__file__).resolve().parent):
        print(path)
