"""Alembic migrations driven from code: upgrade, current revision, pending check."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from privet.kit.errors import Unavailable

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config pointing at our migrations and bound to `engine`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision`."""
    command.upgrade(alembic_config(engine), revision)


def head_revision() -> str | None:
    """The newest migration shipped with this Privet."""
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The migration the store is at (None for an empty store)."""
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    except Exception as exc:  # driver-specific connection errors
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
