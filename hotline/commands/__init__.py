"""The `hotline` sub-commands, one module per area; each has `register(app)`.

Command modules import little at the top: their heavy imports (models, Asterisk, the web app) happen
inside the commands, so `hotline --help` stays quick.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from hotline.settings import Settings


def settings_of(ctx: typer.Context) -> Settings:
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


def register_commands(app: typer.Typer) -> None:
    from hotline.commands import broadcast, console, intents, ivr, jobs, prompts, report, service, voice

    for module in (voice, intents, ivr, prompts, broadcast, service, console, report, jobs):
        module.register(app)
