"""`hotline broadcast render|publish|list|prune|bundle`: commune radio segments from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from core.cliutil import JsonOption, echo_json
from hotline.commands import settings_of

# Option types shared by the commands (module level: typer resolves the annotations by name).
Commune = Annotated[
    str | None, typer.Option("--commune", help="Commune/ward for the greeting (e.g. 'Anh Sơn').")
]
Engine = Annotated[
    str | None, typer.Option("--engine", help="TTS engine: espeak | piper (default from config).")
]
Rate = Annotated[float | None, typer.Option("--rate", help="Speaking-rate multiplier.")]
Preset = Annotated[
    str | None, typer.Option("--preset", help="Loudness preset: online (-16 LUFS) | broadcast (-23).")
]
Lufs = Annotated[float | None, typer.Option("--lufs", help="Loudness target in LUFS (overrides --preset).")]
Speaker = Annotated[
    bool | None,
    typer.Option("--loudspeaker/--no-loudspeaker", help="Band-limit and compress for horn loudspeakers."),
]
Wav = Annotated[bool | None, typer.Option("--wav/--no-wav", help="Also write a WAV master.")]
Bitrate = Annotated[int | None, typer.Option("--bitrate", help="MP3 bitrate in kbit/s.")]


def _options(commune, engine, rate, preset, lufs, loudspeaker, wav, bitrate):  # -> RenderOptions
    from broadcast.render import RenderOptions
    from broadcast.settings import LOUDNESS_PRESETS
    from core.errors import HotlineError

    if preset is not None and preset not in LOUDNESS_PRESETS:
        raise HotlineError(f"unknown loudness preset {preset!r}; use one of {', '.join(LOUDNESS_PRESETS)}")
    target = lufs if lufs is not None else (LOUDNESS_PRESETS[preset] if preset else None)
    return RenderOptions(
        commune=commune,
        engine=engine,
        rate=rate,
        loudness_lufs=target,
        loudspeaker=loudspeaker,
        wav_master=wav,
        bitrate_kbps=bitrate,
    )


class _Bar:
    """A rich progress bar on stderr for long renders (silent with --json or when not a terminal)."""

    def __init__(self, enabled: bool) -> None:
        self.progress = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console(stderr=True)
            if console.is_terminal:
                self.progress = Progress(
                    TextColumn("{task.description}"),
                    BarColumn(),
                    MofNCompleteColumn(),
                    TimeElapsedColumn(),
                    console=console,
                    transient=True,
                )
        self.tasks: dict[str, Any] = {}  # stage -> rich TaskID

    def __enter__(self) -> _Bar:
        if self.progress:
            self.progress.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.progress:
            self.progress.__exit__(*exc)

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.progress:
            return
        if stage not in self.tasks:
            label = {"speech": "speech (sentences)", "mastering": "mastering"}.get(stage, stage)
            self.tasks[stage] = self.progress.add_task(label, total=total)
        self.progress.update(self.tasks[stage], completed=done, total=total)


def _service(ctx: typer.Context):  # -> (Settings, BroadcastService)
    """Settings and the broadcast service on an up-to-date database."""
    from broadcast.service import BroadcastService
    from core.db import engine_for, session_factory
    from hotline.db import upgrade

    settings = settings_of(ctx)
    upgrade(settings.database_url)
    return settings, BroadcastService(settings, session_factory(engine_for(settings)))


def _print_result(info: dict, paths: list[Path], as_json: bool) -> None:
    if as_json:
        echo_json({**info, "files": [str(p) for p in paths]})
        return
    for w in info.get("warnings", []):
        typer.echo(f"warning: {w}", err=True)
    typer.echo(f"{paths[0]}")
    typer.echo(
        f"  {info['duration_s']:.1f} s, {info['loudness_lufs']:.1f} LUFS"
        f" (target {info['loudness_target_lufs']:.0f}),"
        f" true peak {info['true_peak_dbtp']:.1f} dBTP, {info['engine']} ({info['voice']}),"
        f" rendered in {info['render_seconds']:.1f} s"
    )


def register(app: typer.Typer) -> None:
    bc = typer.Typer(
        help="Commune radio segments: bulletins to broadcast-ready MP3, published for download.",
        no_args_is_help=True,
    )
    app.add_typer(bc, name="broadcast")

    @bc.command("render")
    def render(
        ctx: typer.Context,
        bulletin: Annotated[Path, typer.Argument(help="Bulletin (Markdown with front matter).")],
        out: Annotated[Path, typer.Option("-o", "--out", help="Output directory.")] = Path("."),
        commune: Commune = None,
        engine: Engine = None,
        rate: Rate = None,
        preset: Preset = None,
        lufs: Lufs = None,
        loudspeaker: Speaker = None,
        wav: Wav = None,
        bitrate: Bitrate = None,
        as_json: JsonOption = False,
    ) -> None:
        """Render a bulletin to MP3 (+ JSON sidecar, optional WAV) in a directory, without publishing."""
        from broadcast.bulletin import load_bulletin
        from broadcast.render import render_bulletin

        settings = settings_of(ctx)
        b = load_bulletin(bulletin, max_body_chars=settings.broadcast.max_body_chars)
        opts = _options(commune, engine, rate, preset, lufs, loudspeaker, wav, bitrate)
        with _Bar(not as_json) as bar:
            result = render_bulletin(b, settings, out, options=opts, progress=bar)
        _print_result(result.info, [p for p in (result.mp3, result.sidecar, result.wav) if p], as_json)

    @bc.command("publish")
    def publish(
        ctx: typer.Context,
        bulletin: Annotated[Path, typer.Argument(help="Bulletin (Markdown with front matter).")],
        commune: Commune = None,
        engine: Engine = None,
        rate: Rate = None,
        preset: Preset = None,
        lufs: Lufs = None,
        loudspeaker: Speaker = None,
        bitrate: Bitrate = None,
        as_json: JsonOption = False,
    ) -> None:
        """Render a bulletin and publish it (web pages, feeds); replaces an earlier render of it."""
        from broadcast.bulletin import load_bulletin

        settings, svc = _service(ctx)
        b = load_bulletin(bulletin, max_body_chars=settings.broadcast.max_body_chars)
        opts = _options(commune, engine, rate, preset, lufs, loudspeaker, None, bitrate)
        with _Bar(not as_json) as bar:
            seg = svc.publish(b, opts, progress=bar)
        info = svc.sidecar_of(seg)
        if as_json:
            echo_json({"id": seg.id, "key": seg.key, **info})
        else:
            typer.echo(
                f"published #{seg.id} {seg.key}: {seg.duration_s:.1f} s, {seg.loudness_lufs:.1f} LUFS, "
                f"{seg.true_peak_dbtp:.1f} dBTP -> {svc.path_of(seg)}"
            )

    @bc.command("list")
    def list_(
        ctx: typer.Context,
        commune: Commune = None,
        query: Annotated[str, typer.Option("--search", "-q", help="Title or date (dd/mm/yyyy).")] = "",
        all_: Annotated[bool, typer.Option("--all", help="Include expired and not yet published.")] = False,
        as_json: JsonOption = False,
    ) -> None:
        """List published segments, newest first."""
        settings, svc = _service(ctx)
        unit = svc.communes.resolve(commune) if commune else None
        segs = svc.list_segments(unit, query, include_hidden=all_)
        if as_json:
            from broadcast.web import segment_json
            from core.publicurl import public_base_url

            echo_json([segment_json(svc, s, public_base_url(settings.web)) for s in segs])
            return
        if not segs:
            typer.echo("no segments")
        for s in segs:
            own = svc.communes.by_code(s.commune_code) if s.commune_code else None
            scope = (
                own.name
                if own
                else ("all communes" if s.communes is None else f"{len(s.communes)} commune(s)")
            )
            typer.echo(
                f"#{s.id:<4} {s.bulletin_date}  {s.priority:<9} {s.duration_s:6.1f} s  {s.title}  [{scope}]"
            )

    @bc.command("communes")
    def communes(
        ctx: typer.Context,
        query: Annotated[str, typer.Argument(help="Part of a name, e.g. 'Anh Sơn'; empty: all.")] = "",
        as_json: JsonOption = False,
    ) -> None:
        """Communes and wards of the province with their codes (keyed by callers for radio by phone, and
        the codes of ivr.commune_teams)."""
        from broadcast.communes import load_communes

        units = load_communes(settings_of(ctx).broadcast.province).search(query)
        if as_json:
            echo_json([{"code": c.code, "name": c.name} for c in units])
            return
        if not units:
            typer.echo("no commune or ward matches")
        for c in units:
            typer.echo(f"{c.code}  {c.name}")

    @bc.command("prune")
    def prune(ctx: typer.Context) -> None:
        """Delete expired segments (files and catalog rows) and leftovers of interrupted renders."""
        settings, svc = _service(ctx)
        removed = svc.prune()
        for s in removed:
            typer.echo(f"removed #{s.id} {s.key} (expired {s.expires_at:%Y-%m-%d %H:%M} UTC)")
        typer.echo(f"{len(removed)} expired segment(s) removed")

    @bc.command("bundle")
    def bundle(
        ctx: typer.Context,
        commune: Annotated[str, typer.Argument(help="Commune or ward, e.g. 'Đô Lương'.")],
        out: Annotated[Path, typer.Option("-o", "--out", help="Zip file or directory.")] = Path("."),
    ) -> None:
        """Offline bundle for a commune: current segments, an M3U playlist and a plain-text schedule."""
        import shutil

        settings, svc = _service(ctx)
        unit = svc.communes.resolve(commune)
        segs = svc.list_segments(unit)
        path = svc.bundles.get(unit, segs)
        dest = out / f"truyen-thanh-{unit.slug}.zip" if out.is_dir() or str(out).endswith("/") else out
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.part")
        shutil.copyfile(path, tmp)
        tmp.replace(dest)
        typer.echo(f"{dest}: {len(segs)} segment(s) for {unit.name}")
