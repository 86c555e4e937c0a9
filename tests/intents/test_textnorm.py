"""Matching-side text preparation: dialect mapping, fillers, shared number normalization."""

from __future__ import annotations

from intents.textnorm import TextPreparer
from voice.text import fold_tones


def _preparer() -> TextPreparer:
    return TextPreparer(
        {"răng": "sao", "mô": "đâu", "ở mô": "ở đâu", "bầy tui": "chúng tôi", "chừ": "bây giờ"},
        ["à", "dạ", "cho tôi hỏi", "alo"],
    )


def test_dialect_words_map_to_standard_on_word_boundaries():
    p = _preparer().prepare("Dạ, bầy tui chừ làm căn cước ở mô?")
    assert p.toned == "chúng tôi bây giờ làm căn cước ở đâu"
    # "mô" inside another word is not touched
    assert "đâu" not in _preparer().prepare("mômen").toned


def test_fillers_removed_but_only_as_whole_phrases():
    prep = _preparer()
    assert prep.prepare("alo à cho tôi hỏi giá lúa").toned == "giá lúa"
    assert prep.prepare("cho tôi").toned == "cho tôi"  # not the full filler phrase
    assert prep.is_filler_only("à, alo... dạ!")
    assert not prep.is_filler_only("")


def test_folded_form_and_numbers_come_from_the_shared_normalizer():
    from voice.text import fold_tones, normalize_for_matching

    p = _preparer().prepare("Con tôi 14 tuổi, làm thẻ")
    assert p.toned == normalize_for_matching("Con tôi 14 tuổi, làm thẻ")
    assert "mười bốn" in p.toned
    assert p.folded == fold_tones(p.toned)
    assert "đ" not in _preparer().prepare("đất đai").folded


def test_canonical_tone_placement_makes_old_and_new_spelling_equal():
    prep = _preparer()
    assert prep.prepare("hoà giải").toned == prep.prepare("hòa giải").toned


def test_written_and_spelled_acronyms_mean_the_same_as_their_words():
    prep = _preparer()
    words = prep.prepare("làm căn cước công dân ở mô").toned
    assert words == "làm căn cước công dân ở đâu"
    for said in ("làm CCCD ở mô", "làm xê xê xê đê ở mô", "làm cờ cờ cờ đờ ở mô", "lam xe xe xe de o mo"):
        assert prep.prepare(said).folded == fold_tones(words), said


def test_spelled_names_that_spell_no_acronym_stay_words():
    prep = _preparer()
    # "tê" (there) and "mờ" (blurry) are letter names only inside an acronym
    assert prep.prepare("bờ đê cái tê bị mờ").toned == "bờ đê cái tê bị mờ"
