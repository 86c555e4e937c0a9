"""How much of what callers heard was a human voice: overall and per prompt, from `prompt_plays`."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.models import PromptPlay

MAX_ROWS = 20  # the prompts heard longest; the rest only count in the overall share


@dataclass(frozen=True)
class CoverageRow:
    prompt: str  # as operators know it (console.labels), never an internal key
    plays: int
    heard_s: float
    human_s: float

    @property
    def share(self) -> float:
        return self.human_s / self.heard_s if self.heard_s > 0 else 0.0


@dataclass(frozen=True)
class Coverage:
    heard_s: float
    human_s: float
    rows: list[CoverageRow]

    @property
    def share(self) -> float | None:
        """Human share of everything heard; None when nothing was played."""
        return self.human_s / self.heard_s if self.heard_s > 0 else None


def voice_coverage(s: Session, start: dt.datetime, end: dt.datetime, name: Callable[[str], str]) -> Coverage:
    """Prompts played in [start, end) (UTC, naive), the longest heard first; `name` labels a prompt id."""
    rows = s.execute(
        select(
            PromptPlay.prompt,
            func.count(PromptPlay.id),
            func.sum(PromptPlay.audio_ms),
            func.sum(PromptPlay.human_ms),
        )
        .where(PromptPlay.at >= start, PromptPlay.at < end)
        .group_by(PromptPlay.prompt)
        .order_by(func.sum(PromptPlay.audio_ms).desc(), PromptPlay.prompt)
    ).all()
    heard = sum(int(r[2] or 0) for r in rows) / 1000
    human = sum(int(r[3] or 0) for r in rows) / 1000
    out = [
        CoverageRow(name(p), int(n), int(a or 0) / 1000, int(h or 0) / 1000) for p, n, a, h in rows[:MAX_ROWS]
    ]
    return Coverage(heard, human, out)


def _quoted(text: str, limit: int = 70) -> str:
    text = " ".join(text.split())
    return f"“{text if len(text) <= limit else text[: limit - 1].rstrip() + '…'}”"


def prompt_namer(
    prompts: dict[str, str], templates: dict[str, str], topic: Callable[[str | None], str]
) -> Callable[[str], str]:
    """Prompt id (a key, "answer:<intent>", "menu:<main|key>", "template:<name>") -> how operators know it,
    in Vietnamese."""
    from console.labels import prompt_label
    from console.template_blanks import template_vi

    def name(prompt: str) -> str:
        kind, _, rest = prompt.partition(":")
        if not rest:
            text = prompts.get(prompt)
            if text is None:
                return "Câu khác (đọc trong cuộc gọi)" if prompt == "text" else "Lời nhắc đã xóa"
            return (
                f"{prompt_label(prompt)}: {_quoted(text)}" if text else f"{prompt_label(prompt)}: tiếng bíp"
            )
        if kind == "answer":
            return f"Câu trả lời: {topic(rest)}"
        if kind == "follow_up":
            return f"Câu hỏi tiếp: {topic(rest)}"
        if kind == "menu":
            return "Danh sách phím chính" if rest == "main" else f"Danh sách phím sau khi bấm phím {rest}"
        if kind == "template":
            return f"{prompt_label(rest)}: {_quoted(template_vi(rest, templates.get(rest, '')))}"
        return "Câu khác (đọc trong cuộc gọi)"

    return name
