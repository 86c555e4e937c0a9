"""Echo cancellation (`voice.aec`): the time pairing of what we send and what we hear, whether a line
returns our prompt, and WebRTC's canceller on real speech coming back from a simulated line."""

from __future__ import annotations

import numpy as np
import pytest

from tests.conftest import FIXTURES
from voice.aec import EchoCanceller, _Timeline
from voice.audio import AudioChunk, read_audio, resample
from voice.echo import EchoReference, EchoSettings

RATE = 8000
FRAME = 160  # 20 ms


def test_the_timeline_reads_what_was_sent_at_each_moment_and_silence_around_it():
    line = _Timeline(800)
    line.write(1000, np.full(160, 7, dtype=np.int16))
    got = line.read(900, 400)
    assert not got[:100].any() and (got[100:260] == 7).all() and not got[260:].any()
    line.write(1400, np.full(160, 9, dtype=np.int16))  # a pause between prompts: silence in the gap
    got = line.read(1000, 560)
    assert (got[:160] == 7).all() and not got[160:400].any() and (got[400:] == 9).all()
    line.write(2200, np.full(160, 5, dtype=np.int16))  # the ring moved on: the first frame is gone
    assert not line.read(1000, 160).any()
    assert (line.read(2200, 160) == 5).all() and not line.read(2360, 160).any()  # not yet sent


def _db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x.astype(np.float64))) / 32768**2 + 1e-12))


def _speech(name: str, level_db: float) -> np.ndarray:
    x = resample(read_audio(FIXTURES / "speech" / name), RATE).array().astype(np.float64)
    x *= 10 ** (level_db / 20) * 32768 / np.sqrt(np.mean(np.square(x)))
    return np.clip(x, -32768, 32767).astype(np.int16)


def _call(canceller: EchoCanceller, prompt: np.ndarray, line: np.ndarray, seed: int = 1) -> np.ndarray:
    """Frame k sent at k x 20 ms; the line's chunk k (RTP position k x 20 ms) arrives 20-25 ms after its
    last sample (network jitter), everything sent by then having been sent. What comes out of the
    canceller, chunk by chunk."""
    rng = np.random.default_rng(seed)
    out, sent, frames = [], 0, prompt.size // FRAME
    for k in range(line.size // FRAME):
        arrived = (k + 2) * 0.02 + rng.uniform(0, 0.005)
        while sent < frames and sent * 0.02 <= arrived:
            canceller.played(prompt[sent * FRAME : (sent + 1) * FRAME], sent * 0.02)
            sent += 1
        chunk = AudioChunk.from_array(line[k * FRAME : (k + 1) * FRAME], RATE, timestamp_ms=20 * k)
        out.append(canceller.cancel(chunk, arrived).array())
    return np.concatenate(out)


def _line(prompt: np.ndarray, echo_db: float | None, caller: np.ndarray, start: int) -> np.ndarray:
    """What the line sends back: our prompt 40 ms later and `echo_db` down (None: no echo), line hiss at
    -64 dBFS, and from sample `start` a caller."""
    rng = np.random.default_rng(7)
    line = rng.normal(0, 20, prompt.size)
    if echo_db is not None:
        line += np.concatenate([np.zeros(320), prompt[:-320]]) * 10 ** (echo_db / 20)
    talk = min(caller.size, prompt.size - start)
    line[start : start + talk] += caller[:talk]
    return np.clip(line, -32768, 32767).astype(np.int16)


def test_our_prompt_returned_10_db_down_is_taken_out_and_a_caller_over_it_is_not():
    """Two spoken prompts at -18 dBFS come back 40 ms later and 10 dB down; 7 s in, a caller talks over them
    at -22 dBFS. The line is seen to return the prompt within two seconds, the echo is then 30 dB quieter,
    and the caller comes through."""
    prompt = np.concatenate([_speech("doan_south_female.wav", -18.0), _speech("ly_north_female.wav", -18.0)])
    caller = _speech("tuyen_north_male.wav", -22.0)
    start = 7 * RATE
    line = _line(prompt, -10.0, caller, start)
    canceller = EchoCanceller(RATE)
    out = _call(canceller, prompt, line)
    assert canceller.echo_found
    learnt = slice(2 * RATE, start)
    assert _db(line[learnt]) - _db(out[learnt]) >= 30, (_db(line[learnt]), _db(out[learnt]))
    over = slice(start, start + min(caller.size, prompt.size - start))
    assert _db(out[over]) >= _db(caller[: over.stop - start]) - 6, (_db(out[over]), _db(caller))


def test_a_line_that_does_not_return_our_prompt_is_left_as_it_is():
    """No echo, only hiss, or street noise as loud as an echo would be: the canceller's output is never
    used, and a caller talking over the prompt reaches the detector exactly as heard."""
    prompt = np.concatenate([_speech("doan_south_female.wav", -18.0), _speech("ly_north_female.wav", -18.0)])
    caller = _speech("tuyen_north_male.wav", -22.0)
    rng = np.random.default_rng(3)
    street = (
        rng.normal(0, 1, prompt.size)
        * np.repeat(rng.uniform(0.2, 1.0, prompt.size // 800 + 1), 800)[: prompt.size]
    ).astype(np.float64)
    street *= 10 ** (-30 / 20) * 32768 / np.sqrt(np.mean(np.square(street)))
    for extra in (np.zeros(prompt.size), street):
        line = np.clip(_line(prompt, None, caller, 3 * RATE) + extra, -32768, 32767).astype(np.int16)
        canceller = EchoCanceller(RATE)
        assert np.array_equal(_call(canceller, prompt, line), line[: line.size // FRAME * FRAME])
        assert not canceller.echo_found and canceller.reduction_db() is None


def test_the_calls_reduction_is_the_median_chunks_and_odd_chunks_pass_through():
    prompt = _speech("doan_south_female.wav", -18.0)[: 2 * RATE]  # played five times over
    echo = (np.concatenate([np.zeros(160), prompt[:-160]]) * 0.3).astype(np.int16)
    canceller = EchoCanceller(RATE)
    assert canceller.reduction_db() is None
    _call(canceller, np.tile(prompt, 5), np.tile(echo, 5))
    assert canceller.reduction_db() is not None and canceller.reduction_db() >= 20
    # a chunk not in 10 ms blocks goes on as it was
    odd = AudioChunk.from_array(np.ones(100, dtype=np.int16), RATE)
    assert canceller.cancel(odd, 10.0) is odd


def test_the_reference_cancels_only_while_a_prompt_plays_or_its_echo_may_come_back():
    now = [0.0]
    canceller = EchoCanceller(RATE)
    canceller.echo_found = True  # as on a line seen to return our prompt
    reference = EchoReference(EchoSettings(window_ms=500), clock=lambda: now[0], canceller=canceller)
    chunk = AudioChunk.from_array(np.full(FRAME, 100, dtype=np.int16), RATE)
    assert reference.cancel(chunk) is chunk  # nothing played yet
    for now[0] in (0.0, 0.02):
        reference.played(np.full(FRAME, 1000, dtype=np.int16))
    now[0] = 0.03  # the chunk arrives: paired with what was sent in the 20 ms before
    assert reference.cancel(chunk) is not chunk
    now[0] = 0.6
    assert reference.cancel(chunk) is chunk  # past the echo window
    assert reference.cancelled_db() is not None
    reference.close()


@pytest.mark.parametrize("rate", [8000, 16000])
def test_the_canceller_runs_at_the_calls_rate(rate):
    canceller = EchoCanceller(rate)
    canceller.echo_found = True
    frame = rate // 50
    canceller.played(np.full(frame, 1000, dtype=np.int16), 0.0)
    out = canceller.cancel(AudioChunk.from_array(np.zeros(frame, dtype=np.int16), rate), 0.02)
    assert out.rate == rate and out.samples == frame
