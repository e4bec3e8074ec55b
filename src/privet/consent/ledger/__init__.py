"""The consent ledger: what may be recorded (rules), the checks of one record (checks), the rarely changing
inputs of a recording (stamp), checking and writing many records together (recording) and the group-commit
writer (group_commit), the public recording functions (service), the current-state projection (projection),
signed receipts (receipts) and bulk import (importer, import_rows, bulk_insert)."""
