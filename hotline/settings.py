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
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from broadcast.settings import BroadcastSettings
from hotline.errors import ConfigError
from hotline.yamlfile import Loc, YamlDoc, describe_validation_error, load_yaml
from intents.settings import IntentSettings
from ivr.settings import IvrSettings
from voice.settings import VoiceSettings

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CONFIG = PROJECT_ROOT / "config" / "hotline.yaml"
ENV_PREFIX = "HOTLINE_"


class Section(BaseModel):
    """Base for config sections: frozen, unknown keys rejected (typos must not pass silently)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PathSettings(Section):
    data_dir: Path = Path("var")  # databases, recordings, renders, caches
    cache_dir: Path = Path("var/cache")  # TTS render cache, downloaded voices


class DatabaseSettings(Section):
    url: str = ""  # empty: SQLite file <data_dir>/hotline.db; or e.g. postgresql+psycopg://...
    echo: bool = False


class WebSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = ""  # base URL used in feeds and links; empty: http://host:port
    session_secret: str = ""  # empty: generated once into <data_dir>/session.key


class PrivacySettings(Section):
    recording_retention_days: int = Field(90, ge=1)
    transcript_retention_days: int = Field(365, ge=1)
    audit_retention_days: int = Field(730, ge=1)  # console audit log (who saw which number, recording)
    mask_in_logs: bool = True  # phone, ID and dossier numbers masked in logs and transcripts


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_file: Path | None = None  # optional JSON-lines log file


class Settings(Section):
    root: Path = PROJECT_ROOT  # set by the loader: the directory relative paths are resolved against
    config_file: Path | None = None  # set by the loader
    paths: PathSettings = PathSettings()
    database: DatabaseSettings = DatabaseSettings()
    web: WebSettings = WebSettings()
    privacy: PrivacySettings = PrivacySettings()
    logging: LoggingSettings = LoggingSettings()
    voice: VoiceSettings = VoiceSettings()
    intents: IntentSettings = IntentSettings()
    ivr: IvrSettings = IvrSettings()
    broadcast: BroadcastSettings = BroadcastSettings()

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
