"""The dashboard's weekly banner figures (on SQLite and PostgreSQL) and the SVG charts they are drawn as (consent
now and banner choices: test_dashboard_figures.py)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session

from privet.consent.models import ConsentRecord
from privet.kit.clock import utcnow
from privet.kit.ids import new_id
from privet.web.admin import charts, stats


def _record(db: Session, *, visitor: str, purpose: str, event: str, gpc: bool, days_ago: int = 0) -> None:
    at = utcnow() - timedelta(days=days_ago)
    db.add(
        ConsentRecord(
            id=new_id(),
            visitor_id=visitor,
            purpose=purpose,
            legal_basis="consent",
            event=event,
            at=at,
            recorded_at=at,
            method="gpc" if gpc and purpose == "marketing" else "banner",
            actor="test",
            evidence={"gpc": gpc},
            categories=[],
        )
    )


def test_gpc_share_per_week(db: Session) -> None:
    _record(db, visitor="v-aaaaaaaa", purpose="analytics", event="given", gpc=False)
    _record(db, visitor="v-bbbbbbbb", purpose="analytics", event="refused", gpc=True)
    _record(db, visitor="v-bbbbbbbb", purpose="marketing", event="refused", gpc=True)
    _record(db, visitor="v-cccccccc", purpose="analytics", event="given", gpc=False, days_ago=9)
    _record(db, visitor="v-dddddddd", purpose="analytics", event="given", gpc=False, days_ago=80)  # too old
    db.flush()
    windows = stats.weeks()
    assert len(windows) == stats.WEEKS and windows[-1][1] > utcnow() > windows[-1][0]
    share = stats.gpc_share(db, windows)
    assert share[-1] == (2, 1) and share[-2] == (1, 0) and share[0] == (0, 0)


def test_charts_are_labelled_svg_that_escapes_text() -> None:
    chart = charts.Chart(
        id="c1",
        title="Rates <b>",
        description="A & B",
        labels=["w1", "w2"],
        series=[("x<y", [10.0, None]), ("z", [5.0, 7.0])],
        unit="%",
        maximum=100,
    )
    bar = str(charts.bar_chart(chart))
    assert bar.startswith('<svg class="chart" id="c1" role="img" aria-labelledby="c1-title c1-desc"')
    assert '<title id="c1-title">Rates &lt;b&gt;</title>' in bar and '<desc id="c1-desc">A &amp; B</desc>' in bar
    assert bar.count('<rect class="bar') == 4 and "style=" not in bar
    line = str(charts.line_chart(chart))
    assert line.count("<polyline") == 1 and line.count("<circle") == 3  # a gap where a value is missing
    counts = charts.Chart(id="c2", title="t", description="d", labels=["a"], series=[("n", [3])])
    assert counts.top() == 4 and counts.cell(3) == "3"


def test_horizontal_bars_name_their_axes_and_fit_long_labels() -> None:
    chart = charts.Chart(
        id="c3",
        title="t",
        description="d",
        labels=["A purpose with a very long name indeed", "短"],
        series=[("With consent now", [100.0, 25.0])],
        unit="%",
        maximum=100,
        x_title="Share (%)",
        y_title="Purpose",
    )
    svg = str(charts.hbar_chart(chart))
    assert svg.count('<rect class="bar') == 2 and "style=" not in svg
    assert '<text class="axis-title"' in svg and ">Share (%)</text>" in svg and 'transform="rotate(-90' in svg
    assert "<title>A purpose with a very long name indeed</title>A purpose with a very long…" in svg
    assert ">100%</text>" in svg and ">25%</text>" in svg
