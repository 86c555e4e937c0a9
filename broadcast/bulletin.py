"""Bulletins: Markdown with YAML front matter, validated into a frozen model with file:line errors."""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from broadcast.communes import fold
from core.errors import ConfigError, HotlineError
from core.yamlfile import YamlDoc, describe_validation_error, parse_yaml_text


class BulletinError(HotlineError):
    """A bulletin that cannot be used; the message names the file and, where known, the line and key."""

    code = "bulletin"


Priority = Literal["normal", "priority", "emergency"]

# Vietnamese spellings editors use in front matter ("mức ưu tiên" of grassroots radio source systems).
_PRIORITY_ALIASES = {
    "thuong": "normal",
    "binh thuong": "normal",
    "normal": "normal",
    "uu tien": "priority",
    "priority": "priority",
    "khan cap": "emergency",
    "khan": "emergency",
    "emergency": "emergency",
}
PRIORITY_LABELS_VI = {"normal": "Thông thường", "priority": "Ưu tiên", "emergency": "Khẩn cấp"}


def _priority(value: object) -> object:
    if isinstance(value, str):
        return _PRIORITY_ALIASES.get(fold(value), value)
    return value


def _communes(value: object) -> object:
    if value is None:
        return "all"
    if isinstance(value, str):
        if fold(value) in ("all", "tat ca", "toan tinh"):
            return "all"
        return [value]
    return value


class BulletinMeta(BaseModel):
    """Front matter of a bulletin. Only title and date are required."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    date: dt.date
    agency: str | None = None  # issuing agency; default from config
    author: str | None = None
    communes: Annotated[Literal["all"] | list[str], BeforeValidator(_communes)] = "all"
    publish: dt.datetime | dt.date | None = None  # not listed before this moment
    expires: dt.datetime | dt.date | None = None  # not listed from this moment
    priority: Annotated[Priority, BeforeValidator(_priority)] = "normal"
    voice: str | None = None  # TTS engine ("espeak", "piper"); default from config
    rate: float | None = Field(default=None, gt=0.4, le=2.5)  # speaking-rate multiplier; default from config
    music_bed: bool = True
    template: str | None = None  # programme template id; default from config
    language: Literal["vi", "en"] = "vi"  # "en" only for test bulletins: no Vietnamese normalization

    @field_validator("title", "agency", "author")
    @classmethod
    def _nfc(cls, v: str | None) -> str | None:
        return unicodedata.normalize("NFC", v).strip() if isinstance(v, str) else v

    @field_validator("communes")
    @classmethod
    def _nonempty(cls, v: object) -> object:
        if isinstance(v, list) and not v:
            raise ValueError("empty list: name at least one commune, or write `communes: all`")
        return v

    def expires_at(self) -> dt.datetime | None:
        return _as_datetime(self.expires, end_of_day=True)

    def publish_at(self) -> dt.datetime | None:
        return _as_datetime(self.publish, end_of_day=False)


def _as_datetime(value: dt.datetime | dt.date | None, *, end_of_day: bool) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    t = dt.time(23, 59, 59) if end_of_day else dt.time(0, 0)
    return dt.datetime.combine(value, t, tzinfo=VN_TZ)


VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


@dataclass(frozen=True)
class Bulletin:
    meta: BulletinMeta
    body: str  # Markdown, NFC
    path: Path
    body_line: int  # line of the file where the body starts


_FENCE = re.compile(r"^---[ \t]*$")


def parse_bulletin(text: str, path: Path | str = "<bulletin>", *, max_body_chars: int = 20000) -> Bulletin:
    """Split front matter and body, validate; every problem is a BulletinError naming file:line: key."""
    path = Path(path)
    if text.startswith("\ufeff"):
        text = text[1:]
    text = unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))
    lines = text.split("\n")
    if not lines or not _FENCE.match(lines[0]):
        raise BulletinError(
            f"{path}:1: no front matter: a bulletin starts with a line '---', then at least "
            "'title: ...' and 'date: YYYY-MM-DD', then a line '---', then the text"
        )
    end = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i])), None)
    if end is None:
        raise BulletinError(f"{path}:1: the front matter is not closed: add a line '---' after it")
    try:
        doc = parse_yaml_text("\n".join(lines[1:end]) + "\n", path)
    except ConfigError as exc:  # its line numbers count from the first front-matter line
        shifted = re.sub(
            r"^(.*?):(\d+):", lambda m: f"{m.group(1)}:{int(m.group(2)) + 1}:", exc.message, count=1
        )
        raise BulletinError(f"invalid bulletin front matter: {shifted}") from None
    # Lines count from the file's start; a missing key is reported at the opening '---'.
    doc = YamlDoc(doc.path, doc.data, {(): 1, **{loc: line + 1 for loc, line in doc.lines.items()}})
    if doc.data is None:
        raise BulletinError(f"{path}:2: the front matter is empty: 'title:' and 'date:' are required")
    if not isinstance(doc.data, dict):
        raise BulletinError(f"{path}:2: the front matter must be 'key: value' lines")
    try:
        meta = BulletinMeta.model_validate(doc.data)
    except ValidationError as exc:
        problems = describe_validation_error(exc, doc)
        raise BulletinError("invalid bulletin front matter:\n  " + "\n  ".join(problems)) from None
    body = "\n".join(lines[end + 1 :]).strip("\n")
    if not body.strip():
        raise BulletinError(f"{path}:{end + 2}: the bulletin has no text after the front matter")
    if len(body) > max_body_chars:
        raise BulletinError(
            f"{path}:{end + 2}: the bulletin text is {len(body):,} characters long; the limit is "
            f"{max_body_chars:,} (about {max_body_chars // 900} minutes of speech): "
            "split it into several bulletins"
        )
    return Bulletin(meta=meta, body=body, path=path, body_line=end + 2)


def load_bulletin(path: Path | str, *, max_body_chars: int = 20000) -> Bulletin:
    """Read a bulletin file (UTF-8)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BulletinError(f"{path}: file not found") from None
    except OSError as exc:
        raise BulletinError(f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > max_body_chars * 4 + 10000:  # UTF-8 is at most 4 bytes a character
        raise BulletinError(f"{path}: {len(raw):,} bytes is far above the {max_body_chars:,}-character limit")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BulletinError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    return parse_bulletin(text, path, max_body_chars=max_body_chars)
