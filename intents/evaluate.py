"""Measure a matcher on a labeled file of utterances: accuracy, per-intent precision/recall, rejection."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from core.errors import ConfigError
from core.yamlfile import load_yaml, validate_doc
from intents.matcher import Matcher

NONE = "none"  # label of out-of-scope utterances


class Case(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    text: str
    intent: str = Field(min_length=1)


class CaseFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    cases: tuple[Case, ...] = Field(min_length=1)


def load_cases(path: Path | str, known_ids: set[str] | None = None) -> list[Case]:
    """Read `cases: [{text, intent}]`; unknown intent labels are errors naming the line."""
    path = Path(path)
    doc = load_yaml(path)
    data = doc.data if doc.data is not None else {}
    parsed = validate_doc(CaseFile, doc, heading="invalid cases file", data=data)
    if known_ids is not None:
        bad = [
            f"{doc.where(('cases', i, 'intent'))}: cases[{i}].intent: unknown intent {c.intent!r}"
            for i, c in enumerate(parsed.cases)
            if c.intent != NONE and c.intent not in known_ids
        ]
        if bad:
            raise ConfigError("invalid cases file:\n  " + "\n  ".join(bad))
    return list(parsed.cases)


@dataclass
class Report:
    cases: list[dict[str, Any]] = field(default_factory=list)

    @property
    def accuracy(self) -> float:
        return sum(c["expected"] == c["predicted"] for c in self.cases) / max(1, len(self.cases))

    @property
    def in_scope_accuracy(self) -> float:
        ins = [c for c in self.cases if c["expected"] != NONE]
        return sum(c["expected"] == c["predicted"] for c in ins) / max(1, len(ins))

    @property
    def rejection(self) -> float:
        """Share of out-of-scope cases that got no intent."""
        oos = [c for c in self.cases if c["expected"] == NONE]
        return sum(c["predicted"] == NONE for c in oos) / max(1, len(oos))

    @property
    def clarify_rate(self) -> float:
        return sum(bool(c.get("clarify")) for c in self.cases) / max(1, len(self.cases))

    def per_intent(self) -> dict[str, dict[str, float]]:
        labels = sorted({c["expected"] for c in self.cases} | {c["predicted"] for c in self.cases})
        out: dict[str, dict[str, float]] = {}
        for label in labels:
            tp = sum(c["expected"] == label and c["predicted"] == label for c in self.cases)
            predicted = sum(c["predicted"] == label for c in self.cases)
            actual = sum(c["expected"] == label for c in self.cases)
            out[label] = {
                "precision": tp / predicted if predicted else 0.0,
                "recall": tp / actual if actual else 0.0,
                "support": actual,
            }
        return out

    def confusions(self) -> list[tuple[str, str, int]]:
        counts = Counter(
            (c["expected"], c["predicted"]) for c in self.cases if c["expected"] != c["predicted"]
        )
        return [(e, p, n) for (e, p), n in counts.most_common()]

    def to_dict(self) -> dict[str, Any]:
        return {
            "accuracy": self.accuracy,
            "in_scope_accuracy": self.in_scope_accuracy,
            "out_of_scope_rejection": self.rejection,
            "clarify_rate": self.clarify_rate,
            "per_intent": self.per_intent(),
            "cases": self.cases,
        }


def evaluate(matcher: Matcher, cases: list[Case]) -> Report:
    """Run every case; a clarify decision counts as its best intent (the stricter reading)."""
    report = Report()
    for case in cases:
        d = matcher.match(case.text)
        report.cases.append(
            {
                "text": case.text,
                "expected": case.intent,
                "predicted": d.intent or NONE,
                "score": round(d.score, 4),
                "clarify": d.clarify,
            }
        )
    return report
