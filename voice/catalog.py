"""The catalog of known Vietnamese voices and models (voice/catalog.yaml): where each comes from, its size,
sha256 and licence, so that `hotline voices install NAME` needs nothing else."""

from __future__ import annotations

import re
from pathlib import Path, PurePosixPath
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from core.errors import ConfigError
from core.yamlfile import load_yaml, validate_doc

DEFAULT_CATALOG = Path(__file__).resolve().parent / "catalog.yaml"
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class CatalogFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    url: str
    size: int | None = Field(None, gt=0)  # bytes; None: not verified
    sha256: str | None = None  # 64 hex digits; None: not verified (install needs --no-verify)

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc or not PurePosixPath(parts.path).name:
            raise ValueError(f"{value!r} is not an http(s) URL of a file")
        return value

    @field_validator("sha256")
    @classmethod
    def _sha(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().lower()
        if not re.fullmatch(r"[0-9a-f]{64}", value):
            raise ValueError("sha256 must be 64 hexadecimal digits (or null when not verified)")
        return value

    @property
    def name(self) -> str:
        return PurePosixPath(urlsplit(self.url).path).name


class CatalogEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["piper", "vosk"]
    title: str
    licence: str
    source: str = ""
    unverified: str = ""  # why some size or checksum is missing
    files: list[CatalogFile]

    @model_validator(mode="after")
    def _files(self) -> CatalogEntry:
        names = [f.name for f in self.files]
        if self.kind == "piper":
            onnx = [n for n in names if n.endswith(".onnx")]
            if len(onnx) != 1 or f"{onnx[0]}.json" not in names or len(names) != 2:
                raise ValueError("a piper voice has two files: NAME.onnx and NAME.onnx.json")
        elif len(names) != 1 or not names[0].endswith((".zip", ".tar.gz", ".tgz")):
            raise ValueError("a vosk model is one .zip or .tar.gz archive")
        if any(f.sha256 is None or f.size is None for f in self.files) and not self.unverified.strip():
            raise ValueError("a file without size or sha256 needs `unverified:` saying why")
        return self

    @property
    def verified(self) -> bool:
        return all(f.sha256 is not None for f in self.files)

    @property
    def size(self) -> int | None:
        sizes = [f.size for f in self.files]
        return None if None in sizes else sum(s for s in sizes if s is not None)


class Catalog(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    voices: dict[str, CatalogEntry]

    @field_validator("voices")
    @classmethod
    def _names(cls, value: dict[str, CatalogEntry]) -> dict[str, CatalogEntry]:
        for name in value:
            if not _NAME.fullmatch(name):
                raise ValueError(f"name {name!r}: letters, digits, '_', '.', '-' only")
        return value


def load_catalog(path: Path | None = None) -> Catalog:
    """The catalog file (default: the one shipped in this package); errors name file, line and key."""
    path = Path(path) if path is not None else DEFAULT_CATALOG
    if not path.is_file():
        raise ConfigError(f"{path}: file not found (voice.catalog)")
    doc = load_yaml(path)
    return validate_doc(Catalog, doc, data=doc.data or {})


def catalog_from_settings(settings: Any) -> Catalog:
    configured = settings.voice.catalog
    return load_catalog(settings.path(configured) if configured else None)
