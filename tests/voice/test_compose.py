"""Sentences from recorded units: Vietnamese number grammar covered by the bank, longest runs first,
missing words synthesized in runs, pauses by punctuation, and the composed audio's sources."""

from __future__ import annotations

import numpy as np
import pytest

from ivr.word_bank import load_word_bank
from voice.audio import AudioChunk, write_wav
from voice.compose import Composer, Pauses, Source, plan, unit_index
from voice.text import normalize_for_speech

from ..conftest import ROOT

BANK = load_word_bank(ROOT / "config" / "word_bank.yaml")
INDEX = unit_index(BANK.texts())


def keys(text: str) -> list[str | None]:
    return [p.key for p in plan(normalize_for_speech(text), INDEX).parts]


@pytest.mark.parametrize(
    ("number", "words", "units"),
    [
        ("21", "hai mươi mốt", ["so_2", "so_muoi", "so_1_mot"]),
        ("25", "hai mươi lăm", ["so_2", "so_muoi", "so_5_lam"]),
        ("15", "mười lăm", ["so_10", "so_5_lam"]),
        ("105", "một trăm linh năm", ["so_1", "so_tram", "so_linh", "so_5"]),
        ("24", "hai mươi bốn", ["so_2", "so_muoi", "so_4"]),  # voice/text's northern default, not "tư"
        ("1.000.000", "một triệu", ["so_1", "so_trieu"]),
        (
            "2026",
            "hai nghìn không trăm hai mươi sáu",
            ["so_2", "so_nghin", "so_0", "so_tram", "so_2", "so_muoi", "so_6"],
        ),
        ("10", "mười", ["so_10"]),
        ("2,5", "hai phẩy năm", ["so_2", "so_phay", "so_5"]),
    ],
)
def test_numbers_are_read_by_voice_text_and_covered_by_bank_units(number, words, units):
    assert normalize_for_speech(number) == words
    assert keys(number) == units


def test_every_number_and_date_word_voice_text_produces_has_a_unit():
    texts = [
        str(n) for n in (*range(0, 1001), 1_005, 10_015, 21_000, 105_000, 1_000_000, 2_500_000, 3_000_000_000)
    ]
    texts += ["ngày 05/03/2026 lúc 14:30", "15/12/2026", "thứ 4", "500.000 đồng"]
    for text in texts:
        missing = plan(normalize_for_speech(text), INDEX).missing
        assert not missing, (text, missing)


def test_longest_recorded_run_wins_and_missing_words_are_one_synthetic_run():
    index = unit_index(
        {
            "phrase": "phiếu số",
            "phieu": "phiếu",
            "so": "số",
            "hai": "hai",
            "status": "đang được xử lý",
            "dang": "đang",
        }
    )
    result = plan(
        "Phiếu số hai, đang được xử lý. Hồ sơ cấp giấy khai sinh: hai.", index, Pauses(0.05, 0.2, 0.4)
    )
    assert [(p.text, p.source, p.key) for p in result.parts] == [
        ("Phiếu số", Source.HUMAN, "phrase"),  # the phrase, not "phiếu" + "số"
        ("hai", Source.HUMAN, "hai"),
        ("đang được xử lý", Source.HUMAN, "status"),  # the whole status, not "đang" + synthetic rest
        ("Hồ sơ cấp giấy khai sinh", Source.SYNTHETIC, None),  # one run, synthesized together
        ("hai", Source.HUMAN, "hai"),
    ]
    assert [p.pause_after for p in result.parts] == [0.05, 0.2, 0.4, 0.2, 0.4]
    assert result.missing == ("Hồ", "sơ", "cấp", "giấy", "khai", "sinh")
    assert (result.human_words, result.words) == (8, 14)


def test_a_whole_recorded_sentence_beats_its_phrases_and_tones_and_case_are_ignored():
    index = unit_index({"whole": "Xin chào anh chị.", "xin": "xin chào", "anh": "anh chị"})
    assert [p.key for p in plan("xin chào Anh Chị", index).parts] == ["whole"]
    assert [p.key for p in plan("Hoà", unit_index({"hoa": "hòa"})).parts] == ["hoa"]  # hoà == hòa


def test_a_synthetic_run_stops_at_a_sentence_end():
    result = plan("một hai. ba bốn", unit_index({"x": "năm"}))
    assert [p.text for p in result.parts] == ["một hai", "ba bốn"]


def _tone(freq: float, seconds: float, gain: float, rate: int = 16000) -> AudioChunk:
    t = np.arange(int(rate * seconds)) / rate
    return AudioChunk.from_array(gain * np.sin(2 * np.pi * freq * t), rate)


class FakeSynth:
    def __init__(self):
        self.texts: list[str] = []

    async def __call__(self, text: str) -> AudioChunk:
        self.texts.append(text)
        return _tone(300, 0.4, 0.5, 22050)


async def test_composer_uses_recordings_synthesizes_only_the_missing_run_and_reports_sources(tmp_path):
    write_wav(tmp_path / "phieu.wav", _tone(200, 0.5, 0.05))  # quiet take
    write_wav(tmp_path / "hai.wav", _tone(250, 0.3, 0.8))  # loud take
    synth = FakeSynth()
    composer = Composer(
        {"phieu": "phiếu số", "hai": "hai", "ba": "ba"},  # "ba" is not recorded
        tmp_path,
        normalize=normalize_for_speech,
        synthesize=synth,
        rate=8000,
        pauses=Pauses(0.06, 0.25, 0.45),
    )
    made = await composer.compose("Phiếu số 2: đã xong.")
    assert made is not None and made.audio.rate == 8000
    assert [(p.text, p.source) for p in made.parts] == [
        ("Phiếu số", Source.HUMAN),
        ("hai", Source.HUMAN),
        ("đã xong", Source.SYNTHETIC),
    ]
    assert synth.texts == ["đã xong"]
    assert made.human_s == pytest.approx(0.8, abs=0.06) and made.synthetic_s == pytest.approx(0.4, abs=0.04)
    assert 0.6 < made.human_share < 0.75
    # pieces + a word pause + a clause pause
    assert made.audio.duration_s == pytest.approx(made.human_s + made.synthetic_s + 0.06 + 0.25, abs=0.02)
    # Nothing recorded in the sentence: None (the caller synthesizes it whole, one voice).
    assert await composer.compose("Xin cảm ơn.") is None
    # Too little recorded (1 of 4 words) under min_share: None as well.
    composer.min_share = 0.5
    assert await composer.compose("hai con mèo đen") is None


async def test_a_recording_removed_after_planning_is_synthesized(tmp_path):
    write_wav(tmp_path / "hai.wav", _tone(250, 0.3, 0.5))
    synth = FakeSynth()
    composer = Composer({"hai": "hai"}, tmp_path, normalize=normalize_for_speech, synthesize=synth, rate=8000)
    assert (await composer.compose("hai")).parts[0].source == Source.HUMAN
    (tmp_path / "hai.wav").unlink()
    composer.recorded = lambda: {"hai": "hai"}  # the plan still believes it is there
    made = await composer.compose("hai")
    assert made.parts[0].source == Source.SYNTHETIC and synth.texts == ["hai"]
