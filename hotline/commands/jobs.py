"""`hotline jobs list|retry|run`: the job queue on PostgreSQL (README "Jobs")."""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from hotline.commands import settings_of

STATUS_COLUMNS = ("todo", "doing", "succeeded", "failed")  # procrastinate's states, in this order


def _queue(ctx: typer.Context, *, quiet: bool = True):  # -> (settings, ProcrastinateRunner | None)
    """The queue, or None with SQLite (jobs run in-process). `quiet`: procrastinate's start-up lines
    (tasks registered, pool opened) are noise for a one-shot command."""
    import logging

    from core.jobs import choose_mode
    from hotline.db import upgrade
    from hotline.jobs import job_runner

    settings = settings_of(ctx)
    if choose_mode(settings.jobs.mode, settings.database_url) == "in_process":
        return settings, None
    if quiet:
        logging.getLogger("procrastinate").setLevel(logging.WARNING)
    upgrade(settings.database_url)
    return settings, job_runner(settings, name="hotline-jobs-cli")


def register(app: typer.Typer) -> None:
    jobs_app = typer.Typer(help="Background jobs: list, retry a failed one, run a job-only worker.")
    app.add_typer(jobs_app, name="jobs")

    @jobs_app.command("list")
    def jobs_list(
        ctx: typer.Context,
        as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
    ) -> None:
        """Jobs per task and state (waiting, running, succeeded, failed), then the failed ones."""
        from core.cliutil import echo_json

        _, runner = _queue(ctx)
        if runner is None:
            typer.echo("jobs run in-process (SQLite, jobs.mode): none is stored")
            return

        async def read():
            async with runner.app.open_async():
                return await runner.task_counts(), await runner.failed_jobs()

        counts, failed = asyncio.run(read())
        if as_json:
            echo_json(
                {
                    "tasks": [{k: c[k] for k in ("name", *STATUS_COLUMNS)} for c in counts],
                    "failed": [{"id": j.id, "task": j.task_name, "attempts": j.attempts} for j in failed],
                }
            )
            return
        typer.echo(f"{'task':<24} {'waiting':>8} {'running':>8} {'done':>8} {'failed':>8}")
        for c in counts:
            typer.echo(f"{c['name']:<24} " + " ".join(f"{c[k]:>8}" for k in STATUS_COLUMNS))
        for j in failed:
            typer.echo(f"failed: #{j.id} {j.task_name} ({j.attempts} runs) `hotline jobs retry {j.id}`")

    @jobs_app.command("retry")
    def jobs_retry(ctx: typer.Context, job_id: Annotated[int, typer.Argument(min=1)]) -> None:
        """Queue a failed job again now."""
        from core.errors import HotlineError

        _, runner = _queue(ctx)
        if runner is None:
            raise HotlineError("jobs run in-process with SQLite: there is no queue to retry from")

        async def retry() -> bool:
            async with runner.app.open_async():
                return await runner.retry_failed(job_id)

        if not asyncio.run(retry()):
            raise HotlineError(f"job #{job_id} is not a failed job")
        typer.echo(f"job #{job_id} queued again")

    @jobs_app.command("run")
    def jobs_run(ctx: typer.Context) -> None:
        """A worker running jobs and no calls (renders, transcriptions, the purge) until SIGTERM or Ctrl+C."""
        import signal

        from core.errors import HotlineError
        from hotline.jobs import run_jobs

        settings, runner = _queue(ctx, quiet=False)
        if runner is None:
            raise HotlineError("jobs run in-process with SQLite (each `hotline run` worker runs them)")

        async def main() -> None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await run_jobs(settings, stop)

        asyncio.run(main())
