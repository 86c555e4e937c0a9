"""Settings of the web layer's operations endpoints (`ops:` in config/hotline.yaml)."""

from __future__ import annotations

from typing import Protocol

from pydantic import Field

from core.config import ProductConfig, Section


class OpsSettings(Section):
    # `/metrics` and `/readyz`: empty, they answer clients on this machine only (the web app listens on
    # loopback by default, and a reverse proxy's clients are not on this machine); set, they answer any
    # client sending `Authorization: Bearer <token>`. `/healthz` says nothing but "alive": always open.
    token: str = ""
    min_free_disk_mb: int = Field(500, ge=0)  # MiB free on the data directory's disk below which: not ready
    # Where the call application's worker serves its own /metrics and /readyz when the web app runs in
    # another process (`hotline run --no-web` with `hotline serve`); the web app asks it there.
    worker_host: str = "127.0.0.1"
    worker_port: int = Field(9180, ge=1, le=65535)
    check_timeout_seconds: float = Field(2.0, gt=0, le=30)  # each readiness check (database, worker)


class OpsConfig(ProductConfig, Protocol):
    """What the operations endpoints read of the product's settings."""

    @property
    def ops(self) -> OpsSettings: ...
