"""`vietasr` on the six real Vietnamese fixture clips: WER at 16 kHz and over a telephone line, streaming."""

from __future__ import annotations

import numpy as np
import pytest

from core.yamlfile import load_yaml
from tests.conftest import FIXTURES
from voice.asr import Recognizer, ulaw_chunk
from voice.asr.registry import shared_registry
from voice.asr.scoring import corpus_wer
from voice.asr.vietasr import VietAsrEngine
from voice.audio import AudioChunk, read_audio, resample, silence, ulaw_encode
from voice.text import normalize_for_matching

SPEECH = FIXTURES / "speech"
# Measured on these six clips (89 reference words): corpus WER 0.079 (7 errors) at 16 kHz and 0.090
# (8 errors) after the 8 kHz mu-law round trip, references and hypotheses through normalize_for_matching
# (so "19" == "mười chín"). The bounds allow about twice the measured errors, for small changes in the
# model or resampler; a broken resampler, byte order or rate mix-up (WER 0.8-1.0) fails them.
MAX_WER_16K = 0.15
MAX_WER_TELEPHONE = 0.20

pytestmark = pytest.mark.slow


def clips() -> list[tuple[AudioChunk, str]]:
    entries = load_yaml(SPEECH / "clips.yaml").data["clips"]
    return [(read_audio(SPEECH / e["file"]), e["text"]) for e in entries]


def telephone(chunk: AudioChunk) -> AudioChunk:
    """What a call delivers: 8 kHz, G.711 mu-law encoded and decoded."""
    return ulaw_chunk(ulaw_encode(resample(chunk, 8000).array()))


@pytest.fixture(scope="module")
def fixture_clips():
    return clips()


@pytest.fixture
async def recognizer(settings):
    rec = Recognizer.from_settings(settings, engine="vietasr")
    yield rec
    rec.close()


async def test_wer_at_16k_within_bound(recognizer, fixture_clips):
    hyps = [(await recognizer.transcribe(resample(audio, 16000))).text for audio, _ in fixture_clips]
    wer = corpus_wer([ref for _, ref in fixture_clips], hyps, normalize=normalize_for_matching)
    print(f"vietasr corpus WER at 16 kHz: {wer:.3f}", hyps)
    assert all(hyps), "every clip is real speech and must give some text"
    assert wer <= MAX_WER_16K


async def test_wer_over_telephone_line_within_bound(recognizer, fixture_clips):
    """8 kHz mu-law in 20 ms chunks through a stream, as the IVR feeds it."""
    hyps = []
    for audio, _ in fixture_clips:
        call = telephone(audio)
        stream = recognizer.open_stream(8000)
        for i in range(0, len(call.audio), 320):  # 160 samples = 20 ms at 8 kHz
            await stream.accept(call.with_audio(call.audio[i : i + 320]))
        hyps.append((await stream.finish()).text)
    wer = corpus_wer([ref for _, ref in fixture_clips], hyps, normalize=normalize_for_matching)
    print(f"vietasr corpus WER over 8 kHz mu-law: {wer:.3f}", hyps)
    assert wer <= MAX_WER_TELEPHONE


async def test_streaming_in_20ms_chunks_equals_one_shot(recognizer, fixture_clips):
    audio = resample(fixture_clips[-1][0], 16000)  # the longest clip (6 s)
    one_shot = await recognizer.transcribe(audio)
    stream = recognizer.open_stream(16000)
    partials = []
    for i in range(0, len(audio.audio), 640):
        partial = await stream.accept(audio.with_audio(audio.audio[i : i + 640]))
        if partial is not None:
            assert not partial.is_final
            partials.append(partial.text)
    final = await stream.finish()
    assert final.is_final and final.text == one_shot.text
    assert len(partials) >= 3, "partials should grow while the caller speaks"
    assert final.text.startswith(partials[0])


async def test_input_rate_does_not_change_the_words(recognizer, fixture_clips):
    """24 kHz (file rate), 44.1 kHz stereo and 16 kHz give the same transcript: resampling is at the edge."""
    audio = fixture_clips[1][0]
    base = (await recognizer.transcribe(resample(audio, 16000))).text
    stereo = AudioChunk.from_array(np.stack([audio.array(), audio.array()], axis=1), audio.rate)
    assert (await recognizer.transcribe(audio)).text == base
    assert (await recognizer.transcribe(resample(stereo, 44100))).text == base


async def test_silence_gives_empty_transcript(recognizer):
    result = await recognizer.transcribe(silence(2.0, 8000))
    assert result.text == "" and result.is_final
    empty = await recognizer.transcribe(AudioChunk(b"", 16000))
    assert empty.text == ""


async def test_engine_reports_no_confidence_or_timings(recognizer, fixture_clips):
    """viet-asr's payload has text only; the result says so with None/[] instead of invented numbers."""
    result = await recognizer.transcribe(fixture_clips[0][0])
    assert result.text and result.confidence is None and result.words == []


def test_engine_declares_16k_and_rejects_other_rates(settings):
    engine = shared_registry().get("vietasr", settings.voice.asr, settings.path)
    assert isinstance(engine, VietAsrEngine) and engine.sample_rates == (16000,)
    from voice.asr import AsrError

    with pytest.raises(AsrError, match="16000 Hz"):
        engine.start_stream(8000)


def test_engine_accepts_non_contiguous_arrays(settings, fixture_clips):
    """The library's accept() rejects strided arrays; our stream copies them to C order."""
    engine = shared_registry().get("vietasr", settings.voice.asr, settings.path)
    mono = resample(fixture_clips[1][0], 16000).array()
    strided = np.stack([mono, mono], axis=1)[:, 0]
    assert not strided.flags["C_CONTIGUOUS"]
    stream = engine.start_stream(16000)
    stream.accept(strided)
    assert stream.final().text
    stream.close()


def test_unknown_preset_is_a_model_error(settings):
    from voice.asr import AsrModelError

    asr = settings.voice.asr.model_copy(
        update={"vietasr": settings.voice.asr.vietasr.model_copy(update={"preset": "no-such-preset"})}
    )
    with pytest.raises(AsrModelError, match="no-such-preset"):
        VietAsrEngine.load(asr)
