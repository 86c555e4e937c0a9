"""Text preparation for synthesis: normalization, unspeakable symbols removed, bounded pieces."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Callable

from voice.settings import VoiceConfig
from voice.text import normalize_for_speech, split_sentences
from voice.text.table import TextTable, table_from_settings
from voice.tts.base import TtsError

logger = logging.getLogger(__name__)

MAX_PIECE_CHARS = 300  # longest text handed to an engine at once (bounds latency and memory per call)

# Emoji and pictographs carry no speech; they are removed before normalization.
_EMOJI = re.compile(
    "[\U0001f000-\U0001faff\U00002600-\U000027bf\U00002b00-\U00002bff\U0000fe00-\U0000fe0f"
    "\U0000200d\U000e0020-\U000e007f\U0001f1e6-\U0001f1ff]+"
)
_UNSPEAKABLE_CATEGORIES = {"So", "Cs", "Co", "Cn", "Cf", "Cc"}
_CLAUSE_BREAK = re.compile(r"(?<=[,:;–—])\s+")


def abbreviations_for(settings: VoiceConfig) -> TextTable:
    """The abbreviation table named by `voice.text.abbreviations`."""
    return table_from_settings(settings)


def prepare(
    text: str, *, max_chars: int, abbreviations=None, respell: Callable[[str], str] | None = None
) -> str:
    """Normalized, speakable text; a TtsError with a clear reason when there is nothing to say.

    `respell` (the engine's pronunciation lexicon) rewrites written words before normalization reads them.
    """
    if not isinstance(text, str):
        raise TtsError(f"text must be a string, got {type(text).__name__}", code="tts_bad_text")
    if not text.strip():
        raise TtsError("nothing to say: the text is empty", code="tts_empty_text")
    if len(text) > max_chars:
        raise TtsError(
            f"text is {len(text)} characters, more than the {max_chars} allowed (voice.tts.max_chars); "
            "split it into several prompts",
            code="tts_text_too_long",
        )
    text = _EMOJI.sub(" ", unicodedata.normalize("NFC", text))
    if respell is not None:
        text = respell(text)
    text = normalize_for_speech(text, abbreviations=abbreviations)
    text = "".join(" " if unicodedata.category(ch) in _UNSPEAKABLE_CATEGORIES else ch for ch in text)
    text = unicodedata.normalize("NFC", re.sub(r"\s+", " ", text)).strip()
    if not any(ch.isalnum() for ch in text):
        raise TtsError(
            "nothing to say: the text has no letters or digits (only symbols or punctuation)",
            code="tts_empty_text",
        )
    return text


def _split_long(piece: str, limit: int) -> list[str]:
    """Split an over-long sentence at clause breaks, then at spaces, then hard (bounded pieces)."""
    if len(piece) <= limit:
        return [piece]
    out: list[str] = []
    current = ""
    for part in _CLAUSE_BREAK.split(piece):
        words = part.split(" ") if len(part) > limit else [part]
        for word in words:
            while len(word) > limit:  # a "word" longer than the limit (e.g. a long token without spaces)
                if current:
                    out.append(current)
                    current = ""
                out.append(word[:limit])
                word = word[limit:]
            joined = f"{current} {word}".strip() if current else word
            if len(joined) > limit and current:
                out.append(current)
                current = word
            else:
                current = joined
    if current:
        out.append(current)
    return [p for p in out if p.strip()]


def split_pieces(text: str, limit: int = MAX_PIECE_CHARS) -> list[str]:
    """Prepared text -> sentences (pieces of at most `limit` characters) with something to say."""
    pieces: list[str] = []
    for sentence in split_sentences(text):
        for piece in _split_long(sentence.strip(), limit):
            if any(ch.isalnum() for ch in piece):  # punctuation-only fragments have nothing to say
                pieces.append(piece)
    return pieces
