"""The dashboard: open requests by deadline, consent rates by purpose over time, visitors sending GPC."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.kit.web import DB
from privet.requests import service
from privet.web.admin import charts, stats
from privet.web.admin.common import can, guard, page
from privet.web.render import translate

router = APIRouter()


def _named(db: DB, request: Request, series: list) -> list:
    """Series keyed by purpose key → by the purpose's name in the page language (the key when it has none)."""
    from privet.taxonomy.service import effective
    from privet.web.render import language

    purposes = effective(db).purposes
    lang = language(request)
    return [(purposes[key].label(lang) if key in purposes else key, values) for key, values in series]


@router.get("", dependencies=guard("requests:read"), response_class=HTMLResponse)
def dashboard(request: Request, db: DB) -> HTMLResponse:
    """Charts with their numbers as tables, and the open requests nearest their deadline."""
    t = lambda text: translate(request, text)  # noqa: E731
    on = stats.today(db)
    due = stats.deadlines(db, on)
    deadline_chart = charts.Chart(
        id="chart-deadlines", title=t("Open requests by deadline"),
        description=t("Number of open requests: overdue, due within 7 days, due later, and not yet verified."),
        labels=[t("Overdue"), t("Due this week"), t("Due later"), t("Not yet verified")],
        series=[(t("Requests"), [due.overdue, due.this_week, due.later, due.unverified])])
    context = {"due": due, "deadline_chart": charts.bar_chart(deadline_chart), "deadline_data": deadline_chart,
               "open": stats.open_by_deadline(db), "effective_due": service.effective_due, "today": on}
    if can(request, "consent:read"):
        windows = stats.weeks()
        labels = [f"{start:%m-%d}" for start, _end in windows]
        rates = charts.Chart(id="chart-consent", title=t("Consent rate by purpose, per week"),
                             description=t("Share of consent choices that gave consent, per purpose, for each of "
                                           "the last eight weeks (weeks start on the date shown)."),
                             labels=labels, series=_named(db, request, stats.consent_rates(db, windows)), unit="%",
                             maximum=100)
        shares = stats.gpc_share(db, windows)
        gpc = charts.Chart(id="chart-gpc", title=t("Visitors sending Global Privacy Control"),
                           description=t("Share of banner visitors whose browser sent the GPC signal, per week."),
                           labels=labels, series=[(t("GPC share"), [round(100 * g / n, 1) if n else None
                                                                   for n, g in shares])],
                           unit="%", maximum=100)
        context.update(rates_chart=charts.line_chart(rates), rates_data=rates, gpc_chart=charts.bar_chart(gpc),
                       gpc_data=gpc, gpc_counts=shares)
    return page(request, "admin/dashboard.html", context, section="dashboard")
