"""Registers: processors and recipients with their agreements and alerts, the grounds of the company's policy,
recent sharing events, public disclosures, corporate
transfers (with "campaign sent"), and the cross-border register (this year's counts, the mechanism they require,
alerts, transfers). Read with `registers:read`; the forms (`registers_entries`, `registers_events`) and "campaign
sent" need `registers:write`."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from starlette.responses import HTMLResponse, Response

from privet.http.routes import DB
from privet.registers import alerts as register_alerts
from privet.registers import (
    corporate,
    crossborder,
    crossborder_alerts,
    disclosures,
    grounds,
    policy,
    processors,
    sharing,
)
from privet.registers import crossborder_rules as rules
from privet.web.admin import registers_entries, registers_events
from privet.web.admin import registers_forms as forms
from privet.web.admin.common import N_, guard, officer, page, redirect
from privet.web.render import language

router = APIRouter()
router.include_router(registers_entries.router)
router.include_router(registers_events.router)
READ, WRITE = guard("registers:read"), guard("registers:write")
RECENT = 20

ALERT_KINDS = {
    "unregistered": N_("Not registered"),
    "no_agreement": N_("No signed agreement"),
    "expired": N_("Agreement expired"),
    "expiring": N_("Agreement expiring"),
    "out_of_scope": N_("Beyond what is entrusted"),
    "ground_not_in_policy": N_("Ground not in the policy"),
}
ALERT_TONE = {
    "unregistered": "bad",
    "expired": "bad",
    "no_agreement": "warn",
    "expiring": "warn",
    "out_of_scope": "warn",
    "ground_not_in_policy": "bad",
}
ENTRIES = {"processor": N_("Processor"), "recipient": N_("Recipient")}
BASES = {"consent": N_("Consent"), "legal_ground": N_("Legal ground")}
CAMPAIGNS = {"notification": N_("Notification"), "reconsent": N_("Asking for consent again")}
CAMPAIGN_STATES = {"prepared": N_("Prepared"), "sent": N_("Sent")}
LEVELS = {
    rules.EXEMPT: N_("Exempt from the three mechanisms (fewer than 100,000 people, no sensitive data)"),
    rules.STANDARD: N_(
        "Standard contract or certification (100,000 to under 1,000,000 people, or fewer than "
        "10,000 people with sensitive data)"
    ),
    rules.ASSESSMENT: N_(
        "CAC security assessment (1,000,000 people or more, 10,000 or more with sensitive "
        "data, important data, or a critical information infrastructure operator)"
    ),
}
LEVEL_TONE = {rules.EXEMPT: "ok", rules.STANDARD: "warn", rules.ASSESSMENT: "bad"}
COUNTING = {
    "distinct": N_("distinct people"),
    "summed": N_("recorded counts added"),
    "mixed": N_("distinct people and recorded counts"),
}
CB_ALERTS = {
    "threshold": N_("Volume above the exemption"),
    "threshold_crossed": N_("Threshold crossed"),
    "mechanism_weaker": N_("Mechanism weaker than required"),
    "datamap_transfer_without_mechanism": N_("Declared transfer without a mechanism"),
    "datastore_outside_region": N_("Data kept outside the region"),
    "processor_outside_region": N_("Processor outside the region"),
    "recipient_outside_region": N_("Recipient outside the region"),
}


def _labels() -> dict:
    return {
        "alert_kinds": ALERT_KINDS,
        "alert_tone": ALERT_TONE,
        "entries": ENTRIES,
        "bases": BASES,
        "transfer_kinds": registers_events.TRANSFER_KINDS,
        "campaigns": CAMPAIGNS,
        "campaign_states": CAMPAIGN_STATES,
        "levels": LEVELS,
        "level_tone": LEVEL_TONE,
        "mechanisms": registers_events.MECHANISMS,
        "counting": COUNTING,
        "cb_alerts": CB_ALERTS,
        "recipient_kinds": registers_entries.KINDS,
        "reasons": forms.REASONS,
        "ground_ref": _ground_ref,
    }


def _ground_ref(code: str) -> str:
    """Where a ground is written (Keptek privacy policy 3(3)2 B), its code when unknown."""
    return grounds.reference_of(code) if code in grounds.CATALOGUE else code


@router.get("/registers", dependencies=READ, response_class=HTMLResponse)
def overview(request: Request, db: DB) -> HTMLResponse:
    """Processor and recipient alerts first, then processors, recipients (with their agreements and grounds), the
    grounds of the company's policy, recent shares, disclosures and corporate transfers."""
    uses = processors.activities_by_processor(db)
    row = policy.current(db)
    return page(
        request,
        "admin/registers.html",
        {
            "alerts": register_alerts.all_alerts(db),
            "processors": processors.list_processors(db),
            "policy_name": row.name if row else None,
            "grounds": [g for g in policy.catalogue_view(db, language(request)) if g["declared"]],
            "uses": {k: [u[0] for u in v] for k, v in uses.items()},
            "recipients": sharing.list_recipients(db),
            "shares": sharing.list_shares(db, limit=RECENT),
            "disclosures": disclosures.list_disclosures(db, RECENT),
            "transfers": corporate.list_transfers(db),
            "recent": RECENT,
            **_labels(),
        },
        section="registers",
        flash=forms.flash(request),
    )


@router.post("/registers/corporate/{transfer_id}/campaign-sent", dependencies=WRITE)
def campaign_sent(transfer_id: str, request: Request, db: DB) -> Response:
    """Record that the prepared notification or re-consent campaign of a corporate transfer was sent; audited."""
    corporate.mark_campaign_sent(db, transfer_id, actor=officer(request).actor)
    return redirect("/admin/registers", done="campaign_sent")


def _year(value: str | None) -> int | None:
    try:
        year = int(value) if value else None
    except ValueError:
        return None
    return year if year is not None and 2000 <= year <= 2200 else None


@router.get("/crossborder", dependencies=READ, response_class=HTMLResponse)
def crossborder_page(request: Request, db: DB) -> HTMLResponse:
    """People transferred out of CN since 1 January, the mechanism that requires, alerts and the transfers."""
    year = _year(request.query_params.get("year"))
    at = datetime(year, 7, 1, tzinfo=rules.CST) if year else None
    counts = crossborder.year_counts(db, at=at)
    return page(
        request,
        "admin/crossborder.html",
        {
            "counts": counts,
            "alerts": crossborder_alerts.alerts(db, at=at),
            "transfers": crossborder.list_transfers(db, year=counts.year),
            "source": rules.SOURCE,
            **_labels(),
        },
        section="registers",
        flash=forms.flash(request),
    )
