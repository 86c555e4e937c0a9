"""What `/readyz` and `/metrics` know of the call application, in this process or in the worker's.

`hotline run` hosts the web app inside its worker, next to the ARI application: the web app then reads
the application's flags directly (`LocalProbe`). `hotline serve` (the hotline-web unit) is another
process, started and restarted on its own. It asks the worker over loopback (`WorkerProbe`, the worker's
`ops.worker_port`) rather than Asterisk's ARI ("is our Stasis application registered?") or a state file
the worker refreshes, because the worker is the one that knows: its own WebSocket to ARI (connected or
not, at this moment, not at the last refresh), whether its recognizer finished loading, and its
metrics (call counters live in its memory; no file or ARI query has them). A worker that does not answer
within `ops.check_timeout_seconds` is dead, hung or restarting: not ready either way.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

import httpx

import ivr.metrics  # noqa: F401  (imported for its metrics: every call series is served at 0 from the start)
import voice.pool  # noqa: F401  (likewise the engine pools' gauges)
from core import metrics
from core.health import Check, database_check, disk_check
from ivr.health import application_checks

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from ivr.app import Hotline
    from web.settings import OpsConfig, OpsSettings

logger = logging.getLogger(__name__)

APP_CHECKS = ("ari", "engines")  # what only the call application can say
UNREACHABLE = "Không liên lạc được với ứng dụng tổng đài (đã dừng, bị treo hoặc đang khởi động lại)"


class AppProbe(Protocol):
    """The call application's readiness checks and its metrics, wherever it runs."""

    async def checks(self) -> dict[str, Check]: ...

    async def metrics(self) -> bytes | None: ...


class LocalProbe:
    """The application runs in this process; `app_of()` is it (None until it has started)."""

    def __init__(self, app_of: Callable[[], Hotline | None]) -> None:
        self.app_of = app_of

    async def checks(self) -> dict[str, Check]:
        return application_checks(self.app_of())

    async def metrics(self) -> bytes | None:
        return metrics.render()


class WorkerProbe:
    """The application runs in the worker process: asked over HTTP at `ops.worker_host:worker_port`."""

    def __init__(self, ops: OpsSettings) -> None:
        host = f"[{ops.worker_host}]" if ":" in ops.worker_host else ops.worker_host
        self.base = f"http://{host}:{ops.worker_port}"
        self.headers = {"Authorization": f"Bearer {ops.token}"} if ops.token else {}
        self.timeout = ops.check_timeout_seconds

    async def _get(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(timeout=self.timeout, trust_env=False) as client:
            return await client.get(self.base + path, headers=self.headers)

    async def checks(self) -> dict[str, Check]:
        try:
            body = (await self._get("/readyz")).json()
            return {
                name: Check(bool(body["checks"][name]["ok"]), str(body["checks"][name]["message"]))
                for name in APP_CHECKS
            }
        except Exception as exc:
            logger.info("readiness: the worker at %s did not answer: %s", self.base, exc)
            return {name: Check(False, UNREACHABLE) for name in APP_CHECKS}

    async def metrics(self) -> bytes | None:
        try:
            resp = await self._get("/metrics")
        except httpx.HTTPError as exc:
            logger.info("metrics: the worker at %s did not answer: %s", self.base, exc)
            return None
        return resp.content if resp.status_code == 200 else None


async def _bounded(fn: Callable[[], Check], limit_s: float, late: str) -> Check:
    """A blocking check in a thread; past `limit_s` it counts as failed (the thread ends on its own)."""
    try:
        return await asyncio.wait_for(asyncio.to_thread(fn), limit_s)
    except TimeoutError:
        return Check(False, late)


async def readiness(settings: OpsConfig, engine: Engine, probe: AppProbe) -> tuple[bool, dict[str, Check]]:
    """Every check (run together, each bounded); ready when all pass."""
    timeout = settings.ops.check_timeout_seconds
    database, disk, app = await asyncio.gather(
        _bounded(lambda: database_check(engine), timeout, "Cơ sở dữ liệu không trả lời kịp (bị khóa?)"),
        _bounded(
            lambda: disk_check(settings.data_dir, settings.ops.min_free_disk_mb),
            timeout,
            "Ổ đĩa dữ liệu không trả lời kịp",
        ),
        probe.checks(),
    )
    checks = {"database": database, **app, "disk": disk}
    return all(c.ok for c in checks.values()), checks
