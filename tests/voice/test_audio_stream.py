"""Decoding audio files block by block: libsndfile and ffmpeg paths, the end, closing mid-file."""

from __future__ import annotations

import subprocess
import threading

import numpy as np
import pytest
import soundfile as sf

from core.errors import AudioError
from tests.support import sine
from voice.audio import AudioChunk, concat, read_audio, resample
from voice.audio_stream import AudioFileStream


def read_all(stream: AudioFileStream) -> tuple[AudioChunk, int]:
    blocks = []
    for _ in range(10_000):
        block = stream.read()
        if block is None:
            break
        blocks.append(block)
    return concat(blocks), len(blocks)


def test_a_stereo_wav_comes_out_mono_at_the_asked_rate_in_blocks(tmp_path):
    x = (sine(5.0, 22050, freq=300) * 20000).astype(np.int16)
    path = tmp_path / "clip.wav"
    sf.write(str(path), np.stack([x, x], axis=1), 22050, subtype="PCM_16")
    with AudioFileStream(path, 8000, block_s=0.5) as stream:
        out, blocks = read_all(stream)
        assert stream.read() is None
    assert blocks >= 10 and out.rate == 8000 and out.channels == 1
    assert abs(out.samples - 5 * 8000) <= 80
    whole = resample(read_audio(path), 8000).array()
    n = min(whole.size, out.samples)
    # The streaming resampler keeps its state: the same signal as resampling the whole file.
    assert np.corrcoef(whole[200 : n - 200], out.array()[200 : n - 200])[0, 1] > 0.99


def _encode(path, seconds: float, *codec: str) -> None:
    source = f"sine=frequency=440:sample_rate=16000:duration={seconds}"
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", source, *codec, str(path)]
    subprocess.run(cmd, check=True, timeout=60)


@pytest.mark.parametrize(
    ("name", "codec", "decoder"),
    [("clip.mp3", ("-b:a", "32k"), "libsndfile"), ("clip.m4a", ("-c:a", "aac", "-b:a", "32k"), "ffmpeg")],
)
def test_compressed_files_are_decoded_block_by_block(tmp_path, name, codec, decoder):
    path = tmp_path / name
    _encode(path, 4.0, *codec)
    with AudioFileStream(path, 8000, block_s=1.0) as stream:
        assert (stream._proc is not None) == (decoder == "ffmpeg")
        out, blocks = read_all(stream)
    assert 4 <= blocks <= 6 and out.rate == 8000
    assert 3.8 <= out.duration_s <= 4.3


@pytest.mark.parametrize("name", ["long.mp3", "long.m4a"])
def test_closing_mid_file_stops_the_decoder_even_during_a_read(tmp_path, name):
    path = tmp_path / name
    _encode(path, 120, *(("-c:a", "aac") if name.endswith(".m4a") else ()), "-b:a", "32k")
    stream = AudioFileStream(path, 8000, block_s=1.0)
    assert stream.read() is not None
    reader = threading.Thread(target=lambda: [stream.read() for _ in range(50)])
    reader.start()
    stream.close()
    reader.join(10)
    assert not reader.is_alive() and stream.read() is None
    if stream._proc is not None:
        assert stream._proc.returncode is not None  # the decoder process is gone, not left running


def test_not_audio_is_an_audio_error(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("không phải âm thanh\n" * 50)
    with pytest.raises(AudioError), AudioFileStream(path, 8000) as stream:
        stream.read()
    with pytest.raises(AudioError):
        AudioFileStream(tmp_path / "missing.mp3", 8000)
