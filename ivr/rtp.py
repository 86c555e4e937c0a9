"""The telephony edge: RTP packets, payload codecs, the jitter gate, the port pool and one call's endpoint.

Caller audio arrives as RTP (G.711 mu-law or A-law, or big-endian slin, 8 kHz, 20 ms packets) on a UDP port of
ours. The endpoint decodes each packet to an `AudioChunk` stamped with its format and its position in
the stream (from the RTP timestamp); nothing past this module assumes a sample rate.
"""

from __future__ import annotations

import asyncio
import ipaddress
import logging
import random
import socket
import struct
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from voice.audio import (
    SAMPLE_WIDTH,
    TELEPHONE_RATE,
    AudioChunk,
    alaw_decode,
    alaw_encode,
    ulaw_decode,
    ulaw_encode,
)

logger = logging.getLogger(__name__)

FRAME_MS = 20  # packet time we send, and expect
PT_PCMU = 0
PT_PCMA = 8
PT_SLIN = 118  # dynamic payload type Asterisk uses for slin on externalMedia
MAX_GAP_FILL = 5  # lost packets (100 ms) replaced by silence; longer gaps are skipped


@dataclass(frozen=True, slots=True)
class Codec:
    """An RTP payload format we speak with Asterisk's externalMedia channel."""

    name: str  # externalMedia `format`
    payload_type: int  # what we send until the peer's own payload type is known
    rate: int  # samples per second
    payload_width: int  # bytes per sample on the wire

    @property
    def frame_samples(self) -> int:
        return self.rate * FRAME_MS // 1000


CODECS = {
    "ulaw": Codec("ulaw", PT_PCMU, TELEPHONE_RATE, 1),
    "alaw": Codec("alaw", PT_PCMA, TELEPHONE_RATE, 1),
    "slin": Codec("slin", PT_SLIN, TELEPHONE_RATE, 2),
}


# --- RTP packets ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RtpPacket:
    payload_type: int
    seq: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes


def parse_rtp(data: bytes) -> RtpPacket | None:
    """RFC 3550 packet -> RtpPacket; None for anything that is not a sane RTP packet."""
    if len(data) < 12:
        return None
    b0, b1 = data[0], data[1]
    if b0 >> 6 != 2:
        return None
    pt = b1 & 0x7F
    if 72 <= pt <= 76:  # RTCP packet types land here when muxed: not audio
        return None
    csrc = b0 & 0x0F
    pos = 12 + 4 * csrc
    if len(data) < pos:
        return None
    if b0 & 0x10:  # header extension
        if len(data) < pos + 4:
            return None
        ext_words = struct.unpack_from("!H", data, pos + 2)[0]
        pos += 4 + 4 * ext_words
        if len(data) < pos:
            return None
    end = len(data)
    if b0 & 0x20:  # padding: last byte says how much
        pad = data[-1]
        if pad == 0 or pad > end - pos:
            return None
        end -= pad
    seq, ts, ssrc = struct.unpack_from("!HII", data, 2)
    return RtpPacket(pt, seq, ts, ssrc, bool(b1 & 0x80), bytes(data[pos:end]))


def build_rtp(
    payload: bytes, *, payload_type: int, seq: int, timestamp: int, ssrc: int, marker: bool = False
) -> bytes:
    return (
        struct.pack(
            "!BBHII",
            0x80,
            (0x80 if marker else 0) | (payload_type & 0x7F),
            seq & 0xFFFF,
            timestamp & 0xFFFFFFFF,
            ssrc & 0xFFFFFFFF,
        )
        + payload
    )


def decode_payload(payload: bytes, fmt: str) -> np.ndarray:
    """RTP payload -> int16 samples (slin on RTP is big-endian)."""
    if fmt == "ulaw":
        return ulaw_decode(payload)
    if fmt == "alaw":
        return alaw_decode(payload)
    return np.frombuffer(payload[: len(payload) - len(payload) % 2], dtype=">i2").astype(np.int16)


def encode_payload(samples: np.ndarray, fmt: str) -> bytes:
    if fmt == "ulaw":
        return ulaw_encode(samples)
    if fmt == "alaw":
        return alaw_encode(samples)
    return np.asarray(samples, dtype=">i2").tobytes()


# G.711 byte -> the low and high byte of its little-endian int16 sample (bit-exact with the decoders).
def _byte_tables(decode: Callable[[bytes], np.ndarray]) -> tuple[bytes, bytes]:
    pcm = decode(bytes(range(256))).astype("<i2").tobytes()
    return pcm[0::2], pcm[1::2]


_G711_TABLES = {"ulaw": _byte_tables(ulaw_decode), "alaw": _byte_tables(alaw_decode)}


def payload_pcm(payload: bytes, fmt: str) -> bytes:
    """RTP payload -> the internal format (int16 little-endian) as bytes, in a few C-level steps."""
    tables = _G711_TABLES.get(fmt)
    pcm = bytearray(2 * len(payload) if tables else len(payload) & ~1)
    if tables:
        pcm[0::2] = payload.translate(tables[0])
        pcm[1::2] = payload.translate(tables[1])
    else:  # slin on RTP is big-endian: swap each pair
        pcm[0::2] = payload[1 : len(pcm) : 2]
        pcm[1::2] = payload[0 : len(pcm) : 2]
    return bytes(pcm)


class JitterGate:
    """Orders a packet stream well enough for speech: drops duplicates and late packets, fills short gaps."""

    def __init__(self) -> None:
        self.expected: int | None = None
        self.late = 0
        self.lost = 0

    def push(self, seq: int) -> int | None:
        """Silence frames to insert before this packet, or None to drop it."""
        if self.expected is None:
            self.expected = (seq + 1) & 0xFFFF
            return 0
        diff = (seq - self.expected) & 0xFFFF
        if diff >= 0x8000:  # behind: duplicate or late
            self.late += 1
            return None
        self.expected = (seq + 1) & 0xFFFF
        if diff:
            self.lost += diff
        return min(diff, MAX_GAP_FILL)


# --- ports ----------------------------------------------------------------------------------------


class PortPool:
    """Hands out RTP ports from the configured range; a port is reused only after release."""

    def __init__(self, start: int, end: int) -> None:
        self.start, self.end = start, end
        self._used: set[int] = set()

    def bind(self, host: str) -> tuple[socket.socket, int]:
        """A UDP socket bound to a free port of the range."""
        candidates = [p for p in range(self.start, self.end + 1) if p not in self._used]
        random.shuffle(candidates)  # a port just released may still get stray packets
        for port in candidates[:200]:
            sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_DGRAM)
            try:
                sock.bind((host, port))
            except OSError:
                sock.close()
                continue
            sock.setblocking(False)
            self._used.add(port)
            return sock, port
        raise OSError(f"no free RTP port in {self.start}-{self.end} on {host}")

    def release(self, port: int) -> None:
        self._used.discard(port)

    @property
    def in_use(self) -> int:
        return len(self._used)


# --- RTP endpoint: one per call -------------------------------------------------------------------


@dataclass
class MediaStats:
    packets: int = 0
    garbage: int = 0  # not RTP, wrong payload type or wrong size
    late: int = 0
    lost: int = 0
    sent: int = 0
    foreign: int = 0  # packets from an unexpected address


def same_address(addr: tuple[str | int, ...], announced: tuple[str, int]) -> bool:
    """Whether a datagram's source is the announced host and port (IPv4-mapped IPv6 equals its IPv4;
    an announced wildcard host matches any host on that port)."""
    host, port = announced
    if int(addr[1]) != port:
        return False
    try:
        want = ipaddress.ip_address(host)
        got = ipaddress.ip_address(str(addr[0]).split("%", 1)[0])
    except ValueError:
        return str(addr[0]) == host
    if want.is_unspecified:
        return True
    if isinstance(got, ipaddress.IPv6Address) and got.ipv4_mapped is not None:
        got = got.ipv4_mapped
    if isinstance(want, ipaddress.IPv6Address) and want.ipv4_mapped is not None:
        want = want.ipv4_mapped
    return got == want


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: RtpEndpoint) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        self.owner.received(data, addr)

    def error_received(self, exc: Exception) -> None:
        logger.debug("RTP socket error: %s", exc)


class RtpEndpoint:
    """One call's UDP port: caller audio out as stamped `AudioChunk`s, our audio back as RTP."""

    def __init__(
        self,
        sock: socket.socket,
        port: int,
        fmt: str = "ulaw",
        on_chunk: Callable[[AudioChunk], None] | None = None,
    ) -> None:
        self.sock, self.port, self.fmt = sock, port, fmt
        self.codec = CODECS[fmt]
        self.on_chunk = on_chunk
        self.stats = MediaStats()
        self.remote: tuple[str | int, ...] | None = None  # where Asterisk's RTP comes from (we answer there)
        # The only source whose first packet may lock the port (what Asterisk announced); None: nothing is
        # accepted yet, unless `accept_first_source` opened the port to whoever sends first.
        self._source: tuple[str, int] | None = None
        self._any_source = False
        self._gate = JitterGate()
        self._ssrc_in: int | None = None
        self._pt_in: int | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._seq = random.randrange(0, 0xFFFF)
        self._ts = random.randrange(0, 0xFFFFFFFF)
        self._ssrc = random.randrange(1, 0xFFFFFFFF)
        self._last_ts_in: int | None = None  # RTP timestamp of the last packet delivered
        self._pos = 0  # stream position (samples) of that packet
        self._next_pos = 0  # stream position just after the audio delivered so far
        self.first_packet = asyncio.Event()

    @property
    def rate(self) -> int:
        """Sample rate (Hz) of the audio both ways."""
        return self.codec.rate

    @property
    def frame_samples(self) -> int:
        """Samples per packet we send (20 ms)."""
        return self.codec.frame_samples

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=self.sock)

    def set_remote(self, host: str, port: int) -> None:
        """Asterisk's announced RTP address (UNICASTRTP_LOCAL_*): the only source accepted, and where we
        send until its first packet arrives. Any other sender is a stranger, even one that is faster
        (when media is not on loopback, anyone who can reach the port could otherwise take the call)."""
        self._source = (host, port)
        if self.remote is None:
            self.remote = (host, port)

    def accept_first_source(self) -> None:
        """Asterisk announced nothing: the first stream to arrive locks the port (the old behaviour)."""
        self._any_source = True

    @property
    def payload_type(self) -> int:
        return self._pt_in if self._pt_in is not None else self.codec.payload_type

    def received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        """One datagram from the socket (the hot path: every 20 ms per call)."""
        pkt = parse_rtp(data)
        codec = self.codec
        expected_bytes = codec.frame_samples * codec.payload_width
        if pkt is None or not pkt.payload or len(pkt.payload) > 8 * expected_bytes:
            self.stats.garbage += 1
            return
        if codec.payload_width == 1 and pkt.payload_type != codec.payload_type:  # G.711: PT is fixed
            self.stats.garbage += 1
            return
        if codec.payload_width == 2 and len(pkt.payload) % 2:
            self.stats.garbage += 1
            return
        if self._ssrc_in is None:
            # The first RTP stream from Asterisk's announced address locks the port.
            if not self._any_source and (self._source is None or not same_address(addr, self._source)):
                self.stats.foreign += 1
                return
            self._ssrc_in, self._pt_in = pkt.ssrc, pkt.payload_type
            self.remote = addr[:2]
            self.first_packet.set()
        elif pkt.ssrc != self._ssrc_in:
            # A new stream (Asterisk re-invited, or a stranger): follow it only from Asterisk's address.
            if self.remote is not None and addr[:2] != tuple(self.remote):
                self.stats.foreign += 1
                return
            self._ssrc_in, self._gate = pkt.ssrc, JitterGate()
            self._last_ts_in = None  # its timestamps start anywhere: our positions continue
        elif self.remote is not None and addr[:2] != tuple(self.remote):
            self.stats.foreign += 1
            return
        fill = self._gate.push(pkt.seq)
        self.stats.packets += 1
        self.stats.late, self.stats.lost = self._gate.late, self._gate.lost
        if fill is None:
            return
        pos = self._position(pkt.timestamp)
        if self.on_chunk is None:
            return
        audio = payload_pcm(pkt.payload, codec.name)
        n, rate = len(audio) // SAMPLE_WIDTH, codec.rate
        for i in range(fill, 0, -1):  # the lost packets, as silence just before this one
            at_ms = max(0, pos - i * n) * 1000 // rate
            self.on_chunk(AudioChunk(bytes(len(audio)), rate, timestamp_ms=at_ms))
        self._next_pos = pos + n
        self.on_chunk(AudioChunk(audio, rate, timestamp_ms=pos * 1000 // rate))

    def _position(self, timestamp: int) -> int:
        """Stream position (samples) of a packet, from its RTP timestamp (wrap-around unwrapped)."""
        if self._last_ts_in is None:
            self._pos = self._next_pos
        else:
            step = (timestamp - self._last_ts_in) & 0xFFFFFFFF
            if step < 0x80000000:  # forward (a timestamp going back is ignored: we keep our position)
                self._pos += step
        self._last_ts_in = timestamp
        return self._pos

    def send_frame(self, samples: np.ndarray, marker: bool = False) -> None:
        if self._transport is None or self.remote is None or self._transport.is_closing():
            return
        payload = encode_payload(samples, self.fmt)
        self._transport.sendto(
            build_rtp(
                payload,
                payload_type=self.payload_type,
                seq=self._seq,
                timestamp=self._ts,
                ssrc=self._ssrc,
                marker=marker,
            ),
            self.remote,
        )
        self._seq = (self._seq + 1) & 0xFFFF
        self._ts = (self._ts + samples.size) & 0xFFFFFFFF
        self.stats.sent += 1

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()
        else:
            self.sock.close()
