"""Charts drawn on the server as SVG: bars (stacked or side by side), lines and horizontal bars.

No script and no outside file: a closed network and the pages' content policy (no script at all) show them
as they are. Every chart carries its title, axis labels, a <title> tooltip on each bar or point, and the
same figures as a text table (`Chart.columns`, `Chart.rows`) for screen readers and for copying.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape, quoteattr

from markupsafe import Markup

Fmt = Callable[[float], str]

WIDTH = 720  # viewBox units; the page scales the drawing to its column
PLOT_HEIGHT = 200
LEFT, RIGHT, BOTTOM = 64, 12, 34  # room for the value axis and the period labels
LEGEND_ROW = 18
MAX_BAR = 56  # widest bar, viewBox units
MAX_X_LABELS = 12  # more periods than this: only every k-th is labelled (the tooltips name them all)
# Tableau 10 and two more: distinguishable, and readable on white.
PALETTE = (
    "#4e79a7",
    "#f28e2b",
    "#e15759",
    "#76b7b2",
    "#59a14f",
    "#edc948",
    "#b07aa1",
    "#ff9da7",
    "#9c755f",
    "#bab0ac",
    "#2f4b7c",
    "#a05195",
)
NO_DATA = "Chưa có số liệu trong khoảng thời gian này."


def fmt_int(value: float) -> str:
    """12345 -> "12.345" (Vietnamese digit grouping)."""
    return f"{round(value):,}".replace(",", ".")


def fmt_pct(value: float) -> str:
    """0.125 -> "12,5%"."""
    return f"{value * 100:.1f}".replace(".", ",") + "%"


def fmt_pct_axis(value: float) -> str:
    """0.25 -> "25%": axis steps are round, their labels need no decimal."""
    return f"{value * 100:g}".replace(".", ",") + "%"


def fmt_ms(value: float) -> str:
    return f"{fmt_int(value)} ms"


def fmt_score(value: float) -> str:
    """4.25 -> "4,25"."""
    return f"{value:.2f}".replace(".", ",")


@dataclass(frozen=True)
class Series:
    label: str
    values: Sequence[float | None]  # one per category; None: no figure (drawn as a gap, "–" in the table)


@dataclass(frozen=True)
class Chart:
    """One chart: the drawing and its text table."""

    id: str
    title: str
    svg: Markup
    columns: list[str]
    rows: list[list[str]]
    empty: bool  # nothing to show: the page says so instead of a blank drawing


def _text(x: float, y: float, body: str, *, anchor: str = "middle", size: int = 11, cls: str = "") -> str:
    klass = f" class={quoteattr(cls)}" if cls else ""
    at = f'x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}"'
    return f"<text {at}{klass}>{escape(body)}</text>"


def _nice_step(raw: float) -> float:
    """The smallest 1, 2 or 5 times a power of ten that is at least `raw`."""
    if raw <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if m * power >= raw - 1e-12:
            return float(m * power)
    raise AssertionError("unreachable: 10 * power >= raw")


def _scale(top_value: float, fixed: tuple[float, float] | None, integers: bool) -> tuple[float, float]:
    """(top of the value axis, step between its ticks)."""
    if fixed is not None:
        return fixed
    step = _nice_step(top_value / 4)
    if integers:
        step = max(1.0, step)
    return max(step, step * math.ceil(top_value / step - 1e-9)), step


def _legend(labels: Sequence[str]) -> tuple[list[str], int]:
    """Swatches and labels in rows across the top; returns the parts and the height they take."""
    parts: list[str] = []
    x, y = float(LEFT), 12.0
    for i, label in enumerate(labels):
        width = 22 + 6.5 * len(label)  # a rough text width at 11 units: enough to avoid overlaps
        if x + width > WIDTH - RIGHT and x > LEFT:
            x, y = float(LEFT), y + LEGEND_ROW
        parts.append(
            f'<rect x="{x:.1f}" y="{y - 9:.1f}" width="10" height="10" fill="{PALETTE[i % len(PALETTE)]}"/>'
        )
        parts.append(_text(x + 14, y, label, anchor="start"))
        x += width + 10
    return parts, int(y + 10) if labels else 0


class _Frame:
    """The plot area, value axis, grid and period labels shared by bar and line charts."""

    def __init__(self, chart_id: str, title: str, labels: Sequence[str], legend: Sequence[str]) -> None:
        self.id = chart_id
        self.title = title
        self.labels = labels
        self.legend, legend_height = _legend(legend)
        self.top = legend_height + 10
        self.height = self.top + PLOT_HEIGHT + BOTTOM
        self.plot_w = WIDTH - LEFT - RIGHT
        self.slot = self.plot_w / max(1, len(labels))

    def x_center(self, i: int) -> float:
        return LEFT + self.slot * (i + 0.5)

    def y(self, value: float, top: float) -> float:
        return self.top + PLOT_HEIGHT * (1 - min(value, top) / top)

    def axes(self, top: float, step: float, fmt: Fmt) -> list[str]:
        parts = []
        ticks = round(top / step)
        for k in range(ticks + 1):
            value = step * k
            y = self.y(value, top)
            parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
            parts.append(_text(LEFT - 6, y + 4, fmt(value), anchor="end"))
        every = math.ceil(len(self.labels) / MAX_X_LABELS) if self.labels else 1
        base = self.top + PLOT_HEIGHT
        parts.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{base}" y2="{base}" stroke="#888"/>')
        for i, label in enumerate(self.labels):
            if i % every == 0:
                parts.append(_text(self.x_center(i), base + 16, label, cls="x-label"))
        return parts

    def svg(self, body: list[str], empty: bool) -> Markup:
        note = [_text(LEFT + self.plot_w / 2, self.top + PLOT_HEIGHT / 2, NO_DATA, size=13)] if empty else []
        title_id = f"{self.id}-title"
        return Markup(
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(self.id)}-svg" '
            f'viewBox="0 0 {WIDTH} {self.height}" role="img" aria-labelledby="{escape(title_id)}" '
            f'font-family="system-ui, sans-serif">'
            f"<title id={quoteattr(title_id)}>{escape(self.title)}</title>"
            + "".join(self.legend + body + note)
            + "</svg>"
        )


def _cell(value: float | None, fmt: Fmt) -> str:
    return "–" if value is None else fmt(value)


def bar_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    names: Sequence[str],
    series: Sequence[Series],
    *,
    stacked: bool = True,
    fmt: Fmt = fmt_int,
    total_label: str | None = "Tổng",
) -> Chart:
    """One bar (a `g.bar`) per category: `labels` on the axis, `names` (the full period names) in the
    tooltips and the table; stacked segments or side-by-side bars per series."""
    values = [[v or 0.0 for v in s.values] for s in series]
    totals = [sum(col) for col in zip(*values, strict=True)] if values else [0.0] * len(labels)
    peak = max(totals if stacked else [v for row in values for v in row] or [0.0], default=0.0)
    top, step = _scale(peak, None, integers=True)
    frame = _Frame(chart_id, title, labels, [s.label for s in series])
    body = frame.axes(top, step, fmt)
    # A few periods (one month) would make slabs, not bars.
    width = min(frame.slot * (0.7 if stacked else 0.8), MAX_BAR * (1 if stacked else len(series)))
    for i, name in enumerate(names):
        parts = [f"<title>{escape(name)}: {escape(fmt(totals[i]))}</title>"] if stacked else []
        base = float(frame.top + PLOT_HEIGHT)
        for k, s in enumerate(series):
            v = values[k][i]
            if stacked:
                x = frame.x_center(i) - width / 2
                w = width
            else:
                w = width / max(1, len(series))
                x = frame.x_center(i) - width / 2 + k * w
            if v <= 0:
                continue
            h = PLOT_HEIGHT * v / top
            y = base - h if stacked else frame.top + PLOT_HEIGHT - h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{max(w - 0.5, 0.5):.1f}" height="{h:.1f}" '
                f'fill="{PALETTE[k % len(PALETTE)]}"><title>{escape(name)} – {escape(s.label)}: '
                f"{escape(fmt(v))}</title></rect>"
            )
            if stacked:
                base -= h
        body.append(f'<g class="bar">{"".join(parts)}</g>')
    columns = ["Kỳ", *(s.label for s in series)]
    rows = [[name, *(_cell(s.values[i], fmt) for s in series)] for i, name in enumerate(names)]
    if stacked and total_label:
        columns.append(total_label)
        for row, total in zip(rows, totals, strict=True):
            row.append(fmt(total))
    empty = not any(totals)
    return Chart(chart_id, title, frame.svg(body, empty), columns, rows, empty)


def line_chart(
    chart_id: str,
    title: str,
    labels: Sequence[str],
    names: Sequence[str],
    series: Sequence[Series],
    *,
    fmt: Fmt,
    axis_fmt: Fmt | None = None,
    scale: tuple[float, float] | None = None,
    extra: Sequence[tuple[str, Sequence[str]]] = (),
) -> Chart:
    """A line per series with a point (a `circle.point`) per category that has a figure; a missing figure
    breaks the line. `axis_fmt` writes the value axis (default `fmt`); `scale` fixes its (top, step)
    (rates: (1, 0.25)); `extra` adds table-only columns (the counts a rate is made of)."""
    present = [v for s in series for v in s.values if v is not None]
    top, step = _scale(max(present, default=0.0), scale, integers=False)
    frame = _Frame(chart_id, title, labels, [s.label for s in series])
    body = frame.axes(top, step, axis_fmt or fmt)
    for k, s in enumerate(series):
        color = PALETTE[k % len(PALETTE)]
        path: list[str] = []
        points: list[str] = []
        pen_down = False
        for i, v in enumerate(s.values):
            if v is None:
                pen_down = False
                continue
            x, y = frame.x_center(i), frame.y(v, top)
            path.append(f"{'L' if pen_down else 'M'}{x:.1f} {y:.1f}")
            pen_down = True
            points.append(
                f'<circle class="point" cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{color}">'
                f"<title>{escape(names[i])} – {escape(s.label)}: {escape(fmt(v))}</title></circle>"
            )
        if path:
            body.append(f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="2"/>')
        body.extend(points)
    columns = ["Kỳ", *(s.label for s in series), *(name for name, _ in extra)]
    rows = [
        [name, *(_cell(s.values[i], fmt) for s in series), *(cells[i] for _, cells in extra)]
        for i, name in enumerate(names)
    ]
    empty = not present
    return Chart(chart_id, title, frame.svg(body, empty), columns, rows, empty)


def hbar_chart(
    chart_id: str,
    title: str,
    items: Sequence[tuple[str, float]],
    columns: tuple[str, str],
    *,
    fmt: Fmt = fmt_int,
) -> Chart:
    """Horizontal bars, one per item (a `g.bar`), largest first as given; names written beside the bars."""
    row_h, name_w = 24, 260
    height = max(1, len(items)) * row_h + 28
    peak = max((v for _, v in items), default=0.0)
    top, step = _scale(peak, None, integers=True)
    plot_w = WIDTH - name_w - RIGHT - 50
    parts = []
    for k in range(round(top / step) + 1):
        x = name_w + plot_w * (step * k) / top
        parts.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="4" y2="{height - 24}" stroke="#ddd"/>')
        parts.append(_text(x, height - 8, fmt(step * k)))
    for i, (name, v) in enumerate(items):
        y = 4 + i * row_h
        w = plot_w * v / top if top else 0
        shown = name if len(name) <= 40 else name[:39] + "…"
        parts.append(
            f'<g class="bar">{_text(name_w - 8, y + 15, shown, anchor="end", size=12)}'
            f'<rect x="{name_w}" y="{y + 4:.1f}" width="{max(w, 1):.1f}" height="{row_h - 8}" '
            f'fill="{PALETTE[0]}">'
            f"<title>{escape(name)}: {escape(fmt(v))}</title></rect>"
            f"{_text(name_w + w + 6, y + 15, fmt(v), anchor='start')}</g>"
        )
    empty = not items
    if empty:
        parts.append(_text(WIDTH / 2, height / 2, NO_DATA, size=13))
    svg = Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{escape(chart_id)}-svg" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{escape(chart_id)}-title" '
        f'font-family="system-ui, sans-serif"><title id="{escape(chart_id)}-title">{escape(title)}</title>'
        + "".join(parts)
        + "</svg>"
    )
    rows = [[name, fmt(v)] for name, v in items]
    return Chart(chart_id, title, svg, list(columns), rows, empty)
