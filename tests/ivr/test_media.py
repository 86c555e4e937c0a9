"""RTP packets, the jitter gate, real UDP send/receive on loopback, the player and the recorder.

The end-pointer (voice activity) is tested with its modules in tests/voice/test_vad.py.
"""

from __future__ import annotations

import asyncio
import socket
import struct

import numpy as np
import pytest

from ivr import rtp as M
from ivr.player import RtpPlayer
from ivr.recorder import Recorder
from tests.support import tone, until
from voice.audio import AudioChunk, ulaw_decode, ulaw_encode


def frames(samples: np.ndarray):
    for i in range(0, samples.size - samples.size % 160, 160):
        yield samples[i : i + 160]


def chunks(samples: np.ndarray):
    """20 ms chunks at 8 kHz, as the RTP endpoint delivers them."""
    for i, f in enumerate(frames(samples)):
        yield AudioChunk.from_array(f, 8000, timestamp_ms=20 * i)


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


def test_payload_to_internal_pcm_is_bit_exact():
    rng = np.random.default_rng(0)
    for n in (160, 320, 1, 0):
        payload = rng.integers(0, 256, n, dtype=np.uint8).tobytes()
        for fmt in ("ulaw", "slin"):
            assert M.payload_pcm(payload, fmt) == M.decode_payload(payload, fmt).astype("<i2").tobytes()
    assert M.payload_pcm(bytes(range(256)), "ulaw") == ulaw_decode(bytes(range(256))).astype("<i2").tobytes()


def test_jitter_gate():
    g = M.JitterGate()
    assert g.push(65534) == 0
    assert g.push(65535) == 0
    assert g.push(1) == 1  # wrapped; one lost
    assert g.push(0) is None  # late
    assert g.push(1) is None  # duplicate
    assert g.push(100) == M.MAX_GAP_FILL
    assert g.late == 2 and g.lost == 99


# --- real UDP on loopback -------------------------------------------------------------------------


async def test_endpoint_receives_sends_and_counts_garbage():
    pool = M.PortPool(41000, 41099)
    sock, port = pool.bind("127.0.0.1")
    got: list[AudioChunk] = []
    ep = M.RtpEndpoint(sock, port, "ulaw", on_chunk=got.append)
    await ep.start()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    peer.setblocking(False)
    x = tone(20)
    ep.set_remote(*peer.getsockname())  # what Asterisk announced for its externalMedia channel
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
        assert np.all(got[1].array() == 0)
        # Stamped at the edge: format, and position in the stream from the RTP timestamps.
        assert {(c.rate, c.width, c.channels, c.samples) for c in got} == {(8000, 2, 1, 160)}
        assert [c.timestamp_ms for c in got] == [0, 20, 40]
        assert np.abs(got[0].array().astype(int) - x).max() < 600
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


def test_endpoint_stamps_chunks_from_rtp_timestamps_across_gaps_wraps_and_new_streams():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    got: list[AudioChunk] = []
    ep = M.RtpEndpoint(sock, 0, "slin", on_chunk=got.append)
    x = tone(20)
    asterisk, stranger = ("127.0.0.1", 5000), ("127.0.0.1", 6000)
    ep.set_remote(*asterisk)

    def send(seq, ts, ssrc=9, addr=asterisk):
        ep.received(
            M.build_rtp(M.encode_payload(x, "slin"), payload_type=118, seq=seq, timestamp=ts, ssrc=ssrc), addr
        )

    try:
        send(1, 2**32 - 320)
        send(2, 2**32 - 160)
        send(4, 160)  # the timestamp wrapped; packet 3 was lost
        assert ep.stats.lost == 1
        send(5, 320, ssrc=77)  # Asterisk re-invited: a new stream, its own timestamps
        send(6, 480, ssrc=77)
        send(7, 640, ssrc=55, addr=stranger)  # a stranger's stream is not followed
        assert [c.timestamp_ms for c in got] == [0, 20, 40, 60, 80, 100]
        assert np.all(got[2].array() == 0) and np.array_equal(got[3].array(), x)  # slin is bit-exact
        assert {c.rate for c in got} == {ep.rate} == {8000} and ep.frame_samples == 160
        assert ep.stats.foreign == 1
    finally:
        sock.close()


async def test_only_the_address_asterisk_announced_can_take_the_rtp_port():
    """Media off loopback: a stranger who sends first (another port, or another host on Asterisk's port)
    neither injects audio nor diverts the answers; Asterisk's own stream is taken when it comes."""
    pool = M.PortPool(41200, 41299)
    sock, port = pool.bind("127.0.0.1")
    got: list[AudioChunk] = []
    ep = M.RtpEndpoint(sock, port, "ulaw", on_chunk=got.append)
    await ep.start()
    asterisk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    asterisk.bind(("127.0.0.1", 0))
    other_port = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other_port.bind(("127.0.0.1", 0))
    other_host = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other_host.bind(("127.0.0.2", asterisk.getsockname()[1]))  # Asterisk's port, from another address
    for s in (asterisk, other_port, other_host):
        s.setblocking(False)
    x = tone(20)

    def rtp(seq: int, ssrc: int) -> bytes:
        return M.build_rtp(ulaw_encode(x), payload_type=0, seq=seq, timestamp=seq * 160, ssrc=ssrc)

    try:
        # Before Asterisk announced its address nobody is accepted (the media channel is not bridged yet).
        other_port.sendto(rtp(1, 666), ("127.0.0.1", port))
        await until(lambda: ep.stats.foreign >= 1, limit_s=2)
        assert got == [] and ep.remote is None
        ep.set_remote(*asterisk.getsockname())
        for seq in range(2, 7):
            other_port.sendto(rtp(seq, 666), ("127.0.0.1", port))
            other_host.sendto(rtp(seq, 667), ("127.0.0.1", port))
        await until(lambda: ep.stats.foreign >= 11, limit_s=2)
        assert got == [] and ep.remote == asterisk.getsockname()
        for seq in (100, 101, 102):
            asterisk.sendto(rtp(seq, 5), ("127.0.0.1", port))
        await until(lambda: len(got) >= 3, limit_s=2)
        other_port.sendto(rtp(7, 666), ("127.0.0.1", port))  # still a stranger once the stream runs
        await until(lambda: ep.stats.foreign >= 12, limit_s=2)
        assert len(got) == 3 and ep.stats.packets == 3
        # Our answers go to Asterisk only.
        ep.send_frame(x)
        await until(lambda: _readable(asterisk), limit_s=2)
        assert M.parse_rtp(asterisk.recv(2048)).payload_type == 0
        assert not _readable(other_port) and not _readable(other_host)
    finally:
        ep.close()
        pool.release(port)
        for s in (asterisk, other_port, other_host):
            s.close()


def test_the_announced_address_is_compared_as_an_address():
    assert M.same_address(("127.0.0.1", 4000), ("127.0.0.1", 4000))
    assert M.same_address(("::ffff:127.0.0.1", 4000, 0, 0), ("127.0.0.1", 4000))
    assert M.same_address(("10.0.0.7", 4000), ("0.0.0.0", 4000))  # a wildcard announces the port only
    assert not M.same_address(("127.0.0.1", 4001), ("127.0.0.1", 4000))
    assert not M.same_address(("127.0.0.2", 4000), ("127.0.0.1", 4000))


def test_without_an_announced_address_the_first_stream_may_be_accepted_on_request():
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    got: list[AudioChunk] = []
    ep = M.RtpEndpoint(sock, 0, "ulaw", on_chunk=got.append)
    packet = M.build_rtp(ulaw_encode(tone(20)), payload_type=0, seq=1, timestamp=0, ssrc=3)
    try:
        ep.received(packet, ("127.0.0.1", 5000))
        assert got == [] and ep.stats.foreign == 1
        ep.accept_first_source()
        ep.received(packet, ("127.0.0.1", 5000))
        assert len(got) == 1 and ep.remote == ("127.0.0.1", 5000)
    finally:
        sock.close()


def _readable(sock: socket.socket) -> bool:
    import select

    return bool(select.select([sock], [], [], 0)[0])


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
    player = RtpPlayer(
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


async def test_audio_that_never_comes_fails_the_item_instead_of_silencing_the_call():
    """Regression: the player waited for ever on an answer whose synthesis hung: dead air to the end."""
    pool = M.PortPool(41100, 41199)
    sock, port = pool.bind("127.0.0.1")
    ep = M.RtpEndpoint(sock, port, "ulaw")
    await ep.start()
    finished: list[tuple[int, bool]] = []
    player = RtpPlayer(ep, lead_ms=0, ready_s=0.2, on_finished=lambda i, ok: finished.append((i, ok)))
    player.start()
    cancelled = asyncio.Event()

    async def hung():
        try:
            await asyncio.sleep(60)
        finally:
            cancelled.set()
        raise AssertionError("unreachable")

    async def audio():
        return AudioChunk.from_array(tone(100), 8000)

    loop = asyncio.get_running_loop()
    t0 = loop.time()
    player.play(1, hung)
    player.play(2, audio)
    await until(lambda: len(finished) >= 2, limit_s=3.0)
    assert finished == [(1, False), (2, True)] and loop.time() - t0 < 1.0
    assert cancelled.is_set()  # the late synthesis is given up, not left to run
    await player.close()
    ep.close()
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
    r = Recorder("x", max_seconds=1, rate=8000)
    for c in chunks(tone(1500)):
        r.add(c)
    assert r.full.is_set() and r.duration_ms == 1000 and r.chunk().samples == 8000


def test_recorder_tracks_voice_and_trailing_silence():
    r = Recorder("x", max_seconds=30, rate=8000)
    for c in chunks(np.concatenate([tone(1000, -20), np.zeros(8000 * 2, np.int16)])):
        r.add(c)
    assert r.voiced_ms == 1000 and r.trailing_silence_ms == 2000 and not r.full.is_set()
    quiet = Recorder("y", max_seconds=30, rate=8000)
    for c in chunks(tone(3000, -60)):  # line hiss only
        quiet.add(c)
    assert quiet.voiced_ms == 0 and quiet.trailing_silence_ms == 3000


async def test_a_20_minute_radio_segment_plays_as_a_stream_in_little_memory(settings, tmp_path):
    """Radio by phone through the call's real player and RTP port: the first audio goes out at once
    and the call holds a few blocks of the segment, not the whole decoded file (about 100 MiB)."""
    import tracemalloc

    import soundfile as sf

    from ivr import flow as F
    from ivr.prompts import Prompts
    from tests.ivr.test_actions import make_call, runner_for

    segment = tmp_path / "segment.wav"  # 20 minutes at the radio's 44.1 kHz
    with sf.SoundFile(str(segment), "w", samplerate=44100, channels=1, subtype="PCM_16") as out:
        minute = (8000 * np.sin(2 * np.pi * 440 * np.arange(44100 * 60) / 44100)).astype(np.int16)
        for _ in range(20):
            out.write(minute)
    del minute
    app, session, ari = make_call()
    app.s.prompts = Prompts(settings, None)
    pool = M.PortPool(41300, 41399)
    sock, port = pool.bind("127.0.0.1")
    ep = M.RtpEndpoint(sock, port, "ulaw")
    await ep.start()
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    ep.set_remote(*peer.getsockname())
    finished: list[tuple[int, bool]] = []
    player = RtpPlayer(ep, lead_ms=0, on_finished=lambda i, ok: finished.append((i, ok)))
    player.start()
    session.actions = runner_for(session, ari, player=player)
    loop = asyncio.get_running_loop()
    tracemalloc.start()
    try:
        t0 = loop.time()
        await session._action_do(F.Play(1, file=str(segment)))
        await until(lambda: ep.stats.sent >= 1, limit_s=30)
        first_audio_s = loop.time() - t0
        await until(lambda: ep.stats.sent >= 100, limit_s=10)  # 2 s of the segment played
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
        player.stop(1)
    await until(lambda: finished == [(1, True)], limit_s=5)
    await player.close()
    ep.close()
    peer.close()
    pool.release(port)
    segment.unlink()
    assert peak < 8 * 2**20, f"{peak / 2**20:.0f} MiB held to play the segment"
    assert first_audio_s < 1.0
