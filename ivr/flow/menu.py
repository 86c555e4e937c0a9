"""What the flow needs from the intent catalog: menu items, the keypad tree and its spoken menus."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from intents.models import IntentSpec
from ivr.flow.config import Texts

if TYPE_CHECKING:
    from intents.catalog import Catalog


@dataclass(frozen=True)
class MenuItem:
    """What the flow needs from one intent of the catalog."""

    id: str
    title: str  # short spoken name, used in keypad menus and clarifying questions
    answer: str = ""
    follow_up: str = ""
    digit: str = ""  # keypad path, e.g. "3" or "2.1" (press 2 then 1); empty: not in the keypad menu
    action: str | None = None  # one of intents.models.ACTIONS; anything else is ignored

    @classmethod
    def from_intent(cls, spec: IntentSpec) -> MenuItem:
        """The item of a validated catalog intent."""
        return cls(
            id=spec.id,
            title=spec.title,
            answer=spec.answer,
            follow_up=spec.follow_up or "",
            digit=spec.digit or "",
            action=spec.action,
        )


class DecisionLike(Protocol):
    intent: str | None
    score: float
    runner_up: str | None
    clarify: bool


Matcher = Callable[[str], DecisionLike]


def _attr(obj: Any, name: str, default: Any = None) -> Any:
    if isinstance(obj, Mapping):
        return obj.get(name, default)
    return getattr(obj, name, default)


def _loose_item(it: Any) -> MenuItem | None:
    """An item from an object or mapping with id, title, answer, follow_up, digit, action (tests, tools)."""
    iid = str(_attr(it, "id", "") or "")
    if not iid:
        return None
    title = _attr(it, "title") or _attr(it, "name") or _attr(it, "label") or iid.replace("_", " ")
    digit = _attr(it, "digit")
    return MenuItem(
        id=iid,
        title=str(title),
        answer=str(_attr(it, "answer", "") or ""),
        follow_up=str(_attr(it, "follow_up", "") or ""),
        digit="" if digit is None else str(digit),
        action=_attr(it, "action") or None,
    )


def menu_from_catalog(catalog: Catalog | Iterable[IntentSpec] | Any) -> list[MenuItem]:
    """MenuItems from an intent catalog: typed (`Catalog`, `IntentSpec`s) or loose objects and mappings."""
    intents = _attr(catalog, "intents", catalog)
    if isinstance(intents, Mapping):
        intents = list(intents.values())
    items = []
    for it in intents or ():
        item = MenuItem.from_intent(it) if isinstance(it, IntentSpec) else _loose_item(it)
        if item is not None:
            items.append(item)
    return items


def keypad_path(digit: str) -> str:
    """'2.1' / '2-1' / '21' -> '21'; keys 0, * and # are reserved and never part of a menu path."""
    return "".join(ch for ch in str(digit) if ch.isdigit())


class Keypad:
    """The keypad tree: key paths ('21' = press 2 then 1) to menu items; 0, * and # are global keys."""

    def __init__(self, items: Iterable[MenuItem], spoken: Mapping[str, str] | None = None) -> None:
        self.paths: dict[str, MenuItem] = {}
        for item in items:
            path = keypad_path(item.digit)
            if path and not path.startswith("0") and path not in self.paths:
                self.paths[path] = item
        self.spoken = dict(spoken or {})  # prefix ("" = top) -> menu text from the catalog

    def get(self, path: str) -> MenuItem | None:
        return self.paths.get(path)

    def extends(self, path: str) -> bool:
        """True when longer paths start with `path` (it opens a submenu)."""
        return any(p.startswith(path) and p != path for p in self.paths)

    def prefixes(self) -> list[str]:
        """The top menu ("") and every submenu, in key order."""
        return sorted({""} | {p[:i] for p in self.paths for i in range(1, len(p))})

    def menu_text(self, prefix: str, texts: Texts) -> str:
        """What the keypad menu at `prefix` says: the catalog's text, else one generated from the items."""
        if prefix in self.spoken:
            return self.spoken[prefix]
        seen: dict[str, MenuItem | None] = {}
        for path, item in sorted(self.paths.items()):
            if not path.startswith(prefix) or path == prefix:
                continue
            nxt = path[len(prefix)]
            if len(path) == len(prefix) + 1:
                seen[nxt] = item
            else:
                seen.setdefault(nxt, None)
        parts = []
        for digit, entry in sorted(seen.items()):
            if entry is not None:
                parts.append(texts.menu_item.format(digit=digit, title=entry.title))
            else:
                parts.append(texts.menu_more.format(digit=digit))
        parts.append(texts.menu_tail)
        return " ".join(parts)
