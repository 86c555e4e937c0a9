"""Load and validate the intent catalog directory: all files valid, or nothing loaded."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from core.errors import ConfigError
from core.yamlfile import YamlDoc, describe_validation_error, load_yaml
from intents.models import (
    RESERVED_KEYS,
    DialectFile,
    IntentFile,
    IntentSpec,
    MenuFile,
    MenuGroup,
)
from voice.text import fold_tones, normalize_for_matching, normalize_for_speech

logger = logging.getLogger(__name__)

MENU_FILE = "_menu.yaml"
DEFAULT_MAX_ANSWER_SECONDS = 40.0
DEFAULT_SPEECH_RATE = 3.0  # syllables per second: a calm telephone voice (espeak-ng at 150 wpm is ~2.5)
SENTENCE_PAUSE = 0.4  # seconds of silence assumed after . ! ? ; :
COMMA_PAUSE = 0.15  # seconds after a comma


class CatalogError(ConfigError):
    """The catalog is invalid; `problems` holds one `file:line: key: message` line per problem."""

    code = "intents.catalog"

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("invalid intent catalog:\n  " + "\n  ".join(self.problems))


def catalog_files(directory: Path) -> list[Path]:
    """The YAML files the catalog is made of (hidden files and `*.sample` are skipped)."""
    return sorted(
        p
        for p in directory.iterdir()
        if p.suffix in (".yaml", ".yml")
        and not p.name.startswith(".")
        and p.name != MENU_FILE
        and p.is_file()
    )


def speaking_seconds(text: str, rate: float = DEFAULT_SPEECH_RATE) -> float:
    """Estimated time to say `text`: syllables / rate plus short pauses at punctuation."""
    # Count what TTS will actually say: numbers, codes and abbreviations spelled out.
    syllables = len(normalize_for_matching(normalize_for_speech(text)).split())
    stops = len(re.findall(r"[.!?;:]+(?:\s|$)", text))
    commas = text.count(",")
    return syllables / rate + stops * SENTENCE_PAUSE + commas * COMMA_PAUSE


@dataclass(frozen=True)
class MenuEntry:
    """One line of a keypad menu: a key and what it leads to (an intent or a sub-menu)."""

    digit: str
    label: str
    intent: str | None = None
    group: str | None = None


@dataclass(frozen=True)
class Catalog:
    """A validated set of intents plus the keypad menu; immutable, swapped whole on reload."""

    directory: Path
    intents: tuple[IntentSpec, ...]
    menu: MenuFile | None = None
    locations: dict[tuple[str, ...], str] = field(default_factory=dict)  # (id,) / (id, "examples", i)
    files: tuple[Path, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "_by_id", {i.id: i for i in self.intents})

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.intents)

    def get(self, intent_id: str) -> IntentSpec:
        return self._by_id[intent_id]  # type: ignore[attr-defined]

    def __contains__(self, intent_id: object) -> bool:
        return intent_id in self._by_id  # type: ignore[attr-defined]

    def where(self, intent_id: str, *rest: str | int) -> str:
        """`file:line` of an intent (or of one of its examples) for messages."""
        key = (intent_id, *[str(r) for r in rest])
        return self.locations.get(key) or self.locations.get((intent_id,), str(self.directory))

    # --- keypad tree -------------------------------------------------------------------------
    def _groups(self) -> dict[str, MenuGroup]:
        return {g.digit: g for g in (self.menu.groups if self.menu else ())}

    def menu_entries(self, group: str | None = None) -> list[MenuEntry]:
        """Keys of the top menu (group None) or of sub-menu `group`, in key order ("*" and "0" last)."""
        entries: list[MenuEntry] = []
        if group is None:
            for g in self._groups().values():
                entries.append(MenuEntry(g.digit, g.label, group=g.digit))
        for intent in self.intents:
            if not intent.digit:
                continue
            head, _, tail = intent.digit.partition(".")
            if group is None and not tail:
                entries.append(MenuEntry(head, intent.label, intent=intent.id))
            elif group is not None and head == group and tail:
                entries.append(MenuEntry(tail, intent.label, intent=intent.id))
        order = {d: i for i, d in enumerate("123456789*0")}
        return sorted(entries, key=lambda e: order.get(e.digit, 99))

    def menu_prompt(self, group: str | None = None) -> str:
        """The Vietnamese text the IVR reads for a menu: "Để hỏi về ..., nhấn phím 1. ..."."""
        menu = self.menu or MenuFile(
            welcome="Xin chào.", not_understood="Xin lỗi, tôi chưa hiểu.", clarify="{first} hay {second}?"
        )
        if group is not None:
            g = self._groups().get(group)
            if g is not None and g.prompt:
                return g.prompt
        elif menu.prompt:
            return menu.prompt
        lines = [text for _entry, text in self.menu_lines(group)]
        parts = ([menu.main_intro] if group is None and menu.main_intro else []) + lines
        if menu.global_keys:
            parts.append(menu.global_keys)
        return " ".join(p for p in parts if p)

    def menu_lines(self, group: str | None = None) -> list[tuple[MenuEntry, str]]:
        """Each key of a menu with the line that says it ("Để hỏi về ..., nhấn phím 1."), in key order."""
        item = self.menu.item if self.menu else MenuFile.model_fields["item"].default
        return [
            (e, item.format(label=e.label, digit=_say_key(e.digit)))
            for e in self.menu_entries(group)
            if e.digit not in RESERVED_KEYS
        ]

    def resolve_keys(self, keys: str) -> IntentSpec | MenuGroup | None:
        """What a key sequence leads to: "3" -> intent or group 3, "1.2"/"12" -> item 2 of group 1."""
        keys = keys.replace(".", "")
        if not keys:
            return None
        groups = self._groups()
        wanted = keys[0] if len(keys) == 1 else f"{keys[0]}.{keys[1:]}"
        for intent in self.intents:
            if intent.digit == wanted:
                return intent
        if len(keys) == 1:
            return groups.get(keys)
        return None

    def clarify_prompt(self, first: str, second: str) -> str:
        """Short question when two intents are too close: "Anh chị muốn hỏi về A hay về B?"."""
        template = self.menu.clarify if self.menu else "Anh chị muốn hỏi về {first} hay về {second}?"
        return template.format(first=self.get(first).title, second=self.get(second).title)


def _say_key(digit: str) -> str:
    return {"*": "sao", "#": "thăng"}.get(digit, digit)


def _validate(model: type[BaseModel], doc: YamlDoc, problems: list[str]) -> Any:
    data = doc.data
    if data is None:
        problems.append(f"{doc.path}:1: the file is empty")
        return None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems.extend(describe_validation_error(exc, doc))
        return None


def _collision_key(text: str) -> str:
    return fold_tones(normalize_for_matching(text))


def load_catalog(
    directory: Path | str,
    *,
    max_answer_seconds: float = DEFAULT_MAX_ANSWER_SECONDS,
    speech_rate: float = DEFAULT_SPEECH_RATE,
    sources: Mapping[Path, Path] | None = None,
) -> Catalog:
    """Read and validate every catalog file in `directory` as a whole; CatalogError lists all problems.

    `sources` reads some catalog files from elsewhere (an edited copy checked before it replaces the
    file); messages still name the catalog file.
    """
    directory = Path(directory)
    if not directory.exists():
        raise CatalogError([f"{directory}: catalog directory not found"])
    if not directory.is_dir():
        raise CatalogError([f"{directory}: not a directory"])
    problems: list[str] = []
    files = catalog_files(directory)
    if not files:
        raise CatalogError([f"{directory}: no intent files (*.yaml) in the catalog directory"])

    intents: list[IntentSpec] = []
    locations: dict[tuple[str, ...], str] = {}
    read_from = {Path(k).resolve(): Path(v) for k, v in (sources or {}).items()}
    for path in files:
        try:
            doc = load_yaml(read_from.get(path.resolve(), path), shown_as=path)
        except ConfigError as exc:
            problems.append(str(exc))
            continue
        parsed = _validate(IntentFile, doc, problems)
        if parsed is None:
            continue
        for i, intent in enumerate(parsed.intents):
            where = doc.where(("intents", i, "id"))
            if intent.id in {x.id for x in intents}:
                problems.append(
                    f"{where}: intents[{i}].id: duplicate id {intent.id!r} "
                    f"(also at {locations[(intent.id,)]})"
                )
                continue
            intents.append(intent)
            locations[(intent.id,)] = where
            for field_name in ("answer", "follow_up", "digit", "action", "keywords"):
                locations[(intent.id, field_name)] = doc.where(("intents", i, field_name))
            for j in range(len(intent.examples)):
                locations[(intent.id, "examples", str(j))] = doc.where(("intents", i, "examples", j))

    menu: MenuFile | None = None
    menu_path = directory / MENU_FILE
    menu_doc: YamlDoc | None = None
    if menu_path.exists():
        try:
            menu_doc = load_yaml(menu_path)
            menu = _validate(MenuFile, menu_doc, problems)
        except ConfigError as exc:
            problems.append(str(exc))

    all_read = not problems  # with a file unread, "sub-menu has no intents" would only be noise
    problems.extend(
        _check_semantics(intents, locations, menu, menu_doc, max_answer_seconds, speech_rate, all_read)
    )
    if problems:
        raise CatalogError(problems)
    return Catalog(
        directory=directory,
        intents=tuple(intents),
        menu=menu,
        locations=locations,
        files=tuple(files) + ((menu_path,) if menu_path.exists() else ()),
    )


def _check_semantics(
    intents: Iterable[IntentSpec],
    locations: dict[tuple[str, ...], str],
    menu: MenuFile | None,
    menu_doc: YamlDoc | None,
    max_answer_seconds: float,
    speech_rate: float,
    all_read: bool = True,
) -> list[str]:
    problems: list[str] = []
    intents = list(intents)
    groups: dict[str, int] = {}
    if menu is not None and menu_doc is not None:
        for i, g in enumerate(menu.groups):
            if g.digit in groups:
                problems.append(
                    f"{menu_doc.where(('groups', i, 'digit'))}: groups[{i}].digit: key {g.digit} used twice"
                )
            groups[g.digit] = i

    # Keypad keys: unique per menu level, reserved keys only for their action, sub-menus must exist.
    used: dict[str, str] = {}
    for intent in intents:
        if not intent.digit:
            continue
        where = locations[(intent.id, "digit")]
        reserved = RESERVED_KEYS.get(intent.digit)
        if reserved and intent.action != reserved:
            problems.append(
                f"{where}: digit: key {intent.digit!r} is reserved for the {reserved!r} action in every menu"
            )
        head, _, tail = intent.digit.partition(".")
        if tail and head not in groups:
            problems.append(
                f"{where}: digit: {intent.digit!r} needs a sub-menu group {head!r} in {MENU_FILE}"
            )
        if not tail and head in groups and menu_doc is not None:
            problems.append(
                f"{where}: digit: key {head!r} opens a sub-menu "
                f"({menu_doc.where(('groups', groups[head]))}); use e.g. {head}.1"
            )
        if intent.digit in used:
            other = used[intent.digit]
            problems.append(
                f"{where}: digit: key {intent.digit!r} already used by intent {other!r} "
                f"({locations[(other, 'digit')]})"
            )
        else:
            used[intent.digit] = intent.id
    if menu is not None and menu_doc is not None and all_read:
        for digit, i in groups.items():
            if not any(d.startswith(digit + ".") for d in used):
                problems.append(
                    f"{menu_doc.where(('groups', i))}: groups[{i}]: sub-menu {digit} has no intents"
                )

    # Examples that mean one thing must not appear under two intents (compared without tones).
    seen: dict[str, tuple[str, int]] = {}
    for intent in intents:
        for j, ex in enumerate(intent.examples):
            key = _collision_key(ex)
            if not key:
                problems.append(f"{locations[(intent.id, 'examples', str(j))]}: examples[{j}]: no words left")
                continue
            first = seen.get(key)
            if first and first[0] != intent.id:
                problems.append(
                    f"{locations[(intent.id, 'examples', str(j))]}: examples[{j}]: {ex!r} collides with an "
                    f"example of intent {first[0]!r} ({locations[(first[0], 'examples', str(first[1]))]})"
                )
            else:
                seen.setdefault(key, (intent.id, j))

    # Answers must be short enough to say on the phone.
    for intent in intents:
        for field_name in ("answer", "follow_up"):
            text = getattr(intent, field_name) or ""
            if any(line.strip().startswith("#") for line in text.splitlines()[1:]):
                problems.append(
                    f"{locations[(intent.id, field_name)]}: {field_name}: a line of the text starts with "
                    "'#': a comment indented under the text is read as part of it; put comments above the key"
                )
        secs = speaking_seconds(intent.answer, speech_rate)
        if secs > max_answer_seconds:
            problems.append(
                f"{locations[(intent.id, 'answer')]}: answer: about {secs:.0f} s to say at {speech_rate:g} "
                f"syllables/s, limit {max_answer_seconds:g} s; shorten it"
            )
        if intent.follow_up and speaking_seconds(intent.follow_up, speech_rate) > 10:
            problems.append(f"{locations[(intent.id, 'follow_up')]}: follow_up: longer than 10 s; shorten it")
        if intent.action == "replay" and intent.digit not in (None, "*"):
            problems.append(f"{locations[(intent.id, 'digit')]}: digit: the replay intent uses key '*'")
    return problems


def load_dialect(path: Path | str) -> DialectFile:
    """Read the dialect/filler table; a missing file means no mapping (logged), a bad one is an error."""
    path = Path(path)
    if not path.exists():
        logger.warning("dialect table %s not found: no dialect mapping or filler removal", path)
        return DialectFile()
    doc = load_yaml(path)
    problems: list[str] = []
    table = _validate(DialectFile, doc, problems)
    if problems or table is None:
        raise CatalogError(problems or [f"{path}:1: the file is empty"])
    return table
