from __future__ import annotations

from pathlib import Path

import pytest

from broadcast.bulletin import BulletinError, load_bulletin, parse_bulletin
from broadcast.communes import load_communes
from broadcast.script import Pauses, build_script, clean_characters, markdown_blocks
from broadcast.templates import load_template
from tests.broadcast.conftest import ROOT, SAMPLES

TEMPLATES = ROOT / "broadcast" / "templates"
PAUSES = Pauses(sentence_ms=300, paragraph_ms=700, heading_ms=1000)


def script_of(
    body: str, *, template: str = "chuyen-doi-so", commune: str | None = None, priority: str = "normal"
):
    b = parse_bulletin(
        f"---\ntitle: Chuyển đổi số\ndate: 2026-11-24\npriority: {priority}\n---\n{body}", "t.md"
    )
    c = load_communes("Nghệ An").resolve(commune) if commune else None
    return build_script(
        b,
        load_template(TEMPLATES, template),
        commune=c,
        province="Nghệ An",
        agency="Sở Khoa học và Công nghệ",
        pauses=PAUSES,
    )


def test_structure_headings_lists_and_pauses():
    s = script_of("# Tiêu đề\n\nĐoạn một. Câu hai.\n\n1. Mục đầu\n2. Mục sau\n\n- Gạch\n")
    kinds = [p.kind for p in s.parts]
    assert kinds == ["opening", "title", "heading", "paragraph", "item", "item", "item", "closing"]
    heading = s.parts[2]
    assert heading.sentences == ("Tiêu đề.",) and heading.pause_after_ms == 1000
    assert s.parts[3].sentences == ("Đoạn một.", "Câu hai.") and s.parts[3].pause_after_ms == 700
    assert s.parts[4].sentences[0].startswith("Thứ nhất, Mục đầu")
    assert s.parts[5].sentences[0].startswith("Thứ hai, Mục sau")
    assert s.parts[6].sentences == ("Gạch.",)
    pauses = [p for _, p in s.sentences]
    assert pauses[-1] == 0  # the outro follows the last sentence directly
    assert -1 in pauses  # between sentences of one paragraph: the sentence pause


def test_commune_greeting_and_emergency_opening():
    s = script_of("Nội dung.", commune="Đô Lương", priority="khẩn cấp")
    assert s.parts[0].sentences[0] == "Thông báo khẩn."
    assert "Kính thưa bà con nhân dân xã Đô Lương." in s.text
    generic = script_of("Nội dung.")
    assert "các xã, phường trong tỉnh" in generic.text and "Thông báo khẩn" not in generic.text


def test_markdown_is_stripped_not_read():
    s = script_of("Bà con **lưu ý** xem [trang hướng dẫn](https://example.org) và `mã` ![ảnh](a.png).")
    body = s.parts[2].text
    assert body == "Bà con lưu ý xem trang hướng dẫn và mã."
    assert "*" not in s.text and "https" not in s.text and "ảnh" not in s.text


def test_html_and_script_are_removed():
    s = script_of(
        'Đoạn đầu <script>alert("hack")</script><b>đậm</b> hết.\n\n<div onclick="x()">khối html</div>\n\n'
        "<style>p{color:red}</style>\n\nĐoạn cuối."
    )
    assert "alert" not in s.text and "hack" not in s.text and "onclick" not in s.text
    assert "khối html" not in s.text and "color" not in s.text
    assert "Đoạn đầu đậm hết." in s.text and "Đoạn cuối." in s.text
    assert any("HTML" in w for w in s.warnings)


def test_only_html_is_nothing_to_read():
    b = parse_bulletin("---\ntitle: T\ndate: 2026-11-24\n---\n<script>alert(1)</script>\n", "h.md")
    with pytest.raises(BulletinError, match="h.md:5: the bulletin has nothing to read aloud"):
        build_script(
            b, load_template(TEMPLATES, "chuyen-doi-so"), commune=None, province="Nghệ An", agency="X"
        )


def test_unsupported_characters_are_removed_with_a_warning():
    s = script_of("Chúc mừng 🎉 bà con ☎ 中文 Привет \u0007 nhé.")
    assert s.parts[2].text == "Chúc mừng bà con nhé."
    assert any("ký tự không đọc được" in w and "🎉" in w for w in s.warnings)
    text, dropped = clean_characters("Hòa bình\u200b!")
    assert text == "Hòa bình!" and dropped == {"\u200b"}


def test_decomposed_unicode_is_composed():
    decomposed = "Hoa\u0300 Bi\u0300nh"  # NFD input from some editors
    s = script_of(decomposed + ".")
    assert "Hoà Bình." in s.text or "Hòa Bình." in s.text


def test_tables_are_read_row_by_row():
    blocks, _ = markdown_blocks("| Thủ tục | Lệ phí |\n|---|---|\n| Khai sinh | Miễn |\n")
    assert [b.text for b in blocks] == ["Thủ tục, Lệ phí.", "Khai sinh, Miễn."]


def test_normalization_numbers_percent_dates_phone():
    s = script_of("Ngày 24/11/2026, 95% hồ sơ được xử lý trong 3 ngày. Gọi 0238 3844 555.")
    body = " ".join(s.parts[2].sentences).lower()
    assert "chín mươi lăm phần trăm" in body
    assert "hai mươi bốn tháng mười một năm hai nghìn không trăm hai mươi sáu" in body
    assert "ba ngày" in body
    assert not any(ch.isdigit() for ch in body), body
    assert (
        "ngày hai mươi bốn tháng mười một năm hai nghìn không trăm hai mươi sáu" in s.text.lower()
    )  # the date


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("[0-9]*.md")), ids=lambda p: p.name)
def test_sample_scripts_have_no_digits_or_markup(path: Path):
    b = load_bulletin(path)
    t = load_template(TEMPLATES, b.meta.template or "chuyen-doi-so")
    s = build_script(b, t, commune=None, province="Nghệ An", agency=b.meta.agency or "X", pauses=PAUSES)
    assert len(s.sentences) >= 10
    for ch in "#*[]<>`|":
        assert ch not in s.text, (ch, path.name)
    assert not s.warnings


@pytest.mark.parametrize("template", sorted(p.stem for p in TEMPLATES.glob("*.yaml")))
def test_no_template_repeats_a_word_around_its_blanks(template: str):
    """A blank's value carries its own lead word ({date} is "ngày 24 tháng 11 …", {commune} "xã …"):
    the wording around it must not say it again ("bản tin ngày ngày …")."""
    s = script_of("Nội dung.", template=template, commune="Xã Anh Sơn", priority="emergency")
    words = s.text.lower().split()
    doubled = [a for a, b in zip(words, words[1:], strict=False) if a == b and a.isalpha()]
    assert not doubled, (template, doubled)
