"""Scopes guard API routes; roles are named bundles of scopes."""

from __future__ import annotations

SCOPES: dict[str, str] = {
    "taxonomy:read": "Read data categories, purposes, legal bases and subject types.",
    "datamap:read": "Read the data map, its versions, evaluation findings and exports.",
    "datamap:write": "Apply data map manifests.",
    "audit:read": "Read, verify and export the audit chain.",
    "users:admin": "Create and change users and API keys.",
    "decide": "Ask whether a subject's data may be used for a purpose (decisions and their change feed).",
    "webhooks:admin": "Register and deactivate webhook endpoints, see deliveries and redeliver failed ones.",
    "consent:read": "Read consent records, current consent state and receipts.",
    "consent:write": "Record consent (grant, withdraw, object), import consent records, rebuild the projection.",
    "subjects:read": "Look subjects up by an identity (values shown masked), see ages, guardians and deletion flags.",
    "subjects:write": "Create subjects, add identities, merge subjects, record ages and link guardians.",
    "notices:read": "Read notices (policies, product and just-in-time notices), their versions and diffs.",
    "notices:write": "Publish new versions of notices.",
    "requests:read": "Read data-subject requests, their steps, deadlines, tasks and packages' metadata.",
    "requests:write": "File requests for people, approve, refuse, extend, run, complete manual tasks, legal holds.",
    "jobs:admin": "See background jobs and retry failed ones.",
    "registers:read": "Read the registers (processors, recipients and sharing, disclosures, corporate and cross-border "
    "transfers, incidents), records of processing, impact assessments and retention runs.",
    "registers:write": "Record processors, recipients, sharing events, disclosures, transfers and incidents; "
    "complete impact assessments; run retention sweeps.",
    "account:self": "See your own account, change your own password, log out (every user holds it).",
}

ROLES: dict[str, frozenset[str]] = {
    "admin": frozenset(SCOPES),
    "privacy_officer": frozenset(
        {
            "subjects:read",
            "subjects:write",
            "consent:read",
            "consent:write",
            "registers:read",
            "registers:write",
            "decide",
            "taxonomy:read",
            "datamap:read",
            "datamap:write",
            "audit:read",
            "notices:read",
            "notices:write",
            "requests:read",
            "requests:write",
        }
    ),
    "agent": frozenset(
        {
            "subjects:read",
            "subjects:write",
            "consent:read",
            "consent:write",
            "decide",
            "taxonomy:read",
            "datamap:read",
            "notices:read",
            "requests:read",
            "requests:write",
        }
    ),
    "auditor": frozenset({s for s in SCOPES if s.endswith(":read")}),
}
