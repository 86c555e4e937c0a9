"""Which words of a sentence the hotline will say in a recorded human voice and which it must synthesize."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ivr.prompts import Prompts
from voice.compose import Plan, Source

if TYPE_CHECKING:
    from intents.catalog import Catalog
    from ivr.settings import IvrConfig


@dataclass(frozen=True)
class SpokenPlan:
    """A sentence as the hotline will speak it, for operators: its parts and what they sound like."""

    plan: Plan
    composed: bool  # False: too little is recorded, the whole sentence is synthesized (one voice)
    min_share: float

    @property
    def all_human(self) -> bool:
        return self.composed and not self.plan.missing

    @property
    def missing(self) -> list[str]:
        """The words with no recording, each once, in order."""
        return list(dict.fromkeys(w.lower() for w in self.plan.missing))


def speech_plan(
    settings: IvrConfig, text: str, communes: list[str], catalog: Catalog | None = None
) -> SpokenPlan | None:
    """The plan for `text` against the recordings present now (the catalog's recorded answers and menu
    lines among them); None when the word bank is off (blocking)."""
    prompts = Prompts(settings, None, commune_names=communes)
    prompts.use_catalog(catalog)
    composer = prompts.composer()
    if composer is None or not text.strip():
        return None
    plan = composer.plan_text(text)
    min_share = settings.ivr.word_bank.min_share
    composed = plan.human_words > 0 and plan.human_words >= min_share * plan.words
    return SpokenPlan(plan, composed, min_share)


__all__ = ["Source", "SpokenPlan", "speech_plan"]
