"""Bulletin Markdown -> spoken script: what is read aloud, in order, with the pauses between parts."""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

from broadcast.audience import spoken_audience
from broadcast.bulletin import Bulletin, BulletinError
from broadcast.communes import Commune
from broadcast.templates import Template
from voice.text import normalize_for_speech, split_sentences

logger = logging.getLogger(__name__)

PartKind = Literal["opening", "title", "heading", "paragraph", "item", "closing"]

_ORDINALS_VI = ["nhất", "hai", "ba", "tư", "năm", "sáu", "bảy", "tám", "chín", "mười"]
_ORDINALS_EN = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth", "Seventh", "Eighth", "Ninth", "Tenth"]
# Punctuation and symbols the normalization and the voices know how to read (or to pause on).
_ALLOWED_PUNCT = set(".,;:!?-–—()[]\"'“”‘’…%/&+#@*=°₫$€§|_~<>\u00a0")
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")
_SKIP_TAGS = ("script", "style", "iframe", "object", "noscript", "template")


@dataclass(frozen=True)
class Part:
    kind: PartKind
    text: str  # as written (after Markdown and HTML are stripped)
    sentences: tuple[str, ...]  # as spoken (normalized), one TTS call each
    pause_after_ms: int


@dataclass
class Script:
    parts: list[Part]
    warnings: list[str] = field(default_factory=list)

    @property
    def sentences(self) -> list[tuple[str, int]]:
        """Every sentence with the silence (ms) that follows it."""
        out: list[tuple[str, int]] = []
        for part in self.parts:
            for i, sentence in enumerate(part.sentences):
                last = i == len(part.sentences) - 1
                out.append((sentence, part.pause_after_ms if last else -1))
        return out

    @property
    def text(self) -> str:
        """The whole spoken script, one part per line (stored in the sidecar)."""
        return "\n".join(" ".join(p.sentences) for p in self.parts)


@dataclass(frozen=True)
class Pauses:
    sentence_ms: int = 350
    paragraph_ms: int = 750
    heading_ms: int = 1000


# --- Markdown -> blocks ---------------------------------------------------------------------------


@dataclass
class _Block:
    kind: PartKind
    text: str
    ordinal: int | None = None  # position in an ordered list


def markdown_blocks(markdown: str) -> tuple[list[_Block], list[str]]:
    """Headings, paragraphs and list items as plain text; HTML and code are dropped (with a warning)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable("table")
    tokens = md.parse(markdown)
    blocks: list[_Block] = []
    warnings: list[str] = []
    list_stack: list[list[int | None]] = []  # per open list: [next ordinal or None for bullets]
    in_item = 0
    pending_kind: PartKind | None = None
    row: list[str] = []
    in_cell = False
    for tok in tokens:
        t = tok.type
        if t == "heading_open":
            pending_kind = "heading"
        elif t == "paragraph_open":
            pending_kind = "item" if in_item else "paragraph"
        elif t == "bullet_list_open":
            list_stack.append([None])
        elif t == "ordered_list_open":
            start = tok.attrGet("start")
            list_stack.append([int(start) if start else 1])
        elif t in ("bullet_list_close", "ordered_list_close"):
            list_stack.pop()
        elif t == "list_item_open":
            in_item += 1
            ordinal = None
            if list_stack and list_stack[-1][0] is not None:
                ordinal = list_stack[-1][0]
                list_stack[-1][0] = ordinal + 1
            blocks.append(_Block("item", "", ordinal))  # filled by its first paragraph
        elif t == "list_item_close":
            in_item -= 1
        elif t == "inline":
            text = _inline_text(tok.children or [], warnings)
            if in_cell:
                row.append(text)
            elif pending_kind == "item" and blocks and blocks[-1].kind == "item" and not blocks[-1].text:
                blocks[-1].text = text
            else:
                blocks.append(_Block(pending_kind or "paragraph", text))
            pending_kind = None
        elif t in ("th_open", "td_open"):
            in_cell = True
        elif t in ("th_close", "td_close"):
            in_cell = False
        elif t == "tr_open":
            row = []
        elif t == "tr_close":
            cells = [c for c in row if c.strip()]
            if cells:
                blocks.append(_Block("paragraph", ", ".join(cells) + "."))
            row = []
        elif t == "html_block":
            if tok.content.strip():
                warnings.append("đã bỏ mã HTML trong bài (không đọc thành tiếng)")
        elif t in ("fence", "code_block"):
            warnings.append("đã bỏ một khối mã (không đọc thành tiếng)")
    blocks = [b for b in blocks if b.text.strip()]
    return blocks, warnings


def _inline_text(children, warnings: list[str]) -> str:  # type: ignore[no-untyped-def]
    out: list[str] = []
    skipping: str | None = None  # inside <script>...</script> and the like: drop everything
    for child in children:
        ct = child.type
        if ct == "html_inline":
            tag = re.match(r"<\s*(/?)\s*([a-zA-Z0-9]+)", child.content)
            if tag:
                closing, name = tag.group(1) == "/", tag.group(2).lower()
                if not closing and name in _SKIP_TAGS:
                    skipping = name
                elif closing and name == skipping:
                    skipping = None
            warnings.append("đã bỏ mã HTML trong bài (không đọc thành tiếng)")
            continue
        if skipping:
            continue
        if ct in ("text", "code_inline"):
            out.append(child.content)
        elif ct in ("softbreak", "hardbreak"):
            out.append(" ")
        elif ct == "image":
            continue  # alt text is for screens, not for listeners
    return re.sub(r"\s+", " ", "".join(out)).strip()


# --- text -> speakable sentences ------------------------------------------------------------------


def clean_characters(text: str) -> tuple[str, set[str]]:
    """Keep letters of the Latin script, digits, spaces and readable punctuation; report the rest."""
    kept: list[str] = []
    dropped: set[str] = set()
    for ch in unicodedata.normalize("NFC", text):
        cat = unicodedata.category(ch)
        if ch.isspace():
            kept.append(" ")
        elif cat.startswith("L"):
            if "LATIN" in unicodedata.name(ch, ""):
                kept.append(ch)
            else:
                dropped.add(ch)
                kept.append(" ")
        elif cat.startswith("N") and ch.isdigit() and ch.isascii():
            kept.append(ch)
        elif cat.startswith("M"):
            kept.append(ch)  # a combining tone mark left over after NFC (decomposed input)
        elif ch in _ALLOWED_PUNCT:
            kept.append(ch)
        else:
            dropped.add(ch)
            kept.append(" ")
    joined = re.sub(r"\s+([.,;:!?…])", r"\1", re.sub(r"\s+", " ", "".join(kept)))
    return unicodedata.normalize("NFC", joined).strip(), dropped


def _normalize(text: str, language: str) -> str:
    # The shared Vietnamese normalization (numbers, dates, %, abbreviations, phone numbers); other
    # languages (test bulletins only) are read as written.
    return normalize_for_speech(text) if language == "vi" else text


def _split(text: str, language: str) -> list[str]:
    if language == "vi":
        return [s.strip() for s in split_sentences(text) if s.strip()]
    return [s.strip() for s in _SENTENCE_END.split(text) if s.strip()]


def _speakable(s: str) -> bool:
    return any(ch.isalnum() for ch in s)


def spoken_date(day: dt.date, language: str = "vi") -> str:
    if language == "en":
        return day.strftime("%B %d, %Y").replace(" 0", " ")
    return f"ngày {day.day} tháng {day.month} năm {day.year}"


def build_script(
    bulletin: Bulletin,
    template: Template,
    *,
    commune: Commune | None,
    province: str,
    agency: str,
    pauses: Pauses = Pauses(),
    targets: Sequence[Commune] | None = None,
) -> Script:
    """The spoken script: template opening, title, the body's structure with pauses, closing.

    The greeting names `commune` (a version rendered for one commune), else the bulletin's `targets`
    (the communes it is for), else the whole province.
    """
    meta = bulletin.meta
    lang = meta.language
    blocks, warnings = markdown_blocks(bulletin.body)
    values = {
        "commune": spoken_audience([commune] if commune else targets),
        "province": f"tỉnh {province}",
        "date": spoken_date(meta.date, lang),
        "title": meta.title,
        "agency": agency,
    }
    parts: list[Part] = []
    dropped_all: set[str] = set()

    def add(kind: PartKind, text: str, pause: int) -> None:
        cleaned, dropped = clean_characters(text)
        dropped_all.update(dropped)
        if not _speakable(cleaned):
            return
        sentences = [s for s in _split(_normalize(cleaned, lang), lang) if _speakable(s)]
        if sentences:
            parts.append(Part(kind, cleaned, tuple(sentences), pause))

    if meta.priority == "emergency" and template.emergency_opening:
        add("opening", template.fill(template.emergency_opening, **values), pauses.paragraph_ms)
    if template.opening:
        add("opening", template.fill(template.opening, **values), pauses.paragraph_ms)
    if template.read_title:
        title = meta.title if meta.title.endswith((".", "!", "?")) else meta.title + "."
        intro = template.fill(template.title_intro, **values)
        add("title", f"{intro} {title}".strip(), pauses.heading_ms)
    body_start = len(parts)
    for block in blocks:
        text = block.text
        if block.kind == "heading":
            text = text if text.endswith((".", "!", "?", ":")) else text + "."
            add("heading", text, pauses.heading_ms)
        elif block.kind == "item":
            if block.ordinal is not None and block.ordinal >= 1:
                words = _ORDINALS_EN if lang == "en" else _ORDINALS_VI
                lead = words[block.ordinal - 1] if block.ordinal <= len(words) else None
                if lead:
                    text = f"{lead}, {text}" if lang == "en" else f"Thứ {lead}, {text}"
            text = text if text.endswith((".", "!", "?", ";", ":")) else text + "."
            add("item", text, pauses.paragraph_ms)
        else:
            add("paragraph", text, pauses.paragraph_ms)
    if len(parts) == body_start:
        raise BulletinError(
            f"{bulletin.path}:{bulletin.body_line}: the bulletin has nothing to read aloud "
            "(after removing HTML, code and unsupported characters no text is left)"
        )
    if template.closing:
        add("closing", template.fill(template.closing, **values), 0)
    if parts:  # the last part leads into the outro jingle: no trailing silence
        last = parts[-1]
        parts[-1] = Part(last.kind, last.text, last.sentences, 0)
    if dropped_all:
        shown = " ".join(sorted(dropped_all))[:60]
        warnings.append(f"đã bỏ các ký tự không đọc được thành tiếng: {shown}")
    warnings = list(dict.fromkeys(warnings))
    for w in warnings:
        logger.warning("%s: %s", bulletin.path, w)
    return Script(parts=parts, warnings=warnings)
