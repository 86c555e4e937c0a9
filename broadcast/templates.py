"""Programme templates (`broadcast/templates/*.yaml`): jingles, music bed, spoken opening and closing."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from core.errors import ConfigError
from core.yamlfile import load_yaml, validate_doc

PLACEHOLDERS = ("commune", "province", "date", "title", "agency")
_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")


class Template(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""  # set by the loader from the file name
    name: str = Field(min_length=1)
    intro_jingle: str | None = None  # file name in broadcast.jingles_dir
    outro_jingle: str | None = None
    music_bed: str | None = None
    opening: str = ""
    title_intro: str = ""
    read_title: bool = True
    closing: str = ""
    emergency_opening: str = ""

    @field_validator("opening", "title_intro", "closing", "emergency_opening")
    @classmethod
    def _placeholders(cls, v: str) -> str:
        for name in re.findall(r"\{([^{}]*)\}", v):
            if name not in PLACEHOLDERS:
                raise ValueError(f"unknown placeholder {{{name}}}; use one of {', '.join(PLACEHOLDERS)}")
        return v

    @field_validator("intro_jingle", "outro_jingle", "music_bed")
    @classmethod
    def _file_name(cls, v: str | None) -> str | None:
        if v is not None and (Path(v).name != v or v.startswith(".")):
            raise ValueError("a file name inside the jingles directory, without folders")
        return v or None

    def fill(self, text: str, **values: str) -> str:
        return text.format(**{k: values.get(k, "") for k in PLACEHOLDERS}).strip()


def load_template(templates_dir: Path, template_id: str) -> Template:
    """Load and validate one template; errors name file, line and key."""
    if not _ID.match(template_id or ""):
        raise ConfigError(
            f"template (mẫu chương trình) “{template_id}”: tên mẫu chỉ gồm chữ thường không dấu, số và '-'"
        )
    path = templates_dir / f"{template_id}.yaml"
    if not path.is_file():
        known = ", ".join(available_templates(templates_dir)) or "chưa có mẫu nào"
        raise ConfigError(f"template (mẫu chương trình): không có mẫu “{template_id}”; các mẫu có: {known}")
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise ConfigError(
            f"{path}:1: mẫu chương trình phải là các dòng 'khóa: giá trị' (name:, opening:, ...)"
        )
    data = {**doc.data, "id": template_id}
    return validate_doc(Template, doc, heading="mẫu chương trình viết sai", data=data)


def available_templates(templates_dir: Path) -> list[str]:
    return sorted(p.stem for p in templates_dir.glob("*.yaml")) if templates_dir.is_dir() else []
