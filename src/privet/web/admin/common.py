"""What every admin page shares: the guard, the navigation, flash messages, forms and redirects."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Depends, Request
from starlette.datastructures import FormData
from starlette.responses import HTMLResponse, RedirectResponse

from privet.auth.deps import Principal
from privet.kit.crypto import Keyring
from privet.settings import Settings
from privet.web.admin import terms
from privet.web.guard import require_page
from privet.web.render import render


def N_(message: str) -> str:  # noqa: N802 - gettext convention: marked here, translated when shown
    return message


def guard(scope: str) -> list:
    """`dependencies=` of an admin route: a console session holding `scope` (CSRF-checked on POST)."""
    return [Depends(require_page(scope))]


async def _form(request: Request) -> FormData:
    return await request.form()  # already parsed (and CSRF-checked) by the guard on POST


Form = Annotated[FormData, Depends(_form)]

# (section, href, label, scope): a link is shown only to roles holding its scope
NAV = (
    ("dashboard", "/admin", N_("Dashboard"), "requests:read"),
    ("requests", "/admin/requests", N_("Requests"), "requests:read"),
    ("holds", "/admin/holds", N_("Legal holds"), "requests:read"),
    ("datamap", "/admin/datamap", N_("Data map"), "datamap:read"),
    ("consent", "/admin/consent", N_("Consent lookup"), "consent:read"),
    ("notices", "/admin/notices", N_("Notices"), "notices:read"),
    ("users", "/admin/users", N_("Users and API keys"), "users:admin"),
    ("audit", "/admin/audit", N_("Audit log"), "audit:read"),
    ("registers", "/admin/registers", N_("Registers"), "registers:read"),
    ("incidents", "/admin/incidents", N_("Incidents"), "registers:read"),
    ("records", "/admin/records", N_("Records and assessments"), "registers:read"),
    ("retention", "/admin/retention", N_("Retention"), "registers:read"),
    ("evidence", "/admin/evidence", N_("Evidence"), "registers:read"),
)

# ?done=<key> after a POST-redirect-GET: what just happened, in a short sentence
FLASHES = {
    "approved": N_("The request was approved; its work has started."),
    "refused": N_("The request was refused; the requester will be told the reason."),
    "extended": N_("The deadline was extended; the requester will be told why."),
    "assigned": N_("The assignment was saved."),
    "fee_settled": N_("The fee was recorded; the request goes ahead and the requester is told."),
    "rerun": N_("The failed steps were queued again."),
    "completed": N_("The request was completed."),
    "task_done": N_("The manual task was completed."),
    "package": N_("A new package was built and its link sent to the requester."),
    "password": N_("Your password was changed."),
    "user_created": N_("The user was created."),
    "user_changed": N_("The user was changed."),
    "key_revoked": N_("The API key was revoked."),
    "user_unlocked": N_("The user can log in again; their failed logins were forgotten."),
    "published": N_("The new version was published."),
    "identity_checked": N_("The identity check was recorded; the request proceeds."),
    "taken_over": N_("The step was taken over as a manual task; complete the task below when it is done."),
}


def principal_of(request: Request) -> Principal | None:
    """The officer the guard let in (None on public pages)."""
    return getattr(request.state, "principal", None)


def officer(request: Request) -> Principal:
    """The officer the route's guard let in (an admin route's guard refuses anyone else)."""
    principal = principal_of(request)
    assert principal is not None, "an admin route is reached only through its guard"
    return principal


def can(request: Request, scope: str) -> bool:
    """Whether the officer holds `scope` (to show or hide actions)."""
    principal = principal_of(request)
    return principal is not None and scope in principal.scopes


def page(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    section: str,
    status_code: int = 200,
    flash: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    """An admin page: the shared layout context (navigation for the officer's role, flash message) + `context`."""
    principal = principal_of(request)
    scopes = principal.scopes if principal else frozenset()
    nav = [
        {"href": href, "label": label, "current": key == section} for key, href, label, scope in NAV if scope in scopes
    ]
    done = request.query_params.get("done")
    values = {
        "check_label": lambda v: CHECKS.get(v, v),
        "type_label": type_label,
        "status_label": status_label,
        "tone": TONE,
        "nav": nav,
        "section": section,
        "principal": principal,
        "can": lambda s: s in scopes,
        "flash": flash or (FLASHES.get(done) if done else None),
        "error": error,
        **terms.helpers(request),
        **(context or {}),
    }
    return render(request, template, values, status_code=status_code)


def redirect(path: str, **query: str) -> RedirectResponse:
    """303 to `path` (an admin path: ids and references only, never personal data)."""
    joiner = "&" if "?" in path else "?"
    return RedirectResponse(f"{path}{joiner}{urlencode(query)}" if query else path, status_code=303)


def text(form: FormData, name: str, limit: int = 2000) -> str:
    """A trimmed text field of a form ('' when absent or a file)."""
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def keyring(request: Request) -> Keyring:
    """The app's keyring (set up when the app starts)."""
    return request.app.state.keyring


def settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


TYPES = {
    "access": N_("Access"),
    "portability": N_("Portability"),
    "rectification": N_("Rectification"),
    "erasure": N_("Erasure"),
    "closure": N_("Account closure"),
    "withdrawal": N_("Consent withdrawal"),
    "restriction": N_("Restriction"),
    "explanation": N_("Explanation"),
    "complaint": N_("Complaint"),
}
STATUSES = {
    "unverified": N_("Not verified"),
    "pending_approval": N_("Waiting for approval"),
    "fee_due": N_("Waiting for the fee"),
    "running": N_("Running"),
    "waiting": N_("Waiting for a task"),
    "completed": N_("Completed"),
    "completed_with_exceptions": N_("Completed with exceptions"),
    "refused": N_("Refused"),
    "failed": N_("Failed"),
    "expired": N_("Expired"),
    "pending": N_("Pending"),
    "done": N_("Done"),
    "skipped": N_("Skipped"),
    "open": N_("Open"),
}
TONE = {
    "completed": "ok",
    "completed_with_exceptions": "warn",
    "done": "ok",
    "refused": "bad",
    "failed": "bad",
    "expired": "bad",
    "pending_approval": "warn",
    "fee_due": "warn",
    "waiting": "warn",
    "unverified": "warn",
    "open": "warn",
}


CHECKS = {
    "id_document": N_("An identity document"),
    "call_back": N_("A call back to a known number"),
    "known_contact": N_("A known contact detail"),
    "signed_letter": N_("A signed letter"),
    "agent_mandate": N_("The agent's mandate"),
    "in_person": N_("In person"),
}


def type_label(value: str) -> str:
    """The English msgid naming a request type (the template translates it)."""
    return TYPES.get(value, value)


def status_label(value: str) -> str:
    """The English msgid naming a status (the template translates it)."""
    return STATUSES.get(value, value)
