"""`hotline operators add|list|passwd|disable|enable`: accounts of the operators' web console."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def _factory(ctx: typer.Context):
    from core.db import engine_for, session_factory
    from hotline.commands import settings_of
    from hotline.db import upgrade

    settings = settings_of(ctx)
    upgrade(settings.database_url)
    return session_factory(engine_for(settings))


def _read_password(from_stdin: bool) -> str:
    """From stdin (scripts) or an interactive prompt that does not echo; never logged."""
    if from_stdin:
        line = sys.stdin.readline()
        password = line.rstrip("\r\n")
        if not password:
            from console.data.operators import AccountError

            raise AccountError("no password on standard input")
        return password
    return typer.prompt("Password", hide_input=True, confirmation_prompt=True)


def register(app: typer.Typer) -> None:
    ops = typer.Typer(help="Operator accounts of the web console (/console).", no_args_is_help=True)
    app.add_typer(ops, name="operators")

    @ops.command("add")
    def add(
        ctx: typer.Context,
        username: Annotated[str, typer.Argument(help="Login name (lower-case letters, digits, . _ -).")],
        role: Annotated[
            str,
            typer.Option(
                help="admin (also sees the audit log), operator, editor (radio bulletins) or commune "
                "(one commune's radio; needs --commune)."
            ),
        ] = "operator",
        commune: Annotated[
            str | None, typer.Option(help="The commune of a commune radio account (name or code).")
        ] = None,
        password_stdin: PasswordStdin = False,
    ) -> None:
        """Create an account."""
        from broadcast.communes import load_communes
        from console.data.operators import add_operator, check_new_password
        from hotline.commands import settings_of

        code = load_communes(settings_of(ctx).broadcast.province).resolve(commune).code if commune else None
        factory = _factory(ctx)
        password = check_new_password(_read_password(password_stdin))
        op = add_operator(factory, username, password, role, commune_code=code)
        print(f"added operator {op.username} ({op.role}{f', {commune}' if code else ''})")

    @ops.command("list")
    def list_cmd(ctx: typer.Context) -> None:
        """Accounts with role, state and last login (local time, `locale.time_zone`)."""
        from broadcast.communes import load_communes
        from console.data.operators import list_operators
        from core.clock import format_local
        from hotline.commands import settings_of

        rows = list_operators(_factory(ctx))
        settings = settings_of(ctx)
        tz = settings.locale.tz
        index = load_communes(settings.broadcast.province)
        if not rows:
            print("no operators yet: hotline operators add NAME --role admin")
            return
        print(f"{'username':<24}{'role':<10}{'active':<8}{'created':<18}last login")
        for op in rows:
            last = format_local(op.last_login, tz, "%Y-%m-%d %H:%M", empty="-")
            created = format_local(op.created_at, tz, "%Y-%m-%d %H:%M")
            unit = index.by_code(op.commune_code) if op.commune_code else None
            where = f"  ({unit.name})" if unit else ""  # a commune radio account's commune
            print(
                f"{op.username:<24}{op.role:<10}{'yes' if op.active else 'no':<8}{created:<18}{last}{where}"
            )

    @ops.command("passwd")
    def passwd(
        ctx: typer.Context,
        username: Annotated[str, typer.Argument(help="Login name.")],
        password_stdin: PasswordStdin = False,
    ) -> None:
        """Set a new password (the account's open sessions are closed)."""
        from console.data.operators import check_new_password, set_password

        factory = _factory(ctx)
        set_password(factory, username, check_new_password(_read_password(password_stdin)))
        print(f"password of {username.strip().lower()} changed")

    @ops.command("disable")
    def disable(ctx: typer.Context, username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
        """Disable an account at once (its open sessions are closed)."""
        from console.data.operators import set_active

        set_active(_factory(ctx), username, False)
        print(f"operator {username.strip().lower()} disabled")

    @ops.command("enable")
    def enable(ctx: typer.Context, username: Annotated[str, typer.Argument(help="Login name.")]) -> None:
        """Re-enable a disabled account."""
        from console.data.operators import set_active

        set_active(_factory(ctx), username, True)
        print(f"operator {username.strip().lower()} enabled")
