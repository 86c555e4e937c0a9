"""Server-drawn SVG charts: well-formed, one bar per category, tooltips, gaps, the text table."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from console.charts import (
    NO_DATA,
    Series,
    bar_chart,
    fmt_int,
    fmt_ms,
    fmt_pct,
    fmt_pct_axis,
    hbar_chart,
    line_chart,
)

SVG = "{http://www.w3.org/2000/svg}"


def _parse(chart) -> ET.Element:
    root = ET.fromstring(str(chart.svg))  # raises on anything that is not well-formed XML
    assert root.tag == f"{SVG}svg" and root.get("role") == "img"
    assert root.find(f"{SVG}title").text == chart.title
    return root


def _bars(root: ET.Element) -> list[ET.Element]:
    return [g for g in root.iter(f"{SVG}g") if g.get("class") == "bar"]


def test_stacked_bars_one_per_period_with_tooltips_and_a_table():
    names = ["01/11/2026", "02/11/2026", "03/11/2026"]
    chart = bar_chart(
        "c",
        "Cuộc gọi <theo> ngày & kết quả",  # characters XML must escape
        ["01/11", "02/11", "03/11"],
        names,
        [Series("Đã trả lời", [300, 0, 1200]), Series('Gác máy "sớm"', [100, 0, None])],
    )
    root = _parse(chart)
    bars = _bars(root)
    assert len(bars) == 3
    assert [b.find(f"{SVG}title").text for b in bars] == [
        "01/11/2026: 400",
        "02/11/2026: 0",
        "03/11/2026: 1.200",
    ]
    assert [r.find(f"{SVG}title").text for r in bars[0].iter(f"{SVG}rect")] == [
        "01/11/2026 – Đã trả lời: 300",
        '01/11/2026 – Gác máy "sớm": 100',
    ]
    assert not list(bars[1].iter(f"{SVG}rect"))  # nothing to stack on an empty day
    heights = [float(r.get("height")) for r in bars[0].iter(f"{SVG}rect")]
    assert heights[0] == pytest.approx(3 * heights[1], abs=0.2)  # drawn to scale
    assert chart.columns == ["Kỳ", "Đã trả lời", 'Gác máy "sớm"', "Tổng"]
    assert chart.rows[2] == ["03/11/2026", "1.200", "–", "1.200"] and not chart.empty
    # The value axis reaches past the tallest bar with round steps.
    ticks = [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"]
    assert ticks[0] == "0" and int(ticks[-1].replace(".", "")) >= 1200


def test_many_periods_label_the_axis_sparsely_and_empty_charts_say_so():
    labels = [f"{d:02d}/11" for d in range(1, 31)] * 2
    chart = bar_chart("c", "Cuộc gọi", labels, labels, [Series("Đã trả lời", [0] * 60)])
    root = _parse(chart)
    assert len(_bars(root)) == 60
    assert len([t for t in root.iter(f"{SVG}text") if t.get("class") == "x-label"]) <= 12
    assert chart.empty and NO_DATA in [t.text for t in root.iter(f"{SVG}text")]


def test_side_by_side_bars_and_lines_with_gaps():
    grouped = bar_chart(
        "t",
        "Phản ánh",
        ["T10", "T11"],
        ["Tháng 10", "Tháng 11"],
        [Series("Tiếp nhận", [4, 2]), Series("Đã đóng", [1, 2])],
        stacked=False,
    )
    assert len(_bars(_parse(grouped))) == 2 and grouped.columns == ["Kỳ", "Tiếp nhận", "Đã đóng"]

    line = line_chart(
        "l",
        "Tỷ lệ",
        ["a", "b", "c", "d"],
        ["A", "B", "C", "D"],
        [Series("Không hiểu", [0.1, None, 0.25, 0.125])],
        fmt=fmt_pct,
        axis_fmt=fmt_pct_axis,
        scale=(1.0, 0.25),
        extra=[("Lượt nói", ["10", "0", "4", "8"])],
    )
    root = _parse(line)
    points = [c for c in root.iter(f"{SVG}circle") if c.get("class") == "point"]
    assert [p.find(f"{SVG}title").text for p in points] == [
        "A – Không hiểu: 10,0%",
        "C – Không hiểu: 25,0%",
        "D – Không hiểu: 12,5%",
    ]
    (path,) = root.iter(f"{SVG}path")
    assert path.get("d").count("M") == 2  # the missing figure breaks the line
    assert line.rows[1] == ["B", "–", "0"] and line.columns[-1] == "Lượt nói"
    assert [t.text for t in root.iter(f"{SVG}text") if t.get("text-anchor") == "end"] == [
        "0%",
        "25%",
        "50%",
        "75%",
        "100%",
    ]
    assert fmt_ms(1234) == "1.234 ms" and fmt_int(7) == "7"


def test_horizontal_bars_one_per_item():
    chart = hbar_chart(
        "h", "Chủ đề", [("Căn cước công dân", 12), ("Các chủ đề khác", 3)], ("Chủ đề", "Số cuộc gọi")
    )
    bars = _bars(_parse(chart))
    assert [b.find(f"{SVG}rect/{SVG}title").text for b in bars] == [
        "Căn cước công dân: 12",
        "Các chủ đề khác: 3",
    ]
    assert chart.rows == [["Căn cước công dân", "12"], ["Các chủ đề khác", "3"]]
