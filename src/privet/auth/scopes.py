"""Scopes guard API routes; roles are named bundles of scopes."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "taxonomy:read": "Read data categories, purposes, legal bases and subject types.",
    "datamap:read": "Read the data map, its versions, evaluation findings and exports.",
    "datamap:write": "Apply data map manifests.",
    "audit:read": "Read, verify and export the audit chain.",
    "users:admin": "Create and change users and API keys.",
    "account:self": "See your own account, change your own password, log out (every user holds it).",
}

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(SCOPES),
    "privacy_officer": frozenset({"taxonomy:read", "datamap:read", "datamap:write", "audit:read"}),
    "agent": frozenset({"taxonomy:read", "datamap:read"}),
    "auditor": frozenset({s for s in SCOPES if s.endswith(":read")}),
}
