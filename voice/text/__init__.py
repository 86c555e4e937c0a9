"""Vietnamese text normalization shared by TTS, intent matching and radio bulletins.

- `nfc`, `canonical_tones` (hoà == hòa: every syllable gets the CLASSIC tone placement, hòa/thủy/
  khỏe, the keyboard default), `fold_tones` (no diacritics, đ -> d);
- `normalize_for_matching`: lowercase, canonical tones, no punctuation, numbers/times/dates as words,
  one spelling for i/y variants (lí/lý) and for ngàn/nghìn;
- `normalize_for_speech`: numbers, dates, times, money, phone numbers, codes, abbreviations read
  aloud, using the editable table config/abbreviations.yaml (settings key voice.text.abbreviations);
- `split_sentences`, `number_to_words` (northern forms by default: nghìn, linh; `SOUTH`: ngàn, lẻ);
- `spell_digits` (a code read back digit by digit), `digits_from_speech` (a code said aloud).

Vietnamese number writing is assumed: "." groups thousands (1.500.000) and "," is the decimal mark
(2,5 = hai phẩy năm); "1,500,000" with two or more comma groups is read as thousands too.
Call `configure(settings)` once at start-up so that calls without an explicit table use the table
named in the settings (the default is config/abbreviations.yaml of this project).
"""

from __future__ import annotations

from voice.text.matching import normalize_for_matching
from voice.text.numbers import (
    NORTH,
    SOUTH,
    NumberStyle,
    digits_from_speech,
    digits_to_words,
    number_to_words,
    spell_digits,
)
from voice.text.sentences import split_sentences
from voice.text.speech import normalize_for_speech
from voice.text.table import TextTable, configure, load_table, table_from_settings
from voice.text.tones import canonical_tones, fold_tones, nfc

__all__ = [
    "NORTH",
    "SOUTH",
    "NumberStyle",
    "TextTable",
    "canonical_tones",
    "configure",
    "digits_from_speech",
    "digits_to_words",
    "fold_tones",
    "load_table",
    "nfc",
    "normalize_for_matching",
    "normalize_for_speech",
    "number_to_words",
    "spell_digits",
    "split_sentences",
    "table_from_settings",
]
