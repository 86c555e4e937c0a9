"""A new intent from the console: the form's checks in the operator's words, and the file it becomes.

A new intent is written as a file of its own, `<catalog>/<id>.yaml`, so no operator-written file is
rewritten to add it; the whole catalog is then checked with it (duplicate keys, examples of another
intent, answers too long to say...) before anything is written, like every edit.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from console.edit.intent_form import IntentEditError
from console.edit.yamlrt import nfc, one_line

INTENT_ID = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
DIGIT = re.compile(r"^([0-9*#]|[1-9]\.[1-9])$")
MIN_EXAMPLES = 3  # intents.models.IntentSpec.examples


@dataclass(frozen=True)
class NewIntent:
    """A new intent, normalized (NFC, single spaces, examples once each)."""

    id: str
    title: str
    answer: str
    digit: str  # "" : not on the keypad
    examples: tuple[str, ...]

    @property
    def file_name(self) -> str:
        return f"{self.id}.yaml"

    def yaml(self) -> str:
        """The intent's own catalog file (strings JSON-quoted: valid YAML whatever they hold)."""

        def q(text: str) -> str:
            return json.dumps(text, ensure_ascii=False)

        lines = [
            "intents:",
            f"  - id: {self.id}",
            f"    title: {q(self.title)}",
            f"    answer: {q(self.answer)}",
        ]
        if self.digit:
            lines.append(f"    digit: {q(self.digit)}")
        lines.append("    examples:")
        lines += [f"      - {q(ex)}" for ex in self.examples]
        return "\n".join(lines) + "\n"


@dataclass
class NewIntentForm:
    """The fields as typed (kept when refused, to show them again)."""

    id: str = ""
    title: str = ""
    answer: str = ""
    digit: str = ""
    examples: str = ""

    def validate(self) -> NewIntent:
        """The new intent, or IntentEditError with every problem the form alone can see."""
        errors = []
        intent_id = self.id.strip()
        if not INTENT_ID.match(intent_id):
            errors.append(
                "Mã chủ đề chỉ gồm chữ thường không dấu, chữ số và dấu gạch dưới, bắt đầu bằng một chữ "
                "(ví dụ: cap_doi_gplx), tối đa 40 ký tự."
            )
        title, answer = one_line(self.title), one_line(self.answer)
        if len(title) < 2:
            errors.append("Tên chủ đề không được để trống.")
        if len(answer) < 2:
            errors.append("Câu trả lời không được để trống.")
        digit = self.digit.strip()
        if digit and not DIGIT.match(digit):
            errors.append(
                "Phím bấm là một phím (0–9, *, #) hoặc phím trong menu con như 2.3; để trống nếu không cần."
            )
        examples: list[str] = []
        for line in nfc(self.examples).splitlines():
            ex = one_line(line)
            if ex and ex not in examples:
                examples.append(ex)
        if len(examples) < MIN_EXAMPLES:
            errors.append(
                f"Cần ít nhất {MIN_EXAMPLES} câu mẫu khác nhau, mỗi câu một dòng (hiện có {len(examples)})."
            )
        if errors:
            raise IntentEditError(errors, code="console.intent_new.form")
        return NewIntent(intent_id, title, answer, digit, tuple(examples))
