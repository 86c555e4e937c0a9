"""`hotline`: one command line for the whole product; each area registers its own sub-commands."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from core.errors import HotlineError
from hotline.commands import register_commands
from hotline.private_data import use_private_umask

app = typer.Typer(
    name="hotline",
    help="Nghe An public-service voice hotline and commune radio segments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Config file (default: config/hotline.yaml).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    ctx.obj = {"config": config, "verbose": verbose}


register_commands(app)


def main(argv: list[str] | None = None) -> None:
    use_private_umask()  # recordings, the database and logs: the hotline user's alone
    try:
        app(args=argv, prog_name="hotline")
    except HotlineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        logging.getLogger(__name__).info("interrupted")
        sys.exit(130)
