"""The editor's bulletin form as the front-matter Markdown the CLI and the API take (one format)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

MAX_FORM_BODY_CHARS = 200_000  # the body's own limit is broadcast.max_body_chars; this bounds the form


@dataclass
class BulletinForm:
    """What the editor typed or chose (kept to refill the form after a refusal)."""

    title: str = ""
    date: str = ""  # dd/mm/yyyy as typed
    template: str = ""
    priority: str = "normal"
    communes: list[str] = field(default_factory=list)  # unit codes as strings; empty: the whole province
    publish: str = ""
    expires: str = ""
    deadline: str = ""
    body: str = ""

    def markdown(self, names: dict[str, str]) -> str:
        """Front matter + body; strings are written as JSON strings (valid YAML double-quoted scalars),
        so a colon or a quote in a title never breaks the front matter. `names`: commune code -> name."""
        lines = ["---", f"title: {json.dumps(self.title.strip(), ensure_ascii=False)}"]
        lines.append(f"date: {json.dumps(self.date.strip(), ensure_ascii=False)}")
        if self.template:
            lines.append(f"template: {json.dumps(self.template, ensure_ascii=False)}")
        lines.append(f"priority: {json.dumps(self.priority, ensure_ascii=False)}")
        chosen = [names.get(code, code) for code in self.communes]
        lines.append(f"communes: {json.dumps(chosen, ensure_ascii=False) if chosen else 'all'}")
        for key in ("publish", "expires", "deadline"):
            value = getattr(self, key).strip()
            if value:
                lines.append(f"{key}: {json.dumps(value, ensure_ascii=False)}")
        lines.append("---")
        return "\n".join(lines) + "\n" + self.body.replace("\r\n", "\n").strip() + "\n"
