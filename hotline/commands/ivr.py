"""IVR commands: `hotline asterisk ...` (the PBX) and `hotline call` (a real SIP caller)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from hotline.commands import settings_of


class Codec(StrEnum):
    """What `hotline call --codec` offers."""

    ulaw = "ulaw"
    alaw = "alaw"


def register(app: typer.Typer) -> None:
    _register_asterisk(app)
    _register_call(app)
    _register_operator_agent(app)
    _register_calls(app)
    _register_duty(app)


def _register_duty(app: typer.Typer) -> None:
    """`hotline duty` (the duty rota; see hotline/commands/duty.py)."""
    from hotline.commands.duty import register_duty

    register_duty(app)


def _register_calls(app: typer.Typer) -> None:
    """`hotline calls ...` and `hotline tickets ...` (the call log; see hotline/commands/calls.py)."""
    from hotline.commands.calls import register_calls

    register_calls(app)


# --- Asterisk: provisioning and process control -------------------------------------------------------


def _register_asterisk(app: typer.Typer) -> None:
    asterisk_app = typer.Typer(help="The Asterisk PBX the hotline runs on.", no_args_is_help=True)
    app.add_typer(asterisk_app, name="asterisk")

    @asterisk_app.command("up")
    def asterisk_up(ctx: typer.Context) -> None:
        """Provision (first time), render config/asterisk/, start Asterisk and wait until ARI answers."""
        from asterisk.process import start

        settings = settings_of(ctx)
        handle = start(settings)
        typer.echo(handle.describe())
        typer.echo(handle.how_to_call())

    @asterisk_app.command("down")
    def asterisk_down(ctx: typer.Context) -> None:
        """Stop Asterisk (`core stop now`, then kill if it does not exit in time)."""
        from asterisk.process import stop

        stopped = stop(settings_of(ctx))
        typer.echo("Asterisk stopped" if stopped else "Asterisk was not running")

    @asterisk_app.command("status")
    def asterisk_status(ctx: typer.Context) -> None:
        """Is Asterisk running, does ARI answer, how many channels and bridges are up."""
        from asterisk.handle import ari_ready, handle_for

        handle = handle_for(settings_of(ctx))
        ok, detail = ari_ready(handle)
        if handle.mode != "external":
            typer.echo(f"process: {'running, pid ' + str(handle.pid) if handle.pid else 'not running'}")
        typer.echo(f"ARI: {'answers, Asterisk ' + detail if ok else detail}  ({handle.rest_url})")
        if ok:
            typer.echo(f"channels: {len(handle.channels())}  bridges: {len(handle.bridges())}")
        if handle.mode != "external":
            states = handle.seat_states() if ok else {}
            seats = [f"{user} ({states[user]})" if user in states else user for user in handle.operator_users]
            typer.echo(f"operator seats: {', '.join(seats)}")
        trunks = settings_of(ctx).ivr.asterisk.trunks
        if ok and trunks:
            from asterisk.trunk_status import trunk_status

            typer.echo("trunks:")
            for status in trunk_status(handle, trunks):
                typer.echo(f"  {status.line()}")
        if not ok:
            raise typer.Exit(1)

    @asterisk_app.command("trunk-password")
    def trunk_password(
        ctx: typer.Context,
        name: Annotated[str, typer.Argument(help="The trunk's name in ivr.asterisk.trunks.")],
        generate: Annotated[
            bool, typer.Option("--generate", help="A gateway: make a new long password and print it.")
        ] = False,
    ) -> None:
        """Store a trunk's password in the secrets file (never in the YAML); asked for, not echoed."""
        from asterisk.handle import state_dir
        from asterisk.secrets import set_trunk_password
        from core.errors import ConfigError

        settings = settings_of(ctx)
        trunk = next((t for t in settings.ivr.asterisk.trunks if t.name == name), None)
        if trunk is None:
            raise ConfigError(f"no trunk named {name} in ivr.asterisk.trunks")
        path = state_dir(settings) / "secrets.json"
        if generate:
            typer.echo(set_trunk_password(path, name))
            typer.echo("type it into the gateway's SIP account page; then `hotline asterisk down` and `up`")
            return
        password = typer.prompt(f"password of trunk {name} ({trunk.auth_user})", hide_input=True)
        set_trunk_password(path, name, password.strip())
        typer.echo("stored; restart Asterisk (`hotline asterisk down`, `up`) to use it")

    @asterisk_app.command("cli")
    def asterisk_cli(
        ctx: typer.Context,
        command: Annotated[str, typer.Argument(help='Asterisk CLI command, e.g. "pjsip show endpoints".')],
    ) -> None:
        """Run one Asterisk CLI command (asterisk -rx) against our instance."""
        from asterisk.handle import handle_for
        from asterisk.provision import AsteriskError

        handle = handle_for(settings_of(ctx))
        if handle.pid is None:
            raise AsteriskError("Asterisk is not running (start it with `hotline asterisk up`)")
        typer.echo(handle.cli(command), nl=False)


# --- A real SIP caller -----------------------------------------------------------------------------


def _register_call(app: typer.Typer) -> None:
    @app.command("call")
    def call(
        ctx: typer.Context,
        to: Annotated[
            str | None, typer.Option("--to", help="Extension to dial (default: the hotline).")
        ] = None,
        audio: Annotated[
            list[Path] | None,
            typer.Option(
                "--audio",
                help="Audio file(s) spoken by the caller, in order, each after the hotline stops talking.",
            ),
        ] = None,
        dtmf: Annotated[
            list[str] | None,
            typer.Option("--dtmf", help="Keys to press (RFC 4733), after the audio files; repeatable."),
        ] = None,
        wait: Annotated[float, typer.Option("--wait", help="Seconds to keep listening at the end.")] = 5.0,
        record: Annotated[
            Path | None, typer.Option("--record", help="WAV file for what the caller hears.")
        ] = None,
        json_out: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Hard limit for the whole call, seconds.")
        ] = 120.0,
        codec: Annotated[
            Codec,
            typer.Option("--codec", help="The one G.711 law offered: ulaw, or alaw like the public network."),
        ] = Codec.ulaw,
        log_wait: Annotated[
            float,
            typer.Option("--log-wait", help="Seconds to wait for the hotline to close the call in its log."),
        ] = 10.0,
    ) -> None:
        """Call the hotline over SIP like a phone would: speak audio files, press keys, record the answer."""
        import json

        from sip.caller import run_call_for_settings
        from sip.report import call_log_report, describe_report
        from sip.script import CallScript

        settings = settings_of(ctx)
        script = CallScript.simple(audio=list(audio or []), dtmf=list(dtmf or []), wait=wait)
        result = run_call_for_settings(
            settings, script, to=to, record=record, timeout=timeout, codec=codec.value
        )
        report, why = (None, "")
        if result.connected:
            # What the hotline recognized and decided: per turn transcript (masked), intent, score, keys,
            # action and response_ms (end of speech or key -> first answer audio), and the outcome.
            report, why = call_log_report(settings, result.sip_call_id, timeout=log_wait)
        if json_out:
            out = {**result.to_dict(), "hotline": report}
            if why:
                out["hotline_note"] = why
            typer.echo(json.dumps(out, ensure_ascii=False, indent=2))
        else:
            typer.echo(result.summary())
            if report is not None:
                typer.echo(describe_report(report))
            if why:
                typer.echo(f"hotline: {why}")
        if not result.connected:
            raise typer.Exit(1)


# --- A SIP agent answering as the operator --------------------------------------------------------------


def _register_operator_agent(app: typer.Typer) -> None:
    @app.command("operator-agent")
    def operator_agent(
        ctx: typer.Context,
        play: Annotated[
            Path | None, typer.Option("--play", help="Audio file the operator says after answering.")
        ] = None,
        record: Annotated[
            Path | None,
            typer.Option("--record", help="WAV file for what the operator hears (call n>1: OUT-n.wav)."),
        ] = None,
        calls: Annotated[
            int, typer.Option("--calls", help="Stop after this many answered calls (0: until Ctrl+C).")
        ] = 0,
        timeout: Annotated[
            float, typer.Option("--timeout", help="Stop after this many seconds (0: no limit).")
        ] = 0.0,
        hangup_after: Annotated[
            float,
            typer.Option("--hangup-after", help="Hang up this many seconds after answering (0: never)."),
        ] = 0.0,
        ring: Annotated[
            float, typer.Option("--ring", help="Let the phone ring this many seconds before answering.")
        ] = 0.3,
        seat: Annotated[
            int,
            typer.Option("--seat", min=1, help="Seat to register as: 1 = operator, 2 = operator2, ..."),
        ] = 1,
        json_out: Annotated[bool, typer.Option("--json", help="Print one JSON object per event.")] = False,
    ) -> None:
        """Answer transfers as operator seat N (operator, operator2, ...): register, answer, speak, record."""
        import json

        from sip.agent import AgentOptions, agent_target, describe, result_stream, run_agent

        target = agent_target(settings_of(ctx), seat)
        options = AgentOptions(
            play=str(play) if play else None,
            record=str(record) if record else None,
            calls=max(0, calls),
            timeout=max(0.0, timeout),
            hangup_after_s=max(0.0, hangup_after),
            ring_s=max(0.0, ring),
        )
        with result_stream() as out:

            def emit(event: dict) -> None:
                out.write((json.dumps(event, ensure_ascii=False) if json_out else describe(event)) + "\n")
                out.flush()

            results = run_agent(target, options, emit)
        if any(r.error for r in results):
            raise typer.Exit(1)
