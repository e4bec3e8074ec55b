"""CLI test support: the data map applied through the CLI, and the registers' tables on the fresh store.

The Alembic migration for the registers' tables is generated later; until then (and harmlessly after) missing
tables are created here with `create_all`, which skips tables that exist.
"""

from __future__ import annotations

from pathlib import Path

from tests.reports.datamap import write_datamap


def prepare(privet, url: str, tmp_path: Path) -> None:
    """Create missing tables and apply the test data map through `privet datamap apply`."""
    from privet.db.engine import make_engine
    from privet.tables import metadata

    engine = make_engine(url)
    try:
        metadata.create_all(engine)
    finally:
        engine.dispose()
    result = privet("datamap", "apply", str(write_datamap(tmp_path / "dm")))
    assert result.exit_code == 0, result.output
