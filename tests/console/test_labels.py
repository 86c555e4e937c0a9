"""Every code the hotline stores or shows has a Vietnamese label: a new member without one fails here."""

from __future__ import annotations

import re

from console.labels import (
    FAILURE_VI,
    INTENT_ACTION_VI,
    KIND_VI,
    OUTCOME_VI,
    TURN_ACTION_VI,
    action_label,
)
from intents.catalog import load_catalog
from intents.models import ACTIONS
from ivr.enums import Failure, Outcome, TurnAction, TurnKind, failed

from ..conftest import ROOT

CODE = re.compile(r"[a-z]+_[a-z_]+|\b[a-z]+:[a-z]")  # snake_case or a `fail:` style code


def _vietnamese(label: str) -> bool:
    return bool(label) and not CODE.search(label) and label[0].isupper()


def test_every_outcome_turn_action_failure_and_intent_action_has_a_label():
    for table, members in (
        (OUTCOME_VI, Outcome),
        (TURN_ACTION_VI, TurnAction),
        (FAILURE_VI, Failure),
        (KIND_VI, TurnKind),
        (INTENT_ACTION_VI, ACTIONS),
    ):
        missing = [str(m) for m in members if m not in table]
        assert not missing, missing
        assert all(_vietnamese(v) for v in table.values()), table
    for action in [*TurnAction, *ACTIONS, *(failed(f) for f in Failure)]:
        assert action_label(action) not in ("", "Thao tác khác", "Lỗi khác"), action


def test_outcome_labels_tell_the_outcomes_apart():
    # Old rows aside, two outcomes never read the same to a manager.
    labels = [OUTCOME_VI[o] for o in Outcome]
    assert len(set(labels)) == len(labels)


def test_every_topic_of_the_shipped_catalog_has_a_vietnamese_title():
    catalog = load_catalog(ROOT / "config" / "intents")
    assert catalog.intents
    for intent in catalog.intents:
        assert (
            intent.title
            and intent.title != intent.id
            and _vietnamese(intent.title[0].upper() + intent.title[1:])
        ), (
            intent.id,
            intent.title,
        )
