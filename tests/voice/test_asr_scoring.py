"""Word and character error rates."""

from __future__ import annotations

import pytest

from voice.asr.scoring import corpus_cer, corpus_wer, edit_distance
from voice.text import normalize_for_matching


@pytest.mark.parametrize(
    "ref,hyp,expected",
    [
        ("", "", 0),
        ("a b c", "a b c", 0),
        ("a b c", "a c", 1),
        ("a b", "a x b", 1),
        ("a b c", "x y z", 3),
        ("", "a b", 2),
        ("a b", "", 2),
    ],
)
def test_word_edit_distance(ref, hyp, expected):
    assert edit_distance(ref.split(), hyp.split()) == expected


def test_character_edit_distance():
    assert edit_distance("kitten", "sitting") == 3


def test_corpus_wer_weights_by_reference_words():
    # 1 error in a 1-word clip and 0 in a 9-word clip: 1/10, not the mean of 1.0 and 0.0
    assert corpus_wer(["a", "b c d e f g h i j"], ["x", "b c d e f g h i j"]) == pytest.approx(0.1)


def test_corpus_wer_with_vietnamese_normalization():
    refs = ["Đến cuối thế kỷ 19, ngành đánh bắt cá được thương mại hoá."]
    hyps = ["đến cuối thế kỷ mười chín ngành đánh bắt cá được thương mại hóa"]
    assert corpus_wer(refs, hyps, normalize=normalize_for_matching) == 0.0
    assert corpus_wer(refs, hyps) > 0.1  # without normalization, digits, punctuation and tone placement count


def test_corpus_cer():
    assert corpus_cer(["xin chào"], ["xin chao"]) == pytest.approx(1 / 8)
    assert corpus_cer([""], [""]) == 0.0
    with pytest.raises(ValueError):
        corpus_wer(["a"], [])
