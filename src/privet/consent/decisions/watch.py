"""The decision API's watch on the store: where the store stands (`snapshot.generation_statement`: the audit head,
the ledger's last seq, the policy's versions), read before each decision so that an answer never lags a recorded
change; one cheap query on a connection of its own, opened again whenever the database drops it
(`privet.db.watch.StatementWatch`)."""

from __future__ import annotations

from typing import Any

from privet.consent.decisions.snapshot import generation_statement
from privet.db.watch import StatementWatch


class GenerationWatch(StatementWatch):
    """Reads the store's generation (and `also`, more columns read in the same statement); reconnects by itself
    after a dropped connection."""

    def __init__(self, sessionmaker: Any, *also: Any) -> None:
        super().__init__(sessionmaker, generation_statement().add_columns(*also))
