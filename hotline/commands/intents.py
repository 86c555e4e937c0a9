"""`hotline intents check|match|eval|menu|replay`: operators' tools for the intent catalog."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from core.cliutil import JsonOption, echo_json

CatalogOption = Annotated[
    Path | None,
    typer.Option(
        "--config", help="Intent catalog directory (default: intents.catalog_dir from the config file)."
    ),
]


def _load(ctx: typer.Context, catalog_dir: Path | None):
    """Settings, catalog and matcher for this command (errors are HotlineErrors: printed, exit 2)."""
    from hotline.commands import settings_of
    from intents.catalog import load_catalog, load_dialect
    from intents.matcher import Matcher

    settings = settings_of(ctx)
    cfg = settings.intents
    directory = catalog_dir or settings.path(cfg.catalog_dir)
    catalog = load_catalog(directory, max_answer_seconds=cfg.max_answer_seconds, speech_rate=cfg.speech_rate)
    dialect = load_dialect(settings.path(cfg.dialect_table))
    return settings, catalog, Matcher(catalog, cfg, dialect=dialect)


def register(app: typer.Typer) -> None:
    intents_app = typer.Typer(help="The intent catalog: check it, try it, measure it.", no_args_is_help=True)
    app.add_typer(intents_app, name="intents")

    @intents_app.command("check")
    def check(ctx: typer.Context, config: CatalogOption = None) -> None:
        """Validate every catalog file and the dialect table; problems are listed with file and line."""
        from intents.catalog import CatalogError

        try:
            _settings, catalog, matcher = _load(ctx, config)
        except CatalogError as exc:
            for problem in exc.problems:
                print(problem, file=sys.stderr)
            n = len(exc.problems)
            print(f"error: {n} problem{'s' if n != 1 else ''} in the intent catalog", file=sys.stderr)
            raise typer.Exit(1) from None
        examples = sum(len(i.examples) for i in catalog.intents)
        print(
            f"ok: {len(catalog.intents)} intents, {examples} examples, "
            f"{len(matcher.dialect.words)} dialect words, {len(catalog.files)} files in {catalog.directory}"
        )

    @intents_app.command("match")
    def match(
        ctx: typer.Context,
        text: Annotated[str, typer.Argument(help="What the caller said (recognizer text).")],
        config: CatalogOption = None,
        as_json: JsonOption = False,
    ) -> None:
        """Show which intent TEXT gets, with score, runner-up and why."""
        _settings, catalog, matcher = _load(ctx, config)
        d = matcher.match(text)
        if as_json:
            echo_json(d.to_dict())
            return
        if d.intent is None:
            print(f"intent: none (out of scope), best candidate {d.candidate or '-'} score {d.score:.2f}")
        else:
            print(f"intent: {d.intent}  score {d.score:.2f}" + ("  (clarify)" if d.clarify else ""))
        print(f"runner-up: {d.runner_up or '-'}  score {d.runner_up_score:.2f}")
        print(f"matched text: {d.text!r}")
        for reason in d.reasons:
            print(f"  - {reason}")
        if d.clarify and d.runner_up:
            print(f"question: {catalog.clarify_prompt(d.intent, d.runner_up)}")

    @intents_app.command("eval")
    def evaluate_cmd(
        ctx: typer.Context,
        file: Annotated[Path, typer.Argument(help="YAML with `cases: [{text: ..., intent: id|none}]`.")],
        config: CatalogOption = None,
        as_json: JsonOption = False,
        min_accuracy: Annotated[
            float | None, typer.Option(help="Exit 1 when accuracy is below this (0..1).")
        ] = None,
    ) -> None:
        """Accuracy, per-intent precision/recall, confusions and out-of-scope rejection on a labeled file."""
        from intents.evaluate import NONE, evaluate, load_cases

        _settings, catalog, matcher = _load(ctx, config)
        cases = load_cases(file, set(catalog.ids))
        report = evaluate(matcher, cases)
        if as_json:
            echo_json(report.to_dict())
        else:
            n_oos = sum(c.intent == NONE for c in cases)
            print(f"cases: {len(cases)} ({n_oos} out of scope)")
            print(f"accuracy: {report.accuracy:.3f}")
            print(f"in-scope accuracy: {report.in_scope_accuracy:.3f}")
            print(f"out-of-scope rejection: {report.rejection:.3f}")
            print(f"clarifying questions: {report.clarify_rate:.3f}")
            print(f"{'intent':<24}{'precision':>10}{'recall':>8}{'n':>5}")
            for label, m in report.per_intent().items():
                print(f"{label:<24}{m['precision']:>10.2f}{m['recall']:>8.2f}{int(m['support']):>5}")
            confusions = report.confusions()
            if confusions:
                print("confusions (expected -> predicted: count):")
                for expected, predicted, count in confusions:
                    print(f"  {expected} -> {predicted}: {count}")
                print("misses:")
                for c in report.cases:
                    if c["expected"] != c["predicted"]:
                        print(f"  {c['expected']} -> {c['predicted']} ({c['score']:.2f}): {c['text']}")
        if min_accuracy is not None and report.accuracy < min_accuracy:
            print(f"error: accuracy {report.accuracy:.3f} below {min_accuracy:g}", file=sys.stderr)
            raise typer.Exit(1)

    @intents_app.command("menu")
    def menu(ctx: typer.Context, config: CatalogOption = None) -> None:
        """Print the keypad menu tree and the Vietnamese prompts the hotline reads."""
        _settings, catalog, _matcher = _load(ctx, config)
        if catalog.menu is not None:
            print(f"welcome: {catalog.menu.welcome}")
        print(f"[main] {catalog.menu_prompt()}")
        for entry in catalog.menu_entries():
            target = entry.intent or f"sub-menu {entry.group}"
            print(f"  {entry.digit}: {target}")
            if entry.group:
                print(f"  [{entry.group}] {catalog.menu_prompt(entry.group)}")
                for sub in catalog.menu_entries(entry.group):
                    print(f"    {entry.group}.{sub.digit}: {sub.intent}")

    @intents_app.command("replay")
    def replay_cmd(
        ctx: typer.Context,
        days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Calls of the last N days.")] = 7,
        catalog: Annotated[
            Path | None,
            typer.Option("--catalog", help="Draft catalog directory to compare with the current one."),
        ] = None,
    ) -> None:
        """Re-run what callers said in recent calls against a draft catalog: what would change."""
        import datetime as dt

        from core.db import engine_for, session_factory
        from intents.replay import replay, report_lines
        from ivr.store import speech_transcripts, utcnow

        settings, current, before = _load(ctx, None)
        _settings, draft, after = _load(ctx, catalog)
        engine = engine_for(settings)
        try:
            texts = speech_transcripts(session_factory(engine), utcnow() - dt.timedelta(days=days))
        finally:
            engine.dispose()
        titles = {i.id: i.title for i in (*current.intents, *draft.intents)}
        for line in report_lines(replay(texts, before, after), titles):
            print(line)
