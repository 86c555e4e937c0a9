"""A job worker in its own process, for the tests to kill: `python -m tests.core.job_worker URL`."""

from __future__ import annotations

import asyncio
import signal
import sys

from core.jobs_procrastinate import ProcrastinateRunner
from tests.core.job_tasks import TASKS

HEARTBEAT_S = 0.5  # short, so a killed worker is found out in seconds
STALLED_AFTER_S = 3.0  # six heartbeats: a survivor slowed by a busy machine is not taken for dead


async def main(url: str) -> None:
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    runner = ProcrastinateRunner(
        url, TASKS, heartbeat_seconds=HEARTBEAT_S, stalled_after_seconds=STALLED_AFTER_S, name="doomed"
    )
    await runner.run(stop)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
