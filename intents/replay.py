"""What a draft catalog would change on real callers' words: each transcript matched by both matchers.

`hotline intents replay` runs it on recent calls' speech turns; the console's intent edit form shows
the same comparison before a change is saved.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol


class _Decides(Protocol):
    def match(self, text: str) -> _Decision: ...


class _Decision(Protocol):
    @property
    def intent(self) -> str | None: ...


@dataclass(frozen=True)
class Change:
    text: str
    before: str | None  # intent id, None: not understood
    after: str | None


@dataclass
class ReplayReport:
    total: int = 0  # distinct transcripts replayed
    same: int = 0
    newly_understood: list[Change] = field(default_factory=list)  # not understood before, now an intent
    newly_lost: list[Change] = field(default_factory=list)  # understood before, now not (newly wrong)
    changed: list[Change] = field(default_factory=list)  # another intent than before

    @property
    def differences(self) -> int:
        return len(self.newly_understood) + len(self.newly_lost) + len(self.changed)


def replay(texts: Iterable[str], before: _Decides, after: _Decides) -> ReplayReport:
    """Match every distinct non-empty transcript with `before` and `after` and sort the differences."""
    report = ReplayReport()
    seen: set[str] = set()
    for raw in texts:
        text = " ".join(raw.split())
        if not text or text in seen:
            continue
        seen.add(text)
        report.total += 1
        old, new = before.match(text).intent, after.match(text).intent
        if old == new:
            report.same += 1
        elif old is None:
            report.newly_understood.append(Change(text, old, new))
        elif new is None:
            report.newly_lost.append(Change(text, old, new))
        else:
            report.changed.append(Change(text, old, new))
    return report


def report_lines(report: ReplayReport, title: dict[str, str], limit: int = 20) -> list[str]:
    """The report in Vietnamese, intents by their titles (`title`: id -> title)."""

    def name(intent: str | None) -> str:
        return "không hiểu" if intent is None else f"“{title.get(intent, intent)}”"

    lines = [
        f"Đã thử lại {report.total} câu nói khác nhau của người gọi: {report.same} không đổi, "
        f"{report.differences} thay đổi.",
    ]
    groups = (
        ("Mới hiểu được", report.newly_understood),
        ("Mới sai (trước hiểu, nay không hiểu)", report.newly_lost),
        ("Đổi chủ đề", report.changed),
    )
    for heading, changes in groups:
        lines.append(f"{heading}: {len(changes)}")
        for c in changes[:limit]:
            lines.append(f"  - “{c.text}”: {name(c.before)} → {name(c.after)}")
        if len(changes) > limit:
            lines.append(f"  ... và {len(changes) - limit} câu khác")
    return lines
