"""`hotline` commands of the voice area (speech synthesis, voices and models, ...)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from core.cliutil import JsonOption, echo_json
from hotline.commands import settings_of


def register(app: typer.Typer) -> None:
    _register_tts(app)
    _register_asr(app)
    _register_text(app)


# --- text to speech and voice management ---------------------------------------------------------


def _register_tts(app: typer.Typer) -> None:
    @app.command("tts")
    def tts(
        ctx: typer.Context,
        text: Annotated[str, typer.Argument(help='Text to speak ("-" reads standard input).')],
        output: Annotated[Path, typer.Option("--output", "-o", help="WAV file to write.")],
        engine: Annotated[str | None, typer.Option("--engine", "-e", help="espeak or piper.")] = None,
        rate: Annotated[int | None, typer.Option("--rate", "-r", help="Output rate (Hz), e.g. 8000.")] = None,
        speed: Annotated[float | None, typer.Option("--speed", help="Speaking-rate multiplier.")] = None,
    ) -> None:
        """Synthesize TEXT to a WAV file."""
        import time

        from voice.audio import write_wav
        from voice.tts import Synthesizer

        settings = settings_of(ctx)
        if output.is_dir():
            raise typer.BadParameter(f"{output} is a directory; give a .wav file name", param_hint="--output")
        if text == "-":
            text = sys.stdin.read()
        started = time.perf_counter()
        with Synthesizer.from_settings(settings) as synth:
            chunk = synth.synthesize_blocking(text, engine=engine, sample_rate=rate, rate=speed)
        try:
            write_wav(output, chunk)
        except OSError as exc:
            from core.errors import HotlineError

            raise HotlineError(f"{output}: cannot write: {exc.strerror or exc}") from None
        typer.echo(
            f"wrote {output}: {chunk.duration_s:.2f} s at {chunk.rate} Hz "
            f"in {time.perf_counter() - started:.2f} s"
        )

    voices = typer.Typer(help="TTS voices and ASR models: list, check, install.", no_args_is_help=True)
    app.add_typer(voices, name="voices")
    _register_turn_models(voices)

    @voices.command("list")
    def voices_list(
        ctx: typer.Context,
        as_json: JsonOption = False,
    ) -> None:
        """List configured and installed TTS voices and ASR models, and whether their files are present."""
        from voice.voices import list_voices

        entries = list_voices(settings_of(ctx))
        if as_json:
            echo_json([_entry_dict(e) for e in entries])
            return
        for e in entries:
            status = "present" if e.present else "missing"
            mark = "*" if e.default else " "
            typer.echo(
                f"{mark} {e.kind:<3} {e.engine:<8} {status:<8} {e.path or '-'}"
                + (f"  ({e.note})" if e.note else "")
            )
        typer.echo("* = engine selected in the configuration")
        _list_catalog(settings_of(ctx), entries)

    @voices.command("check")
    def voices_check(
        ctx: typer.Context,
        kind: Annotated[str | None, typer.Option("--kind", help="Only tts or only asr.")] = None,
        as_json: JsonOption = False,
    ) -> None:
        """Load each voice/model and run a probe (synthesize a sentence / recognize a clip)."""
        from voice.voices import check_voice, list_voices

        if kind not in (None, "tts", "asr"):
            raise typer.BadParameter("--kind must be tts or asr")
        settings = settings_of(ctx)
        entries = [e for e in list_voices(settings) if (kind is None or e.kind == kind)]
        # Unconfigured engines are reported as skipped, unless the config selects them.
        results = [check_voice(e, settings) for e in entries if e.path is not None or e.default]
        skipped = [e for e in entries if e.path is None and not e.default]
        if as_json:
            echo_json(
                [
                    {**_entry_dict(r.entry), "ok": r.ok, "seconds": round(r.seconds, 3), "detail": r.detail}
                    for r in results
                ]
            )
        else:
            for r in results:
                typer.echo(
                    f"{'ok' if r.ok else 'FAILED':<6} {r.entry.kind:<3} {r.entry.engine:<8} "
                    f"{r.seconds:6.2f} s  {r.entry.path or '-'}: {r.detail}"
                )
            for e in skipped:
                typer.echo(f"{'skip':<6} {e.kind:<3} {e.engine:<8} {'':>8}  {e.note}")
        if any(not r.ok for r in results):
            raise typer.Exit(1)

    @voices.command("install")
    def voices_install(
        ctx: typer.Context,
        source: Annotated[
            str,
            typer.Argument(
                help="A name from `hotline voices catalog` (e.g. vi_VN-vais1000-medium), or a file or "
                "http(s) URL: .onnx voice or .tar.gz/.zip."
            ),
        ],
        sha256: Annotated[
            str | None,
            typer.Option(
                "--sha256", help="Expected sha256 of SOURCE (64 hex digits); needed for a file or URL."
            ),
        ] = None,
        kind: Annotated[str | None, typer.Option("--kind", help="piper or vosk (default: guessed).")] = None,
        name: Annotated[str | None, typer.Option("--name", help="Name to install under.")] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace an installed voice/model.")] = False,
        no_verify: Annotated[
            bool,
            typer.Option(
                "--no-verify",
                help="Install a catalog entry whose sha256 is not known (you checked the files).",
            ),
        ] = False,
        no_configure: Annotated[
            bool, typer.Option("--no-configure", help="Do not write the setting into the configuration file.")
        ] = False,
    ) -> None:
        """Install a voice or model by catalog name (downloaded, verified, configured), or from SOURCE."""
        from voice.catalog import catalog_from_settings
        from voice.install import install, install_named

        settings = settings_of(ctx)
        if source in catalog_from_settings(settings).voices and not Path(source).exists():
            if sha256 or kind or name:
                raise typer.BadParameter("a catalog name takes neither --sha256, --kind nor --name")
            done = install_named(settings, source, no_verify=no_verify, force=force, progress=_Progress())
            label = "giọng đọc Piper" if done.kind == "piper" else "mô hình nhận dạng Vosk"
            typer.echo(f"đã cài {label} {source}: {done.path}")
            if no_configure:
                typer.echo(f"chưa ghi cấu hình; để dùng, đặt {done.config_key}: {done.config_value}")
                return
            for line in _configure(settings, done):
                typer.echo(f"đã ghi cấu hình {line}")
            if done.kind == "vosk":
                typer.echo("để nhận dạng bằng Vosk, đặt thêm voice.asr.engine: vosk")
            typer.echo("khởi động lại `hotline run` để dùng")
            return
        if sha256 is None:
            raise typer.BadParameter(
                f"{source!r} is not in the catalog (`hotline voices catalog`); a file or URL needs --sha256",
                param_hint="--sha256",
            )
        done = install(settings, source, sha256, kind=kind, name=name, force=force)
        label = "Piper voice" if done.kind == "piper" else "Vosk model"
        typer.echo(f"installed {label}: {done.path}")
        typer.echo("to use it, set in the config file:")
        typer.echo(f"  {done.config_key}: {done.config_value}")
        typer.echo("or in the environment:")
        typer.echo(f"  {done.env_line}")

    @voices.command("catalog")
    def voices_catalog(ctx: typer.Context, as_json: JsonOption = False) -> None:
        """Voices and models `hotline voices install NAME` knows: size, licence, whether verified."""
        from voice.catalog import catalog_from_settings

        catalog = catalog_from_settings(settings_of(ctx))
        if as_json:
            echo_json(
                [
                    {
                        "name": n,
                        "kind": e.kind,
                        "title": e.title,
                        "licence": e.licence,
                        "size": e.size,
                        "verified": e.verified,
                        "source": e.source,
                    }
                    for n, e in catalog.voices.items()
                ]
            )
            return
        for n, e in catalog.voices.items():
            size = f"{e.size / 1e6:.1f} MB" if e.size else "? MB"
            check = "sha256 đã biết" if e.verified else "chưa có sha256 (cần --no-verify)"
            typer.echo(f"{n:<28} {e.kind:<5} {size:>9}  {check}")
            typer.echo(f"{'':<28} {e.title}")
            typer.echo(f"{'':<28} giấy phép: {e.licence}")


def _list_catalog(settings, entries) -> None:
    """The catalog's voices and models after the installed ones: what `voices install NAME` can add."""
    from voice.catalog import catalog_from_settings

    installed = {e.path.stem if e.engine == "piper" else e.path.name for e in entries if e.path and e.present}
    typer.echo("cài thêm bằng `hotline voices install TÊN` (chi tiết: `hotline voices catalog`):")
    for name, entry in catalog_from_settings(settings).voices.items():
        state = "đã cài" if name in installed else ("" if entry.verified else "cần --no-verify")
        typer.echo(f"  {name:<28} {entry.kind:<5} {state}")


class _Progress:
    """One progress line per file on standard error, redrawn at most every half second."""

    def __init__(self) -> None:
        self._last = 0.0
        self._name = ""

    def __call__(self, name: str, done: int, total: int | None) -> None:
        import time

        now = time.monotonic()
        finished = total is not None and done >= total
        if name == self._name and now - self._last < 0.5 and not finished:
            return
        self._name, self._last = name, now
        share = f" ({100 * done / total:.0f} %)" if total else ""
        of = f" / {total / 1e6:.1f}" if total else ""
        typer.echo(f"\rđang tải {name}: {done / 1e6:.1f}{of} MB{share}", err=True, nl=finished)


def _configure(settings, done) -> list[str]:
    """Point the configuration file at the installed voice/model; undone if the result does not validate."""
    from core.errors import ConfigError
    from core.yamledit import set_scalars
    from hotline.settings import load_settings

    path = settings.config_file
    values: dict[tuple[str, ...], str] = {tuple(done.config_key.split(".")): done.config_value}
    if done.kind == "piper":
        values[("voice", "tts", "engine")] = "piper"  # a natural voice is why one installs it
    before = path.read_bytes()
    lines = set_scalars(path, values)
    try:
        load_settings(path)
    except ConfigError:
        path.write_bytes(before)
        raise
    return lines


def _register_turn_models(voices: typer.Typer) -> None:
    @voices.command("turn-models")
    def turn_models(
        ctx: typer.Context,
        wheel: Annotated[
            Path | None, typer.Option("--wheel", help="A pipecat-ai wheel file (default: pip fetches it).")
        ] = None,
    ) -> None:
        """Install Silero VAD and Smart Turn into ivr.media.models_dir (checked by sha256; idempotent)."""
        from voice.turn_files import PACKAGE, VERSION, install

        settings = settings_of(ctx)
        for path in install(settings.ivr.media.models_dir, wheel=wheel):
            typer.echo(f"ok {path}")
        typer.echo(f"(from {PACKAGE} {VERSION}, BSD-2-Clause; Silero VAD: MIT; Smart Turn: BSD-2-Clause)")


def _entry_dict(e) -> dict:
    return {
        "kind": e.kind,
        "engine": e.engine,
        "path": str(e.path) if e.path else None,
        "present": e.present,
        "configured": e.configured,
        "default": e.default,
        "note": e.note,
    }


# --- speech recognition --------------------------------------------------------------------------


def _register_asr(app: typer.Typer) -> None:
    @app.command("asr")
    def asr(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="Audio file: WAV (PCM, mu-law, A-law), FLAC, OGG or MP3.")],
        engine: Annotated[
            str | None, typer.Option("--engine", "-e", help="vietasr | vosk (default: config).")
        ] = None,
        as_json: Annotated[
            bool, typer.Option("--json", help="Also confidence, words, timing, real-time factor.")
        ] = False,
        max_seconds: Annotated[
            float, typer.Option("--max-seconds", min=1.0, help="Refuse longer audio (seconds).")
        ] = 1800.0,
    ) -> None:
        """Transcribe FILE (Vietnamese speech) and print the text."""
        import asyncio
        import time

        import numpy as np

        from voice.asr import Recognizer
        from voice.audio import read_audio

        settings = settings_of(ctx)
        chunk = read_audio(file, max_seconds=max_seconds)
        samples = chunk.array()
        # Clipped audio is still transcribed, but the user should know why the result may be poor.
        clipped = float(np.mean(np.abs(samples.astype(np.int32)) >= 32767)) if samples.size else 0.0

        async def _run():
            with Recognizer.from_settings(settings, engine=engine) as recognizer:
                started = time.perf_counter()
                await recognizer.warm_up()
                loaded = time.perf_counter()
                result = await recognizer.transcribe(chunk)
                return recognizer.engine_name, result, loaded - started, time.perf_counter() - loaded

        name, result, load_s, run_s = asyncio.run(_run())
        if clipped > 0.001:
            typer.echo(f"warning: {file}: {100 * clipped:.1f}% of samples are clipped", err=True)
        if as_json:
            out = {
                "file": str(file),
                "engine": name,
                **result.to_dict(),
                "duration_s": round(chunk.duration_s, 3),
                "sample_rate": chunk.rate,
                "channels": chunk.channels,
                "clipped_fraction": round(clipped, 4),
                "load_s": round(load_s, 3),
                "processing_s": round(run_s, 3),
                "real_time_factor": round(run_s / chunk.duration_s, 4) if chunk.duration_s else None,
            }
            echo_json(out)
            return
        if not result.text:
            typer.echo(f"{file}: no speech recognized ({chunk.duration_s:.1f} s of audio)", err=True)
        typer.echo(result.text)


# --- text normalization --------------------------------------------------------------------------


def _register_text(app: typer.Typer) -> None:
    @app.command("normalize")
    def normalize(
        ctx: typer.Context,
        text: Annotated[str, typer.Argument(help='Vietnamese text ("-" reads standard input).')],
        matching: Annotated[bool, typer.Option("--matching", help="Print the intent-matching form.")] = False,
        south: Annotated[bool, typer.Option("--south", help="Southern number words (ngàn, lẻ).")] = False,
        sentences: Annotated[bool, typer.Option("--sentences", help="One sentence per line.")] = False,
        engine: Annotated[
            str | None,
            typer.Option(
                "--engine",
                "-e",
                help="Also respell with this engine's pronunciation lexicon (espeak, piper).",
            ),
        ] = None,
    ) -> None:
        """Print TEXT as it will be spoken (numbers, dates, codes, abbreviations written out)."""
        from voice.text import NORTH, SOUTH, normalize_for_matching, normalize_for_speech, split_sentences
        from voice.text.table import table_from_settings
        from voice.tts.lexicon import lexicon_from_settings
        from voice.tts.registry import select_engine

        if text == "-":
            text = sys.stdin.read()
        if matching:
            typer.echo(normalize_for_matching(text))
            return
        settings = settings_of(ctx)
        if engine is not None:  # what the synthesizer hands that engine: the lexicon first, as it does
            name = select_engine(engine, settings.voice.tts.engine)
            text = lexicon_from_settings(settings).apply(text, name)
        table = table_from_settings(settings)
        spoken = normalize_for_speech(text, table, style=SOUTH if south else NORTH)
        typer.echo("\n".join(split_sentences(spoken)) if sentences else spoken)
