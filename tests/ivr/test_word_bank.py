"""The word bank file (config/word_bank.yaml): validated with file:line, listed for the studio with the
province's communes, and dynamic sentences played from it with their human share."""

from __future__ import annotations

import shutil

import pytest

from core.errors import ConfigError
from ivr.prompts import Prompts
from ivr.word_bank import BankUnit, bank_units, commune_units, load_word_bank
from voice.audio import read_audio, write_wav

from ..conftest import ROOT

BANK_FILE = ROOT / "config" / "word_bank.yaml"


def test_shipped_bank_lists_number_grammar_and_communes_for_the_studio():
    from broadcast.communes import load_communes
    from ivr.prompts import load_prompt_texts

    bank = load_word_bank(BANK_FILE, load_prompt_texts(ROOT / "config" / "prompts.yaml").prompts)
    texts = {u.text for u in bank.units}
    for word in ("không", "một", "mốt", "bốn", "tư", "năm", "lăm", "nhăm", "mười", "mươi", "linh", "lẻ"):
        assert word in texts
    for word in ("trăm", "nghìn", "ngàn", "triệu", "tỷ", "phẩy", "ngày", "tháng", "giờ", "phút"):
        assert word in texts
    names = [c.name for c in load_communes("Nghệ An").communes]
    units = bank_units(bank, names)
    assert all(isinstance(u, BankUnit) and len(u) == 4 for u in units)
    keys = [u.key for u in units]
    assert len(keys) == len(set(keys))  # one file per unit
    communes = [u for u in units if u.key.startswith("dd_")]
    assert len(communes) >= 100 and all(u.group == "Xã, phường" for u in communes)
    anh_son = next(u for u in communes if u.text == "Anh Sơn")
    assert anh_son.key == "dd_anh_son" and "Xã Anh Sơn" in anh_son.usage
    # Vietnamese for the person recording: no empty usage note in the file.
    assert all(u.usage for u in bank.units)


def test_studio_units_read_the_configured_files(settings):
    from ivr.word_bank import studio_units

    units = studio_units(settings, ["Xã Anh Sơn"])
    assert units[0] == ("so_0", "không", "Số đếm và chữ số", units[0].usage)
    assert ("dd_anh_son", "Anh Sơn", "Xã, phường") in [u[:3] for u in units]
    letters = {u.key: u.text for u in units if u.key.startswith("cc_")}
    assert letters["cc_b"] == "bê" and letters["cc_h"] == "hát" and letters["cc_dau_hyphen"] == "gạch"
    assert "cc_dd" not in letters  # Đ is "đê" like D: one recording
    assert len({u.key for u in units}) == len(units)


def test_a_dossier_code_read_back_is_wholly_covered_by_bank_units():
    """Digits, letter names and the words for marks: a code spelled back has no word left to synthesize."""
    from ivr.prompts import load_prompt_texts
    from ivr.word_bank import letter_units
    from voice.compose import plan, unit_index
    from voice.text.speech import normalize_for_speech
    from voice.text.table import load_table

    bank = load_word_bank(BANK_FILE, load_prompt_texts(ROOT / "config" / "prompts.yaml").prompts)
    table = load_table(ROOT / "config" / "abbreviations.yaml")
    extra = letter_units(table.letters, table.reading.model_dump(), (u.text for u in bank.units))
    index = unit_index({u.key: u.text for u in [*bank.units, *extra]})
    for code in ("H42-241204-0001", "000.00.12.H42-241204-0001", "XT.12-AB"):
        spoken = normalize_for_speech(code)
        assert plan(spoken, index).missing == (), (code, spoken)
    without = unit_index({u.key: u.text for u in bank.units})
    assert plan(normalize_for_speech("H42-241204-0001"), without).missing  # the letters made the difference


def test_commune_names_fold_to_distinct_keys_and_repeat_names_share_one():
    units = commune_units(["Xã Tân An", "Phường Tân Ân", "Phường Tân An", "Đặc khu Cồn Cỏ"], "Xã, phường")
    assert [(u.key, u.text) for u in units] == [
        ("dd_tan_an", "Tân An"),
        ("dd_tan_an_2", "Tân Ân"),
        ("dd_con_co", "Cồn Cỏ"),
    ]


def test_bad_bank_files_name_file_line_and_key(tmp_path):
    p = tmp_path / "bank.yaml"
    p.write_text(
        "groups:\n  so: Số\nunits:\n  so_1: {group: so, text: một}\n  so_mot: {group: so, text: Một}\n"
        "  greeting: {group: so, text: chào}\n  x: {group: nope, text: a}\n"
    )
    with pytest.raises(ConfigError) as e:
        load_word_bank(p, ["greeting"])
    msg = str(e.value)
    assert f"{p}:5: units.so_mot.text: same words as units.so_1" in msg
    assert f"{p}:6: units.greeting: is the key of a fixed prompt" in msg
    assert f"{p}:7: units.x.group: unknown group 'nope'" in msg
    p.write_text("groups: {so: Số}\nunits:\n  Bad-Key: {group: so, text: a}\n")
    with pytest.raises(ConfigError, match="bank.yaml:3"):
        load_word_bank(p)


class CountingSynth:
    def __init__(self, real):
        self.real = real
        self.calls: list[str] = []

    async def synthesize(self, text, **kw):
        self.calls.append(text)
        return await self.real.synthesize(text, **kw)


@pytest.fixture
def synth(settings):
    from voice.tts import Synthesizer

    s = Synthesizer.from_settings(settings)
    yield CountingSynth(s)
    s.close()


async def test_a_ticket_status_is_played_from_bank_words_and_a_missing_word_synthesized(
    settings, synth, tmp_path
):
    """Real espeak-ng words saved as recordings stand in for a voice talent."""
    prompts = Prompts(settings, synth)
    prompts.recordings_dir = tmp_path / "human"
    prompts.recordings_dir.mkdir()
    sentence = prompts.texts.templates.ticket_status.format(digits="1203", status="đang được xử lý")
    words = {"ct_phieu_so": "phiếu số", "so_1": "một", "so_nghin": "nghìn", "so_2": "hai", "so_tram": "trăm"}
    words |= {"so_linh": "linh", "so_3": "ba", "tt_dang_xu_ly": "đang được xử lý"}
    for key, text in words.items():
        write_wav(prompts.recordings_dir / f"{key}.wav", await synth.real.synthesize(text, sample_rate=16000))
    audio = await prompts.text_audio(sentence)
    assert synth.calls == [] and prompts.human_share(text=sentence) == 1.0
    assert audio.rate == 8000 and audio.duration_s > 1.5
    assert prompts.label_of(sentence) == "template:ticket_status"
    assert prompts.label_of("Một câu khác.") == "text"
    # The talent has not recorded "ba": that word alone is synthesized, the rest stays recorded.
    (prompts.recordings_dir / "so_3.wav").unlink()
    mixed = await prompts.text_audio(sentence)
    assert synth.calls == ["ba"]
    assert 0.6 < prompts.human_share(text=sentence) < 1.0
    assert abs(mixed.duration_s - audio.duration_s) < 0.6


async def test_without_recordings_dynamic_sentences_are_synthesized_whole(settings, synth, tmp_path):
    prompts = Prompts(settings, synth)
    prompts.recordings_dir = tmp_path / "empty"
    prompts.recordings_dir.mkdir()
    await prompts.text_audio("Phiếu số 12: đã có trả lời.")
    assert (
        synth.calls == ["Phiếu số 12: đã có trả lời."]
        and prompts.human_share(text="Phiếu số 12: đã có trả lời.") == 0
    )
    # A recorded fixed prompt counts fully human.
    shutil.copy(
        ROOT / "tests" / "fixtures" / "speech" / "ly_north_female.wav", prompts.recordings_dir / "goodbye.wav"
    )
    assert prompts.human_share(key="goodbye") == 1.0 and prompts.human_share(key="greeting") == 0.0
    assert read_audio(prompts.recordings_dir / "goodbye.wav").duration_s > 1
