"""The editable reading table (config/abbreviations.yaml): letters, abbreviations, units, symbols."""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from core.errors import ConfigError
from core.filestamp import StampedCache
from core.yamlfile import load_yaml, validate_doc
from voice.text.patterns import ROAD_TAIL
from voice.text.tones import canonical_tones, nfc

logger = logging.getLogger(__name__)

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "config" / "abbreviations.yaml"
REQUIRED_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZĐ")
_KEY_OK = re.compile(r"[^\s]+")


def _check_mapping(value: dict[str, str], *, allow_empty_value: bool = False) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, words in value.items():
        key = nfc(str(key))
        if not _KEY_OK.fullmatch(key):
            raise ValueError(f"key {key!r} must be one token without spaces")
        if not isinstance(words, str):
            raise ValueError(f"value of {key!r} must be text (quote it), got {words!r}")
        words = " ".join(canonical_tones(words).split())
        if not words and not allow_empty_value:
            raise ValueError(f"value of {key!r} is empty")
        if any(ch.isdigit() for ch in words):
            raise ValueError(f"value of {key!r} must be words, not digits ({words!r})")
        out[key] = words
    return out


class ReadingModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    dot: str = "chấm"
    hyphen: str = "gạch"
    document_hyphen: str = ""  # silent: "QĐ-UBND" is "quy đê ủy ban nhân dân", never "trừ" (minus)
    slash: str = "trên"
    document_year: str = "năm"
    web_slash: str = "gạch chéo"
    underscore: str = "gạch dưới"
    range: str = "đến"
    plus: str = "cộng"


class TableModel(BaseModel):
    """The YAML file as validated data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    letters: dict[str, str]
    abbreviations: dict[str, str] = {}
    document_codes: dict[str, str] = {}
    roads: dict[str, str] = {}
    units: dict[str, str] = {}
    symbols: dict[str, str] = {}
    web: dict[str, str] = {}
    reading: ReadingModel = ReadingModel()

    @field_validator("letters")
    @classmethod
    def _letters(cls, value: dict[str, str]) -> dict[str, str]:
        value = _check_mapping(value)
        for key in value:
            if len(key) != 1 or not key.isalpha():
                raise ValueError(f"letter key {key!r} must be a single letter")
        missing = sorted(REQUIRED_LETTERS - {k.upper() for k in value})
        if missing:
            raise ValueError(f"letters missing: {' '.join(missing)}")
        return value

    @field_validator("abbreviations", "document_codes", "roads", "units")
    @classmethod
    def _words(cls, value: dict[str, str]) -> dict[str, str]:
        return _check_mapping(value)

    @field_validator("symbols")
    @classmethod
    def _symbols(cls, value: dict[str, str]) -> dict[str, str]:
        value = _check_mapping(value)
        for key in value:
            if len(key) != 1 or key.isalnum():
                raise ValueError(f"symbol key {key!r} must be one non-letter character")
        return value

    @field_validator("web")
    @classmethod
    def _web(cls, value: dict[str, str]) -> dict[str, str]:
        return {k.lower(): v for k, v in _check_mapping(value, allow_empty_value=True).items()}


def _alternation(keys: list[str]) -> str:
    # Longest first, so that "km/h" wins over "km" and "COVID-19" over "COVID".
    return "|".join(re.escape(k) for k in sorted(keys, key=lambda k: (-len(k), k)))


@dataclass(frozen=True)
class TextTable:
    """Reading tables with their matching regexes compiled once."""

    letters: Mapping[str, str]
    abbreviations: Mapping[str, str]
    document_codes: Mapping[str, str]
    roads: Mapping[str, str]
    units: Mapping[str, str]
    symbols: Mapping[str, str]
    web: Mapping[str, str]
    reading: ReadingModel
    source: str = "<built-in>"
    abbreviation_re: re.Pattern[str] | None = field(default=None, compare=False)
    unit_re: re.Pattern[str] | None = field(default=None, compare=False)
    compound_unit_re: re.Pattern[str] | None = field(default=None, compare=False)
    keep_chars: frozenset[str] = frozenset("\n°")  # symbol characters that are read, not dropped
    symbol_re: re.Pattern[str] | None = field(default=None, compare=False)
    road_re: re.Pattern[str] | None = field(default=None, compare=False)

    @classmethod
    def from_model(cls, model: TableModel, source: str) -> TextTable:
        letters = dict(model.letters)
        for key, words in list(letters.items()):
            letters.setdefault(key.lower(), words)
            letters.setdefault(key.upper(), words)
        abbr = model.abbreviations
        units = model.units
        abbreviation_re = (
            re.compile(r"(?<![\w&])(?:" + _alternation(list(abbr)) + r")(?![\w&])") if abbr else None
        )
        # A unit right after a number (optionally after a scale word): "5 km", "50.000đ", "2 tỷ VND".
        unit_re = (
            re.compile(
                r"(?<![\w.,])(\d+(?:[.,]\d+)*)((?:[ \u00a0]?(?:nghìn|ngàn|triệu|tỷ|tỉ))?)[ \u00a0]?("
                + _alternation(list(units))
                + r")(?!\w)"
            )
            if units
            else None
        )
        # Units that cannot be ordinary words (km/h, m², °C) are read even without a number before them.
        compound = [
            k
            for k in units
            if not k.isalpha() and not k[0].isdigit() and len(k) > 1 and any(c.isalpha() for c in k)
        ]
        compound_unit_re = (
            re.compile(r"(?<![\w/])(?:" + _alternation(compound) + r")(?![\w/])") if compound else None
        )
        symbol_re = (
            re.compile("[" + "".join(re.escape(k) for k in model.symbols) + "]") if model.symbols else None
        )
        road_re = (
            re.compile(r"(?<![\w.])(" + _alternation(list(model.roads)) + ROAD_TAIL) if model.roads else None
        )
        return cls(
            letters=letters,
            abbreviations=dict(abbr),
            document_codes=dict(model.document_codes),
            roads=dict(model.roads),
            units=dict(units),
            symbols=dict(model.symbols),
            web=dict(model.web),
            reading=model.reading,
            source=source,
            abbreviation_re=abbreviation_re,
            unit_re=unit_re,
            compound_unit_re=compound_unit_re,
            keep_chars=frozenset("\n°").union(model.symbols, *(k for k in units if len(k) == 1)),
            symbol_re=symbol_re,
            road_re=road_re,
        )

    def with_abbreviations(self, extra: Mapping[str, str]) -> TextTable:
        """A copy whose abbreviations are this table's plus `extra` (extra wins)."""
        model = TableModel(
            letters={k: v for k, v in self.letters.items() if k.isupper() or not k.isalpha()},
            abbreviations={**self.abbreviations, **dict(extra)},
            document_codes=dict(self.document_codes),
            roads=dict(self.roads),
            units=dict(self.units),
            symbols=dict(self.symbols),
            web=dict(self.web),
            reading=self.reading,
        )
        return TextTable.from_model(model, self.source + " + extra abbreviations")


def parse_table(doc: Any) -> TextTable:
    """Validate a loaded YamlDoc into a TextTable; errors name the file, line and key."""

    if not isinstance(doc.data, dict):
        raise ConfigError(f"{doc.path}: expected a mapping with sections letters, abbreviations, ...")
    model = validate_doc(TableModel, doc)
    return TextTable.from_model(model, str(doc.path))


_cache: StampedCache[TextTable] = StampedCache("voice.text.abbreviations")


def load_table(path: Path | str | None = None) -> TextTable:
    """The table from a YAML file (default: config/abbreviations.yaml), cached until the file changes."""

    def parse(p: Path) -> TextTable:
        table = parse_table(load_yaml(p))
        logger.debug("loaded reading table %s: %d abbreviations", p, len(table.abbreviations))
        return table

    return _cache.get(Path(path) if path is not None else _default_path, parse)


_default_path = DEFAULT_PATH


def configure(settings: Any) -> TextTable:
    """Use the table named by the settings key `voice.text.abbreviations` as the default; load it now."""
    global _default_path
    path = settings.path(settings.voice.text.abbreviations)
    table = load_table(path)
    _default_path = path
    return table


def table_from_settings(settings: Any) -> TextTable:
    """The table named by `voice.text.abbreviations` in these settings."""
    return load_table(settings.path(settings.voice.text.abbreviations))
