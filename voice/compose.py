"""Sentences spoken from recorded units (a word bank), the missing words synthesized.

A sentence is first read into words the way the synthesizer would read it (numbers, dates and codes
spelled out, `voice.text`), then covered from left to right by the longest recorded unit that matches
there: a whole recorded sentence before a recorded phrase, a phrase before a single word. Words no unit
covers are grouped into runs and synthesized, so the sentence mixes voices only where a word is
missing. The pieces are joined by `voice.joins` (trimmed, levelled, faded, with short pauses), and the
result says which parts were recorded and which synthetic.
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

import numpy as np

from core.filestamp import file_stamp
from voice.audio import AudioChunk, read_audio, resample, to_mono
from voice.joins import TARGET_LUFS, join, prepare_piece
from voice.text.tones import canonical_tones

logger = logging.getLogger(__name__)

_TOKEN = re.compile(r"\w+|[^\w\s]")
_SENTENCE_END = set(".!?…")
_CLAUSE_END = set(",;:–—")


class Source(StrEnum):
    """Where the audio of a part comes from."""

    HUMAN = "human"  # a recorded unit of the word bank (or a recorded prompt)
    SYNTHETIC = "synthetic"  # the synthesizer: no recording covers these words


@dataclass(frozen=True)
class Pauses:
    """Silence between parts (seconds), by what separates them in the text."""

    word: float = 0.06  # inside a number or phrase: "hai | mươi | mốt"
    clause: float = 0.25  # at a comma, colon or semicolon
    sentence: float = 0.45  # at a full stop


@dataclass(frozen=True)
class Part:
    """A run of words spoken from one source; `key` names the recorded unit (None when synthetic)."""

    text: str
    source: Source
    key: str | None = None
    pause_after: float = 0.0  # seconds of silence before the next part


@dataclass(frozen=True)
class Plan:
    parts: tuple[Part, ...]

    @property
    def words(self) -> int:
        return sum(len(p.text.split()) for p in self.parts)

    @property
    def human_words(self) -> int:
        return sum(len(p.text.split()) for p in self.parts if p.source == Source.HUMAN)

    @property
    def missing(self) -> tuple[str, ...]:
        """The words no recording covers, in order (what the console marks)."""
        return tuple(w for p in self.parts if p.source == Source.SYNTHETIC for w in _words(p.text))


@dataclass(frozen=True)
class Composed:
    """A sentence's audio and what it was made of; seconds of speech per source (pauses not counted)."""

    audio: AudioChunk
    parts: tuple[Part, ...]
    human_s: float
    synthetic_s: float
    spans: tuple[tuple[int, int], ...] = ()  # sample offsets (start, end) of each part in `audio`

    @property
    def human_share(self) -> float:
        spoken = self.human_s + self.synthetic_s
        return self.human_s / spoken if spoken > 0 else 0.0


def match_key(word: str) -> str:
    """How a word is compared with a unit: lowercase, one tone placement."""
    return canonical_tones(word.lower())


def _words(text: str) -> list[str]:
    return [t for t in _TOKEN.findall(text) if t[0].isalnum() or t[0] == "_"]


def unit_index(
    units: Mapping[str, str], read: Callable[[str], str] | None = None
) -> dict[tuple[str, ...], str]:
    """Word sequence -> unit key; the first key wins when two units say the same words.

    With `read` (how the synthesizer reads a text), each unit is also found by the words it is read as,
    so a recorded sentence holding digits or acronyms ("1022", "UBND") matches the sentence played.
    """
    index: dict[tuple[str, ...], str] = {}
    forms = [units] if read is None else [units, {k: read(t) for k, t in units.items()}]
    for texts in forms:
        for key, text in texts.items():
            words = tuple(match_key(w) for w in _words(text))
            if words:
                index.setdefault(words, key)
    return index


# What follows a word: nothing, a clause break (comma...) or a sentence end.
WORD, CLAUSE, SENTENCE = 0, 1, 2


def _tokens(prepared: str) -> list[tuple[str, int]]:
    """Words of a prepared text, each with the pause that follows it (from the punctuation after it)."""
    out: list[tuple[str, str]] = []
    for tok in _TOKEN.findall(prepared):
        if tok[0].isalnum() or tok[0] == "_":
            out.append((tok, ""))
        elif out:
            word, brk = out[-1]
            out[-1] = (word, brk + tok)
    return [(w, _break_kind(b)) for w, b in out]


def _break_kind(brk: str) -> int:
    if any(c in _SENTENCE_END for c in brk):
        return SENTENCE
    if any(c in _CLAUSE_END for c in brk):
        return CLAUSE
    return WORD


def plan(prepared: str, index: Mapping[tuple[str, ...], str], pauses: Pauses = Pauses()) -> Plan:
    """Cover a prepared (already normalized) text by the longest recorded units; the rest synthetic."""
    toks = _tokens(prepared)
    longest = max((len(k) for k in index), default=0)
    keys = [match_key(w) for w, _ in toks]
    gap = {WORD: pauses.word, CLAUSE: pauses.clause, SENTENCE: pauses.sentence}
    parts: list[Part] = []
    run: list[tuple[str, int]] = []  # words waiting to be synthesized together

    def flush_run() -> None:
        if not run:
            return
        text = ""
        for j, (word, kind) in enumerate(run):
            text += word
            if j + 1 < len(run):
                text += ". " if kind == SENTENCE else ", " if kind == CLAUSE else " "
        parts.append(Part(text, Source.SYNTHETIC, None, gap[run[-1][1]]))
        run.clear()

    i = 0
    while i < len(toks):
        for n in range(min(longest, len(toks) - i), 0, -1):
            key = index.get(tuple(keys[i : i + n]))
            if key is not None:
                flush_run()
                words = " ".join(w for w, _ in toks[i : i + n])
                parts.append(Part(words, Source.HUMAN, key, gap[toks[i + n - 1][1]]))
                i += n
                break
        else:
            run.append(toks[i])
            if toks[i][1] == SENTENCE:  # a synthetic run stops at a sentence end: its own intonation
                flush_run()
            i += 1
    flush_run()
    return Plan(tuple(parts))


class Composer:
    """Speaks sentences from recorded units in `recordings_dir/<key>.wav`, synthesizing what is missing.

    `normalize` reads a text into words as the synthesizer would (blocking); `synthesize` renders a run
    of missing words at any rate. Recorded units are read, trimmed and levelled once, again when their
    file changes.
    """

    def __init__(
        self,
        units: Mapping[str, str],
        recordings_dir: Path,
        *,
        normalize: Callable[[str], str],
        synthesize: Callable[[str], Awaitable[AudioChunk]],
        rate: int,
        pauses: Pauses = Pauses(),
        target_lufs: float = TARGET_LUFS,
        min_share: float = 0.0,
        current: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.units = dict(units)
        self.recordings_dir = recordings_dir
        self.normalize = normalize
        self.synthesize = synthesize
        self.rate = rate
        self.pauses = pauses
        self.target_lufs = target_lufs
        self.min_share = min_share  # below this share of recorded words the whole sentence is synthesized
        # (key, text) -> whether its recording may be played for that text (blocking); None: any recording
        self.current = current
        self._pieces: dict[str, tuple[object, np.ndarray]] = {}  # key -> (file stamp, prepared audio)
        self._read: dict[str, str] = {}  # unit text -> how the synthesizer reads it (unit texts only)

    def path(self, key: str) -> Path:
        return self.recordings_dir / f"{key}.wav"

    def recorded(self, *, check: bool = True) -> dict[str, str]:
        """The units that have a recording now (key -> text); one directory listing, not a stat per unit.

        `check`: only those `current` accepts for their text (blocking: may read the recordings)."""
        try:
            present = {
                entry.name[:-4] for entry in os.scandir(self.recordings_dir) if entry.name.endswith(".wav")
            }
        except OSError:
            return {}
        found = {k: t for k, t in self.units.items() if k in present}
        if check and self.current is not None:
            found = {k: t for k, t in found.items() if self.current(k, t)}
        return found

    def _read_unit(self, text: str) -> str:
        read = self._read.get(text)
        if read is None:
            read = self._read[text] = self.normalize(text)
        return read

    def plan_text(self, text: str) -> Plan:
        """The plan for a raw text against the recordings present now (blocking: reads the disk)."""
        return plan(self.normalize(text), unit_index(self.recorded(), self._read_unit), self.pauses)

    def warm(self) -> int:
        """Load the loudness meter and every recorded unit now (blocking: start-up, in a thread), so the
        first sentence of the first call is not the one that waits; returns how many units were loaded."""
        import pyloudnorm  # noqa: F401  # its import (scipy.signal) alone takes seconds on a busy machine

        recorded = self.recorded()
        for text in recorded.values():
            self._read_unit(text)
        return sum(1 for key in recorded if self._piece(key) is not None)

    def _piece(self, key: str) -> np.ndarray | None:
        """A recorded unit ready to join (blocking); None when its file is gone or unreadable."""
        path = self.path(key)
        stamp = file_stamp(path) if path.is_file() else None
        if stamp is None:
            self._pieces.pop(key, None)
            return None
        cached = self._pieces.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        try:
            chunk = resample(to_mono(read_audio(path, max_seconds=60.0)), self.rate)
        except Exception as exc:  # a broken recording: the word is synthesized instead
            logger.warning("word bank recording %s unreadable: %s", key, exc)
            return None
        piece = prepare_piece(chunk, self.target_lufs)
        self._pieces[key] = (stamp, piece)
        return piece

    async def compose(self, text: str) -> Composed | None:
        """The sentence from recorded units; None when nothing (or too little) of it is recorded."""
        the_plan = await asyncio.to_thread(self.plan_text, text)
        if not the_plan.human_words or the_plan.human_words < self.min_share * the_plan.words:
            return None
        pieces: list[np.ndarray] = []
        parts: list[Part] = []
        human_s = synthetic_s = 0.0
        for part in the_plan.parts:
            piece = await asyncio.to_thread(self._piece, part.key) if part.key is not None else None
            if piece is None:  # synthetic, or a recording that vanished since planning
                chunk = resample(to_mono(await self.synthesize(part.text)), self.rate)
                piece = await asyncio.to_thread(prepare_piece, chunk, self.target_lufs)
                part = Part(part.text, Source.SYNTHETIC, None, part.pause_after)
                synthetic_s += len(piece) / self.rate
            else:
                human_s += len(piece) / self.rate
            pieces.append(piece)
            parts.append(part)
        joined = join(pieces, [p.pause_after for p in parts], self.rate)
        return Composed(joined.audio, tuple(parts), human_s, synthetic_s, joined.spans)
