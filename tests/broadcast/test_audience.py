"""Who a bulletin speaks to: greetings, written labels and the choice of programme template."""

from __future__ import annotations

import pytest

from broadcast.audience import MAX_NAMED, PROVINCE_WIDE, spoken_audience, written_label
from broadcast.bulletin import parse_bulletin
from broadcast.communes import load_communes
from broadcast.render import target_communes, template_id
from broadcast.script import build_script
from broadcast.settings import BroadcastSettings
from broadcast.templates import available_templates, load_template
from tests.broadcast.conftest import ROOT, make_settings

TEMPLATES = ROOT / "broadcast" / "templates"
NGHE_AN = load_communes("Nghệ An")


def units(*names: str):
    return [NGHE_AN.resolve(n) for n in names]


@pytest.mark.parametrize(
    ("names", "spoken"),
    [
        ((), PROVINCE_WIDE),
        (("Anh Sơn",), "xã Anh Sơn"),
        (("Cửa Lò",), "phường Cửa Lò"),
        (("Anh Sơn", "Đô Lương"), "các xã Anh Sơn và Đô Lương"),
        (("Anh Sơn", "Đô Lương", "Yên Thành"), "các xã Anh Sơn, Đô Lương và Yên Thành"),
        (("Anh Sơn", "Cửa Lò"), "xã Anh Sơn và phường Cửa Lò"),
    ],
)
def test_spoken_audience_names_the_chosen_communes(names, spoken):
    assert spoken_audience(units(*names) or None) == spoken


def test_many_communes_are_counted_not_read_one_by_one():
    many = NGHE_AN.communes[: MAX_NAMED + 4]
    said = spoken_audience(many)
    assert said.startswith(f"{MAX_NAMED + 4} ") and said.endswith("nhận bản tin này")
    assert many[0].short_name not in said


def test_written_label_for_tags_and_pages():
    assert written_label(units("Anh Sơn", "Cửa Lò"), "Nghệ An") == "Xã Anh Sơn, Phường Cửa Lò"
    assert written_label(None, "Nghệ An") == "Tất cả xã, phường tỉnh Nghệ An"


def _bulletin(communes: str = "all", priority: str = "normal", template: str = ""):
    extra = f"template: {template}\n" if template else ""
    return parse_bulletin(
        f"---\ntitle: Lịch tiêm chủng\ndate: 24/11/2026\ncommunes: {communes}\npriority: {priority}\n"
        f"{extra}---\nBà con đưa trẻ đến trạm y tế.\n",
        "t.md",
    )


def _script(bulletin, settings, commune=None):
    cfg = settings.broadcast
    targets = target_communes(bulletin, settings)
    template = load_template(TEMPLATES, template_id(bulletin, cfg))
    return build_script(
        bulletin, template, commune=commune, province="Nghệ An", agency="UBND xã", targets=targets
    )


def test_a_bulletin_for_two_communes_greets_them_by_name(tmp_path):
    settings = make_settings(tmp_path)
    text = _script(_bulletin("[Anh Sơn, Đô Lương]"), settings).text
    assert "Kính thưa bà con nhân dân các xã Anh Sơn và Đô Lương." in text
    assert "trong tỉnh" not in text
    one = _script(_bulletin("Đô Lương"), settings).text
    assert "Kính thưa bà con nhân dân xã Đô Lương." in one
    province = _script(_bulletin(), settings).text
    assert "Kính thưa bà con nhân dân các xã, phường trong tỉnh." in province


def test_templates_frame_only_the_column_as_the_column(tmp_path):
    settings = make_settings(tmp_path)
    column = _script(_bulletin(), settings).text
    assert "Chuyên mục Chuyển đổi số" in column
    notice = _script(_bulletin("Anh Sơn", template="thong-bao-xa"), settings).text
    assert "Chuyển đổi số" not in notice and "Sau đây là thông báo của" in notice
    emergency = _script(_bulletin("[Anh Sơn, Cửa Lò]", priority="khẩn cấp"), settings)
    assert "Chuyển đổi số" not in emergency.text
    assert emergency.parts[0].sentences[:2] == ("Thông báo khẩn.", "Thông báo khẩn.")
    assert emergency.text.count("Thông báo khẩn.") == 2  # said twice, not four times
    assert "xã Anh Sơn và phường Cửa Lò" in emergency.text


def test_template_choice_and_jingles():
    cfg = BroadcastSettings()
    assert template_id(_bulletin(), cfg) == "chuyen-doi-so"
    assert template_id(_bulletin(priority="khẩn cấp"), cfg) == "khan-cap"
    assert template_id(_bulletin(priority="khẩn cấp", template="ban-tin"), cfg) == "ban-tin"
    assert template_id(_bulletin(priority="khẩn cấp"), BroadcastSettings(emergency_template="")) == (
        "chuyen-doi-so"
    )
    emergency = load_template(TEMPLATES, "khan-cap")
    column = load_template(TEMPLATES, "chuyen-doi-so")
    assert emergency.intro_jingle == "alert.wav" != column.intro_jingle and emergency.music_bed is None
    assert {"chuyen-doi-so", "thong-bao-xa", "khan-cap"} <= set(available_templates(TEMPLATES))
    for t in available_templates(TEMPLATES):  # every shipped template names jingles that exist
        tpl = load_template(TEMPLATES, t)
        for name in (tpl.intro_jingle, tpl.outro_jingle, tpl.music_bed):
            assert name is None or (ROOT / "audio_assets" / "jingles" / name).is_file()
