"""`Recognizer` with real vietasr: event loop never blocked, bounded pool, stream order, bad chunks."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from core.errors import AudioError
from tests.conftest import FIXTURES
from voice.asr import AsrError, AsrUnavailable, Recognizer, slin_chunk, ulaw_chunk
from voice.asr.registry import EngineRegistry, shared_registry
from voice.audio import AudioChunk, concat, read_audio, resample, ulaw_decode, ulaw_encode

SPEECH = FIXTURES / "speech"


def asr_settings(settings, **update):
    return settings.voice.asr.model_copy(update=update)


@pytest.fixture(scope="module")
def long_clip() -> AudioChunk:
    """All six clips back to back at 16 kHz: about 23 s of real speech."""
    return concat([resample(read_audio(p), 16000) for p in sorted(SPEECH.glob("*.wav"))])


@pytest.fixture(scope="module")
def short_clip() -> AudioChunk:
    return resample(read_audio(SPEECH / "ly_north_female.wav"), 16000)


@pytest.mark.slow
async def test_event_loop_keeps_ticking_while_three_streams_transcribe(settings, long_clip):
    rec = Recognizer.from_settings(settings, engine="vietasr")
    await rec.warm_up()
    gaps: list[float] = []
    stop = asyncio.Event()

    async def heartbeat():
        last = time.perf_counter()
        while not stop.is_set():
            await asyncio.sleep(0.01)
            now = time.perf_counter()
            gaps.append(now - last)
            last = now

    # The first 10 s of the clips: five chunks a stream keep the pool busy for seconds (the whole 23 s
    # took as long again and proved nothing more).
    clip = long_clip.with_audio(long_clip.audio[: 16000 * 2 * 10])

    async def one_stream():
        stream = rec.open_stream(16000)
        step = 16000 * 2 * 2  # 2 s chunks: each is real decoding work in the pool
        for i in range(0, len(clip.audio), step):
            await stream.accept(clip.with_audio(clip.audio[i : i + step]))
        return (await stream.finish()).text

    beat = asyncio.create_task(heartbeat())
    started = time.perf_counter()
    texts = await asyncio.gather(one_stream(), one_stream(), one_stream())
    busy = time.perf_counter() - started
    stop.set()
    await beat
    rec.close()
    assert texts[0] and texts[0] == texts[1] == texts[2]
    # Inference of 3 x 10 s of audio takes seconds; had it run on the loop, one gap would be that long.
    assert busy > 1.0
    print(f"busy {busy:.2f} s, max gap {max(gaps):.3f} s, {len(gaps)} ticks")
    assert max(gaps) < 0.5, f"event loop stalled for {max(gaps):.2f} s"
    assert len(gaps) > busy / 0.05  # ticking throughout, not only before and after


@pytest.mark.slow
async def test_saturated_pool_fails_fast_with_retryable_error(settings, long_clip, short_clip):
    rec = Recognizer(asr_settings(settings, workers=1, max_pending=1), resolve_path=settings.path)
    await rec.warm_up()
    first = asyncio.create_task(rec.transcribe(long_clip))
    for _ in range(100):
        if rec.pending:
            break
        await asyncio.sleep(0.001)
    with pytest.raises(AsrUnavailable) as info:
        await rec.transcribe(short_clip)
    assert info.value.retryable and info.value.code == "asr_busy"
    assert (await first).text
    assert rec.pending == 0
    assert (await rec.transcribe(short_clip)).text  # recovers once the pool drains
    rec.close()
    with pytest.raises(AsrUnavailable) as closed:
        await rec.transcribe(short_clip)
    assert not closed.value.retryable


@pytest.mark.slow
async def test_concurrent_accepts_reach_the_engine_in_order(settings, short_clip):
    """Chunks sent as separate tasks are still decoded in sending order (one job per stream at a time)."""
    rec = Recognizer.from_settings(settings, engine="vietasr")
    expected = (await rec.transcribe(short_clip)).text
    stream = rec.open_stream(16000)
    audio = short_clip.audio
    chunks = [short_clip.with_audio(audio[i : i + 640]) for i in range(0, len(audio), 640)]
    await asyncio.gather(*(asyncio.create_task(stream.accept(c)) for c in chunks))
    assert (await stream.finish()).text == expected
    assert rec.pending == 0
    rec.close()


@pytest.mark.slow
async def test_cancelled_accept_leaves_stream_usable(settings, short_clip):
    rec = Recognizer.from_settings(settings, engine="vietasr")
    stream = rec.open_stream(16000)
    half = len(short_clip.audio) // 2 & ~1
    task = asyncio.create_task(stream.accept(short_clip.with_audio(short_clip.audio[:half])))
    await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await stream.accept(short_clip.with_audio(short_clip.audio[half:]))
    result = await stream.finish()
    assert result.is_final and result.text  # the cancelled chunk may or may not have been decoded
    for _ in range(100):
        if rec.pending == 0:
            break
        await asyncio.sleep(0.01)
    assert rec.pending == 0
    assert await stream.finish() is result  # finishing twice returns the same result
    with pytest.raises(AsrError, match="finished"):
        await stream.accept(short_clip)
    rec.close()


@pytest.mark.slow
async def test_closed_stream_rejects_audio(settings, short_clip):
    rec = Recognizer.from_settings(settings, engine="vietasr")
    async with rec.open_stream(16000) as stream:
        await stream.accept(short_clip)
    with pytest.raises(AsrError):
        await stream.accept(short_clip)
    rec.close()


async def test_bad_chunks_are_clear_errors(settings):
    rec = Recognizer.from_settings(settings, engine="vietasr")
    stream = rec.open_stream(8000)
    with pytest.raises(AudioError, match="8000 Hz"):
        await stream.accept(AudioChunk(b"\0\0" * 160, 16000))
    with pytest.raises(AudioError, match="16-bit"):
        await stream.accept(AudioChunk(b"\xff" * 160, 8000, width=1))
    with pytest.raises(AudioError, match="truncated"):
        await stream.accept(AudioChunk(b"\0" * 161, 8000))
    with pytest.raises(AudioError):
        rec.open_stream(0)
    with pytest.raises(AsrError, match="unknown ASR engine"):
        rec.open_stream(8000, engine="whisper")
    assert rec.pending == 0  # nothing reached the pool
    rec.close()


class _FailingEngine:
    """An engine whose streams raise like a crashing native library would (fake, for the error path)."""

    name = "vietasr"
    sample_rates = (16000,)
    supports_phrases = False

    def start_stream(self, rate, *, phrases=None):
        raise RuntimeError("native decoder crashed")

    def close(self):
        pass


class _Registry(EngineRegistry):
    def get(self, name, asr_settings, resolve_path=None):
        return _FailingEngine()


async def test_engine_crash_surfaces_as_asr_unavailable(settings, short_clip):
    rec = Recognizer.from_settings(settings, registry=_Registry())
    with pytest.raises(AsrUnavailable, match="native decoder crashed") as info:
        await rec.transcribe(short_clip)
    assert info.value.code == "asr_engine" and not info.value.retryable
    stream = rec.open_stream(8000)
    with pytest.raises(AsrUnavailable):
        await stream.accept(AudioChunk(b"\0\0" * 160, 8000))
    assert rec.pending == 0
    rec.close()


def test_models_load_once_per_process(settings):
    a = shared_registry().get("vietasr", settings.voice.asr, settings.path)
    b = shared_registry().get("vietasr", settings.voice.asr, settings.path)
    assert a is b


def test_ulaw_chunk_decodes_g711():
    samples = (np.sin(np.arange(800) / 5) * 12000).astype(np.int16)
    data = ulaw_encode(samples)
    chunk = ulaw_chunk(data, timestamp_ms=40)
    assert (chunk.rate, chunk.width, chunk.channels, chunk.timestamp_ms) == (8000, 2, 1, 40)
    assert np.array_equal(chunk.array(), ulaw_decode(data))
    assert np.max(np.abs(chunk.array().astype(int) - samples)) < 12000 * 0.04  # mu-law step size


def test_slin_chunk_handles_network_byte_order():
    samples = np.array([1, -2, 300, -32768, 32767], dtype=np.int16)
    assert np.array_equal(slin_chunk(samples.astype(">i2").tobytes(), big_endian=True).array(), samples)
    assert np.array_equal(slin_chunk(samples.astype("<i2").tobytes(), 16000).array(), samples)
    with pytest.raises(AudioError):
        slin_chunk(b"\0\0\0")
