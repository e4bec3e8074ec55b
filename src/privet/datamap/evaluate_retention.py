"""The rule about retention from processing activities: each table an activity's `retention:` governs needs the
moment its trigger starts from (`timestamps:`), or the retention is enforced by nothing. Part of `privet datamap
evaluate`; which tables and which moments is `privet.datamap.activity_retention`. Manual and HTTP datastores are
kept by hand, so only SQL datastores are checked.
"""

from __future__ import annotations

from privet.datamap.activity_retention import activity_rules
from privet.datamap.findings import Finding
from privet.datamap.schemas import DatastoreKind, Manifest

SQL_KINDS = (DatastoreKind.sqlite, DatastoreKind.postgresql, DatastoreKind.mysql)


def retention_findings(manifest: Manifest) -> list[Finding]:
    """RETENTION-NO-TIMESTAMP for every (activity, table) whose trigger has no moment on that table."""
    kinds = {s.key: s.kind for s in manifest.datastores}
    out = []
    for rule in activity_rules(manifest):
        if kinds.get(rule.datastore) not in SQL_KINDS:
            continue
        for m in rule.missing:
            out.append(
                Finding(
                    "RETENTION-NO-TIMESTAMP",
                    "error",
                    f"processing_activities.{m.activity}",
                    f"the retention ({m.trigger}) cannot be enforced on table `{rule.table}` "
                    f"(dataset `{rule.dataset}`, datastore `{rule.datastore}`): {m.reason}",
                    f"add `timestamps: {{{m.trigger}: <column>}}` to table `{rule.table}` naming the column that "
                    "holds that moment (or `<reference field>.<column>` to read it from the row the reference names), "
                    "or give the table its own `retention:`",
                )
            )
    return out
