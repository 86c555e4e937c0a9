"""The pronunciation lexicon (config/lexicon.yaml): words a synthetic voice says wrong, respelled.

Applied to the written text just before normalization, by the `Synthesizer` (so by every engine, the
hotline's prompts and answers and the radio's bulletins alike): "Zalo" becomes "da lô" before espeak-ng
reads it as an English word. Human recordings are not touched. Keys match whole words regardless of
case; an engine's own section overrides the common one for that engine. Cached until the file changes.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    field_validator,
)

from core.errors import ConfigError
from core.filestamp import StampedCache
from core.yamlfile import load_yaml, validate_doc
from voice.text.tones import canonical_tones, nfc

logger = logging.getLogger(__name__)

_KEY = re.compile(r"[\w][\w.'&+-]*", re.UNICODE)  # one written token: letters/digits, inner . ' & + -


def _check_key(key: str) -> str:
    key = nfc(str(key)).strip()
    if not _KEY.fullmatch(key):
        raise ValueError("a key must be one written word (letters and digits, no spaces)")
    return key


def _check_words(words: Any) -> str:
    if not isinstance(words, str):
        raise ValueError("must be text (quote it)")
    words = " ".join(canonical_tones(words).split())
    if not words:
        raise ValueError("is empty: say how the word is pronounced")
    if any(ch.isdigit() for ch in words):
        raise ValueError("must be words, not digits")
    return words


def _check_engine(name: str) -> str:
    from voice.tts.registry import ENGINES

    if name not in ENGINES:
        raise ValueError(f"unknown engine; known: {', '.join(sorted(ENGINES))}")
    return name


Word = Annotated[str, AfterValidator(_check_key)]
Respelling = Annotated[str, BeforeValidator(_check_words)]
Entries = dict[Word, Respelling]


def _casefolded(entries: dict[str, str], where: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, words in entries.items():
        if key.casefold() in out:
            raise ValueError(f"{where}: {key!r} is listed twice (keys are matched regardless of case)")
        out[key.casefold()] = words
    return out


class LexiconModel(BaseModel):
    """The YAML file as validated data (keys casefolded: they match regardless of case)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    words: Entries = {}  # for every engine
    engines: dict[Annotated[str, AfterValidator(_check_engine)], Entries] = {}  # engine -> overrides

    @field_validator("words", "engines", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return {} if value is None else value

    @field_validator("words", mode="after")
    @classmethod
    def _fold_words(cls, value: dict[str, str]) -> dict[str, str]:
        return _casefolded(value, "words")

    @field_validator("engines", mode="after")
    @classmethod
    def _fold_engines(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        return {name: _casefolded(entries, f"engines.{name}") for name, entries in value.items()}


@dataclass(frozen=True)
class Lexicon:
    """Respellings per engine, with one compiled pattern each."""

    words: Mapping[str, str]
    engines: Mapping[str, Mapping[str, str]]
    source: str = "<empty>"
    _patterns: dict[str, tuple[re.Pattern[str], dict[str, str]] | None] = field(
        default_factory=dict, compare=False, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def entries(self, engine: str) -> dict[str, str]:
        """The respellings `engine` uses (casefolded written word -> words)."""
        return {**self.words, **self.engines.get(engine, {})}

    def _pattern(self, engine: str) -> tuple[re.Pattern[str], dict[str, str]] | None:
        with self._lock:
            if engine not in self._patterns:
                entries = self.entries(engine)
                keys = sorted(entries, key=lambda k: (-len(k), k))  # longest first: "e-mail" before "e"
                self._patterns[engine] = (
                    (
                        re.compile(
                            r"(?<![\w.'&+-])(?:" + "|".join(map(re.escape, keys)) + r")(?![\w'&+]|[.-]\w)",
                            re.IGNORECASE,
                        ),
                        entries,
                    )
                    if keys
                    else None
                )
            return self._patterns[engine]

    def apply(self, text: str, engine: str) -> str:
        """`text` with every lexicon word respelled for `engine`."""
        compiled = self._pattern(engine)
        if compiled is None:
            return text
        pattern, entries = compiled
        return pattern.sub(lambda m: entries.get(m.group(0).casefold(), m.group(0)), text)


EMPTY = Lexicon(words={}, engines={})


def parse_lexicon(doc: Any) -> Lexicon:
    """Validate a loaded YamlDoc into a Lexicon; errors name the file, line and key."""
    if doc.data is None:
        return Lexicon(words={}, engines={}, source=str(doc.path))
    if not isinstance(doc.data, dict):
        raise ConfigError(f"{doc.path}: expected a mapping with the sections words and engines")
    model = validate_doc(LexiconModel, doc)
    return Lexicon(
        words=dict(model.words), engines={k: dict(v) for k, v in model.engines.items()}, source=str(doc.path)
    )


_cache: StampedCache[Lexicon] = StampedCache("voice.tts.lexicon")


def load_lexicon(path: Path | str) -> Lexicon:
    """The lexicon in a YAML file, cached until the file changes (blocking: reads the file)."""

    def parse(p: Path) -> Lexicon:
        lexicon = parse_lexicon(load_yaml(p))
        logger.debug("loaded pronunciation lexicon %s: %d words", p, len(lexicon.words))
        return lexicon

    return _cache.get(Path(path), parse)


def lexicon_from_settings(settings: Any) -> Lexicon:
    """The lexicon named by `voice.tts.lexicon` (none configured: the empty one)."""
    configured = settings.voice.tts.lexicon
    return load_lexicon(settings.path(configured)) if configured else EMPTY
