"""Settings sections every area shares, and the view of the product's settings that lower layers see.

The one settings object is assembled at the top (`hotline.settings.Settings`) from each area's own
section; areas below it never import it. They state what they read as a `Protocol` built on
`ProductConfig` (e.g. `ivr.settings.IvrConfig`), which the assembled object satisfies.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import Literal, Protocol
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.clock import DEFAULT_TIME_ZONE, zone
from core.publicurl import check_public_url

PROJECT_ROOT = Path(__file__).resolve().parents[1]


class Section(BaseModel):
    """Base for config sections: frozen, unknown keys rejected (typos must not pass silently)."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PathSettings(Section):
    data_dir: Path = Path("var")  # databases, recordings, renders, caches
    cache_dir: Path = Path("var/cache")  # TTS render cache, downloaded voices


class DatabaseSettings(Section):
    url: str = ""  # empty: SQLite file <data_dir>/hotline.db; or e.g. postgresql+psycopg://...
    echo: bool = False
    # PostgreSQL only (SQLite opens its file per connection): connections each process keeps open, more
    # it may open at a peak, and how long a request waits for one before failing.
    pool_size: int = Field(5, ge=1, le=100)
    max_overflow: int = Field(10, ge=0, le=100)
    pool_timeout_seconds: float = Field(10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        return check_database_url(value)


class JobsSettings(Section):
    """Where background work runs (README "Jobs"): in the process that asks for it, or on procrastinate."""

    # auto: procrastinate when database.url is PostgreSQL, in-process with SQLite; procrastinate needs
    # PostgreSQL (checked where both sections are known: hotline.settings).
    mode: Literal["auto", "in_process", "procrastinate"] = "auto"
    concurrency: int = Field(2, ge=1, le=64)  # jobs one process runs at once (each in a thread)
    heartbeat_seconds: float = Field(10.0, gt=0, le=300)  # how often a worker says it is alive
    # A worker silent this long is taken for dead: its running jobs are queued again (stalled-job
    # recovery). Several heartbeats, so a busy machine is not taken for a dead one.
    stalled_after_seconds: float = Field(60.0, gt=0, le=3600)
    keep_finished_days: int = Field(30, ge=1, le=3650)  # succeeded jobs kept (failed ones: until retried)

    @model_validator(mode="after")
    def _check_stalled(self) -> JobsSettings:
        if self.stalled_after_seconds < 2 * self.heartbeat_seconds:
            raise ValueError("stalled_after_seconds must be at least twice heartbeat_seconds")
        return self


# The back-ends the product runs on, each with the one driver it installs (psycopg 3 for PostgreSQL).
_DB_SCHEMES = {
    "sqlite": "sqlite",
    "postgresql+psycopg": "postgresql+psycopg",
    "postgresql": "postgresql+psycopg",  # SQLAlchemy's default driver (psycopg2) is not installed
    "postgres": "postgresql+psycopg",
}


def check_database_url(value: str) -> str:
    """An empty URL (the SQLite file) or one for SQLite or PostgreSQL through psycopg; the driver named."""
    text = value.strip()
    if not text:
        return ""
    scheme, sep, rest = text.partition("://")
    if not sep or scheme.lower() not in _DB_SCHEMES:
        raise ValueError(
            "use sqlite:///PATH or postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE "
            f"(scheme {scheme.lower()!r} is not supported)"
        )
    scheme = _DB_SCHEMES[scheme.lower()]
    if scheme == "sqlite" and not rest.startswith("/"):
        raise ValueError("a SQLite URL is sqlite:///PATH (three slashes, then the file)")
    if scheme != "sqlite" and not rest.partition("/")[0].rpartition("@")[2]:
        raise ValueError(
            "a PostgreSQL URL names its host: postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE"
        )
    return f"{scheme}://{rest}"


class WebSettings(Section):
    host: str = "127.0.0.1"
    port: int = Field(8080, ge=1, le=65535)
    public_url: str = ""  # base URL used in feeds and links; empty: http://host:port
    session_secret: str = ""  # empty: generated once into <data_dir>/session.key
    # Reverse proxies (addresses or networks) whose X-Forwarded-For names the client; empty: none, the
    # address of the connection is the client's (the login limiter and the audit log key on it).
    trusted_proxies: tuple[str, ...] = ()

    @field_validator("trusted_proxies")
    @classmethod
    def _check_trusted_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # A host name or a typo would otherwise be compared as text: it would silently trust nobody.
        out = []
        for item in value:
            text = item.strip()
            try:
                parsed = (
                    ipaddress.ip_network(text, strict=False) if "/" in text else ipaddress.ip_address(text)
                )
            except ValueError:
                raise ValueError(f"not an IP address or network: {item!r}") from None
            out.append(str(parsed))
        return tuple(out)

    _public_url = field_validator("public_url")(check_public_url)


class PrivacySettings(Section):
    recording_retention_days: int = Field(90, ge=1)
    transcript_retention_days: int = Field(365, ge=1)
    audit_retention_days: int = Field(730, ge=1)  # console audit log (who saw which number, recording)
    render_cache_days: int = Field(30, ge=1)  # synthesized sentences unused this long are deleted
    mask_in_logs: bool = True  # phone, ID and dossier numbers masked in logs and transcripts


class LoggingSettings(Section):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    json_file: Path | None = None  # optional JSON-lines log file


class LocaleSettings(Section):
    time_zone: str = DEFAULT_TIME_ZONE  # the one zone times are shown in: CLI, console, exports, feeds

    @field_validator("time_zone")
    @classmethod
    def _check_time_zone(cls, value: str) -> str:
        zone(value)  # ValueError with the name, reported with the file, line and key
        return value

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.time_zone)


class ProductConfig(Protocol):
    """The parts of the settings that are no area's own: paths, database, web, privacy, logging, locale."""

    @property
    def root(self) -> Path: ...

    @property
    def config_file(self) -> Path | None: ...

    @property
    def paths(self) -> PathSettings: ...

    @property
    def database(self) -> DatabaseSettings: ...

    @property
    def web(self) -> WebSettings: ...

    @property
    def privacy(self) -> PrivacySettings: ...

    @property
    def logging(self) -> LoggingSettings: ...

    @property
    def locale(self) -> LocaleSettings: ...

    def path(self, p: Path | str) -> Path: ...

    @property
    def data_dir(self) -> Path: ...

    @property
    def cache_dir(self) -> Path: ...

    @property
    def database_url(self) -> str: ...
