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
from broadcast.frontmatter_errors import describe_vi
from broadcast.vndates import parse_vn_date
from core.errors import ConfigError, HotlineError
from core.yamlfile import YamlDoc, parse_yaml_text


class BulletinError(HotlineError):
    """A bulletin that cannot be used; the message (Vietnamese: editors read it) names the file and,
    where known, the line and key, and says how to fix it."""

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


def _day(value: object) -> object:
    return parse_vn_date(value, with_time=False)


def _moment(value: object) -> object:
    return parse_vn_date(value, with_time=True)


class BulletinMeta(BaseModel):
    """Front matter of a bulletin. Only title and date are required."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str = Field(min_length=1, max_length=200)
    date: Annotated[dt.date, BeforeValidator(_day)]  # 24/11/2026 or 2026-11-24
    agency: str | None = None  # issuing agency; default from config
    author: str | None = None
    communes: Annotated[Literal["all"] | list[str], BeforeValidator(_communes)] = "all"
    # not listed before this moment: 25/11/2026 06:00, 25/11/2026 or ISO
    publish: Annotated[dt.datetime | dt.date | None, BeforeValidator(_moment)] = None
    expires: Annotated[dt.datetime | dt.date | None, BeforeValidator(_moment)] = None  # not listed from
    # communes confirm airing by then (a day: its end); default: publication + 2 working days
    deadline: Annotated[dt.datetime | dt.date | None, BeforeValidator(_moment)] = None
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
            raise ValueError("danh sách trống")
        return v

    def expires_at(self) -> dt.datetime | None:
        return _as_datetime(self.expires, end_of_day=True)

    def publish_at(self) -> dt.datetime | None:
        return _as_datetime(self.publish, end_of_day=False)

    def deadline_at(self) -> dt.datetime | None:
        return _as_datetime(self.deadline, end_of_day=True)


def _as_datetime(value: dt.datetime | dt.date | None, *, end_of_day: bool) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=VN_TZ)
    t = dt.time(23, 59, 59) if end_of_day else dt.time(0, 0)
    return dt.datetime.combine(value, t, tzinfo=VN_TZ)


VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


def _n(number: int) -> str:
    """1.234.567: thousands grouped the Vietnamese way."""
    return f"{number:,}".replace(",", ".")


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
            f"{path}:1: thiếu phần khai báo đầu bản tin: bản tin bắt đầu bằng một dòng '---', rồi ít "
            "nhất 'title: ...' và 'date: ngày/tháng/năm', rồi một dòng '---', rồi đến nội dung"
        )
    end = next((i for i in range(1, len(lines)) if _FENCE.match(lines[i])), None)
    if end is None:
        raise BulletinError(f"{path}:1: phần khai báo đầu bản tin chưa đóng: thêm một dòng '---' sau nó")
    try:
        doc = parse_yaml_text("\n".join(lines[1:end]) + "\n", path)
    except ConfigError as exc:  # its line numbers count from the first front-matter line
        # The parser's own wording is English: keep only where it is, and say what usually causes it.
        found = re.match(r"^.*?:(\d+):", exc.message)
        line = int(found.group(1)) + 1 if found else 2
        what = (
            "một khóa được ghi hai lần: chỉ giữ một dòng"
            if "duplicate" in exc.message
            else "sai cú pháp: mỗi dòng là 'khóa: giá trị'; giá trị có dấu hai chấm thì đặt trong ngoặc kép"
        )
        raise BulletinError(f"{path}:{line}: phần khai báo đầu bản tin {what}") from None
    # Lines count from the file's start; a missing key is reported at the opening '---'.
    doc = YamlDoc(doc.path, doc.data, {(): 1, **{loc: line + 1 for loc, line in doc.lines.items()}})
    if doc.data is None:
        raise BulletinError(f"{path}:2: phần khai báo đầu bản tin trống: cần có 'title:' và 'date:'")
    if not isinstance(doc.data, dict):
        raise BulletinError(f"{path}:2: phần khai báo đầu bản tin phải là các dòng 'khóa: giá trị'")
    try:
        meta = BulletinMeta.model_validate(doc.data)
    except ValidationError as exc:
        problems = describe_vi(exc, doc)
        raise BulletinError("phần khai báo đầu bản tin viết sai:\n  " + "\n  ".join(problems)) from None
    body = "\n".join(lines[end + 1 :]).strip("\n")
    if not body.strip():
        raise BulletinError(f"{path}:{end + 2}: bản tin chưa có nội dung sau phần khai báo đầu")
    if len(body) > max_body_chars:
        raise BulletinError(
            f"{path}:{end + 2}: nội dung dài {_n(len(body))} ký tự, vượt giới hạn {_n(max_body_chars)} "
            f"(khoảng {max_body_chars // 900} phút đọc): hãy tách thành nhiều bản tin"
        )
    return Bulletin(meta=meta, body=body, path=path, body_line=end + 2)


def load_bulletin(path: Path | str, *, max_body_chars: int = 20000) -> Bulletin:
    """Read a bulletin file (UTF-8)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise BulletinError(f"{path}: không tìm thấy tệp này; kiểm tra lại tên và thư mục") from None
    except OSError as exc:
        raise BulletinError(f"{path}: không đọc được tệp (mã lỗi {exc.errno}); kiểm tra quyền đọc") from None
    if len(raw) > max_body_chars * 4 + 10000:  # UTF-8 is at most 4 bytes a character
        raise BulletinError(
            f"{path}: tệp nặng {_n(len(raw))} byte, vượt xa giới hạn {_n(max_body_chars)} ký tự: "
            "hãy tách thành nhiều bản tin"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BulletinError(
            f"{path}: tệp không phải văn bản UTF-8 (byte thứ {exc.start}); hãy lưu lại tệp với mã UTF-8"
        ) from None
    return parse_bulletin(text, path, max_body_chars=max_body_chars)
