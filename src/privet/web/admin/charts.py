"""Server-rendered SVG charts (bar, horizontal bar and line) with a title, a description, named axes, a legend
(in the template) and the numbers as a table.

No JavaScript and no inline style (the CSP forbids it): geometry goes in attributes, colours in `admin.css`
classes (`series-0` ...). Every chart is `role="img"` labelled by its `<title>` and `<desc>`; the template shows
the same figures as a data table beside it, so nothing is only visual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 280
LEFT, RIGHT, TOP, BOTTOM = 76, 28, 20, 62
H_LEFT, H_ROW = 250, 34  # horizontal bars: room for the category names, height of one category's row


@dataclass
class Chart:
    """A chart's data: labels along x, one or more named series of values (None = no data), in a unit."""

    id: str
    title: str
    description: str
    labels: list[str]
    series: list[tuple[str, list[float | None]]] = field(default_factory=list)
    unit: str = ""  # "%" for rates; "" for counts
    maximum: float | None = None  # fixed top of the scale (100 for rates)
    x_title: str = ""  # what the horizontal axis shows
    y_title: str = ""  # what the vertical axis shows

    def top(self) -> float:
        """The top of the scale: fixed for rates, else the largest value rounded up to a multiple of 4 (whole
        numbers on the four grid lines)."""
        if self.maximum:
            return self.maximum
        values = [v for _name, values in self.series for v in values if v is not None]
        return float(4 * math.ceil(max([*values, 1.0]) / 4))

    def cell(self, value: float | None) -> str:
        if value is None:
            return "–"
        return f"{value:.0f}{self.unit}" if self.unit else f"{value:g}"


def _head(chart: Chart, height: float) -> str:
    title_id, desc_id = f"{chart.id}-title", f"{chart.id}-desc"
    return (
        f'<svg class="chart" id="{escape(chart.id)}" role="img" aria-labelledby="{title_id} {desc_id}" '
        f'viewBox="0 0 {WIDTH} {height:.0f}" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{title_id}">{escape(chart.title)}</title><desc id="{desc_id}">{escape(chart.description)}'
        "</desc>"
    )


def _axis_titles(chart: Chart, height: float, left: float, top: float, bottom: float) -> list[str]:
    """The axes' names: under the horizontal axis, and turned along the vertical one."""
    out = []
    if chart.x_title:
        out.append(
            f'<text class="axis-title" x="{left + (WIDTH - RIGHT - left) / 2:.1f}" y="{height - 6:.1f}" '
            f'text-anchor="middle">{escape(chart.x_title)}</text>'
        )
    if chart.y_title:
        middle = top + (height - top - bottom) / 2
        out.append(
            f'<text class="axis-title" x="16" y="{middle:.1f}" text-anchor="middle" '
            f'transform="rotate(-90 16 {middle:.1f})">{escape(chart.y_title)}</text>'
        )
    return out


def _frame(chart: Chart, body: list[str]) -> Markup:
    plot_h = HEIGHT - TOP - BOTTOM
    top = chart.top()
    grid = []
    for step in range(5):  # four grid lines and the axis, labelled
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        label = f"{value:.0f}{chart.unit}"
        grid.append(
            f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>'
        )
    titles = _axis_titles(chart, HEIGHT, LEFT, TOP, BOTTOM)
    return Markup(_head(chart, HEIGHT) + "".join(grid) + "".join(body) + "".join(titles) + "</svg>")


def _short(label: str, room: int = 28) -> str:
    """The label cut to about `room` narrow characters (a CJK character counts two), with … when cut; the full
    label stays in the chart's table and in a tooltip."""
    used = 0
    out: list[str] = []
    for char in label:
        used += 2 if ord(char) > 0x2E80 else 1
        if used > room:
            kept = "".join(out)
            if " " in kept[len(kept) // 2 :]:  # end on a whole word when one ends in the second half
                kept = kept.rsplit(" ", 1)[0]
            return kept.rstrip() + "…"
        out.append(char)
    return label


def hbar_chart(chart: Chart) -> Markup:
    """Horizontal bars, one row per label (long names fit at the left), grouped when there are several series."""
    rows, per = max(1, len(chart.labels)), max(1, len(chart.series))
    height = TOP + rows * H_ROW + BOTTOM
    plot_w, plot_h, top = WIDTH - H_LEFT - RIGHT, rows * H_ROW, chart.top()
    body = []
    for step in range(5):
        x = H_LEFT + plot_w * step / 4
        body.append(
            f'<line class="grid" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + plot_h}"/>'
            f'<text class="tick" x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">'
            f"{escape(f'{top * step / 4:.0f}{chart.unit}')}</text>"
        )
    bar = min(22.0, H_ROW * 0.7 / per)
    for i, label in enumerate(chart.labels):
        middle = TOP + H_ROW * i + H_ROW / 2
        body.append(
            f'<text class="label" x="{H_LEFT - 8}" y="{middle + 5:.1f}" text-anchor="end">'
            f"<title>{escape(label)}</title>{escape(_short(label))}</text>"
        )
        for j, (_name, values) in enumerate(chart.series):
            value = values[i] if i < len(values) else None
            width = 0 if value is None else plot_w * value / top
            y = middle - bar * per / 2 + bar * j
            body.append(
                f'<rect class="bar series-{j % 8}" x="{H_LEFT}" y="{y:.1f}" width="{width:.1f}" height="{bar:.1f}"/>'
            )
            body.append(
                f'<text class="value" x="{H_LEFT + width + 4:.1f}" y="{y + bar / 2 + 5:.1f}">'
                f"{escape(chart.cell(value))}</text>"
            )
    body += _axis_titles(chart, height, H_LEFT, TOP, BOTTOM)
    return Markup(_head(chart, height) + "".join(body) + "</svg>")


def _x_labels(chart: Chart, centres: list[float]) -> list[str]:
    return [
        f'<text class="label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{escape(label)}</text>'
        for x, label in zip(centres, chart.labels)
    ]


def bar_chart(chart: Chart) -> Markup:
    """Vertical bars (grouped when there are several series), each with its value above it."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top, groups, per = chart.top(), max(1, len(chart.labels)), max(1, len(chart.series))
    slot = plot_w / groups
    bar = min(56.0, slot * 0.7 / per)
    body, centres = [], []
    for i in range(groups):
        centre = LEFT + slot * i + slot / 2
        centres.append(centre)
        for j, (_name, values) in enumerate(chart.series):
            value = values[i] if i < len(values) else None
            height = 0 if value is None else plot_h * value / top
            x = centre - bar * per / 2 + bar * j
            y = TOP + plot_h - height
            body.append(
                f'<rect class="bar series-{j % 8}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{height:.1f}"/>'
            )
            body.append(
                f'<text class="value" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                f"{escape(chart.cell(value))}</text>"
            )
    return _frame(chart, body + _x_labels(chart, centres))


def line_chart(chart: Chart) -> Markup:
    """One line per series with a dot per value; gaps where a value is missing."""
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    top, count = chart.top(), max(1, len(chart.labels))
    step = plot_w / max(1, count - 1) if count > 1 else 0
    centres = [LEFT + step * i if count > 1 else LEFT + plot_w / 2 for i in range(count)]
    body = []
    for j, (name, values) in enumerate(chart.series):
        points = [(centres[i], TOP + plot_h - plot_h * v / top) for i, v in enumerate(values[:count]) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            body.append(
                f'<polyline class="line series-{j % 8}" points="{path}"><title>{escape(name)}</title></polyline>'
            )
        body += [f'<circle class="dot series-{j % 8}" cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>' for x, y in points]
    return _frame(chart, body + _x_labels(chart, centres))
