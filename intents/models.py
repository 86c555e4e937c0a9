"""Typed, frozen shapes of the operator-edited intent files (`config/intents/*.yaml`)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

# What the call flow does after (or instead of) speaking the answer.
Action = Literal[
    "transfer",  # connect the caller to a person
    "record_feedback",  # record a complaint or petition
    "lookup_dossier",  # ask for a dossier code and read its progress
    "ticket_status",  # ask for a complaint ticket number and read its status
    "radio",  # play the latest commune radio bulletins
    "commune_team",  # connect to the caller's commune's community digital technology team
    "hangup",  # say goodbye and end the call
    "replay",  # say the last prompt again
]
ACTIONS: tuple[str, ...] = Action.__args__  # type: ignore[attr-defined]

# Keys with a meaning everywhere in the call: the intents that use them must have these actions.
RESERVED_KEYS = {"*": "replay", "0": "transfer"}

DIGIT_PATTERN = r"^(\*|0|[1-9](\.[1-9])?)$"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class IntentSpec(_Frozen):
    """One topic a caller may ask about, as written in a catalog file."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    title: str = Field(min_length=2, max_length=80)  # short Vietnamese name, used in clarifying questions
    menu_label: str | None = Field(None, max_length=120)  # "hỏi về thẻ căn cước"; default "hỏi về <title>"
    answer: str = Field(min_length=2)  # spoken answer (plain Vietnamese, speakable in max_answer_seconds)
    follow_up: str | None = None  # optional question asked after the answer
    digit: str | None = Field(None, pattern=DIGIT_PATTERN)  # keypad: "3" top menu, "1.2" sub-menu 1 item 2
    action: Action | None = None
    examples: tuple[str, ...] = Field(min_length=3)  # ways callers say it (more and more varied is better)
    keywords: dict[str, float] = Field(default_factory=dict)  # phrase -> weight in (0, 1]

    @field_validator("examples")
    @classmethod
    def _examples_not_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for ex in value:
            if not ex.strip():
                raise ValueError("an example is empty")
        return value

    @field_validator("keywords")
    @classmethod
    def _weights_in_range(cls, value: dict[str, float]) -> dict[str, float]:
        for phrase, weight in value.items():
            if not 0.0 < weight <= 1.0:
                raise ValueError(f"weight of {phrase!r} must be in (0, 1], got {weight}")
        return value

    @property
    def label(self) -> str:
        return self.menu_label or f"hỏi về {self.title}"


class IntentFile(_Frozen):
    """A catalog file: a list of intents under `intents:`."""

    intents: tuple[IntentSpec, ...] = Field(min_length=1)


class MenuGroup(_Frozen):
    """A top-level keypad key that opens a sub-menu."""

    digit: str = Field(pattern=r"^[1-9]$")
    title: str = Field(min_length=2, max_length=80)
    menu_label: str | None = Field(None, max_length=120)
    prompt: str | None = None  # optional hand-written prompt; default: built from the items

    @property
    def label(self) -> str:
        return self.menu_label or f"hỏi về {self.title}"


class MenuFile(_Frozen):
    """`_menu.yaml`: the words of the keypad tree (the items come from the intents' `digit`)."""

    welcome: str = Field(min_length=2)  # first thing a caller hears
    main_intro: str = ""  # said before the list of top-level keys
    prompt: str | None = None  # optional hand-written top-level prompt; default: built from the items
    item: str = Field("Để {label}, nhấn phím {digit}.", min_length=2)  # how one menu line is said
    global_keys: str = ""  # reminder of * and 0, said after every menu
    not_understood: str = Field(min_length=2)  # out-of-scope reply
    clarify: str = Field(min_length=2)  # "{first}" / "{second}" are intent titles
    groups: tuple[MenuGroup, ...] = ()

    @field_validator("item")
    @classmethod
    def _item_fields(cls, value: str) -> str:
        if "{label}" not in value or "{digit}" not in value:
            raise ValueError("must contain {label} and {digit}")
        return value

    @field_validator("clarify")
    @classmethod
    def _clarify_fields(cls, value: str) -> str:
        if "{first}" not in value or "{second}" not in value:
            raise ValueError("must contain {first} and {second}")
        return value


class DialectFile(_Frozen):
    """`config/dialect.yaml`: local words -> standard words, and words that carry no meaning."""

    words: dict[str, str] = Field(default_factory=dict)
    fillers: tuple[str, ...] = ()
    # Particles that close a request ("ạ", "nhé"): fillers to the matcher, but the end of a turn to the
    # listener (ivr.turn_text), which also learns closing words from the catalog's own examples.
    closing: tuple[str, ...] = ()
