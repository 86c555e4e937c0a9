"""Small pieces shared by the area command lines."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

# A command's `--json` flag (module level in each CLI module: typer resolves annotations by name).
JsonOption = Annotated[bool, typer.Option("--json", help="Machine-readable output.")]


def echo_json(data: Any) -> None:
    """Print `data` as indented JSON, Vietnamese text kept as it is (not \\u-escaped)."""
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
