"""The intent edit form: what operators type (kept as typed when refused) and the normalized draft."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

from console.edit.yamlrt import nfc, one_line
from core.errors import HotlineError

FIELDS = ("title", "answer", "follow_up", "examples", "keywords")


class IntentEditError(HotlineError):
    """The edit was refused; `messages` are for the operator (Vietnamese), `problems` the checker's lines."""

    code = "console.intent_edit"

    def __init__(self, messages: list[str], problems: list[str] | None = None, *, code: str = "") -> None:
        self.messages = messages
        self.problems = problems or []
        if code:
            self.code = code
        super().__init__("; ".join(self.problems or messages))


def format_weight(weight: float) -> str:
    """0.9 -> "0,9", 1.0 -> "1": how weights are shown in the form (Vietnamese decimal comma)."""
    return f"{weight:.2f}".rstrip("0").rstrip(".").replace(".", ",")


@dataclass(frozen=True)
class IntentDraft:
    """The editable fields of one intent, normalized (NFC, single spaces)."""

    title: str
    answer: str
    follow_up: str
    examples: tuple[str, ...]
    keywords: tuple[tuple[str, float], ...] = ()

    @property
    def examples_text(self) -> str:
        return "\n".join(self.examples)

    def version(self) -> str:
        """A short hash of the values: a save based on an older page is detected and refused."""
        raw = json.dumps([self.title, self.answer, self.follow_up, self.examples, self.keywords])
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]

    def changes(self, old: IntentDraft) -> list[str]:
        """What differs from `old`, for the audit log: "answer", "examples +2 -1", ..."""
        out = []
        for name in FIELDS:
            new_v, old_v = getattr(self, name), getattr(old, name)
            if new_v == old_v:
                continue
            if name in ("examples", "keywords"):
                added = len(set(new_v) - set(old_v))
                removed = len(set(old_v) - set(new_v))
                out.append(f"{name} +{added} -{removed}")
            else:
                out.append(name)
        return out


@dataclass
class FormInput:
    """The raw form fields, kept as typed so a refused edit can be shown again."""

    title: str = ""
    answer: str = ""
    follow_up: str = ""
    examples: str = ""
    kw_words: list[str] = field(default_factory=list)
    kw_weights: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, draft: IntentDraft) -> FormInput:
        return cls(
            draft.title,
            draft.answer,
            draft.follow_up,
            draft.examples_text,
            [k for k, _ in draft.keywords],
            [format_weight(w) for _, w in draft.keywords],
        )

    def keyword_rows(self, blank: int = 3) -> list[tuple[str, str]]:
        rows = list(zip(self.kw_words, self.kw_weights + [""] * len(self.kw_words), strict=False))
        rows = [(w, v) for w, v in rows if w.strip() or v.strip()]
        return rows + [("", "")] * blank

    def draft(self) -> IntentDraft:
        """Normalize what was typed; IntentEditError for what is not even a value (a weight "abc")."""
        examples: list[str] = []
        for line in nfc(self.examples).splitlines():
            ex = one_line(line)
            if ex and ex not in examples:  # the same line twice is kept once
                examples.append(ex)
        keywords: dict[str, float] = {}
        errors = []
        for i, word in enumerate(self.kw_words):
            word = one_line(word)
            raw = (self.kw_weights[i] if i < len(self.kw_weights) else "").strip()
            if not word:
                continue
            if not raw:
                errors.append(f"Chưa nhập trọng số cho từ khóa “{word}” (một số từ 0,1 đến 1).")
                continue
            try:
                weight = float(raw.replace(",", "."))
            except ValueError:
                errors.append(f"Trọng số của từ khóa “{word}” phải là một số, ví dụ 0,5 (đã nhập “{raw}”).")
                continue
            if word in keywords:
                errors.append(f"Từ khóa “{word}” được nhập hai lần; mỗi từ khóa chỉ ghi một lần.")
                continue
            keywords[word] = round(weight, 3)
        if errors:
            raise IntentEditError(errors, code="console.intent_edit.form")
        return IntentDraft(
            title=one_line(self.title),
            answer=one_line(self.answer),
            follow_up=one_line(self.follow_up),
            examples=tuple(examples),
            keywords=tuple(keywords.items()),
        )
