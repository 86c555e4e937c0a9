"""Prompt texts (config/prompts.yaml), human recordings over TTS, 8 kHz renders Asterisk can play."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from core.errors import ConfigError
from ivr.flow import PROMPT_KEYS
from ivr.prompts import Prompts, load_prompt_texts
from voice.audio import AudioChunk, read_audio, write_wav

from ..conftest import FIXTURES, ROOT


def test_shipped_prompt_file_is_complete_and_vietnamese():
    texts = load_prompt_texts(ROOT / "config" / "prompts.yaml")
    assert set(PROMPT_KEYS) <= set(texts.prompts)
    assert texts.prompts["recording_notice"] == "Cuộc gọi được ghi âm để nâng cao chất lượng phục vụ."
    assert "{digits}" in texts.templates.ticket_number


def test_bad_prompt_files_name_file_line_and_key(tmp_path):
    p = tmp_path / "prompts.yaml"
    p.write_text("prompts:\n  greeting: 'x'\ntemplates:\n  clarify: '{nope}'\n  unknown_t: 'y'\n")
    with pytest.raises(ConfigError) as e:
        load_prompt_texts(p)
    msg = str(e.value)
    assert f"{p}:1: prompts.recording_notice: required prompt is missing" in msg
    assert f"{p}:4: templates.clarify: bad placeholder" in msg
    assert f"{p}:5: templates.unknown_t: unknown template" in msg
    p.write_text("prompts:\n  greeting: a\n  greeting: b\n")
    with pytest.raises(ConfigError, match="prompts.yaml:3"):
        load_prompt_texts(p)


class CountingSynth:
    """Wraps the real synthesizer and counts what it was asked (fake-free: audio is real espeak-ng)."""

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


async def test_prepare_renders_every_prompt_once_at_8khz(settings, synth, tmp_path):
    prompts = Prompts(settings, synth)
    prompts.recordings_dir = tmp_path / "human"
    prompts.recordings_dir.mkdir()
    # An operator recorded the greeting: it wins over TTS (and is converted to 8 kHz).
    shutil.copy(FIXTURES / "speech" / "ly_north_female.wav", prompts.recordings_dir / "greeting.wav")
    report = await prompts.prepare(["Bấm phím 1: căn cước."])
    assert set(report.values()) == {"ok"}
    assert "greeting" not in [c for c in synth.calls] and prompts.texts.prompts["greeting"] not in synth.calls
    for key in PROMPT_KEYS:
        audio = read_audio(prompts.path(key))
        assert audio.rate == 8000 and audio.duration_s > 0.2, key
        assert read_audio(prompts.path(key).with_suffix(".wav16")).rate == 16000
    human = read_audio(FIXTURES / "speech" / "ly_north_female.wav")
    assert abs(read_audio(prompts.path("greeting")).duration_s - human.duration_s) < 0.05
    assert prompts.sound_uri("goodbye") == "sound:" + str(prompts.render_dir / "goodbye")
    # Second start: nothing re-synthesized.
    n = len(synth.calls)
    again = Prompts(settings, synth)
    again.recordings_dir = prompts.recordings_dir
    await again.prepare(["Bấm phím 1: căn cước."])
    assert len(synth.calls) == n
    assert (await again.audio("goodbye")).rate == 8000


async def test_edited_text_is_rendered_again(settings, synth):
    prompts = Prompts(settings, synth)
    await prompts.audio("goodbye")
    before = len(synth.calls)
    texts = prompts.texts
    texts.prompts["goodbye"] = "Tạm biệt."
    edited = Prompts(settings, synth, texts)
    await edited.audio("goodbye")
    assert synth.calls[before:] == ["Tạm biệt."]


async def test_dynamic_text_cached_and_recording_replaces_tts(settings, synth, tmp_path):
    prompts = Prompts(settings, synth)
    a = await prompts.text_audio("Số phiếu của anh chị là: một, hai.")
    b = await prompts.text_audio("Số phiếu của anh chị là: một, hai.")
    assert a is b and synth.calls.count("Số phiếu của anh chị là: một, hai.") == 1
    assert prompts.cached_text("Số phiếu của anh chị là: một, hai.") is a


async def test_without_synthesizer_recordings_and_tones_still_play(settings, tmp_path):
    prompts = Prompts(settings, None)
    prompts.recordings_dir = tmp_path
    write_wav(tmp_path / "system_error.wav", AudioChunk.from_array(np.zeros(16000, np.int16), 16000))
    report = await prompts.prepare()
    assert report["system_error"] == "ok" and report["beep"] == "ok"
    assert report["greeting"].startswith("error")
    assert (await prompts.audio("system_error")).rate == 8000


async def test_answers_prerendered_then_served_without_synthesis(settings, synth):
    prompts = Prompts(settings, synth)
    assert await prompts.prerender_texts(["Câu trả lời một.", "", "Câu trả lời hai."]) == 0
    assert prompts.text_path("Câu trả lời một.").is_file()
    n = len(synth.calls)
    fresh = Prompts(settings, synth)
    chunk = await fresh.text_audio("Câu trả lời hai.")
    assert chunk.rate == 8000 and len(synth.calls) == n


async def test_recording_added_while_running_is_used_at_next_play(settings, synth, tmp_path):
    prompts = Prompts(settings, synth)
    prompts.recordings_dir = tmp_path
    await prompts.prepare()
    before = await prompts.audio("goodbye")
    write_wav(tmp_path / "goodbye.wav", AudioChunk.from_array(np.zeros(3 * 16000, np.int16), 16000))
    after = await prompts.audio("goodbye")
    assert after is not before and abs(after.duration_s - 3.0) < 0.01 and after.rate == 8000
    assert await prompts.audio("goodbye") is after  # unchanged since: served from memory


async def test_running_prompts_pick_up_an_edited_prompts_file(settings, synth, tmp_path, caplog):
    """The console rewrites the prompts file; a Prompts instance already running uses the new text."""
    from console.edit.prompts import PromptTextEditor

    copy = tmp_path / "prompts.yaml"
    shutil.copy(ROOT / "config" / "prompts.yaml", copy)
    settings = settings.model_copy(update={"ivr": settings.ivr.model_copy(update={"prompts_file": copy})})
    prompts = Prompts(settings, synth)
    prompts.recordings_dir = tmp_path / "no-recordings"
    await prompts.prepare()
    before = await prompts.audio("goodbye")
    greeting = await prompts.audio("greeting")
    n = len(synth.calls)
    assert await prompts.audio("goodbye") is before and len(synth.calls) == n  # unchanged: from memory
    new = "Cảm ơn anh chị đã gọi tới tổng đài dịch vụ công của tỉnh. Chúc anh chị một ngày thật tốt lành."
    PromptTextEditor(settings).save("goodbye", new, "")
    after = await prompts.audio("goodbye")
    assert synth.calls[n:] == [new]  # only the edited key is synthesized again
    assert after is not before and after.rate == 8000 and after.duration_s > before.duration_s + 1.0
    assert abs(read_audio(prompts.path("goodbye")).duration_s - after.duration_s) < 0.01
    assert prompts.rendered_is_current("goodbye")
    assert await prompts.audio("greeting") is greeting and len(synth.calls) == n + 1
    # A hand edit that breaks the file is logged; calls go on with the texts in use.
    copy.write_text("prompts: [\n", encoding="utf-8")
    assert await prompts.audio("goodbye") is after
    assert "prompts file changed but is invalid" in caplog.text
    # Fixed again (the shipped text back): picked up as well.
    shutil.copy(ROOT / "config" / "prompts.yaml", copy)
    restored = await prompts.audio("goodbye")
    assert synth.calls[-1] == load_prompt_texts(copy).prompts["goodbye"]
    assert abs(restored.duration_s - before.duration_s) < 0.05


async def test_a_change_of_voice_parameters_renders_prompts_again(settings, synth, tmp_path):
    """Every voice parameter the audio depends on is in the source stamp (pitch and speaker were not)."""
    prompts = Prompts(settings, synth)
    prompts.recordings_dir = tmp_path / "no-recordings"
    await prompts.prepare()
    assert prompts.rendered_is_current("goodbye")
    tts = settings.voice.tts
    for changed in (
        tts.model_copy(update={"espeak": tts.espeak.model_copy(update={"pitch": tts.espeak.pitch + 10})}),
        tts.model_copy(update={"piper": tts.piper.model_copy(update={"speaker": 3})}),
        tts.model_copy(update={"rate": tts.rate + 0.1}),
    ):
        voice = settings.voice.model_copy(update={"tts": changed})
        other = Prompts(settings.model_copy(update={"voice": voice}), None)
        assert not other.rendered_is_current("goodbye"), changed
    assert Prompts(settings, None).rendered_is_current("goodbye")  # another process, same voice: current
