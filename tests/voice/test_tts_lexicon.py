"""The pronunciation lexicon: respellings reach the engine (every engine, radio included), whole words
only, per-engine overrides, edits picked up, mistakes reported with file, line and key."""

from __future__ import annotations

import time

import pytest

from core.errors import ConfigError
from tests.voice.test_tts_synthesizer import Counting
from voice.tts import Synthesizer
from voice.tts.lexicon import load_lexicon, parse_lexicon
from voice.tts.registry import engine_class


def _write(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def test_shipped_lexicon_respells_app_names_and_loanwords(settings):
    from voice.tts.lexicon import lexicon_from_settings

    lexicon = lexicon_from_settings(settings)
    said = lexicon.apply("Cài Zalo, mở sàn Voso hoặc Postmart, nộp online.", "espeak")
    assert said == "Cài da lô, mở sàn vô sô hoặc pốt mát, nộp on lai."


def test_whole_words_any_case_and_engine_override(tmp_path):
    lexicon = load_lexicon(
        _write(
            tmp_path / "lexicon.yaml",
            "words:\n  app: áp\n  e-mail: i meo\nengines:\n  piper:\n    app: ép\n",
        )
    )
    assert lexicon.apply("App, APP và app.", "espeak") == "áp, áp và áp."
    assert lexicon.apply("Gửi e-mail qua app", "piper") == "Gửi i meo qua ép"
    # Inside other words, web addresses and codes it changes nothing.
    assert lexicon.apply("apple happy app.gov.vn e-mail2", "espeak") == "apple happy app.gov.vn e-mail2"


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ("words:\n  Zalo: da lô\n  Voso: 5\n", ":3: words"),
        ("words:\n  Zalo: da lô\n  zalo: da lô\n", ":1: words"),  # listed twice regardless of case
        ("words:\n  Zalo: da lô\nengines:\n  festival:\n    Zalo: da lô\n", ":4: engines"),
        ("words:\n  two words: x\n", ":2: words.two words"),
    ],
)
def test_mistakes_name_file_line_and_key(tmp_path, body, where):
    path = _write(tmp_path / "lexicon.yaml", body)
    with pytest.raises(ConfigError) as exc:
        load_lexicon(path)
    assert f"{path}{where}" in str(exc.value)


def test_empty_file_is_an_empty_lexicon(tmp_path):
    from core.yamlfile import load_yaml

    lexicon = parse_lexicon(load_yaml(_write(tmp_path / "lexicon.yaml", "# nothing yet\n")))
    assert lexicon.apply("Zalo", "espeak") == "Zalo"


def test_engine_is_given_the_respelled_text_and_edits_apply(tmp_path, settings):
    """The real espeak engine, observed: what the synthesizer hands it changes with the lexicon file."""
    path = _write(tmp_path / "lexicon.yaml", "words:\n  Zalo: da lô\n")
    tts = settings.voice.tts.model_copy(update={"lexicon": path, "cache": False})
    settings = settings.model_copy(update={"voice": settings.voice.model_copy(update={"tts": tts})})
    with Synthesizer.from_settings(settings) as synth:
        counting = Counting(engine_class("espeak").from_settings(settings))
        synth.registry.put("espeak", counting)
        respelled = synth.synthesize_blocking("Anh chị cài Zalo.")
        assert counting.calls == ["Anh chị cài da lô."]
        time.sleep(0.01)  # a new modification time even on coarse file systems
        _write(path, "words:\n  Zalo: da lô ô\n")
        synth.synthesize_blocking("Anh chị cài Zalo.")
        assert counting.calls[-1] == "Anh chị cài da lô ô."
        _write(path, "words: {}\n")
        plain = synth.synthesize_blocking("Anh chị cài Zalo.")
        assert counting.calls[-1] == "Anh chị cài Zalo."
    assert respelled.samples != plain.samples  # the audio differs, not only the text


def test_radio_bulletins_are_respelled_too(settings):
    """Commune radio speaks through the same synthesizer: its sentences reach espeak-ng respelled."""
    from broadcast.render import SpeechRenderer

    tts = settings.voice.tts.model_copy(update={"cache": False})
    settings = settings.model_copy(update={"voice": settings.voice.model_copy(update={"tts": tts})})
    renderer = SpeechRenderer(settings)
    try:
        counting = Counting(engine_class("espeak").from_settings(settings))
        renderer.synth.registry.put("espeak", counting)
        clip = renderer.speak(
            [("Bà con bán nông sản trên sàn Voso và Postmart.", -1)],
            rate=16000,
            engine=None,
            speed=None,
            workers=1,
            pause_sentence_ms=0,
        )
    finally:
        renderer.synth.close()
    assert counting.calls == ["Bà con bán nông sản trên sàn vô sô và pốt mát."] and clip.duration_s > 1.0


def test_normalize_command_shows_the_respelling_for_an_engine():
    from typer.testing import CliRunner

    from hotline.cli import app

    runner = CliRunner()
    text = "Cài Zalo, nộp hồ sơ online lúc 8h30."
    with_lexicon = runner.invoke(app, ["normalize", text, "--engine", "espeak"])
    plain = runner.invoke(app, ["normalize", text])
    assert with_lexicon.exit_code == 0 and plain.exit_code == 0, with_lexicon.output + plain.output
    assert with_lexicon.output.strip() == "Cài da lô, nộp hồ sơ on lai lúc tám giờ ba mươi phút."
    assert "Zalo" in plain.output and "online" in plain.output


def test_config_check_reports_a_lexicon_mistake(tmp_path):
    from typer.testing import CliRunner

    from hotline.cli import app

    bad = _write(tmp_path / "lexicon.yaml", "words:\n  Zalo: 5\n")
    result = CliRunner().invoke(app, ["config", "check"], env={"HOTLINE_VOICE__TTS__LEXICON": str(bad)})
    # (the `hotline` entry point prints a ConfigError as one line and exits 2)
    assert isinstance(result.exception, ConfigError), result.output
    assert f"{bad}:2: words.Zalo" in str(result.exception) and "quote it" in str(result.exception)
