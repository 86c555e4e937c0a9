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
        typer.echo(f"wrote {output}: {chunk.duration_s:.2f} s at {chunk.rate} Hz "
                   f"in {time.perf_counter() - started:.2f} s")

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
            typer.echo(f"{mark} {e.kind:<3} {e.engine:<8} {status:<8} {e.path or '-'}"
                       + (f"  ({e.note})" if e.note else ""))
        typer.echo("* = engine selected in the configuration")

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
            echo_json([{**_entry_dict(r.entry), "ok": r.ok, "seconds": round(r.seconds, 3),
                        "detail": r.detail} for r in results])
        else:
            for r in results:
                typer.echo(f"{'ok' if r.ok else 'FAILED':<6} {r.entry.kind:<3} {r.entry.engine:<8} "
                           f"{r.seconds:6.2f} s  {r.entry.path or '-'}: {r.detail}")
            for e in skipped:
                typer.echo(f"{'skip':<6} {e.kind:<3} {e.engine:<8} {'':>8}  {e.note}")
        if any(not r.ok for r in results):
            raise typer.Exit(1)

    @voices.command("install")
    def voices_install(
        ctx: typer.Context,
        source: Annotated[str, typer.Argument(help="File or http(s) URL: .onnx voice or .tar.gz/.zip.")],
        sha256: Annotated[str, typer.Option("--sha256", help="Expected sha256 of SOURCE (64 hex digits).")],
        kind: Annotated[str | None, typer.Option("--kind", help="piper or vosk (default: guessed).")] = None,
        name: Annotated[str | None, typer.Option("--name", help="Name to install under.")] = None,
        force: Annotated[bool, typer.Option("--force", help="Replace an installed voice/model.")] = False,
    ) -> None:
        """Install a Piper voice or Vosk model after verifying its checksum; prints the config line to set."""
        from voice.install import install

        settings = settings_of(ctx)
        done = install(settings, source, sha256, kind=kind, name=name, force=force)
        label = "Piper voice" if done.kind == "piper" else "Vosk model"
        typer.echo(f"installed {label}: {done.path}")
        typer.echo("to use it, set in the config file:")
        typer.echo(f"  {done.config_key}: {done.config_value}")
        typer.echo("or in the environment:")
        typer.echo(f"  {done.env_line}")


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
    return {"kind": e.kind, "engine": e.engine, "path": str(e.path) if e.path else None, "present": e.present,
            "configured": e.configured, "default": e.default, "note": e.note}


# --- speech recognition --------------------------------------------------------------------------

def _register_asr(app: typer.Typer) -> None:
    @app.command("asr")
    def asr(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="Audio file: WAV (PCM, mu-law, A-law), FLAC, OGG or MP3.")],
        engine: Annotated[str | None, typer.Option("--engine", "-e",
                                                   help="vietasr | vosk (default: config).")] = None,
        as_json: Annotated[bool, typer.Option(
            "--json", help="Also confidence, words, timing, real-time factor.")] = False,
        max_seconds: Annotated[float, typer.Option("--max-seconds", min=1.0,
                                                   help="Refuse longer audio (seconds).")] = 1800.0,
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
            out = {"file": str(file), "engine": name, **result.to_dict(),
                   "duration_s": round(chunk.duration_s, 3), "sample_rate": chunk.rate,
                   "channels": chunk.channels,
                   "clipped_fraction": round(clipped, 4), "load_s": round(load_s, 3),
                   "processing_s": round(run_s, 3),
                   "real_time_factor": round(run_s / chunk.duration_s, 4) if chunk.duration_s else None}
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
    ) -> None:
        """Print TEXT as it will be spoken (numbers, dates, codes, abbreviations written out)."""
        from voice.text import NORTH, SOUTH, normalize_for_matching, normalize_for_speech, split_sentences
        from voice.text.table import table_from_settings

        if text == "-":
            text = sys.stdin.read()
        if matching:
            typer.echo(normalize_for_matching(text))
            return
        table = table_from_settings(settings_of(ctx))
        spoken = normalize_for_speech(text, table, style=SOUTH if south else NORTH)
        typer.echo("\n".join(split_sentences(spoken)) if sentences else spoken)
