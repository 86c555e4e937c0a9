"""The one settings object: `config/hotline.yaml` plus `HOTLINE_...` environment overrides.

Environment overrides use `__` between nesting levels, e.g. `HOTLINE_WEB__PORT=8081` or
`HOTLINE_VOICE__ASR__ENGINE=vosk`. `HOTLINE_CONFIG` points at another config file.
Relative paths in the file are relative to the project root (the parent of `config/`).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError, model_validator

from broadcast.settings import BroadcastSettings
from core.config import (
    PROJECT_ROOT,
    DatabaseSettings,
    JobsSettings,
    LocaleSettings,
    LoggingSettings,
    PathSettings,
    PrivacySettings,
    Section,
    WebSettings,
)
from core.db import is_sqlite
from core.errors import ConfigError
from core.yamlfile import Loc, YamlDoc, describe_validation_error, load_yaml
from intents.settings import IntentSettings
from ivr.settings import IvrSettings
from voice.settings import VoiceSettings
from web.settings import OpsSettings

DEFAULT_CONFIG = PROJECT_ROOT / "config" / "hotline.yaml"
ENV_PREFIX = "HOTLINE_"


class Settings(Section):
    root: Path = PROJECT_ROOT  # set by the loader: the directory relative paths are resolved against
    config_file: Path | None = None  # set by the loader
    paths: PathSettings = PathSettings()
    database: DatabaseSettings = DatabaseSettings()
    jobs: JobsSettings = JobsSettings()
    web: WebSettings = WebSettings()
    privacy: PrivacySettings = PrivacySettings()
    logging: LoggingSettings = LoggingSettings()
    locale: LocaleSettings = LocaleSettings()
    voice: VoiceSettings = VoiceSettings()
    intents: IntentSettings = IntentSettings()
    ivr: IvrSettings = IvrSettings()
    broadcast: BroadcastSettings = BroadcastSettings()
    ops: OpsSettings = OpsSettings()

    @model_validator(mode="after")
    def _check_jobs_mode(self) -> Settings:
        if self.jobs.mode == "procrastinate" and is_sqlite(self.database_url):
            raise ValueError("jobs.mode: procrastinate needs database.url on PostgreSQL (or use auto)")
        return self

    @model_validator(mode="after")
    def _check_commune_teams(self) -> Settings:
        """Each commune team's code is a unit of the province, the codes radio by phone uses."""
        if not self.ivr.commune_teams:
            return self
        # Loaded only when teams are configured: the dataset takes a tenth of a second.
        from broadcast.communes import load_communes

        index = load_communes(self.broadcast.province)
        for n, team in enumerate(self.ivr.commune_teams):
            if index.by_code(team.commune) is None:
                raise ValueError(
                    f"ivr.commune_teams.{n}.commune: {team.commune} is not the code of a commune or ward of "
                    f"{index.province} (`hotline broadcast communes NAME` shows a commune's code)"
                )
        return self

    def path(self, p: Path | str) -> Path:
        """Absolute path for a config path (relative ones are relative to the project root)."""
        p = Path(p).expanduser()
        return p if p.is_absolute() else (self.root / p)

    @property
    def data_dir(self) -> Path:
        return self.path(self.paths.data_dir)

    @property
    def cache_dir(self) -> Path:
        return self.path(self.paths.cache_dir)

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'hotline.db'}"


def _env_value(raw: str) -> Any:
    """Environment values are strings; JSON lists/objects are parsed, scalars left for pydantic."""
    stripped = raw.strip()
    if stripped[:1] in ("[", "{"):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return raw
    return raw


def _apply_env(data: dict[str, Any], env: Mapping[str, str]) -> dict[Loc, str]:
    sources: dict[Loc, str] = {}
    for name, raw in sorted(env.items()):
        if not name.startswith(ENV_PREFIX) or name == ENV_PREFIX + "CONFIG":
            continue
        parts = [p.lower() for p in name[len(ENV_PREFIX) :].split("__") if p]
        if not parts:
            continue
        node = data
        for part in parts[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = {}
                node[part] = child
            node = child
        node[parts[-1]] = _env_value(raw)
        sources[tuple(parts)] = f"environment variable {name}"
    return sources


def config_path(explicit: Path | str | None = None, env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if explicit:
        return Path(explicit)
    if env.get(ENV_PREFIX + "CONFIG"):
        return Path(env[ENV_PREFIX + "CONFIG"])
    return DEFAULT_CONFIG


def load_settings(path: Path | str | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Load, override from the environment and validate; any problem is one ConfigError."""
    env = os.environ if env is None else env
    cfg = config_path(path, env).resolve()
    doc = load_yaml(cfg)
    data = doc.data if doc.data is not None else {}
    if not isinstance(data, dict):
        raise ConfigError(f"{cfg}:1: the file must be a mapping of sections (voice:, ivr:, ...)")
    for reserved in ("root", "config_file"):
        if reserved in data:
            raise ConfigError(f"{doc.where((reserved,))}: {reserved}: set by the loader, not in the file")
    sources = _apply_env(data, env)
    root = cfg.parent.parent if cfg.parent.name == "config" else cfg.parent
    try:
        return Settings.model_validate({**data, "root": root, "config_file": cfg})
    except ValidationError as exc:
        problems = describe_validation_error(exc, doc, sources=sources)
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None


def settings_from_doc(doc: YamlDoc) -> Settings:
    """Validate an already parsed document (used by tests and `hotline config check`)."""
    try:
        return Settings.model_validate(doc.data or {})
    except ValidationError as exc:
        raise ConfigError(
            "invalid configuration:\n  " + "\n  ".join(describe_validation_error(exc, doc))
        ) from None
