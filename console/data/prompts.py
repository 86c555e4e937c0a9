"""The prompts as operators see them: each key's text (prompts.yaml), human recording, rendered audio."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.yamlfile import load_yaml
from ivr.prompts import Prompts, PromptTexts, load_prompt_texts

if TYPE_CHECKING:
    from ivr.settings import IvrConfig


@dataclass(frozen=True)
class PromptInfo:
    key: str
    text: str
    recorded: bool  # audio_assets/prompts/<key>.wav exists
    recorded_at: dt.datetime | None
    rendered: bool  # the audio the IVR last prepared exists in the cache
    template: bool = False
    rendered_current: bool = False  # ... and was made from the present source (text, recording or tone)


def prompts_dir(settings: IvrConfig) -> Path:
    return settings.path(settings.ivr.prompts_dir)


def rendered_path(settings: IvrConfig, key: str) -> Path:
    """Where ivr.prompts.Prompts renders a fixed prompt (8 kHz WAV)."""
    return settings.cache_dir / "ivr" / "prompts" / f"{key}.wav"


def load_prompts(settings: IvrConfig) -> tuple[dict[str, str], dict[str, str]]:
    """(prompts, templates) from config/prompts.yaml, validated the way the IVR does."""

    path = settings.path(settings.ivr.prompts_file)
    texts = load_prompt_texts(path)
    raw = load_yaml(path).data or {}
    templates = raw.get("templates") or {}
    return texts.prompts, {str(k): str(v) for k, v in templates.items()}


def prompt_infos(settings: IvrConfig) -> list[PromptInfo]:

    prompts, _templates = load_prompts(settings)
    stamps = Prompts(settings, None, PromptTexts(prompts))  # only compares source stamps, renders nothing
    out = []
    base = prompts_dir(settings)
    for key, text in prompts.items():
        human = base / f"{key}.wav"
        at = None
        if human.is_file():
            at = dt.datetime.fromtimestamp(human.stat().st_mtime, dt.UTC).replace(tzinfo=None)
        rendered = rendered_path(settings, key).is_file()
        current = rendered and stamps.rendered_is_current(key)
        out.append(PromptInfo(key, text, human.is_file(), at, rendered, rendered_current=current))
    return out
