"""Call audio over Asterisk externalMedia RTP: packets, ports, end-pointing, playback, recording.

Caller audio arrives as RTP (G.711 mu-law or big-endian slin, 8 kHz, 20 ms packets) on a UDP
port of ours; the answer goes back the same way, paced in real time, so playback can stop at
once when the caller barges in and nothing has to be copied to the Asterisk host.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import socket
import struct
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from voice.audio import TELEPHONE_RATE, AudioChunk, ulaw_decode, ulaw_encode

logger = logging.getLogger(__name__)

FRAME_MS = 20
FRAME_SAMPLES = TELEPHONE_RATE * FRAME_MS // 1000  # 160 samples per 20 ms packet at 8 kHz
PT_PCMU = 0
MAX_GAP_FILL = 5  # lost packets (100 ms) replaced by silence; longer gaps are skipped


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
    return np.frombuffer(payload[: len(payload) - len(payload) % 2], dtype=">i2").astype(np.int16)


def encode_payload(samples: np.ndarray, fmt: str) -> bytes:
    if fmt == "ulaw":
        return ulaw_encode(samples)
    return np.asarray(samples, dtype=">i2").tobytes()


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


# --- voice activity end-pointing ------------------------------------------------------------------


@dataclass
class VadConfig:
    rate: int = TELEPHONE_RATE
    threshold_db: float = -38.0  # absolute floor for voice
    noise_margin_db: float = 12.0  # above the tracked noise level
    min_speech_ms: int = 160
    silence_ms: int = 600  # end-point
    max_utterance_ms: int = 15000
    preroll_ms: int = 300


@dataclass
class VadEvent:
    kind: str  # "start" | "audio" | "end"
    audio: np.ndarray | None = None  # int16 at the VAD rate ("start": pre-roll + onset, "audio": one frame)
    reason: str = ""  # "end": silence | max_length


def frame_db(frame: np.ndarray) -> float:
    if frame.size == 0:
        return -120.0
    rms = math.sqrt(float(np.mean(np.square(frame.astype(np.float64) / 32768.0))))
    return 20 * math.log10(rms) if rms > 1e-6 else -120.0


@dataclass
class Endpointer:
    """Energy VAD with an adaptive noise floor: start after min_speech_ms of voice, end after `silence_ms`."""

    cfg: VadConfig = field(default_factory=VadConfig)
    noise_db: float = -60.0
    in_speech: bool = False

    def __post_init__(self) -> None:
        frames = max(1, self.cfg.preroll_ms // FRAME_MS)
        self._pre: deque[np.ndarray] = deque(maxlen=frames + self.cfg.min_speech_ms // FRAME_MS + 1)
        self._voiced_ms = 0
        self._silent_ms = 0
        self._speech_ms = 0
        self._levels: deque[float] = deque(maxlen=1000 // FRAME_MS)

    def threshold(self) -> float:
        return max(self.cfg.threshold_db, self.noise_db + self.cfg.noise_margin_db)

    def reset(self) -> None:
        self.in_speech = False
        self._pre.clear()
        self._voiced_ms = self._silent_ms = self._speech_ms = 0

    def process(self, frame: np.ndarray) -> list[VadEvent]:
        ms = int(round(1000 * frame.size / self.cfg.rate))
        db = frame_db(frame)
        voiced = db >= self.threshold()
        if not self.in_speech:
            # Line noise = the quietest frame of the last second (minimum statistics): stationary
            # noise is learnt within a second, while the pauses between syllables keep it low in speech.
            self._levels.append(db)
            self.noise_db = max(-90.0, min(self._levels))
            voiced = db >= self.threshold()
            self._pre.append(frame)
            self._voiced_ms = self._voiced_ms + ms if voiced else max(0, self._voiced_ms - ms)
            if self._voiced_ms >= self.cfg.min_speech_ms:
                self.in_speech = True
                self._silent_ms = 0
                self._speech_ms = sum(int(f.size * 1000 / self.cfg.rate) for f in self._pre)
                audio = np.concatenate(list(self._pre))
                self._pre.clear()
                return [VadEvent("start", audio)]
            return []
        self._speech_ms += ms
        self._silent_ms = 0 if voiced else self._silent_ms + ms
        events = [VadEvent("audio", frame)]
        if self._silent_ms >= self.cfg.silence_ms:
            events.append(VadEvent("end", reason="silence"))
        elif self._speech_ms >= self.cfg.max_utterance_ms:
            events.append(VadEvent("end", reason="max_length"))
        if events[-1].kind == "end":
            self.in_speech = False
            self._voiced_ms = 0
            self._silent_ms = 0
        return events


# --- RTP endpoint: one per call -------------------------------------------------------------------


@dataclass
class MediaStats:
    packets: int = 0
    garbage: int = 0  # not RTP, wrong payload type or wrong size
    late: int = 0
    lost: int = 0
    sent: int = 0
    foreign: int = 0  # packets from an unexpected address


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, owner: RtpEndpoint) -> None:
        self.owner = owner

    def datagram_received(self, data: bytes, addr) -> None:  # type: ignore[no-untyped-def]
        self.owner._received(data, addr)

    def error_received(self, exc: Exception) -> None:
        logger.debug("RTP socket error: %s", exc)


class RtpEndpoint:
    """One call's UDP port: decodes caller audio to 20 ms int16 frames and sends our audio back."""

    def __init__(
        self,
        sock: socket.socket,
        port: int,
        fmt: str = "ulaw",
        on_frame: Callable[[np.ndarray], None] | None = None,
    ) -> None:
        self.sock, self.port, self.fmt = sock, port, fmt
        self.on_frame = on_frame
        self.stats = MediaStats()
        self.remote: tuple | None = None  # where Asterisk's RTP comes from (we answer there)
        self._gate = JitterGate()
        self._ssrc_in: int | None = None
        self._pt_in: int | None = None
        self._transport: asyncio.DatagramTransport | None = None
        self._seq = random.randrange(0, 0xFFFF)
        self._ts = random.randrange(0, 0xFFFFFFFF)
        self._ssrc = random.randrange(1, 0xFFFFFFFF)
        self.first_packet = asyncio.Event()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), sock=self.sock)

    def set_remote(self, host: str, port: int) -> None:
        """Where to send before the first packet arrives (Asterisk's UNICASTRTP_LOCAL_* variables)."""
        if self.remote is None:
            self.remote = (host, port)

    @property
    def payload_type(self) -> int:
        return self._pt_in if self._pt_in is not None else (PT_PCMU if self.fmt == "ulaw" else 118)

    def _received(self, data: bytes, addr) -> None:  # type: ignore[no-untyped-def]
        pkt = parse_rtp(data)
        expected_bytes = FRAME_SAMPLES * (1 if self.fmt == "ulaw" else 2)
        if pkt is None or not pkt.payload or len(pkt.payload) > 8 * expected_bytes:
            self.stats.garbage += 1
            return
        if self.fmt == "ulaw" and pkt.payload_type != PT_PCMU:
            self.stats.garbage += 1
            return
        if self.fmt == "slin" and len(pkt.payload) % 2:
            self.stats.garbage += 1
            return
        if self._ssrc_in is None:
            # The first RTP stream locks the port (Asterisk's announced address is not trusted for this:
            # behind NAT or with a wildcard bind, its packets come from another address).
            self._ssrc_in, self._pt_in = pkt.ssrc, pkt.payload_type
            self.remote = addr[:2]
            self.first_packet.set()
        elif pkt.ssrc != self._ssrc_in:
            # A new stream (Asterisk re-invited, or a stranger): follow it only from Asterisk's address.
            if self.remote is not None and addr[:2] != tuple(self.remote):
                self.stats.foreign += 1
                return
            self._ssrc_in, self._gate = pkt.ssrc, JitterGate()
        elif self.remote is not None and addr[:2] != tuple(self.remote):
            self.stats.foreign += 1
            return
        fill = self._gate.push(pkt.seq)
        self.stats.packets += 1
        self.stats.late, self.stats.lost = self._gate.late, self._gate.lost
        if fill is None:
            return
        samples = decode_payload(pkt.payload, self.fmt)
        if self.on_frame is None:
            return
        for _ in range(fill):
            self.on_frame(np.zeros(samples.size, dtype=np.int16))
        self.on_frame(samples)

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


# --- playback over RTP ----------------------------------------------------------------------------


Source = Callable[[], Awaitable[AudioChunk]]


@dataclass
class _Item:
    playback_id: int
    source: Source
    task: asyncio.Task | None = None  # audio preparation (synthesis) started early


class RtpPlayer:
    """Plays queued audio over an RtpEndpoint in real time; `stop(id)` silences it within one frame."""

    def __init__(
        self,
        endpoint: RtpEndpoint,
        *,
        lead_ms: int = 60,
        on_started: Callable[[int, float], None] | None = None,
        on_finished: Callable[[int, bool], None] | None = None,
    ) -> None:
        self.endpoint = endpoint
        self.lead_s = lead_ms / 1000
        self.on_started = on_started
        self.on_finished = on_finished
        self._queue: deque[_Item] = deque()
        self._current: _Item | None = None
        self._wake = asyncio.Event()
        self._stop_current = False
        self._task: asyncio.Task | None = None
        self._closed = False

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"rtp-player-{self.endpoint.port}")

    def play(self, playback_id: int, source: Source) -> None:
        item = _Item(playback_id, source)
        # Start preparing now (synthesis runs in the TTS pool while earlier items play).
        item.task = asyncio.create_task(source())
        self._queue.append(item)
        self._wake.set()

    def stop(self, playback_id: int) -> None:
        if self._current is not None and self._current.playback_id == playback_id:
            self._stop_current = True
            return
        for item in list(self._queue):
            if item.playback_id == playback_id:
                self._queue.remove(item)
                if item.task is not None:
                    item.task.cancel()

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._queue)

    async def _run(self) -> None:
        while not self._closed:
            if not self._queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            item = self._queue.popleft()
            self._current, self._stop_current = item, False
            ok = True
            try:
                assert item.task is not None
                chunk = await item.task
                ok = await self._send(item, chunk)
            except asyncio.CancelledError:
                if self._closed:
                    raise
                ok = False
            except Exception as exc:
                logger.warning("playback %d failed: %s", item.playback_id, exc)
                ok = False
            finally:
                self._current = None
            if self.on_finished is not None and not self._closed:
                self.on_finished(item.playback_id, ok)

    async def _send(self, item: _Item, chunk: AudioChunk) -> bool:
        if chunk.rate != TELEPHONE_RATE or chunk.channels != 1:
            raise ValueError(f"playback needs 8 kHz mono audio, got {chunk.rate} Hz/{chunk.channels} ch")
        samples = chunk.array()
        n = max(1, math.ceil(samples.size / FRAME_SAMPLES))
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        if self.on_started is not None:
            self.on_started(item.playback_id, time.monotonic())
        for i in range(n):
            if self._stop_current or self._closed:
                return True  # stopped on request: not a failure
            frame = samples[i * FRAME_SAMPLES : (i + 1) * FRAME_SAMPLES]
            if frame.size < FRAME_SAMPLES:
                frame = np.concatenate([frame, np.zeros(FRAME_SAMPLES - frame.size, dtype=np.int16)])
            self.endpoint.send_frame(frame, marker=i == 0)
            # Absolute schedule (no drift); a little ahead of real time to absorb scheduling jitter.
            delay = t0 + (i + 1) * FRAME_MS / 1000 - self.lead_s - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        # Let the audio sent ahead actually be heard before reporting the end.
        rest = t0 + n * FRAME_MS / 1000 - loop.time()
        if rest > 0:
            await asyncio.sleep(rest)
        return True

    async def close(self) -> None:
        self._closed = True
        for item in self._queue:
            if item.task is not None:
                item.task.cancel()
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            except Exception as exc:
                logger.debug("player ended with %s", exc)


# --- recording from the caller's audio ------------------------------------------------------------


class Recorder:
    """Collects the caller's frames up to a maximum length, spooling them to disk as it goes.

    The spool file (raw int16 LE) survives a crash of the application; `ivr.store.recover_spool`
    turns leftovers into tickets at the next start. Writes are small appends to the page cache.
    """

    SPOOL_EVERY = 25  # frames (0.5 s) per append

    def __init__(
        self, name: str, max_seconds: float, rate: int = TELEPHONE_RATE, spool: Path | None = None
    ) -> None:
        self.name = name
        self.rate = rate
        self.max_samples = int(max_seconds * rate)
        self._frames: list[np.ndarray] = []
        self._samples = 0
        self._unspooled = 0
        self.voiced_ms = 0  # how much of it is voice (a recording without voice is empty)
        self.trailing_silence_ms = 0
        self.full = asyncio.Event()
        self.spool = spool
        self._fh = None
        if spool is not None:
            spool.parent.mkdir(parents=True, exist_ok=True)
            self._fh = open(spool, "ab")  # noqa: SIM115 - closed in close()

    VOICE_DB = -40.0  # frames louder than this count as the caller talking

    def add(self, frame: np.ndarray) -> None:
        if self._samples >= self.max_samples:
            return
        self._frames.append(frame)
        self._samples += frame.size
        ms = int(1000 * frame.size / self.rate)
        if frame_db(frame) > self.VOICE_DB:
            self.voiced_ms += ms
            self.trailing_silence_ms = 0
        else:
            self.trailing_silence_ms += ms
        self._unspooled += 1
        if self._unspooled >= self.SPOOL_EVERY:
            self._flush()
        if self._samples >= self.max_samples:
            self.full.set()

    def _flush(self) -> None:
        if self._fh is not None and self._unspooled:
            tail = self._frames[-self._unspooled :]
            try:
                self._fh.write(np.concatenate(tail).astype("<i2").tobytes())
                self._fh.flush()
            except OSError as exc:
                logger.warning("recording spool %s: %s", self.spool, exc)
        self._unspooled = 0

    def close(self, *, discard: bool) -> None:
        """Stop spooling; `discard` removes the spool (the audio is safely stored elsewhere, or unwanted)."""
        self._flush()
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        if discard and self.spool is not None:
            self.spool.unlink(missing_ok=True)

    @property
    def duration_ms(self) -> int:
        return int(1000 * self._samples / self.rate)

    def chunk(self) -> AudioChunk:
        data = np.concatenate(self._frames) if self._frames else np.zeros(0, dtype=np.int16)
        return AudioChunk.from_array(data[: self.max_samples], self.rate)
