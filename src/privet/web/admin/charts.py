"""Server-rendered SVG charts (bar and line) with a title, a description and the numbers as a table.

No JavaScript and no inline style (the CSP forbids it): geometry goes in attributes, colours in `admin.css`
classes (`series-0` ...). Every chart is `role="img"` labelled by its `<title>` and `<desc>`; the template shows
the same figures as a data table beside it, so nothing is only visual.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from html import escape

from markupsafe import Markup

WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 52, 28, 20, 44


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


def _frame(chart: Chart, body: list[str]) -> Markup:
    title_id, desc_id = f"{chart.id}-title", f"{chart.id}-desc"
    plot_h = HEIGHT - TOP - BOTTOM
    top = chart.top()
    grid = []
    for step in range(5):  # four grid lines and the axis, labelled
        value = top * step / 4
        y = TOP + plot_h - plot_h * step / 4
        label = f"{value:.0f}{chart.unit}"
        grid.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y:.1f}" y2="{y:.1f}"/>'
                    f'<text class="tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{escape(label)}</text>')
    head = (f'<svg class="chart" id="{escape(chart.id)}" role="img" aria-labelledby="{title_id} {desc_id}" '
            f'viewBox="0 0 {WIDTH} {HEIGHT}" xmlns="http://www.w3.org/2000/svg">'
            f'<title id="{title_id}">{escape(chart.title)}</title><desc id="{desc_id}">{escape(chart.description)}'
            '</desc>')
    return Markup(head + "".join(grid) + "".join(body) + "</svg>")


def _x_labels(chart: Chart, centres: list[float]) -> list[str]:
    return [f'<text class="label" x="{x:.1f}" y="{HEIGHT - BOTTOM + 18}" text-anchor="middle">{escape(label)}</text>'
            for x, label in zip(centres, chart.labels)]


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
            body.append(f'<rect class="bar series-{j}" x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" '
                        f'height="{height:.1f}"/>')
            body.append(f'<text class="value" x="{x + bar / 2:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                        f'{escape(chart.cell(value))}</text>')
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
            body.append(f'<polyline class="line series-{j % 8}" points="{path}"><title>{escape(name)}</title>'
                        '</polyline>')
        body += [f'<circle class="dot series-{j % 8}" cx="{x:.1f}" cy="{y:.1f}" r="3.5"/>' for x, y in points]
    return _frame(chart, body + _x_labels(chart, centres))
