"""`intents replay`: what a draft catalog changes on callers' words, sorted and said in Vietnamese."""

from __future__ import annotations

from dataclasses import dataclass

from intents.replay import replay, report_lines


@dataclass(frozen=True)
class Verdict:
    intent: str | None


class Table:
    """A matcher that answers from a table (and records what it was asked)."""

    def __init__(self, answers: dict[str, str | None]) -> None:
        self.answers = answers
        self.asked: list[str] = []

    def match(self, text: str) -> Verdict:
        self.asked.append(text)
        return Verdict(self.answers.get(text))


def test_differences_are_sorted_and_repeats_counted_once():
    before = Table({"a": "coach", "b": None, "c": "coach", "d": "fishing"})
    after = Table({"a": "coach", "b": "coach", "c": None, "d": "coach"})
    report = replay(["a", "b", " b ", "c", "d", "", "e"], before, after)
    assert report.total == 5 and report.same == 2  # "a", and "e" not understood by either
    assert [(c.text, c.before, c.after) for c in report.newly_understood] == [("b", None, "coach")]
    assert [(c.text, c.before, c.after) for c in report.newly_lost] == [("c", "coach", None)]
    assert [(c.text, c.before, c.after) for c in report.changed] == [("d", "fishing", "coach")]
    assert before.asked == ["a", "b", "c", "d", "e"]  # each distinct text once


def test_the_report_names_topics_by_title_in_vietnamese():
    report = replay(["b", "c"], Table({"c": "coach"}), Table({"b": "coach"}))
    lines = report_lines(report, {"coach": "huấn luyện viên"})
    text = "\n".join(lines)
    assert lines[0].startswith("Đã thử lại 2 câu")
    assert "Mới hiểu được: 1" in text and "Mới sai (trước hiểu, nay không hiểu): 1" in text
    assert "“b”: không hiểu → “huấn luyện viên”" in text
    assert "coach" not in text
