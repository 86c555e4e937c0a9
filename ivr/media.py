"""One call's media on our side: an RTP port from the pool, its endpoint, and the player.

Asterisk's externalMedia channel sends the caller's audio to our port and takes our answers from it
(RTP both ways: `ivr.rtp`); the player paces answers in real time (`ivr.player`). Opened when the call
is set up, released in the call's teardown whatever happened.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.metrics import ErrorStage, count_error
from ivr.player import RtpPlayer
from ivr.rtp import MediaStats, PortPool, RtpEndpoint
from voice.audio import AudioChunk

if TYPE_CHECKING:
    from ivr.settings import MediaSettings

logger = logging.getLogger(__name__)


class CallMedia:
    """The RTP port, endpoint and player of one call."""

    def __init__(self, ports: PortPool, endpoint: RtpEndpoint, player: RtpPlayer) -> None:
        self.ports = ports
        self.endpoint = endpoint
        self.player = player
        self._port_held = True

    @classmethod
    async def open(
        cls,
        ports: PortPool,
        settings: MediaSettings,
        fmt: str,
        *,
        on_play_started: Callable[[int, float], None],
        on_play_finished: Callable[[int, bool], None],
    ) -> CallMedia:
        """Bind a port of the pool, start receiving on it and start the player (nothing leaks on failure)."""
        try:
            sock, port = ports.bind(settings.bind_host)
        except Exception:
            count_error(ErrorStage.MEDIA)
            raise
        endpoint = RtpEndpoint(sock, port, fmt)
        try:
            await endpoint.start()
        except BaseException as exc:
            endpoint.close()
            ports.release(port)
            if isinstance(exc, Exception):
                count_error(ErrorStage.MEDIA)
            raise
        player = RtpPlayer(
            endpoint,
            lead_ms=settings.playback_lead_ms,
            ready_s=settings.audio_ready_seconds,
            on_started=on_play_started,
            on_finished=on_play_finished,
        )
        player.start()
        return cls(ports, endpoint, player)

    @property
    def port(self) -> int:
        return self.endpoint.port

    @property
    def rate(self) -> int:
        """Sample rate (Hz) of the caller's chunks and of what the player sends."""
        return self.endpoint.rate

    @property
    def stats(self) -> MediaStats:
        return self.endpoint.stats

    def deliver_to(self, on_chunk: Callable[[AudioChunk], None]) -> None:
        """Where the caller's audio goes from now on (the call's listener)."""
        self.endpoint.on_chunk = on_chunk

    async def stop_playback(self) -> None:
        """Stop the player (queued audio is dropped)."""
        await self.player.close()

    def close(self, call: str) -> None:
        """Close the socket and give the port back; logs packets that were ignored."""
        stats = self.endpoint.stats
        if stats.garbage or stats.foreign:
            logger.warning(
                "call %s: %d garbage and %d foreign RTP packets ignored", call, stats.garbage, stats.foreign
            )
        self.endpoint.close()
        if self._port_held:
            self._port_held = False
            self.ports.release(self.endpoint.port)
