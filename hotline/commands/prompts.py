"""`hotline prompts history|restore`: the human prompt recordings replaced by phone or upload, and putting
one back (audited, the replaced recording kept in turn)."""

from __future__ import annotations

import getpass
from typing import Annotated

import typer

from hotline.commands import settings_of


def _history(ctx: typer.Context):
    from hotline.db import upgrade
    from hotline.service import ConsoleAudit
    from ivr.prompt_history import PromptHistory

    settings = settings_of(ctx)
    upgrade(settings.database_url)  # the audit log must exist: every restore is written there
    return PromptHistory.from_settings(settings, ConsoleAudit(settings))


def register(app: typer.Typer) -> None:
    prompts_app = typer.Typer(
        help="Human prompt recordings: the kept versions, and putting one back.", no_args_is_help=True
    )
    app.add_typer(prompts_app, name="prompts")

    @prompts_app.command("history")
    def history(
        ctx: typer.Context,
        key: Annotated[
            str, typer.Argument(help="Recording key, e.g. greeting or tl_cccd (as in the studio).")
        ],
    ) -> None:
        """The kept recordings of a prompt, newest first (UTC time each was replaced)."""
        h = _history(ctx)
        versions = h.versions(key)
        current = h.recordings_dir / f"{key}.wav"
        typer.echo(f"now: {'recording ' + str(current) if current.is_file() else 'synthesized voice'}")
        if not versions:
            typer.echo("no kept recordings")
        for v in versions:
            typer.echo(f"{v.kept_at:%Y-%m-%d %H:%M:%S}  {v.name}")

    @prompts_app.command("restore")
    def restore(
        ctx: typer.Context,
        key: Annotated[
            str, typer.Argument(help="Recording key, e.g. greeting or tl_cccd (as in the studio).")
        ],
        name: Annotated[
            str | None, typer.Argument(help="A kept version (see `history`); default: the newest.")
        ] = None,
        synthesized: Annotated[
            bool, typer.Option("--synthesized", help="No recording: back to the synthesized voice.")
        ] = False,
    ) -> None:
        """Put a kept recording back (the running hotline plays it from the next prompt on)."""
        from ivr.word_bank import RESERVED_PREFIXES

        h = _history(ctx)
        by = f"cli:{getpass.getuser()}"
        change = h.remove(key, by=by) if synthesized else h.restore(key, name, by=by)
        kept = f"; the replaced recording is kept as {change.previous.name}" if change.previous else ""
        what = "synthesized voice" if synthesized else str(change.path)
        typer.echo(f"prompt {key}: {what}{kept}")
        if synthesized:
            return
        if change.note:
            typer.echo(
                "Ghi chú phòng thu của bản ghi cũng được khôi phục: tổng đài phát lại bản ghi này "
                "khi nội dung chữ vẫn là nội dung lúc ghi."
            )
        elif key.startswith(RESERVED_PREFIXES):
            typer.echo(
                "Bản ghi này không có ghi chú phòng thu (không rõ đã đọc theo nội dung chữ nào) nên tổng đài "
                f"chưa phát nó: hãy tải tệp {change.path} lên Phòng thu làm bản ghi thử rồi bấm lưu, "
                "hoặc ghi lại câu này."
            )
