"""RTP packets, the jitter gate, the energy end-pointer, and real UDP send/receive on loopback."""

from __future__ import annotations

import asyncio
import socket
import struct

import numpy as np
import pytest

from ivr import media as M
from voice.audio import AudioChunk, read_audio, resample, ulaw_encode

from ..conftest import FIXTURES


def tone(ms: int, db: float = -20.0, rate: int = 8000, freq: float = 300.0) -> np.ndarray:
    n = rate * ms // 1000
    amp = 10 ** (db / 20) * np.sqrt(2)
    return (amp * 32767 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.int16)


def frames(samples: np.ndarray):
    for i in range(0, samples.size - samples.size % 160, 160):
        yield samples[i : i + 160]


# --- packets --------------------------------------------------------------------------------------


def test_rtp_roundtrip():
    raw = M.build_rtp(b"\x01\x02", payload_type=0, seq=65535, timestamp=2**32 - 1, ssrc=7, marker=True)
    p = M.parse_rtp(raw)
    assert p == M.RtpPacket(0, 65535, 2**32 - 1, 7, True, b"\x01\x02")


def test_rtp_with_csrc_extension_and_padding():
    hdr = struct.pack("!BBHII", 0x80 | 0x20 | 0x10 | 1, 0, 1, 2, 3) + b"CSRC"
    ext = struct.pack("!HH", 0xBEDE, 1) + b"EXT!"
    raw = hdr + ext + b"abc" + b"\x00\x00\x03"
    assert M.parse_rtp(raw).payload == b"abc"


@pytest.mark.parametrize(
    "raw",
    [
        b"",
        b"\x80" * 5,
        b"\x40" + b"\x00" * 20,  # version 1
        struct.pack("!BBHII", 0x8F, 0, 1, 2, 3),  # 15 CSRCs, none present
        struct.pack("!BBHII", 0xA0, 0, 1, 2, 3) + b"x\x09",  # padding > payload
        struct.pack("!BBHII", 0x80, 200, 1, 2, 3) + b"rtcp",
    ],
)
def test_garbage_is_rejected(raw):
    assert M.parse_rtp(raw) is None


def test_payload_codecs():
    x = tone(20)
    assert np.abs(M.decode_payload(M.encode_payload(x, "ulaw"), "ulaw").astype(int) - x).max() < 600
    assert np.array_equal(M.decode_payload(M.encode_payload(x, "slin"), "slin"), x)
    assert M.encode_payload(np.array([1], dtype=np.int16), "slin") == b"\x00\x01"  # big-endian on RTP


def test_jitter_gate():
    g = M.JitterGate()
    assert g.push(65534) == 0
    assert g.push(65535) == 0
    assert g.push(1) == 1  # wrapped; one lost
    assert g.push(0) is None  # late
    assert g.push(1) is None  # duplicate
    assert g.push(100) == M.MAX_GAP_FILL
    assert g.late == 2 and g.lost == 99


# --- end-pointer ----------------------------------------------------------------------------------


def run_vad(samples: np.ndarray, **cfg):
    vad = M.Endpointer(M.VadConfig(**cfg))
    out = []
    for i, f in enumerate(frames(samples)):
        for ev in vad.process(f):
            out.append((i * 20, ev))
    return out


def test_vad_start_and_end_point():
    sig = np.concatenate([tone(1000, -70), tone(1000, -20), tone(1500, -70)])
    evs = run_vad(sig, silence_ms=600)
    kinds = [(t, e.kind) for t, e in evs if e.kind != "audio"]
    (t_start, k1), (t_end, k2) = kinds
    assert (k1, k2) == ("start", "end")
    assert 1000 <= t_start <= 1000 + 200  # min_speech_ms after onset
    assert 1000 + 1000 + 560 <= t_end <= 1000 + 1000 + 660  # the configured end-point
    start = next(e for _, e in evs if e.kind == "start")
    assert start.audio.size >= 8000 * 0.3  # pre-roll kept


def test_vad_end_point_is_configurable():
    sig = np.concatenate([tone(500, -70), tone(800, -20), tone(1500, -70)])
    ends = {ms: [t for t, e in run_vad(sig, silence_ms=ms) if e.kind == "end"][0] for ms in (300, 900)}
    assert 550 <= ends[900] - ends[300] <= 650


def test_vad_ignores_clicks_and_adapts_to_noise():
    rng = np.random.default_rng(0)
    noise = (rng.normal(0, 10 ** (-30 / 20) * 32767, 8000 * 3)).astype(np.int16)  # loud line noise
    click = np.zeros(8000, dtype=np.int16)
    click[4000:4080] = 20000  # 10 ms click
    assert [e for _, e in run_vad(click) if e.kind == "start"] == []
    assert [e for _, e in run_vad(noise) if e.kind == "start"] == []  # steady line noise is not speech
    speech_over_noise = noise.copy()
    speech_over_noise[8000:16000] += tone(1000, -8)
    assert [e.kind for _, e in run_vad(speech_over_noise) if e.kind != "audio"][:1] == ["start"]


def test_vad_cuts_long_utterances():
    evs = run_vad(np.concatenate([tone(300, -70), tone(5000, -20)]), max_utterance_ms=2000)
    ends = [e for _, e in evs if e.kind == "end"]
    assert ends and ends[0].reason == "max_length"


def test_vad_on_real_speech():
    clip = read_audio(FIXTURES / "speech" / "tuyen_north_male.wav")
    x = resample(clip, 8000).array()
    sig = np.concatenate([np.zeros(8000, np.int16), x, np.zeros(8000, np.int16)])
    evs = [(t, e.kind) for t, e in run_vad(sig) if e.kind != "audio"]
    assert evs[0][1] == "start" and 800 <= evs[0][0] <= 1400
    last_end = [t for t, k in evs if k == "end"][-1]
    speech_end_ms = 1000 + 1000 * x.size / 8000
    assert speech_end_ms - 400 <= last_end <= speech_end_ms + 800


# --- real UDP on loopback -------------------------------------------------------------------------


async def test_endpoint_receives_sends_and_counts_garbage():
    pool = M.PortPool(41000, 41099)
    sock, port = pool.bind("127.0.0.1")
    got: list[np.ndarray] = []
    ep = M.RtpEndpoint(sock, port, "ulaw", on_frame=got.append)
    await ep.start()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    x = tone(20)
    try:
        peer.sendto(b"garbage!" * 3, ("127.0.0.1", port))
        peer.sendto(
            M.build_rtp(ulaw_encode(x), payload_type=8, seq=1, timestamp=0, ssrc=5), ("127.0.0.1", port)
        )
        for seq in (10, 12, 11):  # 11 arrives late
            peer.sendto(
                M.build_rtp(ulaw_encode(x), payload_type=0, seq=seq, timestamp=seq * 160, ssrc=5),
                ("127.0.0.1", port),
            )
        for _ in range(50):
            await asyncio.sleep(0.01)
            if ep.stats.packets >= 3:
                break
        assert ep.stats.garbage == 2  # not RTP; PCMA payload type
        assert ep.stats.packets == 3 and ep.stats.late == 1
        assert len(got) == 3  # 10, silence for the missing 11, 12
        assert np.all(got[1] == 0)
        assert ep.remote == peer.getsockname()
        # Send back: the peer gets a well-formed PCMU packet.
        ep.send_frame(x)
        await asyncio.sleep(0.05)
        data = peer.recv(2048)
        pkt = M.parse_rtp(data)
        assert pkt.payload_type == 0 and len(pkt.payload) == 160
        # A stranger cannot inject audio once the stream is established.
        other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        other.sendto(
            M.build_rtp(ulaw_encode(x), payload_type=0, seq=13, timestamp=0, ssrc=5), ("127.0.0.1", port)
        )
        other.close()
        await asyncio.sleep(0.05)
        assert ep.stats.foreign == 1 and len(got) == 3
    finally:
        ep.close()
        pool.release(port)
        peer.close()
    assert pool.in_use == 0


async def until(cond, limit_s: float = 5.0) -> None:
    """Poll a condition set by callbacks (bounded)."""
    for _ in range(int(limit_s / 0.01)):
        if cond():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not met in time")


async def test_player_paces_in_real_time_and_stops_on_request():
    pool = M.PortPool(41100, 41199)
    sock, port = pool.bind("127.0.0.1")
    ep = M.RtpEndpoint(sock, port, "ulaw")
    await ep.start()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    ep.set_remote(*peer.getsockname())
    finished: list[tuple[int, bool]] = []
    started: list[int] = []
    player = M.RtpPlayer(
        ep,
        lead_ms=0,
        on_started=lambda i, t: started.append(i),
        on_finished=lambda i, ok: finished.append((i, ok)),
    )
    player.start()

    async def audio(ms):
        return AudioChunk.from_array(tone(ms), 8000)

    async def broken():
        raise RuntimeError("tts down")

    loop = asyncio.get_running_loop()
    t0 = loop.time()
    player.play(1, lambda: audio(400))
    player.play(2, broken)
    player.play(3, lambda: audio(2000))
    await until(lambda: len(finished) >= 2)
    elapsed = loop.time() - t0
    assert finished == [(1, True), (2, False)]
    assert 0.38 <= elapsed <= 0.7
    await asyncio.sleep(0.2)
    player.stop(3)
    await until(lambda: len(finished) >= 3)
    assert finished[2] == (3, True) and loop.time() - t0 < 1.2  # stopped well before its 2 s end
    assert started == [1, 3]
    assert 20 + 8 <= ep.stats.sent <= 20 + 20
    await player.close()
    ep.close()
    peer.close()
    pool.release(port)


def test_port_pool_skips_busy_ports():
    pool = M.PortPool(41200, 41201)
    blocker = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    blocker.bind(("127.0.0.1", 41200))
    try:
        s1, p1 = pool.bind("127.0.0.1")
        assert p1 == 41201
        with pytest.raises(OSError, match="no free RTP port"):
            pool.bind("127.0.0.1")
        s1.close()
    finally:
        blocker.close()


def test_recorder_limits_length():
    r = M.Recorder("x", max_seconds=1)
    for f in frames(tone(1500)):
        r.add(f)
    assert r.full.is_set() and r.duration_ms == 1000 and r.chunk().samples == 8000



def test_recorder_tracks_voice_and_trailing_silence():
    r = M.Recorder("x", max_seconds=30)
    for f in frames(np.concatenate([tone(1000, -20), np.zeros(8000 * 2, np.int16)])):
        r.add(f)
    assert r.voiced_ms == 1000 and r.trailing_silence_ms == 2000 and not r.full.is_set()
    quiet = M.Recorder("y", max_seconds=30)
    for f in frames(tone(3000, -60)):  # line hiss only
        quiet.add(f)
    assert quiet.voiced_ms == 0 and quiet.trailing_silence_ms == 3000
