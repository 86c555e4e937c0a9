"""The intent catalog's sentences as recordable units: answers, follow-up questions, keypad menu lines.

Keys come from what a sentence belongs to, never from its text or position, so that reordering the catalog
keeps every recording with its sentence and an edited text makes the recording stale instead of moving it
to another sentence:

- `tl_<intent id>`: the intent's answer; `hoi_<intent id>`: its follow-up question;
- `ten_<intent id>`: the intent's title, said inside sentences filled at call time (the clarifying question
  "Anh chị muốn hỏi về <title>, hay về <title>?", the generated keypad menus);
- `phim_<intent id>`: the menu line that offers the intent ("Để hỏi về ..., nhấn phím 2.");
- `phim_nhom_<key>`: the top menu's line that opens sub-menu <key> (a group has no id: its key is it);
- `phim_mo_dau`, `phim_chung`: the top menu's introduction and the reminder of keys * and 0;
- `phim_trang_chinh`, `phim_trang_<key>`: a menu written out by hand in `_menu.yaml` (its lines are then
  never heard, so they are not listed).

The hotline plays a unit's recording only when it was read from the text in force (`ivr.take_notes`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from intents.catalog import Catalog

PREFIXES = ("tl_", "hoi_", "ten_", "phim_")  # reserved: no word bank unit may start with these


class TopicKind(StrEnum):
    ANSWER = "answer"
    FOLLOW_UP = "follow_up"
    TITLE = "title"
    MENU_LINE = "menu_line"


class TopicUnit(NamedTuple):
    """One sentence of the catalog: its key, the words, what kind, and the topic (or menu) it belongs to."""

    key: str
    text: str
    kind: TopicKind
    topic: str  # the intent's title; for menu lines, what the line offers ("" for the fixed lines)
    intent: str | None = None  # the intent's id (None for group and fixed menu lines)


def topic_units(catalog: Catalog | None) -> list[TopicUnit]:
    """Every catalog sentence a caller can hear, in catalog order: answers and follow-ups, then the titles,
    then menu lines."""
    if catalog is None:
        return []
    out: list[TopicUnit] = []
    for intent in catalog.intents:
        out.append(TopicUnit(f"tl_{intent.id}", intent.answer, TopicKind.ANSWER, intent.title, intent.id))
        if intent.follow_up:
            out.append(
                TopicUnit(f"hoi_{intent.id}", intent.follow_up, TopicKind.FOLLOW_UP, intent.title, intent.id)
            )
    out += [TopicUnit(f"ten_{i.id}", i.title, TopicKind.TITLE, i.title, i.id) for i in catalog.intents]
    out += menu_units(catalog)
    return [u for u in out if u.text.strip()]


def menu_units(catalog: Catalog) -> list[TopicUnit]:
    """The keypad menus' sentences, top menu first, then each sub-menu."""
    menu = catalog.menu
    line = TopicKind.MENU_LINE
    out: list[TopicUnit] = []
    groups = {g.digit: g for g in (menu.groups if menu else ())}
    for digit in [None, *sorted(groups)]:
        written = (menu.prompt if digit is None else groups[digit].prompt) if menu else None
        if written:
            where = "chinh" if digit is None else digit
            title = "danh sách phím chính" if digit is None else groups[digit].title
            out.append(TopicUnit(f"phim_trang_{where}", written, line, title))
            continue
        if digit is None and menu and menu.main_intro:
            out.append(TopicUnit("phim_mo_dau", menu.main_intro, line, ""))
        for entry, text in catalog.menu_lines(digit):
            if entry.intent is not None:
                title = catalog.get(entry.intent).title
                out.append(TopicUnit(f"phim_{entry.intent}", text, line, title, entry.intent))
            elif entry.group is not None:
                out.append(TopicUnit(f"phim_nhom_{entry.group}", text, line, groups[entry.group].title))
    if menu and menu.global_keys:
        out.append(TopicUnit("phim_chung", menu.global_keys, line, ""))
    return out


def topic_labels(units: list[TopicUnit]) -> dict[str, str]:
    """Text -> coverage label ("answer:<intent id>", "follow_up:<intent id>") of answers and follow-ups."""
    spoken_alone = (TopicKind.ANSWER, TopicKind.FOLLOW_UP)  # titles and lines are parts of other sentences
    return {u.text: f"{u.kind}:{u.intent}" for u in units if u.kind in spoken_alone and u.intent}
