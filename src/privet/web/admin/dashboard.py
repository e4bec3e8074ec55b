"""The dashboard: open requests by deadline, consent now by purpose (current state), banner visitors and their
choices (ledger). Each chart says in words what it counts."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse

from privet.http.routes import DB
from privet.kit.errors import InvalidInput
from privet.requests import service
from privet.web.admin import charts, stats
from privet.web.admin.common import N_, can, guard, page
from privet.web.render import translate

router = APIRouter()


def _names(db: DB, request: Request) -> Callable[[str], str]:
    """Purpose key → the purpose's name in the page language (the key when it has none)."""
    from privet.taxonomy.service import effective
    from privet.web.render import language

    purposes = effective(db).purposes
    lang = language(request)
    return lambda key: purposes[key].label(lang) if key in purposes else key


def _category_of(db: DB) -> dict[str, str]:
    """Purpose key → the banner category that records it (none before a data map is applied)."""
    from privet.consent.ledger.rules import current_policy
    from privet.consent.visitors import cookie_purposes

    try:
        mapping = cookie_purposes(current_policy(db))
    except InvalidInput:
        return {}
    return {purpose: category for category, purpose in mapping.items() if purpose}


CATEGORY_NAMES = {"preferences": N_("Preferences"), "analytics": N_("Analytics"), "marketing": N_("Marketing")}


def _consent_charts(db: DB, request: Request) -> dict:
    """Consent now per purpose (from the current state), and banner visitors and their choices (from the ledger)."""

    def t(text: str) -> str:
        return translate(request, text)

    name = _names(db, request)
    now = stats.consent_now(db)
    rates = charts.Chart(
        id="chart-consent",
        title=t("People with consent now, by purpose"),
        description=t(
            "For each purpose: of the people who hold a consent record for it (signed-in people and banner "
            "visitors; a visitor who signed in counts once, as that person), the share whose latest choice "
            "gives consent now (given or renewed, and not expired). Refused, withdrawn and expired count "
            "as without consent. From the current state, not from the number of choices made."
        ),
        labels=[name(p.purpose) for p in now],
        series=[(t("With consent now"), [p.share for p in now])],
        unit="%",
        maximum=100,
        x_title=t("Share of people holding a record (%)"),
        y_title=t("Purpose"),
    )
    windows = stats.weeks()
    since = windows[0][0]
    shares = stats.gpc_share(db, windows)
    visitors = charts.Chart(
        id="chart-gpc",
        title=t("Banner visitors per week"),
        description=t(
            "Visitors who made a cookie-banner choice in each of the last eight weeks (weeks start on the "
            "date shown), and of them those whose browser sent Global Privacy Control. A visitor who "
            "chose in two weeks counts in each. From the consent ledger."
        ),
        labels=[f"{start:%m-%d}" for start, _end in windows],
        series=[(t("Made a banner choice"), [n for n, _g in shares]), (t("Sent GPC"), [g for _n, g in shares])],
        x_title=t("Week starting"),
        y_title=t("Visitors"),
    )
    category = _category_of(db)
    chosen = [(purpose, counts) for purpose, counts in stats.banner_choices(db, since).items() if purpose in category]
    choices = charts.Chart(
        id="chart-choices",
        title=t("Banner choices by category, last eight weeks"),
        description=t(
            "Each visitor's latest cookie-banner choice in the last eight weeks, per category: how many "
            "visitors allowed it and how many refused it (GPC refuses marketing). From the consent ledger."
        ),
        labels=[t(CATEGORY_NAMES.get(category[p], category[p])) for p, _c in chosen],
        series=[(t("Allowed"), [yes for _p, (yes, _no) in chosen]), (t("Refused"), [no for _p, (_yes, no) in chosen])],
        x_title=t("Banner category"),
        y_title=t("Visitors"),
    )
    total, gpc = stats.banner_visitors(db, since)
    return {
        "rates_chart": charts.hbar_chart(rates),
        "rates_data": rates,
        "consent_now": now,
        "purpose_name": name,
        "gpc_chart": charts.bar_chart(visitors),
        "gpc_data": visitors,
        "choices_chart": charts.bar_chart(choices),
        "choices_data": choices,
        "banner_total": total,
        "banner_gpc": gpc,
    }


@router.get("", dependencies=guard("requests:read"), response_class=HTMLResponse)
def dashboard(request: Request, db: DB) -> HTMLResponse:
    """Charts with their numbers as tables, and the open requests nearest their deadline."""

    def t(text: str) -> str:
        return translate(request, text)

    on = stats.today(db)
    due = stats.deadlines(db, on)
    deadline_chart = charts.Chart(
        id="chart-deadlines",
        title=t("Open requests by deadline"),
        description=t("Number of open requests: overdue, due within 7 days, due later, and not yet verified."),
        labels=[t("Overdue"), t("Due this week"), t("Due later"), t("Not yet verified")],
        series=[(t("Requests"), [due.overdue, due.this_week, due.later, due.unverified])],
        x_title=t("Deadline"),
        y_title=t("Open requests"),
    )
    context = {
        "due": due,
        "deadline_chart": charts.bar_chart(deadline_chart),
        "deadline_data": deadline_chart,
        "open": stats.open_by_deadline(db),
        "effective_due": service.effective_due,
        "today": on,
    }
    if can(request, "consent:read"):
        context.update(_consent_charts(db, request))
    return page(request, "admin/dashboard.html", context, section="dashboard")
