from __future__ import annotations

import numpy as np
import pytest

from core.errors import AudioError
from tests.conftest import FIXTURES
from tests.support import sine
from voice.audio import (
    AudioChunk,
    Resampler,
    concat,
    integrated_loudness,
    read_audio,
    resample,
    rms_dbfs,
    silence,
    to_mono,
    true_peak_dbtp,
    ulaw_decode,
    ulaw_encode,
    write_mp3,
    write_wav,
)


def test_chunk_carries_format_and_duration():
    c = AudioChunk.from_array(sine(1.0, 8000), 8000)
    assert (c.rate, c.width, c.channels) == (8000, 2, 1)
    assert c.samples == 8000
    assert c.duration_s == pytest.approx(1.0)


def test_float_input_is_clipped_not_wrapped():
    c = AudioChunk.from_array(np.array([1.5, -1.5, 0.0]), 8000)
    assert list(c.array()) == [32767, -32768, 0]


def test_ulaw_round_trip_error_is_small_and_matches_g711_code_points():
    x = (sine(0.2, 16000, amp=0.8) * 32767).astype(np.int16)
    y = ulaw_decode(ulaw_encode(x))
    # G.711 is ~8 bits: error relative to the signal well under 3 %.
    assert np.abs(y.astype(int) - x).max() < 0.03 * 32768
    # Known code points: silence is 0xFF, full-scale positive 0x80, full-scale negative 0x00.
    assert ulaw_encode(np.array([0, 32767, -32768], np.int16)) == bytes([0xFF, 0x80, 0x00])


def test_g711_encoder_tables_equal_the_reference_coders_for_every_sample():
    from voice.audio import _alaw_encode_reference, _ulaw_encode_reference, alaw_encode

    every = np.arange(-32768, 32768, dtype=np.int32).astype(np.int16)
    assert ulaw_encode(every) == _ulaw_encode_reference(every)
    assert alaw_encode(every) == _alaw_encode_reference(every)
    # A strided view and other dtypes take the same codes (wider integers clip, as the reference does).
    assert ulaw_encode(every[::7]) == _ulaw_encode_reference(every[::7])
    wide = np.array([40000, -40000, 123], dtype=np.int64)
    assert ulaw_encode(wide) == _ulaw_encode_reference(wide)
    assert alaw_encode(wide) == _alaw_encode_reference(wide)


def test_resample_keeps_duration_and_pitch():
    c = AudioChunk.from_array(sine(1.0, 24000), 24000)
    r = resample(c, 8000)
    assert r.rate == 8000 and abs(r.samples - 8000) <= 2
    spectrum = np.abs(np.fft.rfft(r.array().astype(float)))
    assert abs(np.argmax(spectrum) * 8000 / r.samples - 440) < 3


def test_streaming_resampler_equals_one_shot_without_clicks():
    x = sine(1.0, 8000, freq=300)
    c = AudioChunk.from_array(x, 8000)
    rs = Resampler(8000, 16000)
    parts = [rs.process(AudioChunk(c.audio[i : i + 320], 8000)) for i in range(0, len(c.audio), 320)]
    parts.append(rs.process(AudioChunk(b"", 8000), last=True))
    out = concat(parts).array().astype(float)
    assert abs(len(out) - 16000) <= 40
    # A click would be a large sample-to-sample jump; a 300 Hz sine at 16 kHz moves < 0.06 FS per sample.
    assert np.abs(np.diff(out[200:-200])).max() < 0.08 * 32768


def test_stereo_to_mono_and_concat_format_check():
    st = np.stack([sine(1.0, 16000), sine(1.0, 16000)], axis=1)
    c = AudioChunk.from_array(st, 16000)
    assert c.channels == 2 and to_mono(c).channels == 1
    with pytest.raises(AudioError):
        concat([silence(0.1, 8000), silence(0.1, 16000)])


def test_loudness_and_true_peak_of_known_signal():
    x = sine(3.0, 48000, freq=1000)
    # A 1 kHz sine at -6 dBFS peak reads about -9 LUFS (mono, BS.1770) and -6 dBTP.
    assert integrated_loudness(x, 48000) == pytest.approx(-9.0, abs=0.5)
    assert true_peak_dbtp(x, 48000) == pytest.approx(-6.0, abs=0.1)
    assert rms_dbfs(AudioChunk.from_array(x, 48000)) == pytest.approx(-9.0, abs=0.1)


def test_wav_and_mp3_round_trip(tmp_path):
    c = AudioChunk.from_array(sine(1.0, 16000), 16000)
    w = write_wav(tmp_path / "a.wav", c)
    assert read_audio(w).samples == c.samples
    m = write_mp3(tmp_path / "a.mp3", c, bitrate_kbps=64)
    back = read_audio(m)
    assert back.duration_s == pytest.approx(1.0, abs=0.1)
    assert not list(tmp_path.glob(".*.part"))


def test_mulaw_wav_is_decoded_to_pcm(tmp_path):
    import soundfile as sf

    path = tmp_path / "ulaw.wav"
    sf.write(str(path), sine(1.0, 8000), 8000, subtype="ULAW")
    c = read_audio(path)
    assert c.rate == 8000 and rms_dbfs(c) > -12


@pytest.mark.parametrize("content", [b"", b"not audio at all" * 10, b"RIFF\x00\x00"])
def test_bad_files_give_audio_error(tmp_path, content):
    path = tmp_path / "bad.wav"
    path.write_bytes(content)
    with pytest.raises(AudioError):
        read_audio(path)


def test_real_fixture_reads():
    c = read_audio(FIXTURES / "speech" / "binh_north_male.wav")
    assert c.rate == 24000 and 2.0 < c.duration_s < 3.5


def test_an_upload_that_is_an_ffmpeg_script_does_not_read_other_files(tmp_path):
    """An 'audio file' that is an ffconcat script would pull a neighbouring recording into a prompt."""
    write_wav(tmp_path / "complaint.wav", AudioChunk.from_array(sine(2.0, 8000), 8000))
    upload = tmp_path / "tmpab12cd.upload"
    upload.write_text("ffconcat version 1.0\nfile 'complaint.wav'\n")
    with pytest.raises(AudioError, match="not a readable audio file"):
        read_audio(upload)


@pytest.mark.parametrize("suffix, codec", [(".m4a", "aac"), (".mp3", "libmp3lame"), (".ogg", "libvorbis")])
def test_audio_a_phone_or_an_editor_saves_still_reads(tmp_path, suffix, codec):
    import subprocess

    path = tmp_path / f"prompt{suffix}"
    cmd = ["ffmpeg", "-nostdin", "-v", "error", "-f", "lavfi", "-i", "sine=f=440:d=1.5", "-c:a", codec]
    subprocess.run([*cmd, str(path)], check=True, timeout=60)
    renamed = path.rename(tmp_path / "upload.bin")  # uploads are spooled under a name of ours
    c = read_audio(renamed)
    assert c.duration_s == pytest.approx(1.5, abs=0.1) and rms_dbfs(c) > -30  # lavfi sine: -21 dBFS


def test_two_writers_of_one_file_at_once_both_succeed_and_leave_a_whole_file(tmp_path):
    """The start-up cache and a call may render the same text together: each writes its own temporary
    file, the last rename wins, nobody's rename finds its temporary file gone."""
    from concurrent.futures import ThreadPoolExecutor

    target = tmp_path / "same.wav"
    chunk = AudioChunk.from_array(sine(1.0, 8000), 8000)
    with ThreadPoolExecutor(4) as pool:
        done = list(pool.map(lambda _: write_wav(target, chunk), range(40)))
    assert done == [target] * 40
    assert read_audio(target).duration_s == pytest.approx(1.0, abs=0.01)
    assert [p.name for p in tmp_path.iterdir()] == ["same.wav"]  # no temporary file left behind
