"""Asterisk for the hotline: a Debian unstable root (or the host's Asterisk), our config, start/stop, ARI."""

from __future__ import annotations

from asterisk.handle import AsteriskHandle, ari_ready, handle_for
from asterisk.process import ensure_running, start, stop
from asterisk.provision import AsteriskError, host_mirror, provision

__all__ = [
    "AsteriskError",
    "AsteriskHandle",
    "ari_ready",
    "ensure_running",
    "handle_for",
    "host_mirror",
    "provision",
    "start",
    "stop",
]
