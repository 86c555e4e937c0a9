"""The labeled set: big and varied enough, independent of the catalog, and passing at the stated bound."""

from __future__ import annotations

from collections import Counter

import pytest

from intents.evaluate import NONE, evaluate, load_cases
from tests.intents.conftest import CASES

# Stated bound (the target): at least 95 % of all cases right, at least 90 % of out-of-scope
# talk rejected. A clarify decision counts as its best intent.
MIN_ACCURACY = 0.95
MIN_REJECTION = 0.90


@pytest.fixture(scope="module")
def eval_cases(catalog):
    return load_cases(CASES / "eval_cases.yaml", set(catalog.ids))


def test_eval_set_shape(eval_cases, catalog):
    counts = Counter(c.intent for c in eval_cases)
    assert len(eval_cases) >= 200
    assert counts[NONE] >= 30
    assert set(catalog.ids) <= set(counts), "every intent has labeled cases"
    dialect = ("răng", "rứa", " mô", " chi", " ni", "chừ", "nỏ", "tui", "bầy tui", "mần")
    assert sum(any(w in f" {c.text}" for w in dialect) for c in eval_cases) >= 25


def test_eval_cases_are_not_catalog_examples(eval_cases, catalog):
    from voice.text import fold_tones, normalize_for_matching

    def key(s: str) -> str:
        return fold_tones(normalize_for_matching(s))

    examples = {key(ex) for i in catalog.intents for ex in i.examples}
    copied = [c.text for c in eval_cases if key(c.text) in examples]
    assert not copied
    dev = {key(c.text) for c in load_cases(CASES / "dev_cases.yaml")}
    assert not [c.text for c in eval_cases if key(c.text) in dev]
    holdout = load_cases(CASES / "holdout_cases.yaml")
    assert not [c.text for c in holdout if key(c.text) in examples | dev]


def test_accuracy_and_rejection_bound(matcher, eval_cases):
    report = evaluate(matcher, eval_cases)
    misses = [
        (c["expected"], c["predicted"], c["text"]) for c in report.cases if c["expected"] != c["predicted"]
    ]
    assert report.accuracy >= MIN_ACCURACY, misses
    assert report.rejection >= MIN_REJECTION, misses


def test_holdout_set_bound(matcher, catalog):
    """A second, later-written set; its bound is its first blind measurement (90 %), not the target."""
    cases = load_cases(CASES / "holdout_cases.yaml", set(catalog.ids))
    report = evaluate(matcher, cases)
    assert report.accuracy >= 0.90 and report.rejection >= 0.90, report.confusions()


def test_unknown_label_is_reported_with_line(tmp_path, catalog):
    from core.errors import ConfigError

    f = tmp_path / "cases.yaml"
    f.write_text('cases:\n  - {text: "làm căn cước", intent: cccd}\n  - {text: "x", intent: cccdd}\n')
    with pytest.raises(ConfigError, match=rf"{f}:3: cases\[1\]\.intent: unknown intent 'cccdd'"):
        load_cases(f, set(catalog.ids))
