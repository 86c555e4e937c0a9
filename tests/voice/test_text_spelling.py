"""Acronyms spelled letter by letter map back to the reading table's abbreviations."""

from __future__ import annotations

import pytest

from voice.text import normalize_for_matching
from voice.text.spelling import acronym_reader, letter_key, letter_names
from voice.text.table import load_table


def _read(text: str) -> str:
    return " ".join(acronym_reader().read(normalize_for_matching(text).split()))


@pytest.mark.parametrize(
    ("heard", "meaning"),
    [
        ("xê xê xê đê", "căn cước công dân"),
        ("cờ cờ cờ đờ", "căn cước công dân"),
        ("xe xe xe de", "căn cước công dân"),  # tones dropped by the recognizer
        ("CCCD", "căn cước công dân"),
        ("bê hát y tê", "bảo hiểm y tế"),
        ("bờ hờ i tờ", "bảo hiểm y tế"),
        ("u bê en đê", "ủy ban nhân dân"),
        ("u bê en nờ đê", "ủy ban nhân dân"),
        ("vê en e i đê", "vneid"),  # the table's reading of VNeID is itself a spelling: the name stays
        ("vê en e ai đi", "vneid"),
        ("ô tê pê", "otp"),
        ("giê pê e lờ ích xì", "giấy phép lái xe"),
    ],
)
def test_spelled_acronym_means_its_table_words(heard, meaning):
    assert _read(f"làm {heard} ở đâu") == f"làm {meaning} ở đâu"


@pytest.mark.parametrize("text", ["bờ đê cái tê bị mờ", "em ca hát", "a bê xê", "ô tô con"])
def test_letter_names_that_spell_no_acronym_stay_words(text):
    assert _read(text) == normalize_for_matching(text)


def test_letter_names_cover_every_letter_with_and_without_tones():
    names = letter_names(load_table())
    letters = set().union(*names.values())
    assert set("ABCDEFGHIJKLMNOPQRSTUVWXYZ") <= letters
    assert {"B"} <= names["be"] and {"B"} <= names["bo"] and {"S"} <= names["et xi"]
    assert letter_key("VNeID") == "VNEID" and letter_key("HĐND") == "HDND"
