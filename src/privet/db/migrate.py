"""Alembic migrations driven from code: upgrade, current revision, pending check."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

from privet.kit.errors import Unavailable
from privet.settings import Settings

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"
# The newest migration. Kept here so start-up can check the store without importing Alembic (~0.3 s);
# tests/db/test_migrations.py fails when it differs from the migrations folder.
HEAD_REVISION = "0014"


def alembic_config(engine: Engine, settings: Settings | None = None) -> Config:
    """An Alembic config pointing at our migrations and bound to `engine` (and the installation's `settings`,
    for migrations that need its keys)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    cfg.attributes["settings"] = settings
    return cfg


def upgrade(engine: Engine, revision: str = "head", settings: Settings | None = None) -> None:
    """Apply migrations up to `revision`. With `settings`, 0008 also seals an existing audit chain with the
    installation's key (without them, `privet audit seal` does it later)."""
    from alembic import command

    command.upgrade(alembic_config(engine, settings), revision)


def head_revision() -> str | None:
    """The newest migration shipped with this Privet."""
    return HEAD_REVISION


def scripted_head() -> str | None:
    """The newest migration according to the migrations folder (slow: imports Alembic)."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the store is at (None for an empty store)."""
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception as exc:  # noqa: BLE001 - driver-specific connection errors, answered as Unavailable
        raise Unavailable(
            f"Cannot connect to Privet's store ({type(exc).__name__})",
            "check PRIVET_DATABASE_URL and that the database server is running",
        ) from None


def require_current(engine: Engine) -> None:
    """Refuse to run on a store whose schema is behind the code."""
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise Unavailable(
            f"Privet's store is at migration {current or 'none (empty)'}, the code needs {head}",
            "run `privet db upgrade` first",
        )
