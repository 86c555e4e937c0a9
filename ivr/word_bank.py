"""The recorded word bank (config/word_bank.yaml): units a voice talent records to speak dynamic sentences.

Every unit is a recordable key in the fixed prompts' recording directory (`ivr.prompts_dir/<key>.wav`),
so the console's prompt upload and the recording studio record it like any prompt. `studio_units` (or
`bank_units`) lists them for the studio as (key, text, group, usage), the province's communes included;
`composer_units` is what `ivr.prompts` speaks from (bank units and the recorded fixed prompts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ConfigError
from core.yamlfile import load_yaml, validate_doc
from ivr.template_units import PREFIX as TEMPLATE_PREFIX
from ivr.topic_units import PREFIXES as TOPIC_PREFIXES
from voice.text import fold_tones

if TYPE_CHECKING:
    from ivr.settings import IvrConfig

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,63}$"
COMMUNE_GROUP = "dia_danh"  # the group commune names are listed in
_UNIT_PREFIXES = ("xã ", "phường ", "đặc khu ", "thị trấn ")
RESERVED_PREFIXES = (*TOPIC_PREFIXES, TEMPLATE_PREFIX)  # keys of the catalog's and the templates' units


class BankUnit(NamedTuple):
    """One recordable unit: its key (file name), the words to say, its group's title, how it is used."""

    key: str
    text: str
    group: str  # Vietnamese title of the group ("Số đếm và chữ số")
    usage: str  # Vietnamese note for the person recording


class _Unit(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    group: str
    text: str = Field(min_length=1)
    usage: str = ""


class _BankFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    groups: dict[str, str]
    units: dict[str, _Unit]


@dataclass(frozen=True)
class WordBank:
    """The validated word bank file: group id -> title, and its units in file order."""

    groups: dict[str, str]
    units: tuple[BankUnit, ...]

    def texts(self) -> dict[str, str]:
        return {u.key: u.text for u in self.units}


def load_word_bank(path: Path, prompt_keys: Iterable[str] = ()) -> WordBank:
    """Read config/word_bank.yaml; every problem names file, line and key."""
    doc = load_yaml(path)
    parsed = validate_doc(_BankFile, doc, heading="invalid word bank file", data=doc.data or {})
    problems = []
    taken = set(prompt_keys)
    seen: dict[str, str] = {}
    for key, unit in parsed.units.items():
        where = doc.where(("units", key))
        if not re.match(KEY_PATTERN, key):
            problems.append(f"{where}: units.{key}: keys are lowercase letters, digits and _ (at most 64)")
        if unit.group not in parsed.groups:
            problems.append(f"{where}: units.{key}.group: unknown group {unit.group!r}")
        if key in taken:
            problems.append(f"{where}: units.{key}: is the key of a fixed prompt (config/prompts.yaml)")
        if key.startswith(RESERVED_PREFIXES):
            problems.append(
                f"{where}: units.{key}: keys starting with {', '.join(RESERVED_PREFIXES)} name the intent "
                "catalog's sentences and the templates' fixed words"
            )
        text = unit.text.strip().lower()
        if text in seen:
            problems.append(f"{where}: units.{key}.text: same words as units.{seen[text]}")
        seen.setdefault(text, key)
    if problems:
        raise ConfigError("invalid word bank file:\n  " + "\n  ".join(problems))
    units = tuple(
        BankUnit(k, u.text.strip(), parsed.groups[u.group], u.usage.strip()) for k, u in parsed.units.items()
    )
    return WordBank(dict(parsed.groups), units)


def commune_units(names: Iterable[str], group_title: str) -> list[BankUnit]:
    """A unit per commune name without its kind ("Xã Anh Sơn" -> "Anh Sơn"), keys from the toneless name.

    "xã" and "phường" are units of their own; two communes of the same name share one recording.
    """
    out: list[BankUnit] = []
    texts: set[str] = set()
    keys: set[str] = set()
    for full in names:
        name = full.strip()
        lowered = name.lower()
        for prefix in _UNIT_PREFIXES:
            if lowered.startswith(prefix):
                name = name[len(prefix) :].strip()
                break
        if not name or name.lower() in texts:
            continue
        texts.add(name.lower())
        base = "dd_" + re.sub(r"[^a-z0-9]+", "_", fold_tones(name).lower()).strip("_")
        key, n = base[:60], 2
        while key in keys:  # "Tân An" and "Tân Ân" fold alike
            key, n = f"{base[:57]}_{n}", n + 1
        keys.add(key)
        out.append(BankUnit(key, name, group_title, f"Tên đơn vị hành chính: {full.strip()}."))
    return out


# Vietnamese letters with marks -> ASCII in keys (D and Đ are both "đê": one recording).
_LETTER_KEYS = str.maketrans({"Ă": "aw", "Â": "aa", "Đ": "dd", "Ê": "ee", "Ô": "oo", "Ơ": "ow", "Ư": "uw"})
LETTER_GROUP_VI = "Chữ cái và dấu trong mã (đánh vần mã hồ sơ, mã văn bản)"
# The reading table's words for marks inside codes, said as in "hát bốn hai, gạch hai bốn…".
_MARKS_VI = {
    "dot": "dấu chấm",
    "hyphen": "dấu gạch ngang",
    "slash": "dấu gạch chéo trong số văn bản",
    "web_slash": "dấu gạch chéo trong địa chỉ trang web",
    "underscore": "dấu gạch dưới",
    "plus": "dấu cộng trước số điện thoại",
}


def letter_units(
    letters: Mapping[str, str], marks: Mapping[str, str] | None = None, taken: Iterable[str] = ()
) -> list[BankUnit]:
    """A unit per letter name of the reading table (`letters` of config/abbreviations.yaml: "B" -> "bê")
    and per word said for a mark inside a code (`reading`: "-" -> "gạch"), so a code read back letter by
    letter ("hát bốn hai, gạch …") is in the recorded voice too. Words already a unit (`taken`) are not
    listed twice."""
    seen = {t.strip().lower() for t in taken}
    out: list[BankUnit] = []

    def add(key: str, text: str, usage: str) -> None:
        words = " ".join(text.split())
        if words and words.lower() not in seen:
            seen.add(words.lower())
            out.append(BankUnit(key, words, LETTER_GROUP_VI, usage))

    for letter, name in letters.items():
        key = "cc_" + letter.upper().translate(_LETTER_KEYS).lower()
        add(key, name, f"Tên chữ cái {letter} khi đọc từng chữ của một mã.")
    for field, mark in _MARKS_VI.items():
        add(f"cc_dau_{field}", (marks or {}).get(field, ""), f"Đọc {mark} trong một mã.")
    return out


def bank_letter_units(bank: WordBank, settings: IvrConfig) -> list[BankUnit]:
    """The letter names and code marks of the configured reading table, less what the bank file has."""
    from voice.text.table import load_table

    table = load_table(settings.path(settings.voice.text.abbreviations))
    return letter_units(table.letters, table.reading.model_dump(), (u.text for u in bank.units))


def bank_commune_units(bank: WordBank, communes: Iterable[str]) -> list[BankUnit]:
    """The communes' units, listed under the bank's place-name group."""
    return commune_units(communes, bank.groups.get(COMMUNE_GROUP, "Xã, phường"))


def bank_units(bank: WordBank, communes: Iterable[str] = ()) -> list[BankUnit]:
    """Every unit to record, for the studio's script sheet: the bank file's, then the communes'."""
    return list(bank.units) + bank_commune_units(bank, communes)


def composer_units(
    bank: WordBank, prompts: Mapping[str, str], extra: Iterable[BankUnit] = ()
) -> dict[str, str]:
    """key -> words the composer may speak from: whole recorded prompts first, then phrases and words."""
    units = {k: t for k, t in prompts.items() if t.strip()}
    units.update(bank.texts())
    units.update({u.key: u.text for u in extra})
    return units


def studio_units(settings: IvrConfig, communes: Iterable[str] = ()) -> list[BankUnit]:
    """What the recording studio lists: every unit of the configured bank file, then the communes'
    (`communes`: the province's full names, e.g. from `broadcast.communes`). Raises ConfigError."""
    from ivr.prompts import load_prompt_texts

    prompts = load_prompt_texts(settings.path(settings.ivr.prompts_file)).prompts
    bank = load_word_bank(settings.path(settings.ivr.word_bank.file), prompts)
    return bank_units(bank, communes) + bank_letter_units(bank, settings)
