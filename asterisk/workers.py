"""Config section `ivr.workers:` how Asterisk reaches the call workers (ARI inbound or outbound WebSockets).

`inbound` (the default, what `make run` uses): the application connects to Asterisk's ARI and holds one
events WebSocket for its Stasis application. `outbound`: Asterisk opens one WebSocket per call
(`ari.conf` type=outbound_websocket, `websocket_client.conf` connection_type=per_call_config) to the
HAProxy front, which spreads the calls over the `hotline worker` processes behind it.
"""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Asterisk must give up on a dead worker, and the dialplan's fallback start, within this (the hotline's
# promise: never more than a few seconds of dead air).
MAX_GIVE_UP_MS = 3000
WORKER_USER = "asterisk"  # the user name Asterisk presents to the workers (its password is generated)


class WorkersSettings(BaseModel):
    """`ivr.workers:` ARI mode, where workers listen, HAProxy's front, Asterisk's reconnect timing."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ari_mode: Literal["inbound", "outbound"] = "inbound"  # outbound: per-call WebSockets to `hotline worker`
    listen_address: str = "127.0.0.1"  # a worker's WebSocket and /healthz listener
    listen_port: int = Field(8094, ge=1, le=65535)
    front_address: str = "127.0.0.1"  # HAProxy's front: Asterisk connects here
    front_port: int = Field(8093, ge=1, le=65535)
    # Every worker as host:port, for HAProxy's backend; empty: the one at listen_address:listen_port.
    backends: tuple[str, ...] = ()
    connection_timeout_ms: int = Field(500, ge=100, le=3000)  # Asterisk: one connection attempt
    reconnect_interval_ms: int = Field(250, ge=50, le=3000)  # Asterisk: pause between attempts
    reconnect_attempts: int = Field(3, ge=1, le=10)  # Asterisk: attempts before the call leaves Stasis
    health_interval_ms: int = Field(1000, ge=200, le=10000)  # HAProxy: /healthz of each worker this often
    drain_seconds: float = Field(600.0, gt=0, le=7200)  # SIGTERM: calls may finish this long, then cut
    # A worker whose event loop is stuck this long (hung, stopped) is killed by its supervisor; its calls
    # then reconnect to another worker, which hands them to the fallback.
    watchdog_seconds: float = Field(3.0, ge=0.5, le=120)
    # A worker on another machine than Asterisk: a copy (mode 0600) of the Asterisk machine's
    # <data_dir>/asterisk/secrets.json (worker password, prompt PIN). Empty: this data directory's own file.
    secrets_file: Path | None = None
    # Which worker holds a call (stored on its call row): a restarted worker closes the calls and recovers
    # the recordings its killed predecessor left, and never another worker's. Empty: <host name>:<listen
    # port>, unique as long as the machines' host names are. Set it when they are not.
    worker_id: str = Field("", pattern=r"^[A-Za-z0-9._:-]{0,64}$")

    @field_validator("backends")
    @classmethod
    def _check_backends(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for n, backend in enumerate(value):
            host, sep, port = backend.rpartition(":")
            if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
                raise ValueError(f"backends.{n}: {backend!r} is not host:port")
        return value

    @model_validator(mode="after")
    def _check_give_up(self) -> WorkersSettings:
        if self.give_up_ms > MAX_GIVE_UP_MS:
            raise ValueError(
                "reconnect_attempts x connection_timeout_ms + the pauses between them is "
                f"{self.give_up_ms} ms: "
                f"a caller of a dead worker would wait longer than {MAX_GIVE_UP_MS} ms for the fallback"
            )
        return self

    @property
    def give_up_ms(self) -> int:
        """How long Asterisk at most tries to reach a worker before the call leaves Stasis (FAILED)."""
        return (
            self.reconnect_attempts * self.connection_timeout_ms
            + (self.reconnect_attempts - 1) * self.reconnect_interval_ms
        )

    @property
    def worker_name(self) -> str:
        """This worker's id on its call rows (`worker_id`, else host name and listen port)."""
        return self.worker_id or f"{socket.gethostname()}:{self.listen_port}"[:64]

    @property
    def worker_backends(self) -> tuple[str, ...]:
        return self.backends or (_host_port(self.listen_address, self.listen_port),)

    @property
    def front_uri(self) -> str:
        """Where Asterisk opens each call's WebSocket (HAProxy's front)."""
        return f"ws://{_host_port(self.front_address, self.front_port)}/ari"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def workers_values(workers: WorkersSettings, password: str) -> dict[str, object]:
    """Template values of ari.conf's outbound_websocket and websocket_client.conf."""
    return {
        "ari_mode": workers.ari_mode,
        "workers_uri": workers.front_uri,
        "worker_user": WORKER_USER,
        "worker_password": password,
        "ws_connection_timeout": workers.connection_timeout_ms,
        "ws_reconnect_interval": workers.reconnect_interval_ms,
        "ws_reconnect_attempts": workers.reconnect_attempts,
    }
