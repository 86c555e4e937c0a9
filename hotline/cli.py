"""`hotline`: one command line for the whole product; each area registers its own sub-commands."""

from __future__ import annotations

import importlib
import logging
import sys
from pathlib import Path
from typing import Annotated

import typer

from hotline.errors import HotlineError

app = typer.Typer(
    name="hotline",
    help="Nghe An public-service voice hotline and commune radio segments.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module has `register(app)`; its heavy imports happen inside the commands.
AREA_CLIS = (
    "voice.cli", "intents.cli", "ivr.cli", "broadcast.cli", "hotline.service_cli", "hotline.console_cli",
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


def settings_of(ctx: typer.Context):  # -> Settings
    """The settings for this invocation, loaded once (a bad file raises ConfigError)."""
    from hotline.logs import setup_logging
    from hotline.settings import load_settings

    root = ctx.find_root()
    obj = root.obj if isinstance(root.obj, dict) else {}
    if "settings" not in obj:
        obj["settings"] = load_settings(obj.get("config"))
        setup_logging(obj["settings"], verbose=obj.get("verbose", False))
        root.obj = obj
    return obj["settings"]


def _register_areas() -> None:
    for name in AREA_CLIS:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # area not built yet
                continue
            raise
        module.register(app)


_register_areas()


def main(argv: list[str] | None = None) -> None:
    try:
        app(args=argv, prog_name="hotline")
    except HotlineError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        logging.getLogger(__name__).info("interrupted")
        sys.exit(130)
